"""The completeness check reads a PPTX back from its slides' XML: it sees what python-pptx
sees (titles, text, tables, pictures, notes), without loading python-pptx, and it still
finds a deck whose slide lost its text or its picture incomplete."""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from build_tools.config import VARIANTS, build_config
from build_tools.export import completeness as c
from build_tools.export.run import export_path, run_exports
from build_tools.export.shared import ExportJob
from build_tools.site.build import SiteOptions, build_site

from conftest import require_module
from helpers import exports_demo_project

pptx = require_module("pptx", "python-pptx")

DOC = "exports-demo"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, Path]:
    """The exports demonstration built as HTML and its PPTX made: (the deck's page, the PPTX)."""
    root = tmp_path_factory.mktemp("readback")
    talk = exports_demo_project(root)
    report = build_site(SiteOptions(talks=[str(talk)], project=str(root),
                                    out=str(root / "_build/site"), exports=()))
    assert report.ok, report.failed
    work = root / "_build" / ".work" / "site"
    pages = {v: str(work / v / "html" / f"{DOC}.html") for v in VARIANTS}
    job = ExportJob(str(talk), DOC, ("pptx",), str(root / "exports"), build_config(talk), pages)
    [result] = run_exports([job], workers=1)
    assert result.written == ["pptx"], [d.format() for d in result.diagnostics]
    return Path(pages["slides"]), export_path(job.out_dir, DOC, "pptx")


def as_python_pptx_reads_it(path: Path) -> c.Content:
    """What the check read with python-pptx: each slide's title placeholder, its shapes'
    text and pictures, its notes placeholder."""
    found = c.Content(picture_names_known=False)
    for slide in pptx.Presentation(str(path)).slides:
        title = slide.shapes.title
        if title is not None and title.has_text_frame:
            found.headings.append(c.words_of(title.text_frame.text))
        for shape in slide.shapes:
            found.pictures += ["picture"] * (shape.shape_type == 13)  # MSO_SHAPE_TYPE.PICTURE
            if shape.has_text_frame:
                found.words += c.words_of(shape.text_frame.text)
            if shape.has_table:
                found.words += [w for row in shape.table.rows for cell in row.cells
                                for w in c.words_of(cell.text)]
        if slide.has_notes_slide:
            found.words += c.words_of(slide.notes_slide.notes_text_frame.text)
    return found


def test_a_pptx_reads_back_as_python_pptx_reads_it(made):
    _page, deck = made
    content, expected = c.pptx_content(deck), as_python_pptx_reads_it(deck)
    assert content.headings == expected.headings and len(content.headings) > 3
    assert sorted(content.words) == sorted(expected.words)
    assert len(content.pictures) == len(expected.pictures) > 0


def test_reading_a_pptx_back_loads_no_python_pptx(made):
    """python-pptx's import and its model of the package cost more than the slides' XML."""
    _page, deck = made
    code = ("import sys; from pathlib import Path; from build_tools.export.completeness import "
            f"pptx_content; pptx_content(Path({str(deck)!r})); "
            "print(sorted(m for m in sys.modules if m == 'pptx' or m.startswith('pptx.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, check=True)
    assert done.stdout.strip() == "[]"


def planted(deck: Path, out: Path, change) -> Path:
    """A copy of the PPTX whose slides' XML ``change`` (text -> text) rewrote."""
    with zipfile.ZipFile(deck) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if re.fullmatch(r"ppt/slides/slide\d+\.xml", info.filename):
                data = change(data.decode("utf-8")).encode("utf-8")
            new.writestr(info, data)
    return out


def test_a_pptx_whose_slide_lost_its_text_is_incomplete(made, tmp_path):
    page, deck = made
    source = c.deck_content(page)
    assert c.compare(source, c.pptx_content(deck)).complete
    [paragraph] = [text for kind, text in source.blocks
                   if kind == "paragraph" and len(c.words_of(text)) >= 8][:1]
    first = " ".join(paragraph.split()[:3])

    def lose(xml: str) -> str:  # every run of the paragraph's slide text emptied
        return re.sub(r"<a:t>([^<]*)</a:t>",
                      lambda m: "<a:t></a:t>" if m[1].strip() and m[1].strip() in paragraph else m[0],
                      xml) if first in xml else xml

    shortfall = c.compare(source, c.pptx_content(planted(deck, tmp_path / "lost.pptx", lose)))
    assert not shortfall.complete and shortfall.first_missing.startswith("the paragraph")


def test_a_pptx_whose_slide_lost_its_picture_is_incomplete(made, tmp_path):
    page, deck = made
    source = c.deck_content(page)

    def lose_one(xml: str) -> str:
        return re.sub(r"<p:pic>.*?</p:pic>", "", xml, count=1, flags=re.S)

    shortfall = c.compare(source, c.pptx_content(planted(deck, tmp_path / "lost.pptx", lose_one)))
    assert not shortfall.complete and shortfall.pictures < 1.0
