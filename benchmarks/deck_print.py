"""Benchmark the slide PDF's floor: what Chromium costs to lay out and print a deck, with
and without the deck's pictures, fonts and MathJax, against what the HTML build spends
on a talk.

It builds the workloads of ``exports.py`` (``course-execed`` in place, and the first
``--limit`` corpus talks), then prints every deck in one browser tab, as a worker does:
as built, then, in a second browser, bare (every picture, font and MathJax script
answered "not found", so only the HTML, its styles and reveal.js remain).  Each deck is
printed once before it is measured, so the browser's start is not counted.  The cost is
the machine's busy time over the print (every core, from ``/proc/stat``; Chromium's
processes leave this one's tree): run it on a quiet machine.

    python benchmarks/deck_print.py [--limit N] [--each] [--keep DIR] [--shared DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from exports import SHARED, corpus_workload, course_workload, run

from build_tools.export import browser, slides_pdf

BARE = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".woff", ".woff2", ".ttf", "mathjax")
"""What a bare deck is refused: the names of its pictures, fonts and MathJax."""


def busy_seconds() -> float:
    with open("/proc/stat", encoding="ascii") as fh:
        ticks = [int(x) for x in fh.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


class BareSite(browser.SiteServer):
    """Answers a deck's requests as the exports do, except its pictures, fonts and MathJax."""

    def answer(self, url: str):
        if any(name in url.lower() for name in BARE):
            return "missing", None
        return super().answer(url)


def print_cost(printer: browser.Printer, site: Path, deck: Path, out: Path) -> tuple[int, float]:
    """The deck's slide count and the machine's busy seconds while it was printed."""
    slides_pdf.write_slides_pdf(printer, site, deck, out)  # warm: its files read once
    start = busy_seconds()
    printed = slides_pdf.write_slides_pdf(printer, site, deck, out)
    return int(printed.value or 0), busy_seconds() - start


def measure_decks(site: Path, out: Path) -> list[tuple[str, int, float, float]]:
    """Each deck of the built slides folder ``site``: its name, slides, and print costs."""
    decks = sorted(d for d in site.rglob("*.html") if d.name != "index.html"
                   and "_static" not in d.parts and slides_pdf.has_slides(d))
    with browser.chromium() as printer:
        built = [print_cost(printer, site, deck, out) for deck in decks]
    with browser.chromium(server=BareSite) as printer:
        bare = [print_cost(printer, site, deck, out)[1] for deck in decks]
    return [(deck.relative_to(site).with_suffix("").as_posix(), slides, cost, bare_cost)
            for deck, (slides, cost), bare_cost in zip(decks, built, bare, strict=True)]


def report(label: str, html: dict, talks: int, rows: list, each: bool) -> None:
    print(f"{label}: HTML build {html['machine'] / max(talks, 1):.2f} s of machine CPU per talk "
          f"(three variants, {talks} handout pages); {len(rows)} decks printed")
    print(f"  {'deck':40} {'slides':>6} {'as built':>9} {'bare':>6}   (machine CPU seconds)")
    for name, slides, built, bare in rows if each else []:
        print(f"  {name:40} {slides:6d} {built:9.2f} {bare:6.2f}")
    count = max(len(rows), 1)
    print(f"  {'mean of a deck':40} {sum(r[1] for r in rows) / count:6.0f} "
          f"{sum(r[2] for r in rows) / count:9.2f} {sum(r[3] for r in rows) / count:6.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=50, help="Corpus talks to build.")
    parser.add_argument("--each", action="store_true", help="A line for every deck.")
    parser.add_argument("--keep", default=None, help="Build here and keep it.")
    parser.add_argument("--shared", default=str(SHARED), help="The shared folder (corpus, reference).")
    opts = parser.parse_args()
    work = Path(opts.keep or tempfile.mkdtemp(prefix="talks-deck-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    shared = Path(opts.shared).resolve()
    for label, workload in (("course", course_workload(shared, work, [])),
                            ("corpus", corpus_workload(shared, work, opts.limit, []))):
        if workload is None:
            continue
        project, args, env = workload
        site = work / f"{label}-site"
        html = run(["build", "--to", "none", "--quiet", "--out", str(site), *args], project, env,
                   work / f"{label}-html.log")
        talks = len(list((site / "handout").glob("**/*.html")))
        report(label, html, talks, measure_decks(site / "slides", work / "deck.pdf"), opts.each)
    if not opts.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
