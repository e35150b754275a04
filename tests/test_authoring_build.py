"""Authoring tools end to end: what --fix and new produce builds with Sphinx, with no error."""
import shutil

from click.testing import CliRunner

from build_tools.cli import main
from build_tools.site.build import SiteOptions, build_site

from conftest import ROOT


def project_copy(root):
    shutil.copy(ROOT / "conf.py", root / "conf.py")
    for folder in ("includes", "diagrams"):
        if not (root / folder).exists():
            shutil.copytree(ROOT / folder, root / folder)
    (root / "talks").mkdir(exist_ok=True)
    shutil.copy(ROOT / "talks" / "references.bib", root / "talks" / "references.bib")
    return root


def build(project, talk):
    report = build_site(SiteOptions(talks=[str(talk)], out=str(project / "_build/site"),
                                    project=str(project), strict=True))
    assert report.ok, (report.failed, [r.crash for r in report.results.values()])
    return report


def test_fixed_seed_talk_builds_in_every_variant(seed_talk, monkeypatch):
    project = project_copy(seed_talk.parent.parent)
    monkeypatch.chdir(project)
    assert CliRunner().invoke(main, ["check", "--fix", str(seed_talk)]).exit_code == 0
    report = build(project, seed_talk)
    assert set(report.results) == {"slides", "speaker-notes", "handout"}
    assert (project / "_build/site/handout/information-session.html").is_file()


def test_new_talk_builds_in_every_variant(tmp_path, monkeypatch):
    project = project_copy(tmp_path)
    monkeypatch.chdir(project)
    assert CliRunner().invoke(main, ["new", "A Fresh Start"]).exit_code == 0
    build(project, project / "talks" / "a-fresh-start.md")
    deck = (project / "_build/site/slides/a-fresh-start.html").read_text()
    assert "Step by step" in deck and "fragment" in deck
