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
