"""The TeX names math knows: MathJax's own commands and the notation file's macros.

The expander leaves these as written wherever they stand (a macro body may be put into
math only later, by the macro that uses it); the emit stage warns about the names in math
that none of them define (``myst.mathnames``).
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
from pathlib import Path

NEWCOMMAND_RE = re.compile(
    r"^\s*\\(?:re)?newcommand\s*\{?\\([A-Za-z]+)\}?\s*(?:\[(\d)\])?\s*\{(.*)\}\s*$")
"""A MathJax macro definition on a line of its own: name, argument count, body."""
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
    with open(path, encoding="utf-8", errors="replace") as fh:
        return frozenset(m.group(1) for m in map(NEWCOMMAND_RE.match, fh) if m)


def notation_names(path: str | None) -> frozenset[str]:
    if not path or not os.path.isfile(path):
        return frozenset()
    return _notation_names(path, os.stat(path).st_mtime_ns)


