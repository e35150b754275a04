"""One headless Chromium per worker process, driven by Playwright, printing pages to PDF.

Chromium lays out the built HTML exactly as readers see it (figures, MathJax,
reveal.js's print mode) and needs no TeX installation; Playwright waits for
the page to be ready, which a bare ``chromium --print-to-pdf`` cannot.  The
browser is the Debian one: nothing is downloaded.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from . import tools

MATHJAX_DONE = """() => new Promise(resolve => {
  const ready = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
  const start = Date.now();
  (function poll() {
    if (ready()) { MathJax.startup.promise.then(() => resolve(true)); }
    else if (!document.querySelector('script[src*="mathjax" i], script[src*="tex-" i]')
             || Date.now() - start > 15000) { resolve(false); }
    else { setTimeout(poll, 50); }
  })();
})"""
"""Resolves when MathJax has typeset the page, or at once on a page without math."""


@contextmanager
def chromium():
    """A launched browser; closed (with its processes) when the block ends."""
    executable = tools.chromium()
    sync_playwright = tools.playwright()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True,
                                     args=["--no-sandbox", "--disable-gpu",
                                           "--allow-file-access-from-files"])
        try:
            yield browser
        finally:
            browser.close()


def print_page(browser, url: str, out: Path, *, init_script: str = "", ready: str = "",
               css_page_size: bool = False, timeout_ms: int = 60000):
    """Load ``url``, wait for ``ready`` (a JS predicate) and MathJax, print it to ``out``.

    Returns what ``ready`` evaluated to (the deck's slide count, say).
    """
    page = browser.new_page()
    try:
        page.set_default_timeout(timeout_ms)
        if init_script:
            page.add_init_script(init_script)
        page.goto(url, wait_until="load")
        value = page.wait_for_function(ready).json_value() if ready else None
        page.evaluate(MATHJAX_DONE)
        page.emulate_media(media="print")
        tmp = out.with_name(out.name + ".tmp")
        out.parent.mkdir(parents=True, exist_ok=True)
        options = {"path": str(tmp), "print_background": True}
        if css_page_size:
            options["prefer_css_page_size"] = True
        else:
            options.update(format="A4", margin={"top": "18mm", "bottom": "18mm",
                                                "left": "16mm", "right": "16mm"})
        page.pdf(**options)
        tmp.replace(out)
        return value
    finally:
        page.close()
