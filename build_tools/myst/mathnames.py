"""TeX commands used in math that nothing defines: MathJax would show them in red.

A command is known when MathJax defines it (its TeX input's symbol maps, read once
from the installed ``mathjax`` package), when the notation file defines it, or when
the talk defines it with ``\\newcommand``.  Every other command met in ``$...$`` or
``$$...$$`` is one ``W-MATH-UNDEFINED`` per name and document, at its first use.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
from pathlib import Path

from ..diagnostics import Diagnostic, Severity
from ..engine.output import origin_of

# starts with a literal "$" so the scan jumps from dollar to dollar; the look-behind
# after it asks that the "$" follow neither a backslash nor another "$"
MATH_RE = re.compile(r"\$(?:\$(.+?)\$\$|(?<![\\$]\$)(?!\s)([^$\n]+?)(?<![\s\\])\$)", re.S)
COMMAND_RE = re.compile(r"\\([A-Za-z]+)")
MAP_KEY_RE = re.compile(r"^\s*'?(?:\\\\)?([A-Za-z]+)'?\s*:", re.M)
FALLBACK = {"frac", "sum", "int", "left", "right", "mathbf", "mathrm", "alpha", "beta", "begin",
            "end", "text", "operatorname", "boldsymbol", "mathcal", "top", "times", "cdot"}


@functools.lru_cache(maxsize=1)
def mathjax_names() -> frozenset[str]:
    """Every command name MathJax's TeX input knows (base, AMS and the other packages)."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return frozenset(FALLBACK)
    ts = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax" / "ts" / "input" / "tex"
    names = set(FALLBACK)
    for path in ts.rglob("*Mappings.ts"):
        names.update(MAP_KEY_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    for path in ts.rglob("*Configuration.ts"):  # packages define a few names there
        names.update(MAP_KEY_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(names)


@functools.lru_cache(maxsize=8)
def _notation_names(path: str, stamp: int) -> frozenset[str]:
    from .emit import NEWCOMMAND_RE

    with open(path, encoding="utf-8", errors="replace") as fh:
        return frozenset(m.group(1) for m in map(NEWCOMMAND_RE.match, fh) if m)


def notation_names(path: str | None) -> frozenset[str]:
    if not path or not os.path.isfile(path):
        return frozenset()
    return _notation_names(path, os.stat(path).st_mtime_ns)


def undefined_math(text: str, lines, known: set[str] | frozenset[str]) -> list[Diagnostic]:
    """One warning per command used in math that ``known`` and MathJax do not define.

    ``text`` is ``lines`` joined with newlines, where the warnings are located."""
    mathjax = mathjax_names()
    if "$" not in text:
        return []
    found: list[Diagnostic] = []
    seen: set[str] = set()
    for m in MATH_RE.finditer(text):
        group = 1 if m.group(1) is not None else 2
        for c in COMMAND_RE.finditer(m.group(group)):
            name = c.group(1)
            if name in known or name in mathjax or name in seen:
                continue
            seen.add(name)
            found.append(_located(name, m.start(group) + c.start(), text, lines))
    return found


def _located(name: str, offset: int, text: str, lines) -> Diagnostic:
    """The warning for ``name`` at ``offset`` of the joined lines (found rarely: counted then)."""
    index = text.count("\n", 0, offset)
    origin = origin_of(lines[index][1]) if index < len(lines) else None
    location = origin.location if origin else None
    if location is not None and location.column == 1:
        from dataclasses import replace

        location = replace(location, column=offset - (text.rfind("\n", 0, offset) + 1) + 1)
    return Diagnostic("W-MATH-UNDEFINED", Severity.WARNING,
                      f"\\{name} is used in math but neither MathJax, the notation file nor the "
                      "talk defines it; MathJax will show it in red", location,
                      origin.chain if origin else ())
