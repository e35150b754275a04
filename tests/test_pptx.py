"""The deck as PowerPoint, read back with python-pptx: one slide per slide of the deck,
titles, pictures, equations, the speaker notes in the notes pane, a reference
presentation when the settings name one; and a lamd course gets one per lecture."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from build_tools.api import expand_talk
from build_tools.config import build_config
from build_tools.lamd import lamd_exports
from build_tools.export.pptx import write_pptx

from conftest import ABSENT_DATA, SHARED, require_module
from helpers import exports_demo_project, write_repo

pptx = require_module("pptx", "python-pptx")

COURSE = SHARED / "reference" / "course-execed"
CORPUS = SHARED / "corpus"
PICTURE = 13  # MSO_SHAPE_TYPE.PICTURE


def deck_slides(talk: Path) -> int:
    """The reveal.js deck's slides: the title slide and one per slide anchor."""
    return 1 + len(expand_talk(str(talk), "slides").document.slide_anchors)


def deck_notes(talk: Path) -> int:
    """How many of the reveal.js deck's slides have speaker notes (one block per slide)."""
    return expand_talk(str(talk), "slides").document.text.count("{revealjs-notes}")


def titles_of(deck) -> list[str]:
    return [s.shapes.title.text_frame.text if s.shapes.title is not None else "" for s in deck.slides]


def continued(deck) -> int:
    """Slides that hold a further picture of the slide before, under its title (pandoc places
    one picture a slide)."""
    titles = titles_of(deck)
    return sum(1 for n, slide in enumerate(deck.slides)
               if n and titles[n] in (f"{titles[n - 1]} (continued)".lstrip(), titles[n - 1])
               and titles[n].endswith("(continued)"))


def added_references(deck, talk: Path) -> int:
    """The References slide that ends a deck whose talk cites but lists its references
    nowhere (the deck's own list, added at its end, is no slide of the talk's)."""
    anchors = expand_talk(str(talk), "slides").document.slide_anchors
    return int(titles_of(deck)[-1] == "References"
               and not any(anchor.title == "References" for anchor in anchors))


def notes_of(slide) -> str:
    return slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""


def texts_of(slide) -> str:
    return "\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("pptx")
    talk = exports_demo_project(root)
    out = root / "exports-demo.pptx"
    inputs, errors, warnings = write_pptx(str(talk), out, build_config(talk), None)
    return root, talk, out, inputs, errors, warnings


def test_one_slide_per_slide_with_titles_notes_and_pictures(demo):
    _root, talk, out, _inputs, errors, warnings = demo
    assert not errors and not warnings, [d.format() for d in [*errors, *warnings]]
    deck = pptx.Presentation(str(out))
    slides = list(deck.slides)
    assert len(slides) == deck_slides(talk)
    assert texts_of(slides[0]).startswith("Exports Demonstration")
    titles = [s.shapes.title.text if s.shapes.title is not None else "" for s in slides[1:]]
    assert titles[:2] == ["Counting Zanzibar Pelicans", "Checking the Count"]
    first, second = slides[1], slides[2]
    # the notes pane holds what the deck's speaker view shows: captions, \speakernotes
    assert notes_of(first) == "The bridge between the pelican count and the model."
    assert notes_of(second) == "Ask who has counted pelicans, as The Royal Society (2024) did."
    assert "Zanzibar pelicans" not in notes_of(first)  # \notes are the handout's
    assert [s.shape_type for s in first.shapes].count(PICTURE) == 1
    assert "a bullet only the deck shows" in texts_of(second)  # slide content, not notes
    assert "print(total)" not in texts_of(second)  # as in the deck: code is the handout's


def test_math_is_an_equation_with_the_notation_macros(demo):
    _root, _talk, out, *_ = demo
    with zipfile.ZipFile(out) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist()
                      if n.startswith("ppt/notesSlides/") or n.startswith("ppt/slides/"))
    assert "dataScalar" not in xml and "mappingFunction" not in xml


