"""Every macro lamd's own macro files define (the ``lamd`` package, and its people table)
is implemented here or listed in docs/ as a deliberate departure, with what happens instead.

The package is only read, never installed: ``make setup`` downloads the pinned wheel to
``.venv/lamd/`` (``LAMD_WHEEL`` in the Makefile)."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

from build_tools.config import VARIANTS, TalkConfig
from build_tools.engine.expander import META
from build_tools.engine.people import read_people
from build_tools.engine.unknown import READINGS
from build_tools.engine.vocabulary import load_vocabulary

from conftest import missing_tool

REPO = Path(__file__).resolve().parent.parent
WHEELS = sorted((REPO / ".venv" / "lamd").glob("lamd-*.whl"))
DEFINITION_RE = re.compile(r"\\(?:define|defeval)\{\\?([A-Za-z0-9_]+)")
GUARD_RE = re.compile(r"\\ifndef\{\\?([A-Za-z0-9_]+)\}")
BUILD_VARIABLES = {"diagramsDir", "writeDiagramsDir", "scriptsDir", "githubBaseUrl",
                   "githubDownloadUrl", "blogBaseUrl"}
"""Defined per talk (``vocabulary.define_variables``), as lamd passes them to gpp."""


def lamd_macro_files() -> dict[str, str]:
    if not WHEELS:
        missing_tool("lamd's package is not downloaded (run make setup)")
    with zipfile.ZipFile(WHEELS[-1]) as wheel:
        return {Path(name).name: wheel.read(name).decode("utf-8", "replace")
                for name in wheel.namelist()
                if name.startswith("lamd/macros/") and name.endswith(".gpp")}


def defined_names(files: dict[str, str]) -> dict[str, str]:
    """Name -> the file defining it, include guards (``\\ifndef{x}\\define{x}``) left out."""
    names: dict[str, str] = {}
    for file, text in files.items():
        guards = set(GUARD_RE.findall(text))
        for name in DEFINITION_RE.findall(text):
            if name not in guards:
                names.setdefault(name, file)
    return names


def documented_departures() -> dict[str, str]:
    """Each name docs/vocabulary.md's "Names left undefined" lists -> what it says happens and
    why: the last two cells of its table row, or the paragraph that names it."""
    text = (REPO / "docs" / "vocabulary.md").read_text(encoding="utf-8")
    section = text.split("## Names left undefined", 1)[1].split("\n## ", 1)[0]
    said: dict[str, str] = {}
    for block in section.split("\n\n"):
        rows = [line.strip("|").split(" | ") for line in block.splitlines() if line.startswith("| `")]
        for cells in rows:
            for name in re.findall(r"`\\([A-Za-z0-9_]+)`", cells[0]):
                said.setdefault(name, " / ".join(c.strip() for c in cells[2:]) if len(cells) >= 4 else "")
        if not rows:
            for name in re.findall(r"`\\([A-Za-z0-9_]+)`", block):
                said.setdefault(name, " ".join(block.split()))
    return said


def our_names() -> set[str]:
    names = set(META) | set(READINGS) | BUILD_VARIABLES
    for variant in VARIANTS:
        names |= set(load_vocabulary(variant, TalkConfig())[0])
    return names


def test_every_macro_lamd_defines_is_implemented_or_a_documented_departure():
    lamd = defined_names(lamd_macro_files())
    assert len(lamd) > 200  # the whole vocabulary was read, not an empty placeholder
    ours, departures = our_names(), documented_departures()
    undocumented = sorted(f"\\{n} ({lamd[n]})" for n in lamd if n not in ours | set(departures))
    assert not undocumented, "implement or list under 'Names left undefined': " + ", ".join(undocumented)
    # a departure that is implemented after all is no departure: the docs must say so
    assert not sorted(n for n in set(departures) & set(lamd) if n in ours)
    # each says what happens instead and why (a table row: its last two cells, both given)
    unexplained = sorted(n for n in set(lamd) - ours
                         if len(departures[n].split()) < 6 or departures[n].endswith("/ "))
    assert not unexplained, "say what happens and why for " + ", ".join(unexplained)


def test_every_person_lamd_ships_has_their_portrait_macro():
    files = lamd_macro_files()
    people = {n for n in defined_names({"p": files["talk-people.gpp"]}) if n.endswith("Picture")}
    assert len(people) == 67
    ours = {p.macro for p in read_people(str(REPO / "macros" / "people.yml"))[0]}
    assert people == ours
    vocabulary = load_vocabulary("handout", TalkConfig())[0]
    assert people <= set(vocabulary)

