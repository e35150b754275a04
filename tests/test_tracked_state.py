"""A build never reads a work folder a commit can write into: its records, Sphinx's
environment and doctrees are loaded with ``pickle``, and a file made to look like one runs
code when loaded (``site/publish.refuse_tracked_state``)."""
from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from build_tools.site.build import SiteOptions, build_site
from build_tools.site.publish import TrackedState
from build_tools.site.unchanged import LAST_BUILD

ROOTS = Path(__file__).parent / "roots"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


class Planted:
    """Unpickled, it makes the folder ``marker``: proof that the file was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.mkdir, (str(self.marker),))


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org",
                        "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.org"})


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """The three-talk project as a git repository, built once (its work folder inside it)."""
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "talks")
    build_site(SiteOptions(out=str(project / "_build/site"), project=str(project)))
    return project


def plant(project: Path) -> tuple[Path, Path]:
    """A commit that puts a crafted record where the handout's last-build record lies."""
    record = project / "_build/.work/site/handout" / LAST_BUILD
    marker = project.parent / "code-ran"
    record.write_bytes(pickle.dumps(Planted(marker)))
    git(project, "add", "-f", str(record.relative_to(project)))
    git(project, "commit", "-q", "-m", "a record")
    return record, marker


def test_a_work_folder_holding_a_tracked_file_is_refused_before_anything_is_read(repository):
    _record, marker = plant(repository)
    with pytest.raises(TrackedState, match="_build/.work/site/handout/" + LAST_BUILD):
        build_site(SiteOptions(out=str(repository / "_build/site"), project=str(repository)))
    assert not marker.exists()


def test_the_command_says_why_and_what_to_do_without_a_traceback(repository):
    _record, marker = plant(repository)
    done = subprocess.run([sys.executable, "-m", "build_tools.cli", "build", "--quiet", "--to", "none"],
                          cwd=repository, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert "the work folder holds 1 file(s) the repository tracks" in done.stderr
    assert "git rm -r --cached" in done.stderr and "Traceback" not in done.stderr
    assert not marker.exists()


def test_once_untracked_the_work_folder_is_the_builds_own_again(repository):
    record, _marker = plant(repository)
    git(repository, "rm", "-q", "--cached", str(record.relative_to(repository)))
    record.unlink()  # what the commit left is gone with it; the build makes it anew
    report = build_site(SiteOptions(out=str(repository / "_build/site"), project=str(repository)))
    assert not report.failed and record.is_file()


def test_a_project_outside_any_repository_builds_as_before(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    report = build_site(SiteOptions(out=str(project / "_build/site"), project=str(project)))
    assert not report.failed
    assert build_site(SiteOptions(out=str(project / "_build/site"), project=str(project))) \
        .results["handout"].unchanged


def test_the_preview_says_why_it_builds_nothing(tmp_path):
    from test_serve import serving, status

    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    git(project, "init", "-q")
    record = project / "_build/.work/preview/handout" / LAST_BUILD
    record.parent.mkdir(parents=True)
    marker = tmp_path / "code-ran"
    record.write_bytes(pickle.dumps(Planted(marker)))
    git(project, "add", "-f", ".")
    with serving(project) as base:
        errors = status(base)["errors"]
    assert any("the work folder holds 1 file(s) the repository tracks" in e for e in errors), errors
    assert not marker.exists()
