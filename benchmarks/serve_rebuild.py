"""How long ``talks serve`` takes from saving a lecture to its pages rewritten.

Starts ``talks serve`` on a copy of the lamd course ``course-execed`` (../shared/reference),
waits for its first build, opens the lecture's handout (as a reader's browser would), then
appends a new sentence to the lecture N times.  With ``--corpus``, it serves a copy of the
corpus instead (../shared/corpus, the talks whose includes resolve, as
the floor script builds them, with the corpus's bibliographies) and appends the sentence
to a fragment that exactly one of those talks includes, as ``benchmarks/build.py`` picks
its "one talk" edit.  For each
save it times, from the moment the file is written:

- each variant's page on disk holding the new sentence (the page the browser reloads);
- the preview's status announcing the rebuild (what the page's script polls before it
  reloads the browser);

and the CPU time the server and its workers spent meanwhile (others share the machine,
which lengthens the wall time far more than the CPU time).  Prints the median of each.

    python benchmarks/serve_rebuild.py --edits 7 [--against main] [--corpus]

With ``--against REV``, that commit's code (``git archive``, run with this checkout's
installed packages) is measured first in the same run, and the ratio printed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from gate import parent_tree
from measure import ROOT

SHARED = ROOT.parent / "shared"
COURSE = SHARED / "reference" / "course-execed"
CORPUS = SHARED / "corpus"
LECTURE = "the-data-crisis"
VARIANTS = ("handout", "slides", "speaker-notes")
VIEWED = "handout"
SERVE = "import sys; from build_tools.cli import main; sys.exit(main())"
POLL = 0.005
STATUS_POLL = 0.05
"""The page's own script asks every 0.7 s; asking more often would load the server."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(base: str) -> dict:
    with urllib.request.urlopen(base + "__talks/status", timeout=5) as response:
        return dict(json.loads(response.read()))


def tree_cpu(process: psutil.Process) -> float:
    """CPU seconds of ``process`` and its descendants, living and reaped."""
    total = 0.0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return total
    for member in members:
        try:
            t = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def announced(now: dict) -> int:
    """What the viewed page's script watches: its variant's published count, or (a server
    without one) the finished rebuilds."""
    if VIEWED in now.get("versions", {}):
        return int(now["versions"][VIEWED])
    return int(now["version"]) if not now["building"] else -1


def wait_idle(base: str, timeout: float = 600) -> dict:
    """The status once no build runs and none has started for a moment."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            now = status(base)
        except OSError:
            time.sleep(0.2)
            continue
        if now["version"] >= 1 and not now["building"] and last == now["version"]:
            return now
        last = now["version"] if not now["building"] else None
        time.sleep(1.0)
    raise SystemExit("the server never became idle")


@dataclass(frozen=True)
class Served:
    """What is served and edited: the project copied to a temporary folder, the arguments
    after ``talks serve``, the file each save appends to, and the document it shows in."""
    name: str
    copy: Callable[[Path], Path]
    """Copies the project into the folder given; returns the folder to serve from."""
    args: Callable[[Path], list[str]]
    edited: Callable[[Path], Path]
    doc: str
    env: dict[str, str] = field(default_factory=dict)


def copy_course(tmp: Path) -> Path:
    course = tmp / "course-execed"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("_build", ".git"))
    return course


COURSE_LECTURE = Served(
    "course-execed", copy_course, lambda project: [],
    lambda project: project / "_lamd" / f"{LECTURE}.md", LECTURE,
    {"TALKS_PATH_MAP": f"$HOME/lawrennd/snippets={CORPUS / 'snippets'}"
                       f":$HOME/lawrennd/bibliography={CORPUS / 'bibliography'}"})


def corpus_served() -> Served:
    """The corpus's resolvable talks, and a fragment exactly one of them includes."""
    from build import corpus_talks, pick_fragments

    def copy(tmp: Path) -> Path:
        project = tmp / "corpus"
        for part in ("talks", "snippets", "bibliography"):
            shutil.copytree(CORPUS / part, project / part)
        shutil.copy(ROOT / "build_tools" / "templates" / "project" / "conf.py", project)
        return project

    resolvable = resolvable_talks()
    talks = [t for t in corpus_talks(CORPUS) if t in resolvable]
    _, fragment, _ = pick_fragments(CORPUS, talks)[0]
    users = [t for t in talks if fragment.relative_to(CORPUS / "snippets").as_posix()
             in t.read_text(encoding="utf-8", errors="replace")]
    doc = "/".join([users[0].parent.name.lstrip("_"), users[0].stem])
    return Served(
        "the corpus", copy,
        lambda project: ["-I", "snippets", "-I", "talks",
                         *(a for bib in sorted((project / "bibliography").glob("*.bib"))
                           for a in ("--bib", str(bib))),
                         *(str(project / t.relative_to(CORPUS)) for t in talks)],
        lambda project: project / fragment.relative_to(CORPUS), doc)


