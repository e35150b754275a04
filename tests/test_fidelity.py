"""Real lamd material comes out whole: talks without front matter, figures from the
configured diagrams folder, citations, pandoc syntax and math notation."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_sphinx_build import ROOTS, build

pytest.importorskip("sphinx.application")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "three-talks"
    shutil.copytree(ROOTS / "test-three-talks", dest)
    return dest


def test_talk_without_front_matter_is_expanded_like_any_talk(project):
    from build_tools.site.build import find_talks

    (project / "talks/plain.md").write_text(
        "\\include{talk-macros.gpp}\n\n\\section{Plain Heading}\n\n"
        "\\notes{Prose with no front matter.}\n\n\\slides{* deck only}\n")
    assert str(project / "talks/plain.md") in find_talks(project)
    _, _, out = build(project, "handout")
    page = (out / "talks/plain.html").read_text()
    assert "Prose with no front matter." in page
    assert "\\notes" not in page and "deck only" not in page
