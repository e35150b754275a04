"""Benchmark exports: the time to export every talk (notebook, DOCX, handout PDF, slide
PDF) against the time of the HTML build of the same talks, and peak memory.

Two workloads, measured in one run:

* the lamd course ``course-execed`` (``../shared/reference``), copied and built in
  place as a course maintainer builds it;
* the first 50 corpus talks (``../shared/corpus``), in a copy of the corpus with the
  default project settings.

Each is built from scratch with ``talks build --to none`` (the HTML time), then
exported with ``talks export --to all`` over that build.  ``talks export`` first asks
Sphinx whether anything changed (nothing has): only the export step itself is
counted as export time, the no-change rebuild around it is shown apart.  A second
``talks export`` over the unchanged talks shows that no export is made again.

CPU time (user and system, of the command and every process it waited for) is shown
beside the wall time: on a machine others share, it varies less.  It misses Chromium's
renderer processes, which leave the command's process tree; the machine's busy time over
the same span (every core, from ``/proc/stat``) counts them, and on a machine nobody else
uses it is the truer figure.

Peak memory is the largest sum, over the processes alive at one moment (the command,
its workers, pandoc, every Chromium process), of their proportional set size (PSS:
memory shared between processes is divided among them, so the sum is what the
machine holds), sampled every 0.2 s.

``--to`` exports only some formats (``--to slides-pdf``: what the slide PDFs alone cost
against the same HTML build).

    python benchmarks/exports.py [--limit N] [--keep DIR] [--jobs N] [--repeat N] [--to FORMATS]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from measure import ROOT, RUN_COMMAND

SHARED = ROOT.parent / "shared"
NOT_TALKS = {"_posts", "_layouts", "_includes", "_notes", "_notebooks"}
PATH_MAP = "$HOME/lawrennd/snippets={snippets}:$HOME/lawrennd/bibliography={bibliography}"
"""How lamd settings name the snippets and bibliography on their author's machine."""

# Runs ``talks ARGS`` and reports its wall time and the time of its export step alone.
RUNNER = """
import json, os, resource, sys, time
import build_tools.export.run as export_run
def cpu():
    return sum(getattr(resource.getrusage(who), field) for who in
               (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for field in ("ru_utime", "ru_stime"))
def machine():
    with open("/proc/stat", encoding="ascii") as fh:
        ticks = [int(x) for x in fh.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
start_machine = machine()
timed = export_run.run_exports
spent, spent_cpu, spent_machine, by_format = [], [], [], {}
def run_exports(*args, **kwargs):
    start, start_cpu, start_busy = time.perf_counter(), cpu(), machine()
    try:
        results = timed(*args, **kwargs)
    finally:
        spent.append(time.perf_counter() - start)
        spent_cpu.append(cpu() - start_cpu)
        spent_machine.append(machine() - start_busy)
    for result in results:
        for fmt, seconds in getattr(result, "seconds_by_format", {}).items():
            by_format[fmt] = by_format.get(fmt, 0.0) + seconds
    return results
export_run.run_exports = run_exports
""" + RUN_COMMAND + """
print("BENCH " + json.dumps({"wall": wall, "cpu": cpu(), "machine": machine() - start_machine,
                             "exports": sum(spent), "exports_cpu": sum(spent_cpu),
                             "exports_machine": sum(spent_machine), "by_format": by_format,
                             "code": code}), file=sys.stderr)
"""


