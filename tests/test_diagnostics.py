"""Warnings people can act on: every build says the same about the same sources, each
warning at the talk's own file and line, with a code from the catalogue."""
from __future__ import annotations

from pathlib import Path

from conftest import require_module

require_module("sphinx.application", "sphinx")

MISSING = "---\ntitle: {title}\n---\n\n## Pictures\n\n\\includediagram{{\\diagramsDir/{name}}}{{40%}}\n\n" \
          '<div><img src="\\diagramsDir/raw-{name}.svg"></div>\n\n\\refernces\n'
"""A talk that draws warnings while Sphinx reads it (a missing diagram, an unknown macro)
and while it writes it (a raw ``<img>`` of a missing file)."""


def _project(root: Path, talks: dict[str, str]) -> Path:
    (root / "talks").mkdir(parents=True)
    (root / "diagrams").mkdir()
    (root / "conf.py").write_text('extensions = ["myst_parser", "build_tools.sphinx_ext"]\n'
                                  'suppress_warnings = ["toc.not_included"]\n')
    for name, text in talks.items():
        (root / "talks" / name).write_text(text, encoding="utf-8")
    return root


def _build(project: Path, out: Path, *talks: str):
    from build_tools.site.build import SiteOptions, build_site

    return build_site(SiteOptions(talks=[str(project / "talks" / t) for t in talks], out=str(out),
                                  project=str(project), variants=("handout", "slides")))


def test_a_rebuild_with_nothing_changed_reports_the_same_warnings(tmp_path):
    project = _project(tmp_path / "p", {"a.md": MISSING.format(title="A", name="gone-a"),
                                        "b.md": MISSING.format(title="B", name="gone-b")})
    first = sorted(_build(project, tmp_path / "site").warnings())
    assert sum("gone-a" in w for w in first) >= 2 and sum("gone-b" in w for w in first) >= 2, first
    again = _build(project, tmp_path / "site")
    assert not any(r.read for r in again.results.values())  # nothing was read again
    assert sorted(again.warnings()) == first
    # one talk edited: the other, which Sphinx does not read, still reports its warnings
    (project / "talks" / "a.md").write_text(MISSING.format(title="A2", name="gone-a"), encoding="utf-8")
    edited = _build(project, tmp_path / "site", "a.md")
    assert any(r.read for r in edited.results.values())
    assert sorted(edited.warnings()) == first


FOOTNOTE = ("---\ntitle: Lies\n---\n\n## Statistics\n\n"
            "\\notes{Balfour was quoting James Munro[^guardian] in 1892.}\n\n"
            "[^guardian]: Reported in the *Manchester Guardian*, 29th June 1892.\n\n"
            "\\slides{* lies, damned lies}\n")
"""A footnote cited only in the notes, defined outside them (as lamd's snippets do): the
deck leaves out the notes, so nothing in it refers to the footnote."""


def test_a_footnote_cited_only_in_the_notes_draws_no_warning_and_shows_in_the_handout(tmp_path):
    project = _project(tmp_path / "p", {"lies.md": FOOTNOTE})
    report = _build(project, tmp_path / "site")
    assert not [w for w in report.warnings() if "not referenced" in w], report.warnings()
    handout = (tmp_path / "site" / "handout" / "lies.html").read_text(encoding="utf-8")
    assert "Manchester Guardian" in handout and 'class="footnote' in handout
    deck = (tmp_path / "site" / "slides" / "lies.html").read_text(encoding="utf-8")
    assert "Manchester Guardian" not in deck and "lies, damned lies" in deck


def test_paths_in_warnings_are_relative_inside_the_project_and_absolute_outside(tmp_path,
                                                                                  monkeypatch):
    outside = tmp_path / "snippets"
    (outside / "_s" / "includes").mkdir(parents=True)
    (outside / "_s" / "includes" / "x.md").write_text("\\includediagram{\\diagramsDir/gone}{40%}\n")
    project = _project(tmp_path / "p", {"a.md": "---\ntitle: A\n---\n\n## One\n\n"
                                                "\\include{_s/includes/x.md}\n\n\\refernces\n"})
    monkeypatch.chdir(project)
    from build_tools.site.build import SiteOptions, build_site

    report = build_site(SiteOptions(talks=["talks/a.md"], out="_build/site", project=str(project),
                                    include_roots=[str(outside)], variants=("handout",)))
    text = "\n".join(report.warnings())
    assert f"{outside}/_s/includes/x.md:1: WARNING: image not found" in text, text
    assert "included from talks/a.md:7:1" in text and "talks/a.md:9: WARNING: unknown macro" in text
    assert "looked for diagrams/gone.svg" in text and "../" not in text and str(project) not in text
