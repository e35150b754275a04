"""Which talks and pages a project has, what each is called in the site, and where a
lecture comes in its course."""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

from ..diagnostics import MacroError
from ..engine.talkfile import read_talk
from ..lamd import folder_settings
from ..project import talk_folders
from ..yamlfile import load_yaml
from .pages import PAGES_FOLDER, is_page

__all__ = ["lamd_addresses", "is_talk_file", "find_talks", "find_pages", "site_talks", "docnames_for",
           "page_docnames", "course_position", "site_identity"]

NOT_TALKS = {"readme.md", "index.md"}
"""Markdown files in ``talks/`` that describe the folder instead of being talks."""


def is_talk_file(path: Path) -> bool:
    """Every Markdown file in ``talks/`` is a talk, with or without front matter, as in
    ``talks check`` (lamd reads a talk without front matter too); a README is not."""
    return path.is_file() and path.name.lower() not in NOT_TALKS


def find_talks(project: Path) -> list[str]:
    """Every talk of a project: under ``talks/``, and a lamd course's lectures in ``_lamd/``."""
    return [str(p) for folder in talk_folders(project) for p in sorted(folder.glob("*.md"))
            if is_talk_file(p) and not _site_page(p)]


def _site_page(path: str | Path) -> bool:
    """A page of the site, unless its course's ``lectures.csv`` lists it: a lecture with
    nothing but front matter yet is still a lecture, in its place."""
    return is_page(path) and _lecture_row(str(path)) is None


def find_pages(project: Path, talk_folders: list[Path]) -> list[str]:
    """The project's pages: ``pages/*.md``, and Jekyll-style files among the talks."""
    found = sorted((project / PAGES_FOLDER).glob("*.md")) if (project / PAGES_FOLDER).is_dir() else []
    for folder in talk_folders:
        found += [p for p in sorted(folder.glob("*.md")) if is_talk_file(p) and _site_page(p)]
    return [str(p) for p in found if is_talk_file(p)]


def docnames_for(talks: list[str]) -> dict[str, str]:
    """Document name per talk: its path under the talks' common folder, without
    leading underscores in folder names (``_ml/intro.md`` -> ``ml/intro``)."""
    paths = [os.path.abspath(t) for t in talks]
    base = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else ""
    names: dict[str, str] = {}
    used: set[str] = set()
    for path in paths:
        rel = os.path.splitext(os.path.relpath(path, base))[0].split(os.sep)
        rel = [part.lstrip("_") or part for part in rel[:-1]] + [rel[-1]]
        name = "/".join(rel)
        if name in ("index", "search", "genindex") or name in used:
            n = 2
            while f"{name}-{n}" in used:
                n += 1
            name = f"{name}-{n}"
        used.add(name)
        names[path] = name
    return names


def site_talks(project: Path, talks: list[str], project_talks: list[str]) -> list[str]:
    """The talks the site may hold: the project's (``find_talks``) with the named ones (a
    named page of the project is one of its pages, not a talk); talks from outside the
    project (a folder given by path) make a site of their own."""
    inside = all(Path(t).resolve().is_relative_to(project.resolve()) for t in talks)
    if not inside:
        return talks
    return list(dict.fromkeys([*project_talks, *(t for t in talks if not _site_page(t))]))


def page_docnames(pages: list[str], taken: set[str]) -> dict[str, str]:
    """Document name per page: ``pages/<name>``, apart from every talk's."""
    names = {}
    for path in pages:
        name = f"pages/{Path(path).stem}"
        while name in taken:
            name += "-page"
        taken.add(name)
        names[os.path.abspath(path)] = name
    return names


def course_position(path: str) -> tuple | None:
    """Where a lecture comes in its course: its row in the folder's ``lectures.csv``, else
    its front matter's ``week`` and ``session``; None for a talk in no course."""
    position = _lecture_row(path)
    if position is not None:
        return (position,)
    try:
        meta = read_talk(path).meta
    except MacroError:
        return None
    numbers = [_number(meta.get(key)) for key in ("week", "session")]
    return tuple(n if n is not None else 0 for n in numbers) if any(
        n is not None for n in numbers) else None


def site_identity(project: Path) -> tuple[str, str]:
    """(title, author) of the Jekyll site a lamd course or talks repository is: its
    ``_config.yml``'s ``title`` and ``author`` (a name, or a mapping with ``name``)."""
    path = project / "_config.yml"
    try:
        settings = load_yaml(path.read_text(encoding="utf-8", errors="replace")[:MAX_SETTINGS])
    except (OSError, ValueError):
        return "", ""
    if not isinstance(settings, dict):
        return "", ""
    author = settings.get("author")
    if isinstance(author, dict):
        author = author.get("name")
    return _one_line(settings.get("title")), _one_line(author)


MAX_SETTINGS = 200_000
"""Characters of a site's settings file read: far more than any has."""


def _one_line(value: object) -> str:
    return " ".join(str(value).split()) if isinstance(value, (str, int, float)) else ""


def _number(value: Any) -> float | None:  # a front-matter value, whatever YAML made it
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _lecture_row(path: str) -> int | None:
    """The lecture's row in its folder's ``lectures.csv``, if it has one."""
    return _lecture_rows(os.path.dirname(os.path.abspath(path))).get(
        os.path.splitext(os.path.basename(path))[0])


def _lecture_rows(folder: str) -> dict[str, int]:
    """``lectures.csv`` (lamd's course order: a ``lectureId`` column, one lecture a row)."""
    path = os.path.join(folder, "lectures.csv")
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError:
        return {}
    if not rows:
        return {}
    header = [h.strip() for h in rows[0]]
    column = header.index("lectureId") if "lectureId" in header else 0
    return {row[column].strip(): n for n, row in enumerate(rows[1:])
            if len(row) > column and row[column].strip()}


def lamd_addresses(path: str, doc: str) -> list[list[str]]:
    """Where lamd published this talk, each address (in the site) with the page of ours it
    forwards to: the deck at ``slides/NAME.slides.html``; a course's lecture also at
    ``slides/NN-NAME.slides.html`` and its notes at ``COLLECTION/NN-NAME.html`` (NN its row
    in ``lectures.csv``, COLLECTION the Jekyll collection lamd's ``postsdir`` writes to)."""
    folder = os.path.dirname(os.path.abspath(path))
    name = os.path.splitext(os.path.basename(path))[0]
    addresses = [[f"slides/{doc.rpartition('/')[2]}.slides.html", f"slides/{doc}.html"]]
    position = _lecture_rows(folder).get(name)
    if position is None:
        return addresses
    numbered = f"{position + 1:02d}-{name}"
    addresses.append([f"slides/{numbered}.slides.html", f"slides/{doc}.html"])
    posts = folder_settings(folder).get("postsdir")
    written = posts.value if posts is not None and isinstance(posts.value, str) else ""
    collection = os.path.basename(written.strip().rstrip("/")).lstrip("_")
    if re.fullmatch(r"[A-Za-z0-9-]+", collection) and collection != "posts":
        addresses.append([f"{collection}/{numbered}.html", f"handout/{doc}.html"])
    return addresses
