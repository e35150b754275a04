"""The images a document export places: found on disk, confined, and where each was named.

The DOCX, the typeset handout and the PPTX deck hand their tools only images that
pass ``source.confine`` (the talk's repository and its configured roots): a path the
talk writes that resolves anywhere else, a URL, or a missing file is never read,
and becomes one warning at the FILE:LINE that named it.  So does a picture whose
header claims more pixels than ``standins.MAX_PIXELS``: decoding it would take the
machine's memory.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

from . import tools
from ..config import TalkConfig
from ..diagnostics import Diagnostic, Severity
from ..engine import records as r
from ..engine.output import Origin, origin_of
from ..engine.run import ExpandedTalk, Item
from ..media import unpublishable
from ..paths import confine
from . import markdown as md
from .standins import MAX_PIXELS, picture_size

HEADER_BYTES = 256 * 1024
TEXT_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)"
                        r"|^ {0,3}\[[^\]]+\]:[ \t]*<?([^\s>]+)")
"""An image a line of text names: Markdown ``![..](path)``, HTML ``<img src=..>``, or a
reference target (``[r1]: path``) that ``![..][r1]`` names."""


@dataclass
class ImageFinder:
    """Resolves the image paths one talk names, and says once why one cannot be placed."""

    talk: str
    talk_dir: str
    diagrams: str | None
    allowed_roots: tuple[str, ...]
    kinds: frozenset[str]
    """The file suffixes the consuming tool can place (``.svg``, ``.png``...)."""
    named_at: dict[str, Origin] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    used: list[str] = field(default_factory=list)
    """The files placed, for the export's record of what it was made from."""
    _said: set[str] = field(default_factory=set)

    @classmethod
    def for_talk(cls, expanded: ExpandedTalk, config: TalkConfig, diagrams: str | None,
                 kinds: Iterable[str]) -> ImageFinder:
        """``diagrams`` is what ``/diagrams`` names (default: the configured folder, else
        the project's ``diagrams/``)."""
        talk = expanded.talk.source.path
        finder = cls(talk, os.path.dirname(talk), diagrams or _diagrams_of(talk, config),
                     tuple(expanded.allowed_roots), frozenset(kinds))
        finder.named_at = image_origins(expanded.items)
        return finder

    def locate(self, path: str) -> Path | None:
        """The confined file ``path`` names, or None after one warning saying why."""
        path = unquote(path.strip())
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", path):
            self.refuse(path, "it is not a file of the project (only the project's own "
                              "files are placed)")
            return None
        found = md.image_file(path, self.talk_dir, self.diagrams)
        if found is None:
            self.refuse(path, "the file is not there")
            return None
        real = confine(str(found), self.allowed_roots)
        if real is None:
            self.refuse(path, "it resolves outside the talk's repository and its roots")
            return None
        why = unpublishable(real)
        if why is not None:
            self.refuse(path, why)
            return None
        if found.suffix.lower() not in self.kinds:
            self.refuse(path, f"{found.suffix or 'a file without a suffix'} images "
                              "cannot be placed in this format")
            return None
        size = _claimed_size(real)
        if size and size[0] * size[1] > MAX_PIXELS:
            self.refuse(path, f"it claims {size[0]}x{size[1]} pixels, more than the "
                              f"{MAX_PIXELS // 10**6} million an export decodes")
            return None
        self.used.append(real)
        return Path(real)

    def refuse(self, path: str, why: str) -> None:
        """One warning per path, at the line that first names it."""
        if path not in self._said:
            self._said.add(path)
            origin = self.named_at.get(path)
            where = origin.location if origin else tools.at_start(self.talk)
            self.warnings.append(Diagnostic(
                "W-EXPORT-FIGURE", Severity.WARNING, f"image {path} left out: {why}", where,
                origin.chain if origin else (), hint="the rest of the document is written",
                subject=path))


def _claimed_size(path: str) -> tuple[int, int] | None:
    """What the picture's header claims (its first 256 KB hold it, past any Exif)."""
    try:
        with open(path, "rb") as fh:
            return picture_size(fh.read(HEADER_BYTES))
    except OSError:
        return None


def _diagrams_of(talk: str, config: TalkConfig) -> str | None:
    from ..project import find_project_root

    if config.diagrams_dir:
        return config.diagrams_dir
    project = find_project_root(talk)
    return str(project / "diagrams") if project is not None else None


def image_origins(items: list[Item]) -> dict[str, Origin]:
    """Image path as written -> where the talk first names it (records and lines of text)."""
    seen: dict[str, tuple | None] = {}
    for item, position in items:
        if isinstance(item, r.Figure):
            seen.setdefault(item.image.path, position)
        elif isinstance(item, r.Image):
            seen.setdefault(item.path, position)
        elif isinstance(item, str) and ("![" in item or "<img" in item or "]:" in item):
            for m in TEXT_IMAGE.finditer(item):
                seen.setdefault(unquote(m.group(1) or m.group(2) or m.group(3)), position)
    return {path: origin for path, position in seen.items()
            if (origin := origin_of(position)) is not None}
