"""The catalogue of diagnostic codes (``diagnostics.CATALOGUE``): every code the package
raises is in it, each with its one-line meaning, and docs/macro-language.md's table of
codes is made from it. After a change to the catalogue, rewrite the table with

    TALKS_UPDATE_GOLDEN=1 python -m pytest tests/test_catalogue.py
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from build_tools.diagnostics import CATALOGUE, CODES, catalogue_table

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "macro-language.md"
CODE_RE = re.compile(r"""["'\[]([EWN]-[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)["'\]]""")
"""A code in quotes, or in brackets at the end of a message written out whole."""
TABLE_RE = re.compile(r"^\| code \| raised when \|\n(?:^\|.*\n?)+", re.M)


def raised_codes() -> dict[str, str]:
    """Code -> a file of the package that names it."""
    found: dict[str, str] = {}
    for path in sorted((REPO / "build_tools").rglob("*.py")):
        if path.name != "diagnostics.py":
            for code in CODE_RE.findall(path.read_text(encoding="utf-8")):
                found.setdefault(code, str(path.relative_to(REPO)))
    return found


def test_every_code_raised_is_in_the_catalogue_and_every_code_there_is_raised():
    raised = raised_codes()
    assert sorted(f"{c} ({f})" for c, f in raised.items() if c not in CODES) == []
    assert sorted(set(CODES) - set(raised)) == []
    assert len(CODES) == len(CATALOGUE) and all(c.meaning.strip() for c in CATALOGUE)


def test_the_documented_table_is_the_catalogue():
    text = DOCS.read_text(encoding="utf-8")
    table = TABLE_RE.search(text)
    assert table, "docs/macro-language.md has no table of codes"
    if os.environ.get("TALKS_UPDATE_GOLDEN") == "1":
        DOCS.write_text(text[:table.start()] + catalogue_table() + "\n" + text[table.end():],
                        encoding="utf-8")
        return
    assert table.group(0).rstrip("\n") == catalogue_table()
