"""The handout PDF is typeset (pandoc -> Typst -> the typst compiler), read back with poppler:
a title block, page numbers, numbered figures with every caption, equations with the
notation macros, citations and References, code, and nothing of the site's pages."""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from build_tools.config import build_config
from build_tools.engine import records as r
from build_tools.engine.run import expand
from build_tools.export import tools
from build_tools.export.documents import start_docx
from build_tools.export.shared import handout_tree
from build_tools.export.typeset import write_handout_pdf

from conftest import ABSENT_DATA, ROOT, SHARED, require_tool
from helpers import EXPORTS_DEMO, exports_demo_project, write_repo

COURSE = SHARED / "reference" / "course-execed"
CORPUS = SHARED / "corpus"
COURSE_MAP = "$HOME/lawrennd/snippets={s}:$HOME/lawrennd/bibliography={b}"

SITE_CONTROLS = ("Skip to content", "open the deck", "Handout (DOCX)", "Notebook",
                 "Slides (PDF)", "edit on GitHub", "[edit]")
"""What the printed web page carried on its pages."""


def poppler(name: str) -> str:
    return require_tool(name, "poppler-utils")


def pages(pdf: Path) -> int:
    info = subprocess.run([poppler("pdfinfo"), str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def page_text(pdf: Path, page: int | None = None) -> str:
    span = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run([poppler("pdftotext"), *span, str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def words(text: str) -> str:
    """The text as one line of words, typography undone (soft hyphens, curly quotes)."""
    text = text.replace("\u00ad", "").translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))
    return " ".join(text.split())


def assert_is_a_document(pdf: Path, talk: str, config) -> str:
    """The acceptance checks every typeset handout passes; returns its text."""
    count = pages(pdf)
    for page in range(1, count + 1):  # the number stands last on its page
        lines = [x.strip() for x in page_text(pdf, page).splitlines() if x.strip()]
        assert lines[-1] == str(page), (page, lines[-3:])
    text = page_text(pdf)
    flat = words(text)
    handout = expand(talk, "handout", config)
    captions = [" ".join(i.caption.split()) for i, _ in handout.items
                if isinstance(i, (r.Figure, r.FigureEnd)) and i.caption.strip()]
    assert len(re.findall(r"Figure \d+:", flat)) == len(captions)
    for caption in captions:  # the first words of each caption, citations aside
        start = words(" ".join(re.split(r"[\[@$\\*_`]", caption)[0].split()[:5]))
        assert start in flat, start
    assert "References" in text
    assert not re.search(r"\\[A-Za-z]+|\$", text), re.search(r".{40}(\\[A-Za-z]+|\$).{40}", flat)
    for control in SITE_CONTROLS:
        assert control not in text, control
    return flat


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The exports fixture talk in a copy of this project, typeset once."""
    root = tmp_path_factory.mktemp("typeset")
    talk = exports_demo_project(root)
    config = build_config(talk)
    pdf = root / "out" / "exports-demo.pdf"
    inputs, errors, warnings = write_handout_pdf(str(talk), pdf, config, None)
    return talk, config, pdf, inputs, errors, warnings


def test_demo_handout_is_a_typeset_document(demo):
    talk, config, pdf, inputs, errors, warnings = demo
    assert not errors and not warnings, [d.format() for d in [*errors, *warnings]]
    flat = assert_is_a_document(pdf, str(talk), config)
    first = words(page_text(pdf, 1))
    assert first.startswith("Exports Demonstration Ada Lovelace")
    assert "Test Bench, 2025-01-15" in first
    assert "Figure 1: The bridge between the pelican count and the model." in flat
    assert "Zanzibar pelicans are counted every spring" in flat
    assert "a bullet only the deck shows" not in flat
    assert "(The Royal Society 2024)" in flat  # author-date, by citeproc
    assert "print(1+1)" in flat  # the code block
    assert str(EXPORTS_DEMO.name) not in inputs and str(talk) in inputs


def test_demo_equations_use_the_notation_macros(demo):
    _talk, _config, pdf, *_ = demo
    text = page_text(pdf)
    assert "dataScalar" not in text and "mappingFunction" not in text
    assert "𝑦" in text and "𝑓" in text  # \dataScalar and \mappingFunction, typeset as math


def test_svg_figures_stay_vector(demo):
    _talk, _config, pdf, *_ = demo
    listing = subprocess.run([poppler("pdfimages"), "-list", str(pdf)], capture_output=True,
                             text=True, check=True).stdout.splitlines()
    assert len(listing) == 2, listing  # the header alone: the diagram is drawn, not a picture
    assert "Pelican count" in page_text(pdf) or "bridge" in page_text(pdf).lower()


def test_the_pages_are_not_blank(demo, tmp_path):
    _talk, _config, pdf, *_ = demo
    subprocess.run([poppler("pdftoppm"), "-r", "20", "-png", "-f", "1", "-l", "1",
                    "-singlefile", str(pdf), str(tmp_path / "page")], check=True)
    from test_exports import png_variance

    assert png_variance(tmp_path / "page.png") > 10


SVG_LINKING = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
               'width="100" height="50"><image width="40" height="40" xlink:href="{href}"/>'
               '<text x="0" y="48">INSIDE</text></svg>')


def rgb_png(width: int, height: int, rows: bytes) -> bytes:
    """A PNG of 8-bit RGB ``width`` x ``height`` whose picture data is ``rows``, compressed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def tiny_png() -> bytes:
    """A 4x4 red PNG."""
    return rgb_png(4, 4, b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4)))