def test_svg_pictures_are_drawn_as_png_at_their_size(demo):
    """PowerPoint shows no SVG given alone: the diagram is a PNG, its size the SVG's."""
    _root, _talk, out, *_ = demo
    deck = pptx.Presentation(str(out))
    [picture] = [s for slide in deck.slides for s in slide.shapes if s.shape_type == PICTURE]
    assert picture.image.content_type == "image/png"
    assert picture.image.size == (800, 450)  # drawn at its own size (96 pixels per inch)
    assert abs(picture.width / picture.height - 800 / 450) < 0.02  # bridge.svg is 800x450


def deck_media(deck: Path) -> list[bytes]:
    with zipfile.ZipFile(deck) as z:
        return [z.read(n) for n in sorted(z.namelist()) if n.startswith("ppt/media/")]


def test_a_diagram_two_talks_show_is_drawn_once_and_kept_for_every_worker(tmp_path):
    """The PNG an SVG is drawn as is kept in the exports' work folder, named by the SVG's
    content: a second talk (in another worker, or a later build) takes it from there."""
    first = exports_demo_project(tmp_path)
    second = first.with_name("second-talk.md")
    shutil.copy(first, second)
    kept = tmp_path / "pictures"
    write_pptx(str(first), tmp_path / "first.pptx", build_config(first), None, pictures=str(kept))
    [png] = kept.iterdir()
    from build_tools.export.shared import rasterize

    svg = (tmp_path / "diagrams" / "accelerate" / "bridge.svg").read_bytes()
    drawn = png.read_bytes()
    assert drawn == rasterize(svg, 96)  # the picture as drawn, unchanged
    assert drawn in deck_media(tmp_path / "first.pptx")
    # another picture in its place: the second talk must take it, not draw the SVG again
    marked = rasterize(svg, 48)
    png.write_bytes(marked)
    write_pptx(str(second), tmp_path / "second.pptx", build_config(second), None,
               pictures=str(kept))
    assert marked in deck_media(tmp_path / "second.pptx")
    assert drawn not in deck_media(tmp_path / "second.pptx")
    assert [p.name for p in kept.iterdir()] == [png.name]


def test_a_kept_picture_that_is_not_a_png_is_drawn_again(tmp_path):
    talk = exports_demo_project(tmp_path)
    kept = tmp_path / "pictures"
    write_pptx(str(talk), tmp_path / "first.pptx", build_config(talk), None, pictures=str(kept))
    [png] = kept.iterdir()
    drawn = png.read_bytes()
    png.write_bytes(b"not a picture")
    write_pptx(str(talk), tmp_path / "again.pptx", build_config(talk), None, pictures=str(kept))
    assert deck_media(tmp_path / "again.pptx") == deck_media(tmp_path / "first.pptx")
    assert png.read_bytes() == drawn


def reference_deck(path: Path, width: int) -> Path:
    """pandoc's own reference presentation with another slide width."""
    import pypandoc

    default = subprocess.run([pypandoc.get_pandoc_path(), "--print-default-data-file",
                              "reference.pptx"], capture_output=True, check=True).stdout
    path.write_bytes(default)
    deck = pptx.Presentation(str(path))
    deck.slide_width = width
    deck.save(str(path))
    return path


def test_potx_in_the_settings_names_the_reference_presentation(tmp_path):
    project = write_repo(tmp_path / "course", {
        "_lamd/_lamd.yml": "pptx: True\npotx: house-style.potx\n",
        "_lamd/lecture.md": "---\ntitle: A Lecture\n---\n\n## One\n\n* a point\n\n"
                            "\\speakernotes{What to say.}\n",
    })
    reference_deck(project / "_lamd" / "house-style.potx", 9_144_000 + 12_700)
    talk = project / "_lamd" / "lecture.md"
    config = build_config(talk)
    assert config.pptx_reference == str(project / "_lamd" / "house-style.potx")
    assert lamd_exports({"pptx": True, "docx": False}) == ("pptx",)
    out = tmp_path / "lecture.pptx"
    inputs, errors, warnings = write_pptx(str(talk), out, config, None)
    assert not errors and not warnings
    assert config.pptx_reference in inputs
    deck = pptx.Presentation(str(out))
    assert deck.slide_width == 9_144_000 + 12_700
    assert notes_of(deck.slides[1]) == "What to say."


