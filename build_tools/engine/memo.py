"""Reusing the expansion of an included file across talks.

Hundreds of talks include the same fragments.  While a fragment is expanded,
a ``Recording`` notes every piece of state it read from outside (macro
definitions, include guards, figure-label counts) and everything it changed.
A later include of the same file, in any talk of the same process, replays
the recording instead of expanding again when everything it read is still
the same: same output, same state changes, same diagnostics.  Anything the
recording cannot vouch for (a changed file, a different definition of a
macro it used) means a fresh expansion.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from .output import Out
from .source import Frame, SourceFile, load_source

MISSING = object()

Name = str | tuple[str, str, str]
"""What a recording read: a macro, label, counter, guard, file or option by its name, or an
include by (target, the folder it was opened from, the including file's folder)."""


@dataclass(eq=False)
class Recording:
    root: Frame
    files: list[SourceFile] = field(default_factory=list)
    reads: dict[tuple[str, Name], object] = field(default_factory=dict)
    """(kind, name) -> what it was before anything here changed it."""
    writes: dict[tuple[str, str], object] = field(default_factory=dict)
    """(kind, name) -> what it is afterwards (None: undefined)."""
    diagnostics: list[tuple] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    includes: list[tuple[str, str, int]] = field(default_factory=list)
    steps: int = 0
    out: Out | None = None

    def read(self, kind: str, name: Name, key: object) -> None:
        slot = (kind, name)
        if slot not in self.writes and slot not in self.reads:
            self.reads[slot] = key

    def write(self, kind: str, name: str, value: object) -> None:
        self.writes[(kind, name)] = value

    def absorb(self, child: Recording, diagnostics: list[tuple] | None = None) -> None:
        """A nested include's recording becomes part of this one.

        A replayed child passes its diagnostics re-rooted under this recording.
        """
        for slot, key in child.reads.items():
            if slot not in self.writes and slot not in self.reads:
                self.reads[slot] = key
        self.writes.update(child.writes)
        self.diagnostics.extend(child.diagnostics if diagnostics is None else diagnostics)
        self.files.extend(f for f in child.files if f not in self.files)

    def absorb_reads(self, sandbox: Recording) -> None:
        """What a sandboxed expansion read counts; what it wrote was thrown away."""
        for slot, key in sandbox.reads.items():
            if slot not in self.writes and slot not in self.reads:
                self.reads[slot] = key
        self.diagnostics.extend(sandbox.diagnostics)
        self.files.extend(f for f in sandbox.files if f not in self.files)


def _weight(rec: Recording) -> int:
    return (rec.out.size if rec.out is not None else 0) + 64 * len(rec.diagnostics) + 256


class Memo:
    """Recordings by (settings, file, include name); a few per key for differing states.

    Bounded, least recently used first out: ``talks serve`` expands for as long
    as it runs, and every edit of a fragment makes new recordings.
    """

    def __init__(self, per_key: int = 4, max_keys: int = 5_000, max_bytes: int = 200_000_000):
        self.per_key = per_key
        self.max_keys = max_keys
        """Include keys remembered (limit memo max_keys)."""
        self.max_bytes = max_bytes
        """Characters of recorded output remembered, roughly (limit memo max_bytes)."""
        self.store: OrderedDict[tuple, list[Recording]] = OrderedDict()
        self.weight = 0

    def find(self, key: tuple, current: Callable[[str, Name], object]) -> Recording | None:
        recs = self.store.get(key)
        if not recs:
            return None
        self.store.move_to_end(key)
        for rec in recs:
            if all(load_source(src.path) is src for src in rec.files) and \
                    all(current(kind, name) == value for (kind, name), value in rec.reads.items()):
                return rec
        return None

    def keep(self, key: tuple, rec: Recording) -> None:
        recs = self.store.setdefault(key, [])
        self.store.move_to_end(key)
        recs.insert(0, rec)
        self.weight += _weight(rec)
        for old in recs[self.per_key:]:
            self.weight -= _weight(old)
        del recs[self.per_key:]
        while self.store and (len(self.store) > self.max_keys or self.weight > self.max_bytes):
            _, evicted = self.store.popitem(last=False)
            self.weight -= sum(_weight(r) for r in evicted)


def remap(old_root: Frame, new_root: Frame) -> Callable[[Frame], Frame]:
    """Map frames under ``old_root`` to the same files under ``new_root``."""
    cache: dict[int, Frame | None] = {id(old_root): new_root}

    def mapped(frame: Frame) -> Frame:
        key = id(frame)
        if key not in cache:
            parent = frame.parent
            new_parent = mapped(parent) if parent is not None else None
            if new_parent is None or (parent is not None and new_parent is parent):
                cache[key] = None  # not below the old root: keep the frame itself
            else:
                cache[key] = Frame(frame.source, frame.name, new_parent, frame.at)
        hit = cache[key]
        return frame if hit is None else hit

    return mapped


def replay_out(rec: Recording, new_root: Frame, out: Out) -> Callable[[Frame], Frame]:
    """Append the recorded output to ``out``, its origins moved under ``new_root``;
    returns the frame mapping, for the recording's diagnostics."""
    mapped = remap(rec.root, new_root)
    moved: dict[int, Frame] = {}  # a recording's pieces come from a few frames
    origins: list[tuple | None] = []
    append = origins.append
    recorded = rec.out
    assert recorded is not None, "a recording is replayed only once it is finished"
    for origin in recorded.origins:
        if origin is None:
            append(None)
            continue
        frame = origin[0]
        new = moved.get(id(frame))
        if new is None:
            new = moved[id(frame)] = mapped(frame)
        append((new, origin[1]) if len(origin) == 2 else (new, origin[1], origin[2]))
    out.parts.extend(recorded.parts)
    out.origins.extend(origins)
    out.size += recorded.size
    out.blocks += recorded.blocks
    return mapped
