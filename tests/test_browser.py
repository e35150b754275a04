"""The built site in a real browser: Debian's headless Chromium, driven by Playwright.

The site is served from 127.0.0.1; any request for another host fails the test,
so the deck and the handout must work with no network.  Screenshots of the
title slide and the handout are saved under test-artifacts/.
"""
from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import ROOT, chromium_or_skip, require_module

TALK = ROOT / "talks" / "accelerate-spark-information-session.md"
DOC = "accelerate-spark-information-session"
ARTIFACTS = ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    from build_tools.site.build import SiteOptions, build_site

    out = tmp_path_factory.mktemp("browser") / "site"
    report = build_site(SiteOptions(talks=[str(p) for p in sorted((ROOT / "talks").glob("*.md"))],
                                    out=str(out), project=str(ROOT)))
    assert report.ok, report.failed
    return out


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = chromium_or_skip()
    sync_api = require_module("playwright.sync_api", "playwright")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
            viewport={"width": 1280, "height": 800})
        yield context
        context.close()


@pytest.fixture()
def page(browser):
    """A page that refuses, and records, every request to a host other than this machine."""
    page = browser.new_page()
    page.outside = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            page.outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    yield page
    page.close()


def _source_slides() -> tuple[int, list[str]]:
    from build_tools.api import expand_talk

    titles = expand_talk(str(TALK), "slides").document.slide_titles
    return 1 + len(titles), titles


def _open_deck(page, server: str, hash_: str = ""):
    page.goto(f"{server}/slides/{DOC}.html{hash_}")
    page.wait_for_function("() => window.Reveal && Reveal.isReady()")
    page.wait_for_load_state("networkidle")


def test_deck_slides_notes_keys_and_no_network(page, server):
    _open_deck(page, server)
    count, titles = _source_slides()
    assert page.evaluate("Reveal.getTotalSlides()") == count

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "title-slide.png"))

    welcome = titles.index("Welcome") + 1
    page.evaluate(f"Reveal.slide({welcome}, 0)")
    assert page.evaluate("Reveal.getCurrentSlide().querySelector('h2').textContent") == "Welcome"
    notes = page.evaluate("Reveal.getSlideNotes()")
    paragraphs = re.findall(r"<p>(.*?)</p>", notes, re.S)
    assert len(paragraphs) == 4, notes
    assert paragraphs[0].startswith("Thanks, everyone, for coming")
    assert "Zoom housekeeping" in paragraphs[1]

    page.keyboard.press("ArrowRight")
    assert page.evaluate("Reveal.getIndices().h") == welcome + 1
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("Reveal.getIndices().h") == welcome - 1

    # the speaker view (S) is fed by the notes plugin
    assert page.evaluate("Reveal.hasPlugin('notes')")
    assert page.outside == [], page.outside


def test_handout_has_notes_prose_and_no_slide_only_bullets(page, server):
    from build_tools.api import expand_talk

    page.goto(f"{server}/handout/{DOC}.html")
    page.wait_for_load_state("networkidle")
    text = page.inner_text("article")
    assert "The University of Cambridge has been building and using computers" in text
    handout = expand_talk(str(TALK), "handout").text
    slide_only = [m.strip() for m in re.findall(r"^\* (.+)$", expand_talk(str(TALK), "slides").text, re.M)
                  if m.strip() not in handout and "[" not in m]
    assert len(slide_only) >= 3
    for bullet in slide_only:
        assert bullet not in text
    # each section links to its slide, and the deck is local
    # labels count slides as the deck does, title slide first: "slide 3" is hash #/2
    link = page.locator("a.talks-xref", has_text="slide 3").first.get_attribute("href")
    assert link.endswith(f"slides/{DOC}.html#/2")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "handout.png"), full_page=False)
    assert page.outside == [], page.outside


def test_index_lists_every_talk_with_its_variants(page, server):
    page.goto(f"{server}/index.html")
    items = page.locator("li.talk")
    assert items.count() == 3
    first = page.locator(f"#talk-{DOC}")
    assert "Accelerate-Spark Information Session" in first.inner_text()
    for variant in ("slides", "speaker-notes", "handout"):
        href = first.locator(f"a.variant-{variant}").get_attribute("href")
        assert href == f"{variant}/{DOC}.html"
    page.fill("input[type=search]", "EDSAC")
    page.press("input[type=search]", "Enter")
    page.wait_for_selector("#search-results li", timeout=15000)
    assert "Accelerate-Spark" in page.inner_text("#search-results")
    assert page.outside == [], page.outside


