#!/usr/bin/env python3
"""Preprocessing speed against gpp, measured side by side in one run, like with like.

Expands corpus talks in all three variants with ``talks preprocess --out`` (one
command per variant, as a site build does) and with gpp and lamd's own macro
files, once per talk and variant, as lamd does.  Two comparisons, each with the
same number of processes on both sides:

- serial: both on one core, one process at a time (``talks preprocess`` then shares
  its batch with no worker);
- parallel: ``talks preprocess`` shares each batch between N processes (its default,
  N = the cores, at most 4) and N gpp processes run at once.

Only talks that both expand without an error in every variant are timed (a talk
gpp stops on, at a missing include, would be timed for less work); how many were
left out, and why, is printed.  A run that exits otherwise than expected, or writes
fewer files than it was given talks, fails the benchmark (exit status 1).  Prints
talks per second, the peak memory of each side's process tree, and the ratio gpp
time / project time (above 1: faster than gpp).

    python benchmarks/preprocess.py [--corpus ../shared/corpus] [--repeat 3]

Needs gpp (Debian package ``gpp``); lamd's macro files come from the ``lamd``
package on PyPI, downloaded once into a cache folder.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from measure import Measured, run_sampled, tree_rss

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"slides": ["SLIDES"], "speaker-notes": ["SLIDES"], "handout": ["NOTES", "CODE", "EDIT", "EXERCISES"]}
GPP_MODE = ["+n", "-U", "\\", "", "{", "}{", "}", "{", "}", "#", ""]
NOT_TALKS = {"_posts", "_layouts", "_includes", "_notes", "_notebooks"}


@dataclass
class Run:
    seconds: float
    peak_kb: int = 0
    failures: list[str] = field(default_factory=list)
    """What went wrong, one line each: any makes the run no measure."""


def lamd_macros(cache: Path) -> Path:
    target = cache / "lamd-0.1.2"
    macros = target / "lamd" / "macros"
    if not macros.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(cache),
                        "lamd==0.1.2"], check=True)
        wheel = next(cache.glob("lamd-0.1.2-*.whl"))
        zipfile.ZipFile(wheel).extractall(target)
    return macros


# -- gpp, lamd's way: one process per talk and variant -----------------------------------

def legacy_stand_ins(work: Path) -> Path:
    """Empty stand-ins for the retired macro files lamd users keep."""
    empty = work / "legacy" / "sub"
    empty.mkdir(parents=True, exist_ok=True)
    for name in ("talk-macros.tex", "../talk-macros.tex", "../talk-macros.gpp"):
        (empty / name).touch()
    return empty


def gpp_talk(job: tuple[int, str], roots: list[str], macros: Path, empty: Path, work: Path
             ) -> list[str]:
    """Expand one talk in every variant; the failures (none when every gpp exits 0)."""
    index, talk = job
    source = work / f"in-{index}.md"
    source.write_text("\\include{talk-macros.gpp}\n" + Path(talk).read_text(errors="replace"))
    failures = []
    for variant, symbols in VARIANTS.items():
        cmd = ["gpp", *GPP_MODE, "-DHTML=1", *(f"-D{s}=1" for s in symbols),
               "-DdiagramsDir=/diagrams", f"-I{os.path.dirname(talk)}",
               *(f"-I{r}" for r in roots), f"-I{macros}", f"-I{empty}",
               "-o", str(work / f"out-{index}-{variant}.md"), str(source)]
        done = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        if done.returncode:
            last = (done.stderr.strip().splitlines() or [""])[-1]
            failures.append(f"gpp {variant} {talk}: exit {done.returncode}: {last[:160]}")
    return failures


def run_gpp(talks: list[str], roots: list[str], macros: Path, work: Path, processes: int) -> Run:
    """Every talk in every variant, ``processes`` gpp processes at a time."""
    empty = legacy_stand_ins(work)
    folder = work / "gpp"
    folder.mkdir(exist_ok=True)
    peak = [0]
    me = psutil.Process()
    start = time.perf_counter()
    with ThreadPoolExecutor(processes) as pool:
        pending = [pool.submit(gpp_talk, job, roots, macros, empty, folder)
                   for job in enumerate(talks)]
        while not all(f.done() for f in pending):  # the gpp processes alive together
            peak[0] = max(peak[0], tree_rss(me)[0] - me.memory_info().rss)
            time.sleep(0.02)
        failures = [line for f in pending for line in f.result()]
    return Run(time.perf_counter() - start, peak[0] // 1024, failures)


# -- the project: one ``talks preprocess`` per variant ----------------------------------

def run_project(talks: list[str], roots: list[str], work: Path) -> Run:
    """Every talk in every variant (each batch shares its talks with as many processes
    as it has cores, at most 4)."""
    cli = shutil.which("talks", path=os.path.dirname(sys.executable)) or "talks"
    seconds, peak, failures = 0.0, 0, []
    for variant in VARIANTS:
        out = work / variant
        shutil.rmtree(out, ignore_errors=True)
        cmd = [cli, "preprocess", *talks, "--variant", variant, "--out", str(out)]
        for root in roots:
            cmd += ["-I", root]
        measured = run_sampled(cmd)
        seconds += measured.wall
        peak = max(peak, measured.peak_kb)
        failures += project_failures(measured, variant, out, len(talks))
    return Run(seconds, peak, failures)


def project_failures(measured: Measured, variant: str, out: Path, expected: int) -> list[str]:
    failures = []
    if measured.returncode:
        last = (measured.stderr.strip().splitlines() or [""])[-1]
        failures.append(f"talks preprocess {variant}: exit {measured.returncode}: {last[:160]}")
    written = sum(1 for _ in out.rglob("*.md")) if out.is_dir() else 0
    if written != expected:
        failures.append(f"talks preprocess {variant}: wrote {written} of {expected} files")
    return failures


# -- which talks both expand --------------------------------------------------------------

def clean_talks(talks: list[str], roots: list[str], macros: Path, work: Path
                ) -> tuple[list[str], dict[str, int]]:
    """The talks gpp and the project both expand without an error in every variant, and
    how many each left out.  Untimed."""
    from build_tools.api import write_myst
    from build_tools.config import build_config
    from build_tools.diagnostics import has_errors

    config = build_config(talks[0], include_roots=roots)  # as ``talks preprocess`` makes it
    project_bad = {path for variant in VARIANTS
                   for path, diagnostics in write_myst(talks, variant, config, str(work / "check"))
                   if has_errors(diagnostics)}
    empty = legacy_stand_ins(work)
    gpp_bad = {talk for talk in talks
               if gpp_talk((0, talk), roots, macros, empty, work)}
    shutil.rmtree(work / "check", ignore_errors=True)
    clean = [t for t in talks if t not in project_bad | gpp_bad]
    return clean, {"gpp": len(gpp_bad), "project": len(project_bad),
                   "both": len(gpp_bad & project_bad)}


def compare(label: str, talks: list[str], roots: list[str], macros: Path, work: Path,
            repeat: int, processes: int) -> list[str]:
    """Best of ``repeat`` interleaved runs of each side, with this process and so every
    process it starts on as many cores as ``processes``; prints them; returns failures."""
    everywhere = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(sorted(everywhere)[:processes]))
    try:
        return _compare(label, talks, roots, macros, work, repeat, processes)
    finally:
        os.sched_setaffinity(0, everywhere)


def _compare(label: str, talks: list[str], roots: list[str], macros: Path, work: Path,
             repeat: int, processes: int) -> list[str]:
    best_gpp = best_project = None
    failures: list[str] = []
    for _ in range(repeat):  # interleaved, best of each, so load affects both alike
        gpp = run_gpp(talks, roots, macros, work, processes)
        project = run_project(talks, roots, work)
        failures += gpp.failures + project.failures
        best_gpp = gpp if best_gpp is None or gpp.seconds < best_gpp.seconds else best_gpp
        best_project = project if best_project is None or project.seconds < best_project.seconds \
            else best_project
    n = len(talks) * len(VARIANTS)
    print(f"{label} ({processes} process{'es' if processes > 1 else ''} each side):")
    if failures:
        print("  FAILED, not timed:")
        for line in failures[:20]:
            print(f"    {line}")
        return failures
    print(f"  project: {best_project.seconds:6.2f} s, {n / best_project.seconds:5.0f} talk-variants/s, "
          f"peak memory {best_project.peak_kb / 1024:.0f} MB")
    print(f"  gpp:     {best_gpp.seconds:6.2f} s, {n / best_gpp.seconds:5.0f} talk-variants/s, "
          f"peak memory {best_gpp.peak_kb / 1024:.0f} MB")
    print(f"  {label} preprocess-vs-gpp: ratio {best_gpp.seconds / best_project.seconds:.2f} "
          f"(above 1: faster than gpp)")
    return []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "talks-bench-cache"))
    args = ap.parse_args()
    corpus = Path(args.corpus)
    if not (corpus / "talks").is_dir():
        print(f"no corpus at {corpus}; nothing to measure")
        return 0
    if not shutil.which("gpp"):
        print("gpp is not installed (apt-get install gpp); cannot measure the reference")
        return 1
    talks = sorted(p for p in glob.glob(str(corpus / "talks" / "_*" / "*.md"))
                   if Path(p).parent.name not in NOT_TALKS)
    roots = [str(corpus / "snippets"), str(corpus / "talks")]
    macros = lamd_macros(Path(args.cache))
    work = Path(tempfile.mkdtemp(prefix="talks-bench-"))
    cores = os.sched_getaffinity(0)
    try:
        clean, left_out = clean_talks(talks, roots, macros, work)
        print(f"talks: {len(talks)} in the corpus; timed: {len(clean)} x {len(VARIANTS)} variants "
              f"(left out, with an error in some variant: gpp {left_out['gpp']}, "
              f"project {left_out['project']}, both {left_out['both']}); cores: {len(cores)}")
        failures = compare("serial", clean, roots, macros, work, args.repeat, 1)
        processes = min(len(cores), 4)
        if processes > 1:
            failures += compare("parallel", clean, roots, macros, work, args.repeat, processes)
        else:
            print("parallel: one core only; not measured")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
