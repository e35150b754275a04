"""A settings file is part of the repository, so it may not name folders outside the project
by itself: a pull request that sets ``diagramsdir: ../secret`` or ``snippetsdir: ..`` must
publish nothing from there.  Only roots granted from outside the repository (the path
mapping, ``-I DIR``) widen what a talk reads."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from build_tools.cli import main
from build_tools.lamd import bibdir_files, diagrams_dir_setting, refused_settings, snippet_dirs

from conftest import require_module
from helpers import write_repo

TOKEN = f"SECRET-{uuid.uuid4().hex}"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
       b"\x00\x00\x00IEND\xaeB`\x82")
SETTINGS = "author: Mallory\ndiagramsdir: ../secret\nbibdir: ../secret\nsnippetsdir: ..\n"
TALK = """---
title: Settings Reach Out
date: 2025-01-15
---

\\section{A Section}

\\figure{\\includediagram{\\diagramsDir/fig}{50%}}{A figure.}{fig}

As said before [@secretkey].
"""


def hostile_folder(tmp_path: Path) -> Path:
    """A lamd talk folder whose root settings name the folder above it, and a secret there."""
    write_repo(tmp_path, {
        "secret/s.txt": f"{TOKEN} from a text file\n",
        "secret/fig.png": PNG + TOKEN.encode(),
        "secret/refs.bib": f"@article{{secretkey, title={{{TOKEN}}}, author={{Mallory, M.}}, "
                           "journal={J}, year={2020}}\n",
        "talks/_lamd.yml": SETTINGS,
        "talks/talk.md": TALK,
        "talks/includes-it.md": TALK.replace("Settings Reach Out", "Include From Above")
        + "\n\\include{secret/s.txt}\n",
    })
    return tmp_path / "talks"


def files_holding(folder: Path, token: str) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and token.encode() in p.read_bytes())


def test_settings_name_nothing_outside_the_project(tmp_path):
    project = hostile_folder(tmp_path)
    folder = str(project)
    assert snippet_dirs(folder) == [] and diagrams_dir_setting(folder) is None
    assert bibdir_files(folder) == []
    refused = refused_settings(folder)
    assert [(d.code, d.location.line) for d in refused] == \
        [("E-PATH-OUTSIDE", 4), ("E-PATH-OUTSIDE", 2), ("E-PATH-OUTSIDE", 3)]
    assert all(d.location.file.endswith("_lamd.yml") for d in refused)


def test_a_granted_root_is_what_lets_settings_reach_out(tmp_path, monkeypatch):
    project = hostile_folder(tmp_path)
    monkeypatch.setenv("TALKS_PATH_MAP", f"$HOME/lawrennd/snippets={tmp_path / 'secret'}")
    (project / "_lamd.yml").write_text("snippetsdir: $HOME/lawrennd/snippets\n"
                                       "diagramsdir: ../secret\n")
    assert snippet_dirs(str(project)) == [str(tmp_path / "secret")]
    # a mapped root is granted as a whole: a sibling setting may name it too
    assert diagrams_dir_setting(str(project)) == str(tmp_path / "secret")
    assert refused_settings(str(project)) == []


def test_a_mapped_prefix_cannot_climb_out_of_its_target(tmp_path, monkeypatch):
    project = hostile_folder(tmp_path)
    (tmp_path / "secret" / "mapped").mkdir()
    monkeypatch.setenv("TALKS_PATH_MAP", f"$HOME/s={tmp_path / 'secret' / 'mapped'}")
    (project / "_lamd.yml").write_text("snippetsdir: $HOME/s/../..\n")
    assert snippet_dirs(str(project)) == []
    assert [d.code for d in refused_settings(str(project))] == ["E-PATH-OUTSIDE"]


def test_config_reports_the_refused_settings(tmp_path, monkeypatch):
    project = hostile_folder(tmp_path)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["config"])
    assert result.exit_code == 1, result.output
    assert re.search(r"_lamd\.yml:2:1: error: diagramsdir \.\./secret resolves to .*secret, "
                     r"outside the project.*\[E-PATH-OUTSIDE\]", result.output), result.output
    assert "Traceback" not in result.output


@pytest.mark.timeout(600)
def test_a_build_publishes_nothing_the_settings_name_outside(tmp_path, monkeypatch):
    require_module("sphinx.application", "sphinx")
    project = hostile_folder(tmp_path)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--quiet", "--to", "ipynb,docx,pdf"])
    assert result.exit_code == 1, result.output
    assert re.search(r"_lamd\.yml:2:1: error: diagramsdir .*\[E-PATH-OUTSIDE\]", result.output)
    assert re.search(r"_lamd\.yml:4:1: error: snippetsdir .*\[E-PATH-OUTSIDE\]", result.output)
    assert "Traceback" not in result.output
    site = project / "_build"
    assert (site / "site" / "handout" / "talk.html").is_file()  # the talk is still published
    # the exports were made (the talk's errors then fail them): none holds the secret either
    assert {p.name for p in site.rglob("talk.*")} >= {"talk.ipynb", "talk.docx", "talk.pdf"}
    assert files_holding(site, TOKEN) == []