def test_a_reference_presentation_is_found_in_the_includes_as_lamd_finds_it(tmp_path):
    """lamd looks for the course's ``potx`` in its own includes/ too: a course naming one that
    is not beside its settings gets the one in the project's includes/."""
    project = write_repo(tmp_path / "course", {
        "_lamd/_lamd.yml": "pptx: True\npotx: house-style.potx\n",
        "_lamd/lecture.md": "---\ntitle: A Lecture\n---\n\n## One\n\n* a point\n",
    })
    (project / "includes").mkdir()
    found = reference_deck(project / "includes" / "house-style.potx", 9_144_000 + 12_700)
    talk = project / "_lamd" / "lecture.md"
    out = tmp_path / "lecture.pptx"
    inputs, errors, warnings = write_pptx(str(talk), out, build_config(talk), None)
    assert not errors and not warnings
    assert str(found) in inputs
    assert pptx.Presentation(str(out)).slide_width == 9_144_000 + 12_700


def test_a_reference_outside_the_repository_is_refused_with_a_warning(tmp_path):
    outside = reference_deck(tmp_path / "elsewhere.pptx", 9_144_000 + 25_400)
    project = write_repo(tmp_path / "course", {
        "_lamd/_lamd.yml": f"potx: {os.path.relpath(outside, tmp_path / 'course' / '_lamd')}\n",
        "_lamd/lecture.md": "---\ntitle: A Lecture\npotx: missing.potx\n---\n\n## One\n\nText.\n",
    })
    talk = project / "_lamd" / "lecture.md"
    out = tmp_path / "lecture.pptx"
    _inputs, errors, warnings = write_pptx(str(talk), out, build_config(talk), None)
    # the settings may not name a file outside the project: an error at their line
    assert [(e.code, e.location.line) for e in errors] == [("E-PATH-OUTSIDE", 1)]
    assert errors[0].location.file.endswith("_lamd.yml")
    [warning] = warnings  # the front matter's potx wins, and is not there
    assert warning.code == "W-EXPORT-REFERENCE" and "missing.potx" in warning.message
    talk.write_text("---\ntitle: A Lecture\n---\n\n## One\n\nText.\n", encoding="utf-8")
    _inputs, errors, warnings = write_pptx(str(talk), out, build_config(talk), None)
    [warning] = warnings
    assert "outside the talk's repository" in warning.message
    assert pptx.Presentation(str(out)).slide_width != 9_144_000 + 25_400


@pytest.mark.skipif(not (COURSE.is_dir() and (CORPUS / "snippets").is_dir()),
                    reason=f"{ABSENT_DATA} the reference course and corpus (../shared)")
def test_a_lamd_course_that_asks_gets_a_pptx_per_lecture_with_its_notes(tmp_path, monkeypatch):
    """``pptx: True`` in the course's _lamd.yml: ``talks build`` at its root writes one deck
    per lecture, linked from the index like every export."""
    course = tmp_path / "course-execed"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("_build", ".git"))
    monkeypatch.setenv("TALKS_PATH_MAP", f"$HOME/lawrennd/snippets={CORPUS / 'snippets'}:"
                                         f"$HOME/lawrennd/bibliography={CORPUS / 'bibliography'}")
    monkeypatch.chdir(course)
    talks = os.path.join(os.path.dirname(sys.executable), "talks")
    done = subprocess.run([talks, "build", "--quiet", "--variant", "slides"], cwd=course,
                          capture_output=True, text=True, timeout=900)
    assert "cannot export" not in done.stderr, done.stderr[-3000:]
    failed = set(re.findall(r"talk '([^']+)' failed", done.stderr))  # the course's own errors
    lectures = sorted(p.stem for p in (course / "_lamd").glob("*.md") if p.stem not in failed)
    assert len(lectures) > len(failed)
    index = (course / "_build" / "site" / "index.html").read_text(encoding="utf-8")
    noted = 0
    for lecture in lectures:
        path = course / "_build" / "site" / "exports" / f"{lecture}.pptx"
        deck = pptx.Presentation(str(path))
        source = course / "_lamd" / f"{lecture}.md"
        assert len(deck.slides) == deck_slides(source) + continued(deck) + added_references(
            deck, source), lecture
        with_notes = sum(bool(notes_of(s).strip()) for s in deck.slides)
        assert with_notes == deck_notes(source), lecture
        noted += with_notes
        assert f'href="exports/{lecture}.pptx"' in index
    assert noted > len(lectures)


