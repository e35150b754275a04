"""A variant whose last build still holds is not started (``site/unchanged.py``), and a
change to anything its pages are made from starts it."""
from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest

from build_tools.site.build import SiteOptions, SiteReport, build_site
from build_tools.site.unchanged import LAST_BUILD, LAST_WARNINGS

ROOTS = Path(__file__).parent / "roots"
VARIANTS = ("slides", "speaker-notes", "handout")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", root)
    return root


def build(project: Path, out: str = "site") -> SiteReport:
    report = build_site(SiteOptions(out=str(project.parent / out), project=str(project)))
    assert all(r.ok for r in report.results.values()), report.results
    return report


def not_started(report: SiteReport) -> set[str]:
    return {v for v, r in report.results.items() if r.unchanged}


def same_pages(a: Path, b: Path) -> list[str]:
    """The pages that differ between two sites (every variant, every file)."""
    differ = []
    for variant in VARIANTS:
        for page in sorted((a / variant).rglob("*.html")):
            other = b / variant / page.relative_to(a / variant)
            if not other.is_file() or not filecmp.cmp(page, other, shallow=False):
                differ.append(str(page.relative_to(a)))
    return differ


def test_a_build_with_nothing_changed_starts_no_variant_and_says_what_the_last_said(project):
    first = build(project)
    site = project.parent / "site"
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    again = build(project)
    assert not_started(again) == set(VARIANTS)
    assert all(not r.read for r in again.results.values())
    assert sorted(again.warnings()) == sorted(first.warnings()) and first.warnings()
    assert again.failed == first.failed
    for variant in VARIANTS:
        assert again.results[variant].talks == first.results[variant].talks
    after = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before


def test_an_edit_to_notes_leaves_the_deck_unstarted_with_the_page_a_fresh_build_makes(project):
    build(project)
    fragment = project / "includes/_shared/includes/ab.md"
    fragment.write_text(fragment.read_text() + "\n\\notes{A sentence the deck does not show.}\n")
    report = build(project)
    assert not_started(report) == {"slides"}
    assert report.results["handout"].read == ["alpha", "beta"]
    assert "A sentence the deck does not show." in \
        (project.parent / "site/handout/alpha.html").read_text()
    fresh = project.parent / "fresh"
    shutil.copytree(project, fresh)
    build(fresh, "fresh-site")
    assert same_pages(project.parent / "site", project.parent / "fresh-site") == []


def test_an_edit_that_moves_the_decks_lines_starts_it(project):
    """Every warning and status says where its line is: a deck whose lines moved is read
    again, though its text is the same."""
    build(project)
    fragment = project / "includes/_shared/includes/ab.md"
    fragment.write_text("\\notes{A note above.\n\nOn three lines.}\n" + fragment.read_text())
    report = build(project)
    assert "slides" not in not_started(report)
    assert report.results["slides"].read == ["alpha", "beta"]


def test_an_edit_the_deck_shows_starts_it(project):
    build(project)
    fragment = project / "includes/_shared/includes/ab.md"
    fragment.write_text(fragment.read_text() + "\n\\slides{* A bullet on the deck}\n")
    report = build(project)
    assert not_started(report) == set()
    assert "A bullet on the deck" in (project.parent / "site/slides/alpha.html").read_text()


def _touch_conf(project: Path) -> None:
    conf = project / "conf.py"
    conf.write_text(conf.read_text() + "\n# edited\n")


def _remove_a_page(project: Path) -> None:
    (project.parent / ".work/site/handout/html/gamma.html").unlink()


def _damage_the_search_index(project: Path) -> None:
    (project.parent / ".work/site/handout/html/searchindex.js").write_text("damaged")


def _damage_the_record(project: Path) -> None:
    (project.parent / ".work/site/handout" / LAST_BUILD).write_bytes(b"not a record")


def _damage_the_kept_warnings(project: Path) -> None:
    (project.parent / ".work/site/handout" / LAST_WARNINGS).write_bytes(b"not the warnings")


def _stop_half_way(project: Path) -> None:
    (project.parent / ".work/site/handout/building").write_text("")


def _add_a_talk(project: Path) -> None:
    shutil.copy(project / "talks/gamma.md", project / "talks/delta.md")


def _edit_the_bibliography(project: Path) -> None:
    bib = project / "references.bib"
    bib.write_text(bib.read_text().replace("2020", "2021"))


def _a_missing_image_appears(project: Path) -> None:
    """(gamma, through c-only.md, shows ``absent.svg``, which is not there.)"""
    shutil.copy(project / "diagrams/shared/loop.svg", project / "diagrams/shared/absent.svg")


@pytest.mark.parametrize("change", [_touch_conf, _remove_a_page, _damage_the_search_index,
                                    _damage_the_record, _damage_the_kept_warnings,
                                    _stop_half_way, _add_a_talk, _edit_the_bibliography,
                                    _a_missing_image_appears], ids=lambda f: f.__name__[1:])
def test_each_change_to_what_the_pages_are_made_from_starts_the_handout(project, change):
    build(project)
    change(project)
    report = build(project)
    assert "handout" not in not_started(report)
    assert (project.parent / "site/handout/gamma.html").is_file()
    assert build(project).results["handout"].unchanged  # and the next build holds again


def test_talks_build_with_nothing_changed_starts_no_sphinx(project):
    """As a command, in a new process: nothing a build that starts no variant leaves out
    (Sphinx, imported only when a variant starts) may make its record look stale."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "build_tools.cli", "build", "--quiet", "--to", "none",
               "--timings"]
    first = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "slides worker" in first.stderr
    again = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "worker" not in again.stderr and "Sphinx loaded" not in again.stderr, again.stderr
    assert "documents read: handout 0, speaker-notes 0, slides 0" in again.stderr
