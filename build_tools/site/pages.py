"""Pages: Markdown with Jekyll-style front matter (``layout``, ``title``, ``excerpt``)
and no lamd macros, rendered once, in the handout's theme, and listed on the index."""
from __future__ import annotations

import re
from pathlib import Path

from ..diagnostics import MacroError
from ..engine.talkfile import read_talk

PAGES_FOLDER = "pages"
MACRO = re.compile(r"\\[A-Za-z@]+")


def is_page(path: str | Path) -> bool:
    """A file of ``pages/``, or a Jekyll-style file (``layout:``) that uses no lamd macro."""
    path = Path(path)
    if path.parent.name == PAGES_FOLDER:
        return True
    try:
        talk = read_talk(str(path))
    except MacroError:
        return False
    body = talk.source.text[talk.body_offset:]
    return "layout" in talk.meta and not MACRO.search(body)


def page_summary(path: str) -> dict:
    """What the index shows of a page: its title and its ``excerpt`` as the description."""
    try:
        meta = read_talk(path).meta
    except MacroError:
        meta = {}
    return {"title": str(meta.get("title") or Path(path).stem),
            "description": str(meta.get("excerpt") or meta.get("description") or "").strip()}
