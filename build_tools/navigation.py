"""The site's list of talks, handed from the site builder to every Sphinx build.

A handout's sidebar lists the site's talks (a course's lectures in course order),
and its foot links the previous and next talk.  A Sphinx ``toctree`` of every talk
would do the same at a cost that grows with the square of the number of talks
(each page copies every talk's table of contents); the site builder already knows
every talk's title and place, so it hands Sphinx this list instead, as the
``talks_navigation`` configuration value (``CourseEntry.as_config`` of each).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CourseEntry:
    """One talk in the site's order: its document name, title and group (a subject
    folder's name where the talks come from several folders, else empty)."""

    doc: str
    title: str
    group: str = ""

    def as_config(self) -> list[str]:
        return [self.doc, self.title, self.group]

    @classmethod
    def from_config(cls, value: object) -> CourseEntry | None:
        """The entry a configuration value holds; None for a malformed one."""
        if isinstance(value, (list, tuple)) and len(value) == 3 \
                and all(isinstance(v, str) for v in value):
            return cls(*value)
        return None


def entries_of(config_value: Iterable[object] | None) -> list[CourseEntry]:
    return [e for e in map(CourseEntry.from_config, config_value or []) if e is not None]
