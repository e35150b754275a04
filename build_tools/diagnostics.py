"""Diagnostics: the located problems every stage reports.

A diagnostic is a value, not an exception: the expander collects them and keeps
going, so one run reports every problem in a talk.  Only the CLI turns them
into exit codes.  ``MacroError`` exists for API callers that want to raise the
first error (``strict``); it carries the same diagnostic.
"""
from __future__ import annotations

import enum
import os
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    NOTICE = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Location:
    """A position as editors show it: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    """Stable identifier such as ``W-BRACE`` or ``E-INCLUDE-MISSING`` (docs/macro-language.md, "Diagnostics")."""
    severity: Severity
    message: str
    location: Location | None = None
    chain: tuple[Location, ...] = ()
    """Where each enclosing file was included from, innermost first."""
    hint: str = ""
    fix: tuple[str, ...] = field(default=(), compare=False)
    """Machine-readable repair, when exactly one safe repair exists: (kind, data...)."""
    subject: str = field(default="", compare=False)
    """The file on disk the problem is about, when there is one (a missing image)."""

    def format(self) -> str:
        where = f"{self.location}: " if self.location else ""
        lines = [f"{where}{self.severity}: {self.message} [{self.code}]"]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        lines.extend(f"  included from {loc}" for loc in self.chain)
        return "\n".join(lines)

    def as_dict(self) -> dict:
        loc = self.location
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
            "chain": [str(c) for c in self.chain],
            "hint": self.hint or None,
        }

    __str__ = format


class MacroError(Exception):
    """The project's one error type for bad input; it carries its diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.format())
        self.diagnostic = diagnostic

    # keep it picklable across Sphinx's parallel workers
    def __reduce__(self) -> tuple[type[MacroError], tuple[Diagnostic]]:
        return (type(self), (self.diagnostic,))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity >= Severity.ERROR for d in diagnostics)


def crash_site(exc: BaseException) -> str:
    """``file:line`` of the innermost frame of this package in an exception's traceback."""
    package = os.path.dirname(os.path.abspath(__file__))
    site = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(package + os.sep):
            site = f"{os.path.relpath(frame.filename, os.path.dirname(package))}:{frame.lineno}"
    return site
