"""The deck as a PDF, one slide per page: reveal.js's print mode in headless Chromium.

``?print-pdf`` lays every slide out as a page of the deck's size; fragments are
shown all at once (one page per slide, not per step) and a slide that overflows
is clipped rather than spilling onto a second page.  With ``notes`` each slide
is followed by a page of its speaker notes (``showNotes: 'separate-page'``).
"""
from __future__ import annotations

import json
from pathlib import Path

from .browser import Printed, Printer

READY = "() => window.__talksPdfReady"
"""The slide count, once reveal.js says (its ``pdf-ready`` event) that the print layout is
done; polled until then."""


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