def test_speaker_view_shows_formatted_notes(page, server):
    _open_deck(page, server)
    _, titles = _source_slides()
    page.evaluate(f"Reveal.slide({titles.index('Welcome') + 1}, 0)")
    with page.context.expect_page() as popup_info:
        page.keyboard.press("s")
    speaker = popup_info.value
    speaker.wait_for_selector(".speaker-controls-notes .value p", timeout=15000)
    notes = speaker.inner_html(".speaker-controls-notes .value")
    assert notes.count("<p>") == 4 and "Thanks, everyone, for coming" in notes
    speaker.close()
    assert page.outside == [], page.outside


@pytest.fixture(scope="module")
def fixture_server(tmp_path_factory):
    """The three-talk fixture (it has maths, notation macros and a missing image)."""
    import shutil

    from build_tools.site.build import SiteOptions, build_site

    root = tmp_path_factory.mktemp("fixture") / "three-talks"
    shutil.copytree(ROOT / "tests" / "roots" / "test-three-talks", root)
    out = root / "_build" / "site"
    build_site(SiteOptions(talks=[str(p) for p in sorted((root / "talks").glob("*.md"))],
                           out=str(out), project=str(ROOT)))
    handler = functools.partial(_QuietHandler, directory=str(out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_math_and_notation_render_offline(page, fixture_server):
    page.goto(f"{fixture_server}/handout/gamma.html")
    page.wait_for_function("() => document.querySelectorAll('mjx-container svg').length > 0",
                           timeout=20000)
    rendered = page.inner_html("mjx-container")
    assert "merror" not in rendered and "noundefined" not in rendered, "notation macros are known"
    # the missing figure is a visible neutral frame with its caption, not a broken image,
    # and readers never see the build's warning about it
    frame = page.locator("div.talks-missing-image")
    assert frame.count() == 1 and "absent" in frame.get_attribute("data-missing")
    box = frame.bounding_box()
    assert box is not None and box["height"] > 0 and box["width"] > 0
    text = page.inner_text("article")
    assert "A figure whose file is missing." in text and "absent" not in text
    assert page.outside == [], page.outside


def test_deck_images_keep_their_aspect_ratio(page, server):
    _open_deck(page, server)
    measured = page.evaluate("""() => {
        const found = [];
        const total = Reveal.getTotalSlides();
        for (let k = 0; k < total; k++) {
            Reveal.slide(k, 0);
            for (const img of Reveal.getCurrentSlide().querySelectorAll('img')) {
                const box = img.getBoundingClientRect();
                if (img.naturalWidth && box.width > 1 && box.height > 1)
                    found.push([img.getAttribute('src'), img.naturalWidth / img.naturalHeight,
                                box.width / box.height]);
            }
        }
        return found;
    }""")
    assert measured, "the demo deck shows images"
    for src, natural, shown in measured:
        assert abs(shown / natural - 1) < 0.03, (src, natural, shown)


def test_a_preview_page_reloads_itself_when_its_variant_is_rebuilt(page, tmp_path):
    """``talks serve``'s script in a real browser: the open handout of an edited talk
    reloads by itself and shows the edit."""
    import shutil

    from test_serve import ROOTS, serving, status

    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    with serving(project) as base:
        page.goto(base + "handout/alpha.html")
        page.wait_for_function("() => document.readyState === 'complete'")
        page.wait_for_timeout(1000)  # the script has read the version it reloads after
        talk = project / "talks" / "alpha.md"
        talk.write_text(talk.read_text(encoding="utf-8") + "\n\\notes{Seen after the reload.}\n",
                        encoding="utf-8")
        # the body is missing for a moment while the page reloads
        page.wait_for_function("() => document.body !== null"
                               " && document.body.innerText.includes('Seen after the reload.')",
                               timeout=60_000)
        assert status(base)["versions"]["handout"] >= 2
    assert page.outside == []
