"""Warnings people can act on: every build says the same about the same sources, each
warning at the talk's own file and line, with a code from the catalogue."""
from __future__ import annotations

import re
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


ORPHAN = ("---\ntitle: Orphan\n---\n\n## Notes\n\nA sentence.\n\n"
          "[^orphan]: A footnote nothing refers to.\n")


def test_what_pandoc_says_is_a_warning_at_the_talks_line_with_a_code(tmp_path, monkeypatch, capsys):
    from click.testing import CliRunner

    from build_tools.cli import main
    project = _project(tmp_path / "p", {"orphan.md": ORPHAN})
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--quiet", "--to", "docx,pptx"])
    lines = result.output.splitlines()
    assert not [line for line in lines if line.startswith("[")], result.output  # pandoc's own
    said = [line for line in lines if "orphan" in line and "[W-EXPORT-FOOTNOTE]" in line]
    assert said == ["talks/orphan.md:9:1: warning: pandoc: Note with key 'orphan' defined but "
                    "not used. [W-EXPORT-FOOTNOTE]"], result.output
    assert "1 warning(s): W-EXPORT-FOOTNOTE 1" in result.output
    again = CliRunner().invoke(main, ["build", "--quiet", "--to", "docx,pptx"])
    assert "exports: 0 written, 2 up to date" in again.output  # and still said:
    assert [line for line in again.output.splitlines() if "[W-EXPORT-FOOTNOTE]" in line] == said


UNTYPED = """
from sphinx.util import logging

def _said(app, doctree):
    for node in doctree.findall(lambda n: n.tagname == "title"):
        logging.getLogger("an.extension").warning("no type of its own", location=node)

def setup(app):
    app.connect("doctree-read", _said)
"""
"""An extension, in conf.py, that warns about each heading without a type."""


def test_sphinx_warnings_carry_their_type_or_a_catalogue_code_at_the_talks_line(tmp_path):
    project = _project(tmp_path / "p", {"a.md": "---\ntitle: A\n---\n\n## One\n\n"
                                                "```{nosuchdirective}\nx\n```\n"})
    with (project / "conf.py").open("a") as conf:
        conf.write(UNTYPED)
    report = _build(project, tmp_path / "site")
    talk = f"{project}/talks/a.md"
    assert f"{talk}:7: WARNING: Unknown directive type: 'nosuchdirective' [myst.directive_unknown]" \
        in report.warnings()
    assert f"{talk}:5: WARNING: no type of its own [talks.W-SPHINX]" in report.warnings(), \
        report.warnings()


def test_the_summary_counts_errors_apart_from_warnings_in_build_and_serve(tmp_path):
    from build_tools.diagnostics import Diagnostic, Location, Severity
    from build_tools.site.summary import summary

    lines = summary(["talks/a.md:3: WARNING: x [talks.W-IMAGE-MISSING]",
                     "talks/a.md:4: ERROR: Unknown directive type \"x\". [talks.E-SPHINX]",
                     "talks/b.md:1: ERROR: z",
                     "talks/b.md:2: WARNING: w"],
                    [Diagnostic("E-EXPORT", Severity.ERROR, "failed", Location("talks/b.md", 1, 1)),
                     Diagnostic("W-EXPORT-FOOTNOTE", Severity.WARNING, "n", Location("talks/b.md", 9, 1))])
    assert lines[:2] == ["3 error(s): E-SPHINX 1, other 1, E-EXPORT 1",
                         "3 warning(s): W-IMAGE-MISSING 1, other 1, W-EXPORT-FOOTNOTE 1"]


def test_serve_ends_each_rebuild_with_errors_counted_apart_from_warnings(tmp_path):
    from build_tools.authoring.serve import PreviewServer
    from build_tools.site.build import SiteOptions

    project = _project(tmp_path / "p", {"a.md": MISSING.format(title="A", name="gone-a"),
                                        "b.md": "---\ntitle: B\n---\n\n\\include{nowhere.md}\n"})
    said: list[str] = []
    server = PreviewServer(SiteOptions(out=str(tmp_path / "site"), project=str(project),
                                       variants=("handout",)), port=0, log=said.append)
    try:
        for _ in range(2):  # the second reads nothing again, and says the same
            said.clear()
            server.rebuild([])
            counts = [line for line in said if re.match(r"\d+ (error|warning)\(s\): ", line)]
            assert counts == ["1 error(s): E-INCLUDE-MISSING 1",
                              "3 warning(s): W-IMAGE-MISSING 2, W-UNKNOWN-MACRO 1"], said
    finally:
        server.httpd.server_close()
