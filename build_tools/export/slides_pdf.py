"""The deck as a PDF, one slide per page: reveal.js's print mode in headless Chromium.

``?print-pdf`` lays every slide out as a page of the deck's size; fragments are
shown all at once (one page per slide, not per step) and a slide taller than the page
is scaled down to fit it, never cut or spilled onto a second page.  With ``notes`` each slide
is followed by a page of its speaker notes (``showNotes: 'separate-page'``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .browser import Printed, Printer
from .completeness import pdf_content as read_back  # noqa: F401 - the format's reader
from .shared import ExportFailure, ExportJob, Handout, Written, site_folder, worker_printer

READY = """() => {
  const count = window.__talksPdfReady;
  if (!count || ![...document.images].every(image => image.complete)) return 0;
  for (const page of document.querySelectorAll('.pdf-page')) {
    const slide = page.querySelector(':scope > section');
    if (!slide) continue;
    const room = page.getBoundingClientRect();
    let box = slide.getBoundingClientRect();
    if (box.bottom <= room.bottom + 0.5) continue;
    const scale = Math.max(0.2, (room.height - 2 * (box.top - room.top)) / box.height);
    slide.style.zoom = String(scale);
    box = slide.getBoundingClientRect();
    const shift = (room.left + room.width / 2) - (box.left + box.width / 2);
    slide.style.left = (parseFloat(slide.style.left || '0') + shift / scale) + 'px';
  }
  return count;
}"""
"""The slide count, once reveal.js says (its ``pdf-ready`` event) that the print layout is
done and every picture is loaded; polled until then.  Then each slide taller than its page
is scaled down to fit it (``zoom``, which lays it out again, centred).  A slide left taller
than its page would be cut, and Chromium moves a picture that crosses the page's foot to
the next page, where reveal.js's clipping hides it: the picture printed blank."""


def print_options(notes: bool) -> dict:
    return {"pdfSeparateFragments": False, "pdfMaxPagesPerSlide": 1,
            "showNotes": "separate-page" if notes else False}


def init_script(options: dict) -> str:
    """Merge ``options`` into the deck's own ``Reveal.initialize`` call, whatever it passes.

    reveal.js reads the print settings once, when it starts: the deck's HTML
    stays as built and only the printing browser sees them.
    """
    return f"""(() => {{
  const extra = {json.dumps(options)};
  window.__talksPdfReady = 0;
  document.addEventListener('pdf-ready', () => {{
    window.__talksPdfReady = window.Reveal.getTotalSlides() || -1; }}, {{ once: true }});
  let reveal;
  Object.defineProperty(window, 'Reveal', {{
    configurable: true,
    get() {{ return reveal; }},
    set(value) {{
      reveal = value;
      if (value && value.initialize && !value.__talksPrint) {{
        const initialize = value.initialize.bind(value);
        value.initialize = (config) => initialize(Object.assign({{}}, config || {{}}, extra));
        value.__talksPrint = true;
      }}
    }},
  }});
}})();"""


def has_slides(deck_html: Path) -> bool:
    """Whether the built deck holds any slide: reveal.js stops on an empty deck before
    it is ready, so printing one would only wait for the browser's timeout."""
    return "<section" in deck_html.read_text(encoding="utf-8", errors="replace")


def write_slides_pdf(printer: Printer, site: Path, deck_html: Path, out: Path,
                     notes: bool = False) -> Printed:
    """Print the built deck (inside the site folder ``site``) to ``out``; the value is its
    slide count."""
    return printer.print_page(site, deck_html, out, query="?print-pdf",
                              init_script=init_script(print_options(notes)), ready=READY,
                              css_page_size=True)


def write(job: ExportJob, out: Path, handout: Handout) -> Written:
    """The runner's entry (``formats.FORMAT_TABLE``): the built deck, printed by this
    process's browser."""
    page = job.pages.get("slides")
    if not page or not os.path.isfile(page):
        raise ExportFailure("the built slides page is missing; build that variant first")
    if not has_slides(Path(page)):
        raise ExportFailure("the built deck has no slides (is the talk's front matter complete?)")
    printer = worker_printer()
    printer.timeout_ms = int(job.config.step_timeout * 1000)
    printed = write_slides_pdf(printer, site_folder(Path(page), job.doc), Path(page), out,
                               notes=job.slide_notes)
    return Written([page], refused=printed.refused)


def settings(job: ExportJob) -> dict:
    """What, besides files, changes the slide PDF."""
    return {"notes": job.slide_notes}
