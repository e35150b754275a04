"""``talks build --timings`` says where the build's time went, stage by stage and process by
process, and the sums of a stage that runs in many pieces count each piece once."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from click.testing import CliRunner

from build_tools import timings
from build_tools.cli import main

from conftest import require_module

ROOTS = Path(__file__).resolve().parent / "roots"


def test_timed_pieces_add_up_and_are_taken_once():
    timings.taken()
    for _ in range(3):
        with timings.timed("piece"):
            time.sleep(0.01)
    sums = timings.taken()
    assert sums["piece"][1] == 3 and sums["piece"][0] >= 0.03
    assert timings.taken() == {}


def test_build_reports_every_stage_and_worker(tmp_path, monkeypatch):
    require_module("sphinx.application", "sphinx")
    project = tmp_path / "p"
    shutil.copytree(ROOTS / "test-three-talks", project)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--quiet", "--to", "none", "--timings"])
    assert result.exit_code == 0, result.output
    table = {(m.group(1).strip(), m.group(2).strip()): (float(m.group(3)), int(m.group(4)))
             for m in re.finditer(r"^(.+?)\s{2,}(main|\S+ worker)\s+([\d.]+)\s+(\d+)$",
                                  result.output, re.M)}
    for stage in ("discovery and settings", "navigation", "decks", "publish",
                  "Sphinx variants, all at once", "fragment pages"):
        assert (stage, "main") in table, stage
    for variant in ("slides", "speaker-notes", "handout"):
        for stage in ("Sphinx start", "Sphinx read", "Sphinx write"):
            assert (stage, f"{variant} worker") in table, (stage, variant)
    # the three decks are expanded once, before Sphinx, and the deck's build reads them
    assert table[("expansion", "main")][1] == 3
    assert ("expansion", "slides worker") not in table
    assert table[("expansion", "handout worker")][1] == 3


def test_each_bibliography_is_cleaned_once_per_build_not_once_per_variant(tmp_path, monkeypatch):
    """The build cleans a bibliography before its deck and variant processes fork; each of
    them finds it cleaned (a course's few large files took seconds in every variant)."""
    require_module("sphinx.application", "sphinx")
    from build_tools import bibliography

    project = tmp_path / "p"
    shutil.copytree(ROOTS / "test-three-talks", project)
    cleaned = tmp_path / "cleaned.txt"
    clean = bibliography.clean_bib_file

    def counted(path: str, display: str | None = None) -> bibliography.CleanBib:
        with open(cleaned, "a", encoding="utf-8") as fh:  # appended to by every process
            fh.write(f"{Path(path).name}\n")
        return clean(path, display)

    monkeypatch.setattr(bibliography, "clean_bib_file", counted)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--quiet", "--to", "none", "--timings"])
    assert result.exit_code == 0, result.output
    assert cleaned.read_text(encoding="utf-8").split() == ["references.bib"]
    assert re.search(r"^bibliographies\s+main\s", result.output, re.M)