def hostile_project(tmp_path: Path) -> tuple[Path, Path]:
    """A talk naming images that cannot be placed, and secrets outside the project."""
    write_repo(tmp_path / "outside", {
        "secret.png": tiny_png(),
        "secret.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="90" height="20">'
                      '<text x="0" y="15">SECRETTEXT</text></svg>'})
    project = tmp_path / "project"
    write_repo(project, {
        "conf.py": "",
        "includes/.keep": "",
        "diagrams/links-out.svg": SVG_LINKING.format(href="../../outside/secret.png"),
        "diagrams/plain.svg": SVG_LINKING.replace('<image width="40" height="40" '
                                                  'xlink:href="{href}"/>', "")
                                         .replace("INSIDE", "PLAIN"),
        "diagrams/film.mp4": b"\x00\x00\x00\x18ftypmp42",
        "talks/hostile.md": (
            "---\ntitle: Hostile\n---\n\n"
            "\\section{Figures}\n\n"                                          # line 5
            "\\notes{A figure of a file outside.}\n\n"                        # line 7
            "\\notes{![An outside image](../../outside/secret.svg)}\n\n"      # line 9
            "\\figure{\\includeimg{\\diagramsDir/links-out.svg}}{It links outside.}{links-out}\n\n"
            "\\figure{\\includeimg{\\diagramsDir/film.mp4}}{A film.}{film}\n\n"  # line 13
            "\\figure{\\includeimg{\\diagramsDir/plain.svg}}{A plain diagram.}{plain}\n\n"
            "\\notes{```{=typst}\n#text[INJECTED]\n```}\n\n"
            "\\notes{```{=openxml}\n<w:p><w:r><w:t>INJECTED</w:t></w:r></w:p>\n```}\n"
        ),
    })
    return project, project / "talks" / "hostile.md"


def test_figures_that_cannot_be_placed_are_warnings_and_the_pdf_is_written(tmp_path):
    project, talk = hostile_project(tmp_path)
    pdf = tmp_path / "hostile.pdf"
    _inputs, errors, warnings = write_handout_pdf(str(talk), pdf, build_config(talk), None)
    assert not errors
    said = {d.message.split(" left out")[0]: d for d in warnings}
    assert {d.code for d in warnings} == {"W-EXPORT-FIGURE"}
    assert said["image ../../outside/secret.svg"].location.line == 9
    assert "outside the talk's repository" in said["image ../../outside/secret.svg"].message
    assert said["image /diagrams/film.mp4"].location.line == 13
    assert said["image /diagrams/links-out.svg"].location.line == 11
    assert all(d.location.file.endswith("hostile.md") for d in warnings)
    flat = words(page_text(pdf))
    # each caption stays, numbered, where its image could not be placed
    assert "Figure 1: An outside image Figure 2: It links outside. Figure 3: A film." in flat
    assert "Figure 4: A plain diagram." in flat
    assert "PLAIN" in flat and "INSIDE" not in flat
    assert "INJECTED" not in flat and "SECRETTEXT" not in flat


def test_the_docx_places_what_the_pdf_places_and_says_where_the_rest_is_named(tmp_path):
    """The DOCX is written from the same tree: the same images refused at the same lines
    (an SVG that links outside is kept, as SVG: Word reads no file it names), no raw
    Typst or Office XML, every caption."""
    _project, talk = hostile_project(tmp_path)
    config = build_config(talk)
    out = tmp_path / "hostile.docx"
    _inputs, errors, warnings = start_docx(handout_tree(str(talk), config), out, config,
                                           None).finish()
    assert not errors
    assert {d.message.split(" left out")[0]: d.location.line for d in warnings} == {
        "image ../../outside/secret.svg": 9, "image /diagrams/film.mp4": 13}
    text = words(subprocess.run([tools.pandoc(), str(out), "-t", "plain"], capture_output=True,
                                text=True, check=True).stdout)
    for caption in ("An outside image", "It links outside.", "A film.", "A plain diagram."):
        assert caption in text
    with zipfile.ZipFile(out) as package:
        everything = b"".join(package.read(name) for name in package.namelist())
    assert b"INJECTED" not in everything and b"SECRETTEXT" not in everything


pytestmark_course = pytest.mark.skipif(not (COURSE.is_dir() and (CORPUS / "snippets").is_dir()),
                                       reason=f"{ABSENT_DATA} the reference course and corpus (../shared)")