class PeakMemory(threading.Thread):
    """Samples the summed PSS of a process and all its descendants until stopped."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_kb = pid, every, 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak_kb = max(self.peak_kb, sum(pss_kb(p) for p in descendants(self.pid)))
            self.stopped.wait(self.every)


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run(args: list[str], cwd: Path, env: dict, log: Path) -> dict:
    """``talks ARGS`` in a fresh interpreter: wall and export-step seconds, peak memory."""
    env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    with open(log, "w", encoding="utf-8") as err:
        proc = subprocess.Popen([sys.executable, "-c", RUNNER, *args], cwd=cwd, env=env,
                                stdout=subprocess.DEVNULL, stderr=err, text=True)
        sampler = PeakMemory(proc.pid)
        sampler.start()
        proc.wait()
        sampler.stopped.set()
        sampler.join()
    text = log.read_text(encoding="utf-8")
    line = next((ln for ln in text.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"the run failed; see {log}:\n{text[-3000:]}")
    result = json.loads(line[6:])
    result["peak_kb"] = sampler.peak_kb
    result["summary"] = next((ln for ln in text.splitlines() if ln.startswith("exports:")), "")
    result["failed"] = len(re.findall(r"^error: talk '", text, re.M))
    return result


def exported_files(site: Path) -> dict[str, int]:
    files = [f.name for f in (site / "exports").rglob("*.*")] if (site / "exports").is_dir() else []
    made = {suffix: sum(1 for f in files if f.endswith(suffix))
            for suffix in (".ipynb", ".docx", ".slides.pdf", ".pptx")}
    made[".pdf"] = sum(1 for f in files if f.endswith(".pdf") and not f.endswith(".slides.pdf"))
    return made


def measure(label: str, cwd: Path, args: list[str], env: dict, work: Path, formats: str = "all"
            ) -> float:
    """Fresh HTML build, fresh exports over it, exports again unchanged; return the ratio."""
    site = work / f"{label}-site"
    for stale in (site, work / ".work"):
        shutil.rmtree(stale, ignore_errors=True)
    common = ["--quiet", "--out", str(site), *args]
    html = run(["build", "--to", "none", *common], cwd, env, work / f"{label}-html.log")
    first = run(["export", "--to", formats, *common], cwd, env, work / f"{label}-export.log")
    again = run(["export", "--to", formats, *common], cwd, env, work / f"{label}-again.log")
    ratio = first["exports"] / html["wall"]
    talks = len(list((site / "handout").glob("**/*.html"))) if (site / "handout").is_dir() else 0
    print(f"{label}: {talks} handout pages built, {html['failed']} talk(s) failed")
    print(f"  HTML build (3 variants)      {html['wall']:7.1f} s   peak {html['peak_kb'] / 1024:6.0f} MB"
          f"   CPU {html['cpu']:6.1f} s   machine {html['machine']:6.1f} s")
    print(f"  {'exports: ' + formats:<28} {first['exports']:7.1f} s   peak {first['peak_kb'] / 1024:6.0f} MB"
          f"   CPU {first['exports_cpu']:6.1f} s   machine {first['exports_machine']:6.1f} s")
    print(f"  ratio to HTML: wall {ratio:.2f} (target <= 1.0); CPU {first['exports_cpu'] / html['cpu']:.2f}"
          f"; machine {first['exports_machine'] / html['machine']:.2f}")
    print("    (CPU: of the command and the children it waited for; machine: every core's busy"
          " time meanwhile, which counts the browser's processes that leave the command's tree)")
    print(f"    the no-change rebuild around it: {first['wall'] - first['exports']:.1f} s (not counted)")
    print("    time per format, summed over talks and workers: "
          + ", ".join(f"{fmt} {s:.1f} s" for fmt, s in first.get("by_format", {}).items()))
    print(f"  unchanged, exported again    {again['exports']:7.1f} s   {again['summary']}")
    files = exported_files(site)
    print(f"  files: {files}; first run: {first['summary']}")
    exported = max(files.values())
    print(f"  machine CPU per talk: HTML {html['machine'] / max(talks, 1):.2f} s (of {talks} built), "
          f"exports {first['exports_machine'] / max(exported, 1):.2f} s (of {exported} exported)")
    return ratio


def course_workload(shared: Path, work: Path, jobs: list[str]) -> tuple[Path, list[str], dict] | None:
    corpus, course_source = shared / "corpus", shared / "reference" / "course-execed"
    if not (course_source / "_lamd").is_dir() or not (corpus / "snippets").is_dir():
        print(f"no course at {course_source} (or no corpus beside it); the course workload is skipped")
        return None
    course = work / "course"
    shutil.rmtree(course, ignore_errors=True)
    shutil.copytree(course_source, course)
    env = {"TALKS_PATH_MAP": PATH_MAP.format(snippets=corpus.resolve() / "snippets",
                                             bibliography=corpus.resolve() / "bibliography")}
    return course, jobs, env


def corpus_workload(shared: Path, work: Path, limit: int, jobs: list[str]
                    ) -> tuple[Path, list[str], dict] | None:
    corpus = shared / "corpus"
    if not (corpus / "talks").is_dir():
        print(f"no corpus at {corpus}; the corpus workload is skipped")
        return None
    project = work / "corpus"
    shutil.rmtree(project, ignore_errors=True)
    for part in ("talks", "snippets", "bibliography"):
        shutil.copytree(corpus / part, project / part)
    shutil.copy(ROOT / "build_tools" / "templates" / "project" / "conf.py", project)
    every = sorted(p for p in (project / "talks").glob("_*/*.md") if p.parent.name not in NOT_TALKS)
    talks = every[:limit]
    for other in every[limit:]:  # the copy is a talks repository: its talks are all built
        other.unlink()
    args = [*jobs, "-I", str(project / "snippets"), "-I", str(project / "talks"),
            *[a for bib in sorted((project / "bibliography").glob("*.bib")) for a in ("--bib", str(bib))],
            *map(str, talks)]
    return project, args, {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=50, help="Corpus talks to export.")
    parser.add_argument("--keep", default=None, help="Build here and keep it.")
    parser.add_argument("--jobs", type=int, default=None, help="Processes at once (default: the cores).")
    parser.add_argument("--only", choices=("course", "corpus"), default=None)
    parser.add_argument("--shared", default=str(SHARED), help="The shared folder (corpus, reference).")
    parser.add_argument("--repeat", type=int, default=1,
                        help="Measure each workload this many times and give the median ratio "
                             "(on a shared machine one run can be off by a third).")
    parser.add_argument("--to", default="all",
                        help="The formats to export (as `talks export --to`); default: all.")
    opts = parser.parse_args()
    work = Path(opts.keep or tempfile.mkdtemp(prefix="talks-exports-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    jobs = ["--jobs", str(opts.jobs)] if opts.jobs else []
    shared = Path(opts.shared).resolve()
    print(f"cores: {len(os.sched_getaffinity(0))}; work in {work}")
    ratios: dict[str, list[float]] = {}
    started = time.perf_counter()
    for label, make in (("course", lambda: course_workload(shared, work, jobs)),
                        ("corpus", lambda: corpus_workload(shared, work, opts.limit, jobs))):
        if opts.only in (None, label):
            workload = make()
            if workload:
                ratios[label] = [measure(label, *workload, work, opts.to)
                                  for _ in range(max(1, opts.repeat))]
    print("ratios, exports to HTML: " + "; ".join(
        f"{k} {statistics.median(v):.2f}" + (f" (median of {', '.join(f'{r:.2f}' for r in v)})"
                                             if len(v) > 1 else "") for k, v in ratios.items())
          + f"; benchmark took {time.perf_counter() - started:.0f} s")
    if not opts.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
