"""The order in which the site's talks are listed beside each handout
(``build_tools.navigation``): the index's order, in groups by subject folder where
the talks come from several folders."""
from __future__ import annotations

import os

from ..diagnostics import MacroError
from ..engine.talkfile import read_talk
from ..navigation import CourseEntry


def course_navigation(docs: dict[str, str]) -> list[list[str]]:
    """``talks_navigation`` for the talks (path -> document name): a course's lectures in
    course order, a plain folder of talks newest first, a talks repository's talks by
    subject folder, newest first in each.  Every shard of a build gets the same list."""
    from .build import index_order

    rows = {doc: _row(path) for path, doc in docs.items()}
    grouped = len({_folder(doc) for doc in rows}) > 1
    order = {doc: n for n, (doc, _) in enumerate(index_order(rows))}
    entries = [CourseEntry(doc, meta["title"], _folder(doc) if grouped else "")
               for doc, meta in rows.items()]
    entries.sort(key=lambda e: (e.group, order[e.doc]))
    return [e.as_config() for e in entries]


def _row(path: str) -> dict:
    """What the order needs of a talk: its title, date and place in its course."""
    from .build import course_position

    try:
        meta = read_talk(path).meta
    except MacroError:  # an unreadable talk is listed by its name
        meta = {}
    return {"title": str(meta.get("title") or "").strip() or os.path.splitext(
                os.path.basename(path))[0],
            "date": str(meta.get("date") or ""), "order": course_position(path)}


def _folder(doc: str) -> str:
    return doc.rpartition("/")[0]
