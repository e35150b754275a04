"""How complete the exports are: per format, the share of its source page's words, headings
and pictures each export holds, the minimum and the median over talks.

Two workloads, as ``exports.py`` builds them: the lamd course ``course-execed`` built in
place, and the first 50 corpus talks.  Each is built from scratch with ``talks build --to
all``; then every export (written, or set aside as ``NAME.incomplete.SUFFIX`` by the
build's own check) is read back and compared with the page of the variant it was made
from, by the same measures the build uses (``build_tools/export/completeness.py``).  The
last column counts the talks the build itself reported incomplete for that format.

``--code DIR`` builds with another copy of the package (a folder holding ``build_tools/``,
say an older commit's, from ``git archive``), to measure it with today's measures: the
figures before and after a change.

    python benchmarks/export_completeness.py [--limit N] [--code DIR] [--keep DIR] [--only course|corpus]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from exports import SHARED, corpus_workload, course_workload
from measure import ROOT

sys.path.insert(0, str(ROOT))

from build_tools.export import completeness as c
from build_tools.formats import FORMAT_TABLE


def build(cwd: Path, args: list[str], env: dict, site: Path, code: Path, log: Path) -> float:
    """``talks build --to all`` from scratch with the package in ``code``; its wall time."""
    for stale in (site, site.parent / ".work" / site.name):
        shutil.rmtree(stale, ignore_errors=True)
    command = [sys.executable, "-c", "import sys; from build_tools.cli import run; sys.exit(run())",
               "build", "--to", "all", "--quiet", "--out", str(site), *args]
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as err:
        subprocess.run(command, cwd=cwd, env={**os.environ, **env, "PYTHONPATH": str(code)},
                       stdout=subprocess.DEVNULL, stderr=err, timeout=7200)
    return time.perf_counter() - started


def measure(site: Path) -> dict[str, list[tuple[str, c.Shortfall, bool]]]:
    """Format -> (talk, how much of its page the export holds, reported incomplete) for every
    talk with both a built page and an export."""
    work = site.parent / ".work" / site.name
    found: dict[str, list[tuple[str, c.Shortfall, bool]]] = {f.name: [] for f in FORMAT_TABLE}
    for record in FORMAT_TABLE:
        module = __import__(f"build_tools.export.{record.module}", fromlist=["read_back"])
        pages = work / record.source / "html"
        for page in sorted(pages.rglob("*.html")) if pages.is_dir() else []:
            doc = page.relative_to(pages).with_suffix("").as_posix()
            whole = work / "exports" / f"{doc}{record.suffix}"
            set_aside = work / "exports" / f"{doc}.incomplete{record.suffix}"
            export = whole if whole.is_file() else set_aside if set_aside.is_file() else None
            if export is None:
                continue
            source = (c.deck_content if record.source == "slides" else c.handout_content)(page)
            try:
                shortfall = c.compare(source, module.read_back(export))
            except Exception as exc:  # noqa: BLE001 - an unreadable export is reported, not fatal
                print(f"  {doc} {record.name}: cannot read it back ({type(exc).__name__}: {exc})")
                continue
            found[record.name].append((doc, shortfall, export == set_aside))
    return found


def report(label: str, found: dict[str, list[tuple[str, c.Shortfall, bool]]]) -> None:
    print(f"{label}: share of the source page each export holds (min / median over talks)")
    print(f"  {'format':<11} {'talks':>5}  {'words':>13}  {'headings':>13}  {'pictures':>13}"
          f"  {'below target':>12}  {'reported':>8}")
    for fmt, rows in found.items():
        if not rows:
            print(f"  {fmt:<11} {0:>5}")
            continue

        def column(values: list[float]) -> str:
            return f"{min(values):6.1%} / {statistics.median(values):6.1%}"

        below = [doc for doc, s, _ in rows if not s.complete]
        reported = sum(1 for _, _, r in rows if r)
        print(f"  {fmt:<11} {len(rows):>5}  {column([s.words for _, s, _ in rows])}  "
              f"{column([s.headings for _, s, _ in rows])}  "
              f"{column([s.pictures for _, s, _ in rows])}  {len(below):>12}  {reported:>8}")
        unreported = [doc for doc, s, r in rows if not s.complete and not r]
        if unreported:
            print(f"    below target and not reported: {', '.join(unreported[:8])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=50, help="Corpus talks to build.")
    parser.add_argument("--code", default=str(ROOT), help="The folder holding build_tools/ to build with.")
    parser.add_argument("--keep", default=None, help="Build here and keep it.")
    parser.add_argument("--only", choices=("course", "corpus"), default=None)
    parser.add_argument("--shared", default=str(SHARED), help="The shared folder (corpus, reference).")
    opts = parser.parse_args()
    work = Path(opts.keep or tempfile.mkdtemp(prefix="talks-completeness-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    shared, code = Path(opts.shared).resolve(), Path(opts.code).resolve()
    print(f"building with {code}; work in {work}")
    for label, make in (("course", lambda: course_workload(shared, work, [])),
                        ("corpus", lambda: corpus_workload(shared, work, opts.limit, []))):
        if opts.only not in (None, label):
            continue
        workload = make()
        if workload is None:
            continue
        cwd, args, env = workload
        site = work / f"{label}-site"
        seconds = build(cwd, args, env, site, code, work / f"{label}.log")
        print(f"{label}: built in {seconds:.0f} s (log: {work / f'{label}.log'})")
        report(label, measure(site))
    if not opts.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
