"""The order in which the site's talks are listed beside each handout
(``build_tools.navigation``): the index's order, in groups by subject folder where
the talks come from several folders."""
from __future__ import annotations

import os

from ..diagnostics import MacroError
from ..engine.talkfile import read_talk
from ..navigation import CourseEntry
from .discovery import course_position
from .index_page import index_order


def course_navigation(docs: dict[str, str]) -> list[list[str]]:
    """``talks_navigation`` for the talks (path -> document name), in the index's order: a
    course's lectures in course order, a plain folder of talks newest first, a talks
    repository's talks by subject folder, newest first in each.  Every shard of a build
    gets the same list."""
    rows = {doc: _row(path, doc) for path, doc in docs.items()}
    grouped = len({meta["group"] for meta in rows.values()}) > 1
    return [CourseEntry(doc, meta["title"], meta["group"] if grouped else "").as_config()
            for doc, meta in index_order(rows)]


def _row(path: str, doc: str) -> dict:
    """What the order needs of a talk, as the index has it: title, date, course place, folder."""
    try:
        meta = read_talk(path).meta
    except MacroError:  # an unreadable talk is listed by its name
        meta = {}
    title = str(meta.get("title") or "").strip() or os.path.splitext(os.path.basename(path))[0]
    return {"title": title, "date": str(meta.get("date") or ""),
            "order": course_position(path), "group": doc.rpartition("/")[0]}
