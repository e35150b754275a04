"""Safe repairs (``talks check --fix``): every problem ``engine.advice`` finds that has
exactly one repair is fixed in place, the original kept beside it.
"""
from __future__ import annotations

import shutil

from ..diagnostics import Diagnostic
from ..engine.advice import Repair, damaged_includes, encoding_repairs
from ..engine.source import MOJIBAKE_BOM


def fix_file(path: str, roots: list[str]) -> tuple[list[Repair], list[Diagnostic], str | None]:
    """Apply every repair that is the only safe one; returns (applied, left alone, backup)."""
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8", errors="surrogateescape")
    damaged = damaged_includes(path, text, roots)
    repairs = [r for _, r in damaged if r] + encoding_repairs(text)
    left = [d for d, r in damaged if r is None]
    if not repairs:
        return [], left, None
    lines = text.split("\n")
    for repair in repairs:
        lines[repair.line - 1] = repair.new if repair.old == lines[repair.line - 1] else \
            lines[repair.line - 1].replace(MOJIBAKE_BOM, "").replace("\ufeff", "")
    backup = path + ".orig"
    shutil.copy2(path, backup)
    with open(path, "wb") as fh:
        fh.write("\n".join(lines).encode("utf-8", errors="surrogateescape"))
    return repairs, left, backup
