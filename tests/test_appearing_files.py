"""A file that appears where a talk looked for one is read by the next build, as a fresh
build would read it: a missing include created, a shared fragment overridden by one
earlier in the search order, the vocabulary put back.  Each is checked in every variant,
in the exports, and against a build from scratch."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from build_tools.config import PROJECT_MACROS, TalkConfig
from build_tools.diagnostics import MacroError
from build_tools.engine.run import expand
from build_tools.engine.source import clear_caches
from build_tools.site.build import SiteOptions, SiteReport, build_site
from test_unchanged import VARIANTS, same_pages

ROOTS = Path(__file__).parent / "roots"
LATER = "\\include{_shared/includes/later.md}\n"
SENTENCE = "A sentence from a fragment that was not there."


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", root)
    return root


def build(project: Path, out: str = "site", **options: object) -> SiteReport:
    return build_site(SiteOptions(out=str(project.parent / out), project=str(project), **options))


def same_as_a_fresh_build(project: Path) -> list[str]:
    fresh = project.parent / "fresh"
    shutil.copytree(project, fresh)
    assert build(fresh, "fresh-site").results
    return same_pages(project.parent / "site", project.parent / "fresh-site")


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + "\n" + line)


def test_a_missing_include_that_appears_is_read_in_every_variant(project):
    add_line(project / "talks/gamma.md", LATER)
    first = build(project)
    assert "E-INCLUDE-MISSING" in " ".join(first.failed["gamma"])
    (project / "includes/_shared/includes/later.md").write_text(f"\\notes{{{SENTENCE}}}\n"
                                                                "\\slides{* A later bullet}\n")
    report = build(project)
    for variant in VARIANTS:
        assert report.results[variant].read == ["gamma"], variant
    assert "gamma" not in report.failed
    assert not any("later.md" in w for w in report.warnings())
    assert SENTENCE in (project.parent / "site/handout/gamma.html").read_text()
    assert "A later bullet" in (project.parent / "site/slides/gamma.html").read_text()
    assert same_as_a_fresh_build(project) == []
    assert all(r.unchanged for r in build(project).results.values())  # and it holds again


def test_a_fragment_found_further_down_the_search_order_is_overridden_by_one_that_appears(project):
    """The talk's repository is searched before the include roots: a copy of a shared
    fragment made there is what the next build reads."""
    build(project)
    override = project / "_shared/includes/c-only.md"
    override.parent.mkdir(parents=True)
    override.write_text(f"\\subsection{{Overridden}}\n\n\\notes{{{SENTENCE}}}\n")
    report = build(project)
    assert report.results["handout"].read == ["gamma"]
    page = (project.parent / "site/handout/gamma.html").read_text()
    assert SENTENCE in page and "absent" not in page
    assert same_as_a_fresh_build(project) == []


def test_the_vocabulary_put_back_builds_every_talk_again(project):
    add_line(project / "conf.py", 'talks_macros_dir = "vocabulary"\n')
    (project / "vocabulary").mkdir()
    first = build(project)
    assert set(first.failed) == {"alpha", "beta", "gamma"}
    assert all("E-VOCABULARY" in " ".join(errors) for errors in first.failed.values())
    shutil.copytree(PROJECT_MACROS, project / "vocabulary", dirs_exist_ok=True)
    report = build(project)
    assert not report.failed
    for variant in VARIANTS:
        assert report.results[variant].read == ["alpha", "beta", "gamma"], variant
    assert "Gamma Talk" in (project.parent / "site/handout/gamma.html").read_text()


def test_an_export_is_made_again_when_a_file_its_talk_looked_for_appears(project):
    build(project, exports=("ipynb",))
    notebook = project.parent / "site/exports/gamma.ipynb"
    assert notebook.is_file() and SENTENCE not in notebook.read_text()
    override = project / "_shared/includes/c-only.md"
    override.parent.mkdir(parents=True)
    override.write_text(f"\\notes{{{SENTENCE}}}\n")
    report = build(project, exports=("ipynb",))
    assert SENTENCE in notebook.read_text()
    assert [r.doc for r in report.exports if r.written] == ["gamma"]


def test_the_expansion_names_every_place_a_file_would_change_it(project):
    talk = project / "talks/gamma.md"
    add_line(talk, LATER)
    expanded = expand(str(talk), "handout", TalkConfig(include_roots=[str(project / "includes")]))
    later = [p for p in expanded.absent if p.endswith("later.md")]
    assert str(project / "_shared/includes/later.md") in later  # the repository's copy
    assert str(project / "includes/_shared/includes/later.md") in later  # the root's
    assert str(project / "_shared/includes/c-only.md") in expanded.absent  # would override
    assert not any(Path(p).exists() for p in expanded.absent)
    assert str(project / "includes/_shared/includes/c-only.md") in expanded.dependencies


def test_a_replayed_fragment_names_the_same_places_as_a_fresh_expansion(project):
    """The second talk replays the shared fragments the first expanded (``memo``)."""
    config = TalkConfig(include_roots=[str(project / "includes")])
    add_line(project / "includes/_shared/includes/common.md", LATER)
    clear_caches()
    fresh = expand(str(project / "talks/beta.md"), "handout", config)
    expand(str(project / "talks/alpha.md"), "handout", config)
    replayed = expand(str(project / "talks/beta.md"), "handout", config)
    assert sorted(replayed.absent) == sorted(fresh.absent)
    assert any(p.endswith("later.md") for p in replayed.absent)


def test_a_talk_stopped_at_its_first_error_names_what_it_read_and_looked_for(project):
    talk = project / "talks/gamma.md"
    add_line(talk, LATER)
    config = TalkConfig(include_roots=[str(project / "includes")], stop_at_error=True)
    with pytest.raises(MacroError) as stopped:
        expand(str(talk), "handout", config)
    assert stopped.value.diagnostic.code == "E-INCLUDE-MISSING"
    assert str(talk) in stopped.value.read
    assert any(p.endswith("later.md") for p in stopped.value.absent)


def test_a_bibliography_the_talk_names_that_appears_is_cited_from(project):
    talk = project / "talks/gamma.md"
    talk.write_text(talk.read_text().replace("venue: Room Three", "venue: Room Three\n"
                                             "bibliography: later.bib")
                    + "\n\\notes{Citing @Later-found24 here.}\n")
    build(project)
    assert "Later Found" not in (project.parent / "site/handout/gamma.html").read_text()
    (project / "talks/later.bib").write_text(
        "@book{Later-found24,\n  author = {Found, Later},\n  title = {Later Found},\n"
        "  publisher = {Example Press},\n  year = {2024},\n}\n")
    report = build(project)
    assert "gamma" in report.results["handout"].read  # (the site's bibliographies changed)
    assert "Later Found" in (project.parent / "site/handout/gamma.html").read_text()
    assert same_as_a_fresh_build(project) == []
