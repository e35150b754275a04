"""The build checks its own exports: each is read back and compared with the page of the
variant it was made from (build_tools/export/completeness.py)."""
from pathlib import Path

import pytest

from build_tools.cli import export_summary
from build_tools.export import completeness as c
from build_tools.export import parse_formats
from build_tools.site.build import SiteOptions, build_site

from conftest import require_module, require_tool
from helpers import exports_demo_project

DOC = "exports-demo"
STRAY_FENCE = """\\subsection{A Stray Fence}

\\notes{The notes go on after this line.

---
title: Every word of this line is shown on the handout page
---

And this paragraph is shown too, as every paragraph before it.}

\\references"""
"""A second front matter block in the middle of the notes: the handout page shows its line
as a heading, pandoc reads it as the document's metadata (the title it replaces is lost
too)."""


@pytest.fixture(scope="module")
def truncated(tmp_path_factory):
    require_module("pypandoc")
    require_tool("pdftotext")
    root = tmp_path_factory.mktemp("truncated")
    talk = exports_demo_project(root)
    talk.write_text(talk.read_text(encoding="utf-8").replace("\\references", STRAY_FENCE),
                    encoding="utf-8")
    options = SiteOptions(talks=[str(talk)], project=str(root), out=str(root / "_build/site"),
                          exports=parse_formats("pdf,docx,ipynb"))
    return root, build_site(options)


def test_a_truncating_input_is_reported_incomplete_at_the_talk(truncated):
    root, report = truncated
    (result,) = report.exports
    found = {d.message.split(" export")[0]: d for d in result.diagnostics
             if d.code == "E-EXPORT-INCOMPLETE"}
    assert set(found) == {"the pdf", "the docx"}
    message = found["the pdf"].format()
    assert "of the words" in message and "67% of the headings" in message
    assert "the first missing is the heading 'Exports Demonstration'" in message
    assert found["the pdf"].location.file.endswith("talks/exports-demo.md")
    assert not report.ok
    assert sorted(result.incomplete) == ["docx", "pdf"] and result.written == ["ipynb"]


def test_an_incomplete_export_is_set_aside_and_not_linked(truncated):
    root, _report = truncated
    site, work = root / "_build/site", root / "_build/.work/site/exports"
    assert (work / f"{DOC}.incomplete.pdf").is_file() and not (work / f"{DOC}.pdf").exists()
    assert not (site / "exports" / f"{DOC}.pdf").exists()
    assert (site / "exports" / f"{DOC}.ipynb").is_file()
    for variant in ("handout", "slides", "speaker-notes"):
        page = (site / variant / f"{DOC}.html").read_text(encoding="utf-8")
        assert f"exports/{DOC}.ipynb" in page
        assert f"exports/{DOC}.pdf" not in page and f"exports/{DOC}.docx" not in page
    index = (site / "index.html").read_text(encoding="utf-8")
    assert f"{DOC}.ipynb" in index and f"{DOC}.pdf" not in index


def test_the_summary_says_per_format_what_was_written_and_incomplete(truncated):
    _root, report = truncated
    lines = export_summary(report.exports)
    assert lines[0].startswith("exports: 1 written, 0 up to date, 2 incomplete")
    assert "  ipynb: 1 written" in lines
    assert f"  docx: 1 incomplete ({DOC})" in lines and f"  pdf: 1 incomplete ({DOC})" in lines


# -- the comparison itself ------------------------------------------------------------------

PAGE = """<html><body><nav>Skip to content</nav><article role="main">
<h1>Pelicans<a class="headerlink" href="#p">¶</a></h1>
<a class="talks-xref" href="../slides/x.html">open the deck</a>
<p class="talks-exports"><a class="talks-export" href="x.pdf">Handout (PDF)</a></p>
<p>Zanzibar pelicans are counted every spring <span class="math">\\(x^2\\)</span> by the island's wardens.</p>
<img src="_images/bridge.png" alt="">
<h2>Checking the Count</h2>
<p>The second count checks the first, see https://example.org/a-long-address.</p>
<img src="_images/Lotus%2049.svg" alt="">
<img src="_images/not-there.png" alt="">
</article><footer>Next talk</footer></body></html>"""


def page(tmp_path: Path) -> c.Content:
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    (tmp_path / "_images").mkdir(exist_ok=True)
    for name in ("bridge.png", "Lotus 49.svg"):  # a picture the site lacks shows nothing
        (tmp_path / "_images" / name).write_bytes(b"")
    return c.handout_content(path)


def test_the_page_counts_its_content_not_the_sites_controls(tmp_path):
    content = page(tmp_path)
    assert content.headings == [["pelicans"], ["checking", "the", "count"]]
    assert content.pictures == ["_images/bridge.png", "_images/Lotus%2049.svg"]
    for word in ("skip", "deck", "handout", "next", "https", "example"):
        assert word not in content.words
    assert "wardens" in content.words and "x" not in content.words


