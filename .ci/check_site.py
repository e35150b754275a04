"""Check what `make site` wrote: every talk of the project in every variant, and every
export conf.py asks for, present, read back by its format's own reader and holding what
the page it was made from shows.

Run from the repository root after `make site`: `.venv/bin/python .ci/check_site.py`.
Prints one line per talk and exits 1 naming each thing missing or unreadable.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

from build_tools.config import VARIANTS, read_site_setting
from build_tools.export.completeness import compare, deck_content, handout_content
from build_tools.formats import SUFFIXES, export_format, parse_formats
from build_tools.site.discovery import docnames_for, find_talks

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "site"


def read_export(fmt: str, path: Path, page: Path) -> str:
    """The export read back by its format's own reader (``formats.FORMAT_TABLE``), and how
    much of the built page it was made from it holds."""
    record = export_format(fmt)
    module = importlib.import_module(f"build_tools.export.{record.module}")
    content = module.read_back(path)
    source = (deck_content if record.source == "slides" else handout_content)(page)
    shortfall = compare(source, content)
    if not shortfall.complete:
        raise ValueError(f"incomplete: {shortfall.figures()}; the first missing is "
                         f"{shortfall.first_missing or 'not one paragraph'}")
    return f"{len(content.words):,} words, {len(content.headings)} headings, " \
           f"{len(content.pictures)} pictures ({shortfall.figures()})"


def check_talk(doc: str, formats: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(what was found, what is wrong) for one talk's pages and exports."""
    found, problems = [], []
    for variant in VARIANTS:
        page = SITE / variant / f"{doc}.html"
        if not page.is_file() or page.stat().st_size == 0:
            problems.append(f"{doc}: no {variant} page ({page.relative_to(ROOT)})")
    for fmt in formats:
        path = SITE / "exports" / f"{doc}{SUFFIXES[fmt]}"
        if not path.is_file():
            problems.append(f"{doc}: no {fmt} export ({path.relative_to(ROOT)})")
            continue
        try:
            page = SITE / export_format(fmt).source / f"{doc}.html"
            found.append(f"{fmt}: {read_export(fmt, path, page)}")
        except Exception as exc:  # noqa: BLE001 - every unreadable file is reported
            problems.append(f"{doc}: {fmt} export unreadable: {type(exc).__name__}: {exc}")
    return found, problems


def main() -> int:
    formats = parse_formats(read_site_setting(str(ROOT), "talks_exports"))
    docs = sorted(docnames_for(find_talks(ROOT)).values())
    problems = [] if (SITE / "index.html").is_file() else ["no index page"]
    if not docs:
        problems.append("the project has no talks")
    for doc in docs:
        found, wrong = check_talk(doc, formats)
        problems += wrong
        print(f"{doc}: {len(VARIANTS)} variants; " + "; ".join(found))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"{len(docs)} talks, {len(formats)} exports each: "
          + ("all present and readable" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