def test_information_session_handout(tmp_path):
    talk = ROOT / "talks" / "accelerate-spark-information-session.md"
    config = build_config(talk)
    pdf = tmp_path / "information-session.pdf"
    _inputs, errors, warnings = write_handout_pdf(str(talk), pdf, config, None)
    assert not errors and not warnings, [d.format() for d in [*errors, *warnings]]
    flat = assert_is_a_document(pdf, str(talk), config)
    assert flat.startswith("Accelerate-Spark Information Session Neil D. Lawrence")
    assert "The Royal Society. 2024." in flat


@pytestmark_course
def test_course_lecture_handout(tmp_path, monkeypatch):
    course = tmp_path / "course-execed"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("_build", ".git"))
    monkeypatch.setenv("TALKS_PATH_MAP", COURSE_MAP.format(s=CORPUS / "snippets",
                                                           b=CORPUS / "bibliography"))
    monkeypatch.chdir(course)
    talk = course / "_lamd" / "the-new-world.md"
    config = build_config(talk)
    pdf = tmp_path / "the-new-world.pdf"
    _inputs, errors, warnings = write_handout_pdf(str(talk), pdf, config, None)
    assert not errors, [d.format() for d in errors]
    assert not [w for w in warnings if "outside" in w.message]
    flat = assert_is_a_document(pdf, str(talk), config)
    assert flat.startswith("The New World Neil D. Lawrence")
    assert "Taigman, Yaniv" in flat  # a reference citeproc formatted from the course's bibdir


def test_a_formula_pandoc_cannot_convert_is_a_warning_at_its_line(tmp_path):
    project = write_repo(tmp_path, {
        "conf.py": "", "includes/.keep": "",
        "talks/math.md": "---\ntitle: Math\n---\n\n\\section{Sums}\n\n"
                         "\\notes{Fine: $a^2 + b^2$.}\n\n"
                         "\\notes{Not: $\\unknownmacro{x}$.}\n",
    })
    talk = project / "talks" / "math.md"
    pdf = tmp_path / "math.pdf"
    _inputs, errors, warnings = write_handout_pdf(str(talk), pdf, build_config(talk), None)
    assert not errors
    [warning] = warnings
    assert warning.code == "W-EXPORT-MATH" and "\\unknownmacro{x}" in warning.message
    assert warning.location.line == 9
    assert pages(pdf) == 1


def test_a_picture_claiming_too_many_pixels_is_left_out_of_every_document(tmp_path):
    """A small file whose header claims 40000x40000 pixels (Typst aborts decoding one): the
    DOCX, the PDF and the PPTX are written without it, each saying so at its line."""
    from build_tools.export.pptx import write_pptx

    bomb = rgb_png(40000, 40000, b"")
    project = write_repo(tmp_path, {
        "conf.py": "", "includes/.keep": "", "diagrams/bomb.png": bomb,
        "diagrams/fine.png": tiny_png(),
        "talks/big.md": "---\ntitle: Big\n---\n\n\\section{Pictures}\n\n"
                        "\\figure{\\includeimg{\\diagramsDir/bomb.png}}{Too big.}{bomb}\n\n"  # line 7
                        "\\figure{\\includeimg{\\diagramsDir/fine.png}}{Fine.}{fine}\n"})
    talk = project / "talks" / "big.md"
    config = build_config(talk)
    docx = start_docx(handout_tree(str(talk), config), tmp_path / "big.docx", config, None).finish()
    pdf = write_handout_pdf(str(talk), tmp_path / "big.pdf", config, None)
    deck = write_pptx(str(talk), tmp_path / "big.pptx", config, None)
    for inputs, errors, warnings in (docx, pdf, deck):
        assert not errors
        [warning] = warnings
        assert "40000x40000 pixels" in warning.message and warning.location.line == 7
        assert any(i.endswith("fine.png") for i in inputs)
        assert not any(i.endswith("bomb.png") for i in inputs)
    assert "Too big." in words(page_text(tmp_path / "big.pdf"))


def test_a_picture_taller_than_the_page_is_drawn_to_fit_it(tmp_path):
    """A portrait photograph at the text's width would run off the page, over its caption:
    it is given the tallest height a picture is drawn; the pictures of a figure share it."""
    import struct
    import zlib

    from build_tools.export.typeset import TALLEST_IN, within_the_page

    def png(width: int, height: int) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                + chunk(b"IEND", b""))

    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "tall.png").write_bytes(png(400, 1000))
    (tmp_path / "images" / "wide.png").write_bytes(png(1000, 400))

    def image(name: str, width: str) -> dict:
        return {"t": "Image", "c": [["", [], [["width", width]]], [], [f"images/{name}", ""]]}

    def attrs(node: dict) -> list:
        return node["c"][0][2]

    tall, wide = image("tall.png", "90%"), image("wide.png", "90%")
    assert [tuple(a) for a in attrs(within_the_page(tall, tmp_path))] == [("height", f"{TALLEST_IN:.2f}in")]
    assert within_the_page(wide, tmp_path) == wide  # fits: as written
    figure = {"t": "Figure", "c": [["", [], []], [None, []], [{"t": "Para", "c": [tall, tall]}]]}
    shared = within_the_page(figure, tmp_path)["c"][2][0]["c"]
    assert [dict(attrs(x))["height"] for x in shared] == [f"{TALLEST_IN / 2:.2f}in"] * 2
