"""Check what `make site` wrote: every talk of the project in every variant, and every
export conf.py asks for, present and opened by a real reader.

Run from the repository root after `make site`: `.venv/bin/python .ci/check_site.py`.
Prints one line per talk and exits 1 naming each thing missing or unreadable.
"""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat

from build_tools.config import VARIANTS, read_site_setting
from build_tools.formats import SUFFIXES, parse_formats
from build_tools.site.discovery import docnames_for, find_talks

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "site"


def read_notebook(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = sum(cell.cell_type == "code" for cell in notebook.cells)
    return f"{len(notebook.cells)} cells, {code} code"


def read_docx(path: Path) -> str:
    with zipfile.ZipFile(path) as docx:
        body = docx.read("word/document.xml")
    import pypandoc  # the pandoc the project installs (pypandoc-binary)

    text = subprocess.run([pypandoc.get_pandoc_path(), "--from", "docx", "--to", "plain", str(path)],
                          capture_output=True, text=True, check=True).stdout
    if not text.strip():
        raise ValueError("pandoc reads no text in it")
    return f"{len(body):,} bytes of document, {len(text.split()):,} words"


def read_pdf(path: Path) -> str:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = next((int(line.split()[1]) for line in info.splitlines() if line.startswith("Pages:")), 0)
    if pages < 1:
        raise ValueError("no pages")
    return f"{pages} pages"


def read_pptx(path: Path) -> str:
    from pptx import Presentation

    return f"{len(Presentation(str(path)).slides)} slides"


READERS = {".ipynb": read_notebook, ".docx": read_docx, ".pdf": read_pdf, ".slides.pdf": read_pdf,
           ".pptx": read_pptx}


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
            found.append(f"{fmt}: {READERS[SUFFIXES[fmt]](path)}")
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
