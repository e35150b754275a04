"""A talk may show pictures and media, not any file of its repository: ``.git/config`` (a CI
checkout's token), ``conf.py`` or a file dressed up as a picture never reach the site or an
export, in whatever form the talk names them."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from build_tools.cli import main
from build_tools.media import unpublishable
from build_tools.paths import confine, real_roots

from conftest import require_module
from helpers import write_repo

TOKEN = f"SECRET-{uuid.uuid4().hex}"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
       b"\x00\x00\x00IEND\xaeB`\x82")
HOSTILE_LINES = [
    '<img src="../.git/config" alt="git config">',
    "![git config](../.git/config)",
    '<object data="../conf.py" type="text/plain"></object>',
    "![settings](../conf.py)",
    "![a picture in name only](../fake.png)",
    '<img src="../.github/logo.png" alt="hidden folder">',
    "[the settings](../conf.py)",
    '<video src="../.env" controls></video>',
]
GOOD_LINE = "![a real picture](../good.png)"
CONF = Path(__file__).resolve().parent.parent / "build_tools" / "templates" / "project" / "conf.py"


def hostile_project(root: Path) -> Path:
    body = "\n\n".join(HOSTILE_LINES + [GOOD_LINE])
    return write_repo(root, {
        "conf.py": CONF.read_text(encoding="utf-8") + f"\n# {TOKEN}\n",
        ".git/config": f'[http]\n\textraheader = AUTHORIZATION: basic {TOKEN}\n',
        ".github/logo.png": PNG + TOKEN.encode(),
        ".env": f"TOKEN={TOKEN}\n",
        "fake.png": f"not a picture {TOKEN}\n",
        "good.png": PNG,
        "includes/.keep": "",
        "talks/files.md": f"---\ntitle: Files\ndate: 2025-01-15\n---\n\n"
                          f"\\section{{Files}}\n\n\\notes{{{body}}}\n",
    })


def test_only_pictures_and_media_that_are_what_they_say_are_publishable(tmp_path):
    project = hostile_project(tmp_path)
    assert unpublishable(project / "good.png") is None
    assert "not .py files" in unpublishable(project / "conf.py")
    assert "not what .png says" in unpublishable(project / "fake.png")
    svg = project / "d.svg"
    svg.write_text('<?xml version="1.0"?>\n<!-- made by hand -->\n<svg xmlns="http://www.w3.org/2000/svg"/>')
    assert unpublishable(svg) is None
    (project / "track.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nhello\n")
    assert unpublishable(project / "track.vtt") is None


def test_nothing_under_a_hidden_folder_is_confined_inside(tmp_path):
    project = hostile_project(tmp_path)
    roots = real_roots([project])
    assert confine(str(project / "good.png"), roots)
    assert confine(str(project / ".git" / "config"), roots) is None
    assert confine(str(project / ".env"), roots) is None
    assert confine(str(project / "talks" / ".." / ".github" / "logo.png"), roots) is None
    # a root may itself lie below a hidden folder: only what is below the root counts
    assert confine(str(project / ".git" / "config"), real_roots([project / ".git"]))


@pytest.mark.timeout(600)
def test_a_build_publishes_no_file_that_is_not_a_picture(tmp_path, monkeypatch):
    require_module("sphinx.application", "sphinx")
    project = hostile_project(tmp_path / "p")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--quiet", "--to", "ipynb,docx,pdf"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert re.search(r"talks/files\.md:\d+:\d+: error: \.\./\.git/config resolves to .*hidden folder",
                     result.output), result.output
    assert re.search(r"\.\./fake\.png is not published: its content is not recognised, not what "
                     r"\.png says \[E-FILE-NOT-MEDIA\]", result.output), result.output
    assert re.search(r"\.\./conf\.py is not published: .* not \.py files", result.output)
    build = project / "_build"
    leaked = sorted(str(p.relative_to(build)) for p in build.rglob("*")
                    if p.is_file() and TOKEN.encode() in p.read_bytes())
    assert leaked == []
    site = build / "site"
    exports = {p.name for p in (site / "exports").iterdir()}
    assert {"files.ipynb", "files.docx", "files.pdf"} <= exports
    assert any(p.read_bytes() == PNG for p in (site / "exports").rglob("*.png"))  # the good one
    page = (site / "handout" / "files.html").read_text(encoding="utf-8")
    assert "a real picture" in page


REFERENCE_TALK = """---
title: References
date: 2025-01-15
---

\\section{Pictures by Reference}

\\notes{A picture ![from outside][r1] and ![from the checkout][r2] and ![a good one][r3].

[r1]: ../../outside.png
[r2]: ../.git/config
[r3]: ../good.png
}
"""


@pytest.mark.timeout(600)
def test_reference_style_targets_are_confined_and_reported_where_written(tmp_path, monkeypatch):
    require_module("sphinx.application", "sphinx")
    import json

    (tmp_path / "outside.png").write_bytes(PNG + TOKEN.encode())
    project = hostile_project(tmp_path / "p")
    (project / "talks" / "files.md").write_text(REFERENCE_TALK, encoding="utf-8")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--quiet", "--to", "ipynb,docx"])
    assert "Traceback" not in result.output
    assert re.search(r"talks/files\.md:10:\d+: error: \.\./\.\./outside\.png resolves to .*outside "
                     r"the talk's repository", result.output), result.output
    assert "talks/files.md:1:1" not in result.output
    build = project / "_build"
    leaked = sorted(str(p.relative_to(build)) for p in build.rglob("*")
                    if p.is_file() and TOKEN.encode() in p.read_bytes())
    assert leaked == []
    notebook = json.dumps(json.loads((build / "site/exports/files.ipynb").read_text()))
    assert "outside.png" not in notebook and ".git" not in notebook
    assert "a good one" in notebook and "files_files/good.png" in notebook


def test_a_refused_symlink_is_named_not_where_it_points(tmp_path, monkeypatch):
    from helpers import expand

    hidden_target = tmp_path / "maintainer-private" / "id-key.png"
    hidden_target.parent.mkdir()
    hidden_target.write_bytes(PNG)
    project = write_repo(tmp_path / "p", {
        "includes/.keep": "",
        "talks/t.md": "---\ntitle: T\n---\n\n\\figure{\\includeimg{../diagrams/evil.png}}{X}{x}\n",
        "_lamd.yml": "bibdir: linked\n",
    })
    (project / "diagrams").mkdir()
    (project / "diagrams" / "evil.png").symlink_to(hidden_target)
    (project / "linked").symlink_to(hidden_target.parent)
    monkeypatch.chdir(project)
    messages = " ".join(d.message for d in expand(project, "talks/t.md").diagnostics)
    assert "evil.png" in messages and "E-PATH-OUTSIDE" not in messages
    assert "maintainer-private" not in messages and "id-key" not in messages
    result = CliRunner().invoke(main, ["config"])
    assert "bibdir linked resolves to linked, outside the project" in result.output
    assert "maintainer-private" not in result.output
