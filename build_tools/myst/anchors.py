"""Slide anchors: each slide of a deck with the place its heading was written.

A heading written once in a talk or a fragment becomes a slide in the deck and a
section in the handout, and both keep the origin of that line.  The handout's
links to its slides (``sphinx_ext.links``) pair them by that origin, so they hold
where titles differ between the variants, where two slides share a title and where
a fragment is included twice.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from ..engine.output import Origin

OriginKey = tuple[str, int, tuple[tuple[str, int], ...]]
"""(file, line, include chain as (file, line) pairs innermost first): where a heading was
written, comparable across processes and builds."""


def origin_key(origin: Origin) -> OriginKey:
    """The place of an origin, its files absolute (an origin names them relative to the
    working directory, so the key must be made where the origin was)."""
    cwd = os.getcwd()
    return (_absolute(origin.location.file, cwd), origin.location.line,
            tuple((_absolute(c.file, cwd), c.line) for c in origin.chain))


@functools.lru_cache(maxsize=4096)
def _absolute(file: str, cwd: str) -> str:
    return os.path.normpath(os.path.join(cwd, file))


@dataclass(frozen=True)
class SlideAnchor:
    """One slide after the title slide: its title and where its heading was written."""

    title: str
    file: str = ""
    """The absolute path of the heading's file; empty for a slide with no heading
    (the content before the first heading)."""
    line: int = 0
    chain: tuple[tuple[str, int], ...] = ()
    """Where that file was included from: (file, line) pairs, innermost first."""

    @classmethod
    def at(cls, title: str, origin: Origin | None) -> SlideAnchor:
        if origin is None:
            return cls(title)
        file, line, chain = origin_key(origin)
        return cls(title, file, line, chain)

    @property
    def origin(self) -> OriginKey | None:
        """The heading's place as ``origin_key`` gives it, or None without a heading."""
        return (self.file, self.line, self.chain) if self.file else None
