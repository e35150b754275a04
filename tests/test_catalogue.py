"""The catalogue of diagnostic codes (``diagnostics.CATALOGUE``): every code the package
raises is in it, each with its one-line meaning, and docs/diagnostics.md is made from it.
After a change to the catalogue, write the page again with

    TALKS_UPDATE_GOLDEN=1 python -m pytest tests/test_catalogue.py
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from build_tools.diagnostics import CATALOGUE, CODES, catalogue_page

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "diagnostics.md"
CODE_RE = re.compile(r"""["'\[]([EWN]-[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)["'\]]""")
"""A code in quotes, or in brackets at the end of a message written out whole."""


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


def test_the_documented_page_is_made_from_the_catalogue():
    if os.environ.get("TALKS_UPDATE_GOLDEN") == "1":
        DOCS.write_text(catalogue_page(), encoding="utf-8")
    assert DOCS.read_text(encoding="utf-8") == catalogue_page()
    assert all(f"| `{code.name}` | {code.meaning} |" in catalogue_page() for code in CATALOGUE)
