"""TeX commands used in math that nothing defines: MathJax would show them in red.

A command is known when MathJax defines it (its TeX input's symbol maps, read once
from the installed ``mathjax`` package), when the notation file defines it, or when
the talk defines it with ``\\newcommand``.  Every other command met in ``$...$`` or
``$$...$$`` is one ``W-MATH-UNDEFINED`` per name and document, at its first use.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic, Severity
from ..engine.output import origin_of
from ..engine.texnames import mathjax_names, notation_names

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .emit import Line

__all__ = ["MATH_RE", "mathjax_names", "notation_names", "undefined_math"]

# starts with a literal "$" so the scan jumps from dollar to dollar; the look-behind
# after it asks that the "$" follow neither a backslash nor another "$"
MATH_RE = re.compile(r"\$(?:\$(.+?)\$\$|(?<![\\$]\$)(?!\s)([^$\n]+?)(?<![\s\\])\$)", re.S)
COMMAND_RE = re.compile(r"\\([A-Za-z]+)")
def undefined_math(text: str, lines: Sequence[Line], known: set[str] | frozenset[str]
                   ) -> list[Diagnostic]:
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


def _located(name: str, offset: int, text: str, lines: Sequence[Line]) -> Diagnostic:
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
