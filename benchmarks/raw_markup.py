"""Count the source markup readers see on published pages.

Builds the lamd course ``course-execed`` and the speaker's talks repository of the
shared corpus, each in place (a copy) with ``TALKS_PATH_MAP`` pointing lamd's
``$HOME/lawrennd/...`` folders at the corpus, then reads every published page
(handouts, speaker notes, decks). Of each page's visible text (no comments, scripts,
styles, math or code) it counts what a reader should never see:

- lamd macros ``\\name{``, LaTeX environments ``\\begin{``,
- pandoc's fenced-div colons ``:::``, bracketed-span attributes ``]{.x}``,
  inline footnotes ``^[``, and pause lines ``. . .``.

It prints the totals per kind, the pages with any, and the most frequent macro
names; the target is 0. Says so and exits cleanly without the shared folder.

    python benchmarks/raw_markup.py [--shared DIR] [--keep DIR] [--no-build]
                                    [--variant V] [--no-corpus] [--no-course]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from workfolder import without_html_reader, work_folder

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("handout", "speaker-notes", "slides")

KINDS = {
    "macro": re.compile(r"\\([A-Za-z]+)\{"),
    "environment": re.compile(r"\\begin\{"),
    "div colons": re.compile(r":::"),
    "span attributes": re.compile(r"\]\{\.[\w-]"),
    "inline footnote": re.compile(r"\^\["),
    "pause": re.compile(r"^[ \t]*\. \. \.[ \t]*$", re.M),
}
HIDDEN = ["script", "style", "pre", "code", "span.math", "div.math", "math", "mjx-container",
          "div.highlight", "a.headerlink"]
"""What a reader does not read as text: scripts, code, math (rendered by MathJax)."""


def visible_text(path: Path) -> str:
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(path.read_text(encoding="utf-8", errors="replace"), "html.parser")
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for selector in HIDDEN:
        for node in soup.select(selector):
            node.decompose()
    body = soup.body or soup
    return body.get_text("\n")


def count(text: str) -> tuple[Counter, Counter]:
    """(occurrences per kind, occurrences per macro name) in one page's visible text."""
    kinds: Counter = Counter()
    names: Counter = Counter()
    for kind, pattern in KINDS.items():
        found = pattern.findall(text)
        kinds[kind] += len(found)
        if kind == "macro":
            names.update(found)
    return kinds, names


def run_talks(args: list[str], cwd: Path, log: Path, env: dict) -> int:
    env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "build_tools.cli", *args], cwd=cwd, env=env,
                          text=True, capture_output=True)
    log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    return proc.returncode


def path_map(corpus: Path) -> dict:
    return {"TALKS_PATH_MAP": f"$HOME/lawrennd/snippets={corpus / 'snippets'}:"
                              f"$HOME/lawrennd/bibliography={corpus / 'bibliography'}"}


def build(source: Path, copy: Path, log: Path, corpus: Path, opts, ignore=None) -> None:
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy, ignore=ignore)
    args = ["build", "--quiet", "--to", "none"]
    if opts.variant:
        args += ["--variant", opts.variant]
    print(f"building {source.name} in place...", flush=True)
    run_talks(args, copy, log, path_map(corpus))


def pages(site: Path) -> list[Path]:
    return sorted(p for v in VARIANTS for p in (site / v).rglob("*.html")
                  if "pages" not in p.relative_to(site / v).parts[:1])


def measure(sites: list[Path]) -> None:
    kinds: Counter = Counter()
    names: Counter = Counter()
    dirty: Counter = Counter()
    total = 0
    for site in sites:
        for page in pages(site):
            total += 1
            k, n = count(visible_text(page))
            kinds.update(k)
            names.update(n)
            if sum(k.values()):
                dirty[str(page.relative_to(site.parent.parent))] = sum(k.values())
    print(f"\n{total} published pages, {len(dirty)} show source markup, "
          f"{sum(kinds.values())} places in all")
    for kind in KINDS:
        print(f"  {kind:16} {kinds[kind]:6}")
    if names:
        print("most frequent macros: " + ", ".join(f"\\{n} {c}" for n, c in names.most_common(15)))
    for page, n in dirty.most_common(10):
        print(f"  {n:5}  {page}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--keep", help="Build here and keep it (default: a temporary folder).")
    parser.add_argument("--no-build", action="store_true", help="Read the builds in --keep DIR again.")
    parser.add_argument("--variant", choices=VARIANTS, help="Build only this variant.")
    parser.add_argument("--no-corpus", action="store_true", help="Leave out the talks repository.")
    parser.add_argument("--no-course", action="store_true", help="Leave out the lamd course.")
    opts = parser.parse_args(argv)
    if opts.no_build and not opts.keep:
        parser.error("--no-build needs --keep DIR")
    shared = Path(opts.shared).resolve()
    corpus, course = shared / "corpus", shared / "reference" / "course-execed"
    if not (corpus / "talks").is_dir():
        print(f"no corpus under {shared}; nothing measured")
        return 0
    if without_html_reader("nothing measured"):
        return 0
    sites = []
    with work_folder(opts.keep, "talks-raw-") as work:
        if not opts.no_course and course.is_dir():
            if not opts.no_build:
                build(course, work / "course", work / "course.log", corpus, opts,
                      shutil.ignore_patterns("slides", "_lectures"))
            sites.append(work / "course" / "_build" / "site")
        if not opts.no_corpus:
            if not opts.no_build:
                build(corpus / "talks", work / "talks", work / "talks.log", corpus, opts)
            sites.append(work / "talks" / "_build" / "site")
        measure(sites)
    return 0


if __name__ == "__main__":
    sys.exit(main())
