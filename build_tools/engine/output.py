"""The expander's output buffer: text pieces and records that remember where they came from.

Each piece carries the (frame, offset) of its first character, so after
expansion every output line can be traced to a file, line and include chain.
A piece is either text or a ``records.Block``, which stands on a line of its own.
"""
from __future__ import annotations

import bisect
from array import array
from itertools import accumulate
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import cast, overload

from ..diagnostics import Location
from .records import Block
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

    __slots__ = ("parts", "origins", "size", "blocks")

    def __init__(self) -> None:
        self.parts: list[str | Block] = []
        self.origins: list[tuple | None] = []
        """(frame, offset), or (frame, offset, "site") for text a macro generated."""
        self.size = 0
        self.blocks = 0
        """How many parts are records: text() and lines() take a fast path when none are."""

    def add(self, text: str, origin: tuple[Frame, int] | None = None) -> None:
        if text:
            self.parts.append(text)
            self.origins.append(origin)
            self.size += len(text)

    def add_block(self, block: Block, origin: tuple[Frame, int] | None) -> None:
        self.parts.append(block)
        self.origins.append(origin)
        self.blocks += 1

    def extend(self, other: Out) -> None:
        self.parts.extend(other.parts)
        self.origins.extend(other.origins)
        self.size += other.size
        self.blocks += other.blocks

    def trimmed(self) -> Out:
        """The same pieces without leading and trailing blank lines."""
        out = Out()
        parts, origins = list(self.parts), list(self.origins)
        while parts and type(parts[0]) is str and not parts[0].strip("\n"):
            parts.pop(0), origins.pop(0)
        while parts and type(parts[-1]) is str and not parts[-1].strip("\n"):
            parts.pop(), origins.pop()
        if parts and type(parts[0]) is str:
            lead = len(parts[0]) - len(parts[0].lstrip("\n"))
            parts[0] = parts[0][lead:]
            if origins[0] is not None and len(origins[0]) == 2:
                origins[0] = (origins[0][0], origins[0][1] + lead)
        if parts and type(parts[-1]) is str:
            parts[-1] = parts[-1].rstrip("\n")
        for part, origin in zip(parts, origins, strict=True):
            if isinstance(part, str):
                out.add(part, origin)
            else:
                out.add_block(part, origin)
        return out

    def text(self) -> str:
        """The text pieces; records have no text of their own."""
        if not self.blocks:
            return "".join(self.parts)  # type: ignore[arg-type]  # no records: all text
        return "".join(p for p in self.parts if isinstance(p, str))

    def has_newline(self) -> bool:
        return self.blocks > 0 or any("\n" in p for p in self.parts)  # type: ignore[operator]

    def lines(self) -> list[tuple[str | Block, tuple[Frame, int] | None]]:
        """Split into lines, each with the origin of its first character; records stand alone.

        A line that starts in generated text without a position takes the
        position of the line before it.  Runs of blank lines become one blank
        line: Markdown reads them the same, and every later pass has less to do.
        """
        result: list[tuple[str | Block, tuple[Frame, int] | None]] = []
        if not self.blocks:  # every part is text
            _split_text(cast("list[str]", self.parts), self.origins, result, None)
            return result
        last = None
        run_start = 0
        for i, part in enumerate(self.parts):
            if type(part) is not str:
                # the parts between two records are text
                last = _split_text(cast("list[str]", self.parts[run_start:i]),
                                   self.origins[run_start:i], result, last, before_block=True)
                origin = self.origins[i]
                result.append((part, origin[:2] if origin is not None else last))
                run_start = i + 1
        _split_text(cast("list[str]", self.parts[run_start:]), self.origins[run_start:], result,
                    last)
        return result


def _split_text(parts: list[str], origins: list[tuple | None],
                result: list[tuple[str | Block, tuple[Frame, int] | None]],
                last: tuple[Frame, int] | None, before_block: bool = False
                ) -> tuple[Frame, int] | None:
    """Append the lines of consecutive text pieces to ``result``; returns the last origin.

    A record is a line of its own: the newline just before it ends the line
    before, and the newline just after it ends the record's line.
    """
    if not parts:
        return last
    text = "".join(parts)
    starts = list(accumulate(map(len, parts), initial=0))[:-1]
    append = result.append
    blank = bool(result) and type(result[-1][0]) is str and not result[-1][0].strip()
    line_start = 0
    index = 0
    lines = text.split("\n")
    if before_block and len(lines) > 1 and not lines[-1]:
        lines.pop()
    if result and type(result[-1][0]) is not str and len(lines) > 1 and not lines[0]:
        lines.pop(0)
        line_start = 1
    for line in lines:
        size = len(line) + 1
        if not line or line.isspace():
            if blank:
                line_start += size
                continue
            blank = True
        else:
            blank = False
        index = bisect.bisect_right(starts, line_start, lo=index) - 1
        origin = origins[index] if index >= 0 else None
        if origin is not None:
            # verbatim slices are (frame, offset); generated text is pinned to its call site
            last = (origin[0], origin[1] + line_start - starts[index]) \
                if len(origin) == 2 else origin[:2]
        append((line, last))
        line_start += size
    return last


def origin_of(position: tuple[Frame, int] | None) -> Origin | None:
    if position is None:
        return None
    frame, offset = position[0], position[1]
    src = frame.source
    offset = min(offset, len(src.text))
    return Origin(src.location(offset), frame.chain())


class LazyOrigins:
    """The origin of each generated line, worked out only for the lines asked about.

    Lines of one include share their include chain, so each chain is built once.
    """

    def __init__(self, positions: list) -> None:
        self.positions = positions
        self.cache: dict[int, Origin | None] = {}
        self.chains: dict[int, tuple] = {}

    def __len__(self) -> int:
        return len(self.positions)

    def __iter__(self) -> Iterator[Origin | None]:
        return (self[i] for i in range(len(self.positions)))

    def __getitem__(self, index: int) -> Origin | None:
        if index in self.cache:
            return self.cache[index]
        position = self.positions[index]
        origin = None
        if position is not None:
            frame = position[0]
            chain = self.chains.get(id(frame))
            if chain is None:
                chain = self.chains[id(frame)] = frame.chain()
            src = frame.source
            origin = Origin(src.location(min(position[1], len(src.text))), chain)
        self.cache[index] = origin
        return origin


class PackedOrigins(Sequence[Origin | None]):
    """The origins of a saved record's lines, as four numbers a line (file, line, column,
    include chain), each file name and chain held once: loading a record reads a block of
    numbers instead of making an object for every line, and an ``Origin`` is made only for
    the lines asked about."""

    def __init__(self, origins: Iterable[Origin | None]) -> None:
        files: dict[str, int] = {}
        chains: dict[tuple[Location, ...], int] = {}
        rows = array("q")
        for origin in origins:
            if origin is None:
                rows.extend((-1, 0, 0, 0))
                continue
            where = origin.location
            rows.extend((files.setdefault(where.file, len(files)), where.line, where.column,
                         chains.setdefault(origin.chain, len(chains))))
        self.files = list(files)
        self.chains = list(chains)
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows) // 4

    @overload
    def __getitem__(self, index: int) -> Origin | None: ...

    @overload
    def __getitem__(self, index: slice) -> list[Origin | None]: ...

    def __getitem__(self, index: int | slice) -> Origin | None | list[Origin | None]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        file, line, column, chain = self.rows[4 * index:4 * index + 4]
        if file < 0:
            return None
        return Origin(Location(self.files[file], line, column), self.chains[chain])