LOSSES = """---
title: What PowerPoint Used to Lose
author:
- given: Ada
  family: Lovelace
bibliography: references.bib
---

\\include{talk-macros.gpp}

## Two Pictures

Text beside them, with $x^2$ in it.

\\includepng{/diagrams/one}{40%}

\\includepng{/diagrams/two}{40%}

## A Table

<table>
<tr><td>bits/min</td><td>billions</td></tr>
<tr><td>embodiment</td><td>20 minutes</td></tr>
<tr><td>area</td><td>$r^2$</td></tr>
</table>

## Cited

* As @RoyalSociety-ai24 found.
"""


def test_what_pptx_used_to_lose_is_kept(tmp_path):
    """Every picture of a slide (no file name printed as its caption), an HTML table as a
    table, an equation's text box readable without Office math, and the References slide
    of a talk that cites but lists them nowhere."""
    import struct
    import zlib

    def png(colour: int) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        raw = b"".join(b"\x00" + bytes([colour]) * 8 for _ in range(8))
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

    talk = exports_demo_project(tmp_path)
    (tmp_path / "diagrams" / "one.png").write_bytes(png(0))
    (tmp_path / "diagrams" / "two.png").write_bytes(png(255))
    talk.write_text(LOSSES, encoding="utf-8")
    out = tmp_path / "losses.pptx"
    _inputs, errors, _warnings = write_pptx(str(talk), out, build_config(talk), None)
    assert not errors
    deck = pptx.Presentation(str(out))
    titles = titles_of(deck)
    assert titles == ["What PowerPoint Used to Lose", "Two Pictures", "Two Pictures (continued)",
                      "A Table", "Cited", "References"]
    pictures = [sum(s.shape_type == PICTURE for s in slide.shapes) for slide in deck.slides]
    assert pictures == [0, 1, 1, 0, 0, 0]
    assert not any("one.png" in texts_of(slide) or "two.png" in texts_of(slide) for slide in deck.slides)
    [table] = [s.table for s in deck.slides[3].shapes if s.has_table]
    # an equation in a cell, which pandoc writes without Office math's namespace, is its text
    assert [[c.text for c in row.cells] for row in table.rows] == [["bits/min", "billions"],
                                                                   ["embodiment", "20 minutes"],
                                                                   ["area", "r2"]]
    with zipfile.ZipFile(out) as package:
        slide = package.read("ppt/slides/slide2.xml").decode("utf-8")
    assert "mc:Fallback" in slide and "Text beside them" in slide.split("mc:Fallback")[1]
    assert "Science in the Age of AI" in texts_of(deck.slides[5])


def test_a_talk_whose_expansion_fails_leaves_the_last_good_pptx(tmp_path):
    """The export fails at the expansion's error, before pandoc runs, and the last good PPTX
    stays where it was."""
    from build_tools.export.run import export_path, run_exports
    from build_tools.export.shared import ExportJob

    talk = exports_demo_project(tmp_path)
    job = ExportJob(str(talk), "deck", ("pptx",), str(tmp_path / "exports"), build_config(talk))
    [first] = run_exports([job], workers=1)
    assert first.written == ["pptx"], [d.format() for d in first.diagnostics]
    out = export_path(job.out_dir, "deck", "pptx")
    good = out.stat()
    talk.write_text(talk.read_text(encoding="utf-8") + "\n\\include{_nowhere/includes/gone.md}\n",
                    encoding="utf-8")
    [second] = run_exports([replace(job, config=build_config(talk))], workers=1)
    assert second.written == [] and [d.code for d in second.diagnostics] == ["E-EXPORT"]
    assert "E-INCLUDE-MISSING" in second.diagnostics[0].message
    assert (out.stat().st_ino, out.stat().st_mtime_ns) == (good.st_ino, good.st_mtime_ns)  # untouched
