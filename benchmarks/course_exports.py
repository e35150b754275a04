"""Benchmark the lamd course ``course-execed`` as its maintainer builds it: ``talks build``
(the HTML and the exports its ``_lamd.yml`` asks for, a PPTX per lecture) against
``talks build --to none`` (the HTML alone), each from scratch, in the same run.

The course (``../shared/reference/course-execed``) is copied to a temporary folder and
built in place, its lamd folders mapped to ``../shared/corpus`` (``TALKS_PATH_MAP``);
the benchmark says so and exits cleanly when the shared material is absent.  Each round
removes ``_build`` (the site and the work folder) before each build, and the two builds
alternate which goes first, so neither always meets a warmer machine.

For each build it prints the wall time and the CPU time (user and system, of the command
and every process it waited for): on a machine others share, CPU time moves far less.
The ratios are of the medians over the rounds, and of the least times (what the
build takes when the machine lets it).

    python benchmarks/course_exports.py [--rounds N] [--against DIR] [--jobs N]

``--against DIR`` also builds with the package in DIR (a ``git archive`` of another
commit), in the same rounds, turn about with this one: both ratios under the same load.
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

from measure import ROOT

SHARED = ROOT.parent / "shared"
COURSE = SHARED / "reference" / "course-execed"
CORPUS = SHARED / "corpus"
PATH_MAP = "$HOME/lawrennd/snippets={snippets}:$HOME/lawrennd/bibliography={bibliography}"
BUILDS = {"HTML only": ["--to", "none"], "default (HTML + PPTX)": []}


def build(course: Path, args: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``talks build ARGS`` from scratch in ``course``."""
    shutil.rmtree(course / "_build", ignore_errors=True)
    command = [sys.executable, "-m", "build_tools.cli", "build", "--quiet", *args]
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(command, cwd=course, env=env, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    # 1: a lecture of the course fails (its own missing include); the rest is built
    if process.returncode not in (0, 1) or not (course / "_build" / "site" / "index.html").is_file():
        sys.exit(f"talks build {' '.join(args)} failed (exit {process.returncode}); see {log}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path, default=None, help="also build with the package in DIR")
    parser.add_argument("--jobs", type=int, default=None)
    options = parser.parse_args()
    if not (COURSE / "_lamd").is_dir() or not (CORPUS / "snippets").is_dir():
        print(f"no course at {COURSE} (or no corpus beside it); nothing to measure")
        return
    env = {**os.environ, "TALKS_PATH_MAP": PATH_MAP.format(snippets=CORPUS.resolve() / "snippets",
                                                           bibliography=CORPUS.resolve() / "bibliography")}
    trees = {"this": {**env, "PYTHONPATH": str(ROOT)}}
    if options.against:
        trees[options.against.name] = {**env, "PYTHONPATH": str(options.against.resolve())}
    jobs = ["--jobs", str(options.jobs)] if options.jobs else []
    times: dict[tuple[str, str], list[tuple[float, float]]] = {
        (tree, label): [] for tree in trees for label in BUILDS}
    with tempfile.TemporaryDirectory(prefix="talks-course-bench-") as folder:
        course = Path(folder) / "course-execed"
        shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("_build", ".git"))
        print(f"course-execed, {len(list((course / '_lamd').glob('*.md')))} lectures; "
              f"{options.rounds} rounds, each build from scratch")
        for turn in range(options.rounds):
            order = list(BUILDS) if turn % 2 == 0 else list(reversed(BUILDS))
            for tree, tree_env in (trees.items() if turn % 2 == 0 else reversed(trees.items())):
                for label in order:
                    wall, cpu = build(course, [*BUILDS[label], *jobs], tree_env,
                                      Path(folder) / "build.log")
                    times[tree, label].append((wall, cpu))
                    print(f"  round {turn + 1}  {tree:<12} {label:<22} wall {wall:6.2f} s   "
                          f"CPU {cpu:6.2f} s", flush=True)
    for tree in trees:
        print(f"{tree}: the median and the least of {options.rounds} rounds")
        for name, pick in (("median", statistics.median), ("least", min)):
            (html_wall, html_cpu), (default_wall, default_cpu) = (
                (pick(w for w, _ in times[tree, label]), pick(c for _, c in times[tree, label]))
                for label in BUILDS)
            print(f"  {name:<6} HTML only wall {html_wall:6.2f} s  CPU {html_cpu:6.2f} s;  default "
                  f"wall {default_wall:6.2f} s  CPU {default_cpu:6.2f} s;  ratio wall "
                  f"{default_wall / html_wall:5.2f}  CPU {default_cpu / html_cpu:5.2f}")


if __name__ == "__main__":
    main()
