"""A file a talk names outside its repository is refused (E-PATH-OUTSIDE) and the
build fails, but the talk is not taken away: its pages are published with the
placeholder, as for a missing image (README, "The `talks` command")."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import require_module

ROOTS = Path(__file__).resolve().parent / "roots"
REPO = Path(__file__).resolve().parent.parent

require_module("sphinx.application", "sphinx")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "three-talks"
    shutil.copytree(ROOTS / "test-three-talks", dest)
    (tmp_path / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return dest


def refuse_an_image(project: Path) -> None:
    beta = project / "talks" / "beta.md"
    beta.write_text(beta.read_text().replace(
        "\\thanks", "\\figure{\\includeimg{../../outside.png}}{A refused figure.}{refused}\n\n\\thanks"))


def site_options(project: Path, out: Path):
    from build_tools.site.build import SiteOptions

    talks = [str(project / "talks" / f"{t}.md") for t in ("alpha", "beta", "gamma")]
    return SiteOptions(talks=talks, out=str(out), project=str(REPO),
                       bib_files=[str(project / "references.bib")], exports=())


def test_a_refused_image_fails_the_build_but_publishes_the_talk(project, tmp_path):
    from build_tools.site.build import build_site

    out = tmp_path / "site"
    report = build_site(site_options(project, out))
    assert report.ok, report.failed
    good = (out / "handout" / "beta.html").read_text()

    refuse_an_image(project)
    report = build_site(site_options(project, out))
    assert not report.ok and report.published == ["beta"]
    assert any("E-PATH-OUTSIDE" in p for p in report.failed["beta"])
    assert report.kept == []  # the new page, not the last good one
    page = (out / "handout" / "beta.html").read_text()
    assert page != good and "A refused figure." in page
    assert re.search(r'class="talks-missing talks-missing-image" data-missing="[^"]*outside\.png"',
                     page), page
    assert "outside.png" not in " ".join(p.name for p in out.rglob("*.png"))
    assert "build failed" not in (out / "index.html").read_text()
    assert all(json.loads((out / "_talks-status.json").read_text())[v]["beta"]
               for v in ("slides", "speaker-notes", "handout"))


def test_another_error_still_withholds_the_page(project, tmp_path):
    from build_tools.site.build import build_site

    refuse_an_image(project)
    beta = project / "talks" / "beta.md"
    beta.write_text(beta.read_text().replace("\\thanks", "\\include{_shared/includes/no-such.md}"))
    report = build_site(site_options(project, tmp_path / "site"))
    assert "beta" in report.failed and report.published == []
    assert "build failed" in (tmp_path / "site" / "index.html").read_text()


def test_the_command_exits_1_and_says_the_pages_are_published(project, tmp_path, monkeypatch):
    from build_tools.cli import main

    refuse_an_image(project)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--to", "none", "--variant", "handout",
                                       "--out", str(tmp_path / "site")])
    assert result.exit_code == 1, result.output
    assert "error: talk 'beta' has errors; its pages are published with placeholders:" \
        in result.output
    assert (tmp_path / "site" / "handout" / "beta.html").is_file()


def test_the_merged_site_publishes_it_too(project, tmp_path, monkeypatch):
    from build_tools.cli import main
    from build_tools.site.build import SiteOptions, build_site
    from build_tools.site.shards import Shard

    refuse_an_image(project)
    monkeypatch.chdir(project)
    sites = []
    for index in (1, 2):
        shard = Shard(index, 2)
        build_site(SiteOptions(out=str(tmp_path / shard.folder), project=str(project),
                               shard=shard, variants=("handout",)))
        sites.append(str(tmp_path / shard.folder))
    result = CliRunner().invoke(main, ["merge", *sites, "--out", str(tmp_path / "merged")])
    assert result.exit_code == 1, result.output
    assert "talk 'beta' has errors; its pages are published with placeholders" in result.output
    assert (tmp_path / "merged" / "handout" / "beta.html").is_file()
    assert "build failed" not in (tmp_path / "merged" / "index.html").read_text()