def test_a_truncated_export_names_its_first_missing_heading(tmp_path):
    source = page(tmp_path)
    export = c.Content(c.words_of("Pelicans. Zanzibar pelicans are counted every spring by the "
                                  "island's wardens."), pictures=["p1"],
                       picture_names_known=False, raster_only=True)
    shortfall = c.compare(source, export)
    assert not shortfall.complete
    assert shortfall.headings == 0.5 and shortfall.pictures == 1.0  # the SVG is no raster
    assert shortfall.first_missing == "the heading 'Checking the Count'"


def test_a_whole_export_is_complete_whatever_its_layout(tmp_path):
    source = page(tmp_path)
    printed = ("Pelicans\nZanzibar peli-\ncans are counted every spring by the island’s war-\n"
               "dens.\n2\nChecking the Count\nThe second count checks the first, see https://\n"
               "example.org/a-long-address.\n")
    export = c.Content(c.words_of(printed), pictures=["bridge.png", "Lotus 49.png"])
    shortfall = c.compare(source, export)
    assert shortfall.complete, shortfall
    assert (shortfall.words, shortfall.headings, shortfall.pictures) == (1.0, 1.0, 1.0)


def test_a_missing_picture_is_named(tmp_path):
    export = c.Content(c.words_of(PAGE), pictures=["NAME_files/bridge.png"])
    shortfall = c.compare(page(tmp_path), export)
    assert shortfall.missing_pictures == ["Lotus%2049.svg"] and not shortfall.complete


def test_raw_tex_is_shown_as_the_text_it_is():
    """A macro the talk never defines is shown as written on the page; read as raw TeX,
    pandoc would leave it out of every document.  Definitions stay raw."""
    from build_tools.export.shared import raw_tex_as_text

    tree = {"blocks": [{"t": "RawBlock", "c": ["tex", "\\newcommand{\\x}{y}"]},
                       {"t": "Para", "c": [{"t": "Str", "c": "see"},
                                           {"t": "RawInline", "c": ["tex", "\\includes{a.md}"]}]},
                       {"t": "RawBlock", "c": ["latex", "\\tomPicture{15%}"]}]}
    assert raw_tex_as_text(tree)["blocks"] == [
        {"t": "RawBlock", "c": ["tex", "\\newcommand{\\x}{y}"]},
        {"t": "Para", "c": [{"t": "Str", "c": "see"}, {"t": "Str", "c": "\\includes{a.md}"}]},
        {"t": "Para", "c": [{"t": "Str", "c": "\\tomPicture{15%}"}]}]


def test_a_failed_talk_links_no_export_it_never_wrote(tmp_path):
    """A talk whose build fails is not exported; the pages it still has (and the index)
    must not link the files its exports would have been."""
    talk = exports_demo_project(tmp_path)
    failing = tmp_path / "talks" / "failing.md"
    failing.write_text("---\ntitle: Failing\n---\n\n\\include{talk-macros.gpp}\n\n## One\n\n"
                       "\\include{_nowhere/includes/missing.md}\n\nText.\n", encoding="utf-8")
    report = build_site(SiteOptions(talks=[str(talk), str(failing)], project=str(tmp_path),
                                    out=str(tmp_path / "_build/site"), exports=("ipynb",)))
    assert "failing" in report.failed and [r.doc for r in report.exports] == [DOC]
    site = tmp_path / "_build/site"
    assert not (site / "exports" / "failing.ipynb").exists()
    pages = [site / variant / "failing.html" for variant in ("handout", "slides", "speaker-notes")]
    assert all(page.is_file() for page in pages)  # published, the missing include a placeholder
    for page in pages:
        assert "exports/failing." not in page.read_text(encoding="utf-8")
    assert f"exports/{DOC}.ipynb" in (site / "handout" / f"{DOC}.html").read_text(encoding="utf-8")
    assert "exports/failing." not in (site / "index.html").read_text(encoding="utf-8")


def test_a_line_break_in_a_slide_parts_its_words(tmp_path):
    """pandoc writes a title slide's authors one a line (``a:br``): read back, they are
    words of their own, not run together."""
    pptx = require_module("pptx", "python-pptx")
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text_frame.text = "A Panel"
    slide.placeholders[1].text_frame.text = "Laura Janner-Klausner\vNeil D. Lawrence"
    deck.save(str(tmp_path / "panel.pptx"))
    content = c.pptx_content(tmp_path / "panel.pptx")
    assert content.headings == [["panel"]]
    assert "klausner" in content.words and "neil" in content.words
