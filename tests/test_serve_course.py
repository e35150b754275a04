"""talks serve at the root of a lamd course: the lectures build from the course's snippets
(through the path mapping), are served on a loopback port, and a snippet edit rebuilds
the lecture that uses it.  Needs the reference course and corpus in ``../shared``."""
from __future__ import annotations

import os
import shutil

import pytest

from conftest import ABSENT_DATA, SHARED
from test_serve import get, rebuilt_after, serving, status

COURSE = SHARED / "reference" / "course-execed"
SNIPPETS = SHARED / "corpus" / "snippets"
LECTURES = ["the-new-world", "the-data-crisis", "data-quality", "intellectual-debt",
            "project-management", "ethics-and-privacy", "bringing-together"]
SNIPPET = "_data-science/includes/the-data-crisis.md"
"""Used by one lecture, the-data-crisis, only."""

pytestmark = pytest.mark.skipif(not (COURSE.is_dir() and SNIPPETS.is_dir()),
                                reason=f"{ABSENT_DATA} the reference course and corpus (../shared)")


@pytest.fixture
def course(tmp_path):
    """A copy of the course, and of the snippets (the test edits one), mapped as lamd names them."""
    course = tmp_path / "course-execed"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("_build", ".git"))
    snippets = tmp_path / "snippets"
    shutil.copytree(SNIPPETS, snippets, ignore=shutil.ignore_patterns(".git"))
    env = {**os.environ, "TALKS_PATH_MAP": f"$HOME/lawrennd/snippets={snippets}"}
    with serving(course, env, first_build=300) as base:
        yield course, snippets, base


def test_serve_builds_a_lamd_course_and_a_snippet_edit_rebuilds_its_lecture(course):
    folder, snippets, base = course
    first = status(base)
    assert sorted(d for d in first["rebuilt"]["handout"] if d != "index") == sorted(LECTURES)
    index = get(base).decode()
    positions = [index.find(f'href="handout/{lecture}.html"') for lecture in LECTURES]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)  # course order
    page = get(base + "handout/the-data-crisis.html").decode()
    assert "software crisis" in page and "/__talks/reload.js" in page
    assert b"reveal" in get(base + "slides/the-data-crisis.html")
    # the course's own sources have one known problem (intellectual-debt includes a snippet
    # the corpus moved); every error is located in a lecture, none stops the server
    assert not any("the-data-crisis" in e for e in first["errors"])

    snippet = snippets / SNIPPET
    snippet.write_text(snippet.read_text(encoding="utf-8").replace(
        "Anecdotally, talking to data modelling scientists.",
        "Freshly edited: talking to data modelling scientists."), encoding="utf-8")
    after = rebuilt_after(base, first["version"], "the rebuild after a snippet edit", 120)
    assert after["rebuilt"]["handout"] == ["the-data-crisis"]
    assert "Freshly edited" in get(base + "handout/the-data-crisis.html").decode()
    assert "Freshly edited" not in get(base + "handout/data-quality.html").decode()
