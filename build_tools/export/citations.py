"""Only the bibliography entries a talk cites, for the exports.

A course's shared ``.bib`` files hold thousands of entries; a talk cites a few
dozen.  pandoc's ``--citeproc`` parses every entry of every file it is given, and
so would the notebook's citation labels: both get only the cited entries (with
the ``crossref`` parents they need), taken from the cleaned copies the HTML build
already made (``bibliography.read_bib``, cached by file stamp).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from ..bibliography import read_bib

KEY_MENTION = re.compile(r"@([\w][\w:.#$%&\-+?<>~/]*[\w]|[\w])")
"""Anything that may be a citation key after an ``@`` (a superset: unknown names cost nothing)."""
CROSSREF = re.compile(r"\bcrossref\s*=\s*[{\"]\s*([^}\"\s]+)", re.I)


def cited_keys(texts: Iterable[str]) -> set[str]:
    """The lower-cased names written after ``@`` anywhere in ``texts``."""
    return {key.lower() for text in texts if "@" in text for key in KEY_MENTION.findall(text)}


def cited_chunks(files: list[str], keys: set[str], cache_dir: str | None = None) -> list:
    """The ``@string``/``@preamble`` blocks and the entries cited (first file's key wins),
    with the entries they cross-reference, in file order."""
    bibs = [read_bib(f, cache_dir) for f in files]
    wanted, chosen = set(keys), {}
    while True:
        for bib in bibs:
            for chunk in bib.chunks:
                key = chunk.key.lower()
                if key and key in wanted and key not in chosen:
                    chosen[key] = chunk
        parents = {m.lower() for c in chosen.values() for m in CROSSREF.findall(c.text)}
        if parents <= wanted:
            break
        wanted |= parents
    picked = set(map(id, chosen.values()))
    return [c for bib in bibs for c in bib.chunks if not c.key or id(c) in picked]


def bib_text(files: list[str], keys: set[str], cache_dir: str | None = None) -> str:
    """A BibTeX file's text holding only what ``cited_chunks`` picks."""
    return "\n".join(c.text.rstrip() for c in cited_chunks(files, keys, cache_dir) if c.kind != "comment") + "\n"
