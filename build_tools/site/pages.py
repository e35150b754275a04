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


def find_pages(project: Path, talk_folders: list[Path]) -> list[str]:
    """The project's pages: ``pages/*.md``, and Jekyll-style files among the talks."""
    from .build import is_talk_file

    found = sorted((project / PAGES_FOLDER).glob("*.md")) if (project / PAGES_FOLDER).is_dir() else []
    for folder in talk_folders:
        found += [p for p in sorted(folder.glob("*.md")) if is_talk_file(p) and is_page(p)]
    return [str(p) for p in found if is_talk_file(p)]


def page_summary(path: str) -> dict:
    """What the index shows of a page: its title and its ``excerpt`` as the description."""
    try:
        meta = read_talk(path).meta
    except MacroError:
        meta = {}
    return {"title": str(meta.get("title") or Path(path).stem),
            "description": str(meta.get("excerpt") or meta.get("description") or "").strip()}