def resolvable_talks() -> set[Path]:
    """The talks the floor script builds: those whose includes all resolve
    (``tools/corpus_check.py``)."""
    sys.path.insert(0, str(SHARED / "tools"))
    from corpus_check import missing_targets

    roots = [str(CORPUS / "snippets"), str(CORPUS / "talks")]
    return {t for t in (CORPUS / "talks").glob("_*/*.md") if not missing_targets(str(t), roots)}


def one_edit(served: Served, project: Path, site: Path, base: str, server: psutil.Process,
             n: int) -> dict:
    lecture = served.edited(project)
    before = announced(status(base))
    mark = f"Benchmark sentence number {n} {time.time_ns()}."
    pages = {v: site / v / f"{served.doc}.html" for v in VARIANTS}
    cpu0 = tree_cpu(server)
    text = lecture.read_text(encoding="utf-8")
    start = time.perf_counter()
    lecture.write_text(text + f"\n\n{mark}\n", encoding="utf-8")
    seen: dict[str, float] = {}
    notice = None
    deadline, asked = start + 120, 0.0
    stamps: dict[str, tuple[int, int, int] | None] = {v: None for v in VARIANTS}
    while (len(seen) < len(VARIANTS) or notice is None) and time.perf_counter() < deadline:
        for variant, page in pages.items():
            if variant not in seen:
                try:  # read a page only when it is another file: reading it all the time
                    stat = page.stat()  # would take the cores the rebuild needs
                    stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
                    if stamp != stamps[variant] and mark in page.read_text(encoding="utf-8"):
                        seen[variant] = time.perf_counter() - start
                    stamps[variant] = stamp
                except OSError:
                    pass
        if notice is None and time.perf_counter() - asked > STATUS_POLL:
            asked = time.perf_counter()
            try:
                if announced(status(base)) > before:
                    notice = time.perf_counter() - start
            except OSError:
                pass
        time.sleep(POLL)
    wait_idle(base)
    cpu = tree_cpu(server) - cpu0
    missing = [v for v in VARIANTS if v not in seen]
    if missing:
        raise SystemExit(f"edit {n}: the sentence never reached {', '.join(missing)}")
    return {"pages": seen, "notice": notice, "cpu": cpu}


def measure(label: str, code: Path, edits: int, served: Served) -> list[dict]:
    """``edits`` timed saves under ``talks serve`` run from the package in ``code``."""
    with tempfile.TemporaryDirectory(prefix="serve-rebuild-") as tmp:
        project = served.copy(Path(tmp))
        env = {**os.environ, "PYTHONPATH": str(code), **served.env}
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        log_path = Path(tmp) / "serve.log"
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen([sys.executable, "-c", SERVE, "serve", "--port", str(port),
                                     *served.args(project)],
                                    cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            try:
                server = psutil.Process(proc.pid)
                wait_idle(base)
                with urllib.request.urlopen(f"{base}{VIEWED}/{served.doc}.html", timeout=5):
                    pass  # the reader looks at the handout, as the browser would
                runs = [one_edit(served, project, project / "_build" / "preview", base, server, n)
                        for n in range(1, edits + 1)]
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
        said = [line for line in log_path.read_text(encoding="utf-8").splitlines()
                if line.startswith("rebuilt ")]
    print(f"{label}: the server said, last:", *said[-2:], sep="\n  ")
    return runs


def summary(runs: list[dict]) -> dict[str, float]:
    values = {f"{v} page rewritten": [r["pages"][v] for r in runs] for v in VARIANTS}
    values[f"{VIEWED} reload notice"] = [r["notice"] for r in runs if r["notice"] is not None]
    values["CPU, server and workers"] = [r["cpu"] for r in runs]
    return {name: statistics.median(times) for name, times in values.items() if times}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--against", metavar="REV",
                        help="measure that commit's code first, in the same run (e.g. main)")
    parser.add_argument("--corpus", action="store_true",
                        help="serve the corpus and edit a fragment one talk includes")
    args = parser.parse_args(argv)
    needed = CORPUS if args.corpus else COURSE
    if not needed.is_dir():
        print(f"needs {needed}", file=sys.stderr)
        return 2
    served = corpus_served() if args.corpus else COURSE_LECTURE
    with tempfile.TemporaryDirectory(prefix="serve-rebuild-code-") as tmp:
        trees = [("this tree", ROOT)]
        if args.against:
            reference = parent_tree(args.against, Path(tmp) / "reference")
            if reference is None:
                raise SystemExit(f"no commit {args.against}")
            trees.insert(0, (args.against, reference))
        medians = {label: summary(measure(label, code, args.edits, served))
                   for label, code in trees}
    print(f"talks serve on {served.name}: {args.edits} saves of "
          f"{served.edited(Path('.')).as_posix()}, seconds from the save, medians")
    labels = [label for label, _ in trees]
    print(f"  {'':<28}" + "".join(f"{label:>12}" for label in labels)
          + ("       ratio" if len(labels) == 2 else ""))
    for name in medians[labels[-1]]:
        row = [medians[label].get(name, float("nan")) for label in labels]
        ratio = f"{row[1] / row[0]:12.2f}" if len(row) == 2 and row[0] else ""
        print(f"  {name:<28}" + "".join(f"{value:12.2f}" for value in row) + ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
