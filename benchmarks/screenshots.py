"""Make the screenshots in docs/screenshots/ of the lamd course ``course-execed``.

Builds ``../shared/reference/course-execed`` in place (a copy, lamd's own HTML left
behind) with ``TALKS_PATH_MAP`` pointing lamd's ``$HOME/lawrennd/...`` folders at the
corpus, serves the site on 127.0.0.1 and opens it in headless Chromium (Playwright), with
every request to another host refused. Each shot is checked before it is written: the
portraits, the fade-in fragment and the pause must be on the page, and the fragment and
the pause hidden before their step and shown after it.

    python benchmarks/screenshots.py [--shared DIR] [--out DIR] [--keep DIR]

Says so and exits cleanly without the shared folder or Chromium.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from workfolder import work_folder

ROOT = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
VIEWPORT = {"width": 1280, "height": 760}


def build_course(course: Path, corpus: Path, work: Path) -> Path:
    """The course built in place in ``work``; returns its site."""
    copy = work / "course-execed"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(course, copy, ignore=shutil.ignore_patterns("*.slides.html", "_lectures"))
    for path in [copy, *copy.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "TALKS_PATH_MAP": f"$HOME/lawrennd/snippets={corpus / 'snippets'}:"
                             f"$HOME/lawrennd/bibliography={corpus / 'bibliography'}"}
    print("building course-execed in place...", flush=True)
    subprocess.run([sys.executable, "-m", "build_tools.cli", "build", "--quiet", "--to", "none"],
                   cwd=copy, env=env, check=False, capture_output=True, timeout=1800)
    return copy / "_build" / "site"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def guarded_page(context):
    """A page that refuses every request to a host other than this machine."""
    page = context.new_page()

    def guard(route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            route.abort()

    page.route("**/*", guard)
    return page


def open_slide(page, url: str, words: str) -> None:
    """The deck at the first slide titled ``words``, or else showing them, before its first
    fragment."""
    page.goto(url)
    page.wait_for_function("() => window.Reveal && Reveal.isReady()")
    page.wait_for_load_state("networkidle")
    found = page.evaluate("""words => {
        const slides = Reveal.getSlides();
        const titled = s => { const h = s.querySelector('h2'); return h && h.textContent.trim() === words; };
        const slide = slides.find(titled) || slides.find(s => s.textContent.includes(words));
        if (!slide) return false;
        const at = Reveal.getIndices(slide); Reveal.slide(at.h, at.v, -1); return true; }""", words)
    if not found:
        raise SystemExit(f"no slide shows {words!r} in {url}")
    page.wait_for_timeout(800)  # the slide transition


def visible(page, selector: str) -> bool:
    return page.evaluate("""sel => { const e = Reveal.getCurrentSlide().querySelector(sel);
        return !!e && getComputedStyle(e).opacity === '1' && e.offsetWidth > 0; }""", selector)


def step(page) -> None:
    page.evaluate("Reveal.nextFragment()")
    page.wait_for_timeout(800)  # the fragment's fade


def shoot(page, out: Path, name: str) -> None:
    page.screenshot(path=str(out / name))
    print(f"  {out / name}")


def handout_portraits(page, server: str, out: Path) -> None:
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{server}/handout/data-quality.html#crop-monitoring")
    page.wait_for_load_state("networkidle")
    section = page.locator("section#crop-monitoring")
    portrait = section.locator("figure.talks-portrait")
    assert portrait.count() == 1 and "Ernest Mwebaze" in portrait.inner_text()
    section.scroll_into_view_if_needed()
    page.evaluate("document.querySelector('section#crop-monitoring').scrollIntoView()")
    page.wait_for_timeout(300)
    shoot(page, out, "handout-portrait.png")


def deck_portrait(page, server: str, out: Path) -> None:
    open_slide(page, f"{server}/slides/data-quality.html", "Crop Monitoring")
    assert visible(page, "figure.talks-portrait .talks-initials")
    shoot(page, out, "deck-portrait.png")


def deck_fade_in(page, server: str, out: Path) -> None:
    open_slide(page, f"{server}/slides/the-new-world.html", "Outline of the DeepFace architecture")
    assert not visible(page, ".fragment.fade-in")
    shoot(page, out, "deck-fade-in-1-before.png")
    step(page)
    assert visible(page, ".fragment.fade-in")
    shoot(page, out, "deck-fade-in-2-after.png")


def deck_pause(page, server: str, out: Path) -> None:
    open_slide(page, f"{server}/slides/bringing-together.html", "Two Answers")
    text = page.evaluate("Reveal.getCurrentSlide().textContent")
    assert "More controversially" in text and not visible(page, ".fragment")
    shoot(page, out, "deck-pause-1-before.png")
    step(page)
    assert visible(page, ".fragment")
    shoot(page, out, "deck-pause-2-after.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--keep", help="Build here and keep it (default: a temporary folder).")
    opts = parser.parse_args(argv)
    shared = Path(opts.shared).resolve()
    course, corpus = shared / "reference" / "course-execed", shared / "corpus"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not course.is_dir() or not (corpus / "snippets").is_dir():
        print(f"no course-execed or corpus under {shared}; no screenshots made")
        return 0
    if chromium is None:
        print("no chromium on PATH; no screenshots made")
        return 0
    from playwright.sync_api import sync_playwright

    out = Path(opts.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with work_folder(opts.keep, "talks-shots-") as work:
        site = build_course(course, corpus, work)
        httpd, server = serve(site)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=chromium, headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                context = browser.new_context(viewport=VIEWPORT)
                page = guarded_page(context)
                for shot in (handout_portraits, deck_portrait, deck_fade_in, deck_pause):
                    shot(page, server, out)
                browser.close()
        finally:
            httpd.shutdown()
            httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
