"""The expander's output buffer: text pieces that remember where they came from.

Each piece carries the (frame, offset) of its first character, so after
expansion every output line can be traced to a file, line and include chain.
"""
from __future__ import annotations

import bisect
from itertools import accumulate
from dataclasses import dataclass

from .diagnostics import Location
from .source import Frame


@dataclass(frozen=True)
class Origin:
    """Where an output line came from: a position plus the include chain to it."""

    location: Location
    chain: tuple[Location, ...] = ()

    def __str__(self) -> str:
        return str(self.location)


class Out:
    """An append-only list of text pieces with their origins.

    An origin is ``(frame, offset)`` for text copied verbatim from a source, and
    ``(frame, offset, "site")`` for text a macro generated, pinned to its call.
    """

    __slots__ = ("parts", "origins", "size")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.origins: list[tuple[Frame, int] | None] = []
        self.size = 0

    def add(self, text: str, origin: tuple[Frame, int] | None = None) -> None:
        if text:
            self.parts.append(text)
            self.origins.append(origin)
            self.size += len(text)

    def extend(self, other: "Out") -> None:
        self.parts.extend(other.parts)
        self.origins.extend(other.origins)
        self.size += other.size

    def trimmed(self) -> "Out":
        """The same pieces without leading and trailing blank lines."""
        out = Out()
        parts, origins = list(self.parts), list(self.origins)
        while parts and not parts[0].strip("\n"):
            parts.pop(0), origins.pop(0)
        while parts and not parts[-1].strip("\n"):
            parts.pop(), origins.pop()
        if parts:
            lead = len(parts[0]) - len(parts[0].lstrip("\n"))
            parts[0] = parts[0][lead:]
            if origins[0] is not None and len(origins[0]) == 2:
                origins[0] = (origins[0][0], origins[0][1] + lead)
            parts[-1] = parts[-1].rstrip("\n")
        for part, origin in zip(parts, origins):
            out.add(part, origin)
        return out

    def text(self) -> str:
        return "".join(self.parts)

    def has_newline(self) -> bool:
        return any("\n" in p for p in self.parts)

    def lines(self, text: str | None = None) -> list[tuple[str, tuple[Frame, int] | None]]:
        """Split into lines, each with the origin of its first character.

        A line that starts in generated text without a position takes the
        position of the line before it.  Runs of blank lines become one blank
        line: Markdown reads them the same, and every later pass has less to do.
        """
        if text is None:
            text = "".join(self.parts)
        starts = list(accumulate(map(len, self.parts), initial=0))[:-1]
        origins = self.origins
        result: list[tuple[str, tuple[Frame, int] | None]] = []
        append = result.append
        last: tuple[Frame, int] | None = None
        line_start = 0
        index = 0
        blank = False
        for line in text.split("\n"):
            size = len(line) + 1
            if not line or line.isspace():
                if blank:
                    line_start += size
                    continue
                blank = True
            else:
                blank = False
            if starts:
                index = bisect.bisect_right(starts, line_start, lo=index) - 1
                origin = origins[index] if index >= 0 else None
                if origin is not None:
                    # verbatim slices are (frame, offset); generated text is pinned to its call site
                    last = (origin[0], origin[1] + line_start - starts[index]) \
                        if len(origin) == 2 else origin[:2]
            append((line, last))
            line_start += size
        return result


def origin_of(position: tuple[Frame, int] | None) -> Origin | None:
    if position is None:
        return None
    frame, offset = position[0], position[1]
    src = frame.source
    offset = min(offset, len(src.text))
    return Origin(src.location(offset), frame.chain())
