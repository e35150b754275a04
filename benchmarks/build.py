"""Benchmark ``talks build`` on the shared corpus: full build, no-change rebuild,
one-fragment-edit rebuild, with the peak memory of each.

The corpus is copied to a temporary folder first (the edit must not touch the
shared copy); it is read from ``../shared/corpus`` beside the repository, and
the benchmark says so and exits cleanly when it is absent.

Peak memory is that of the command and its workers together (``measure.py``).  A
run that did not finish, stopped a variant, or exited otherwise than 0 (built) or
1 (some talk failed) is reported as FAILED instead of a time, and the benchmark
then exits 1.

    python benchmarks/build.py [--corpus DIR] [--keep DIR] [--limit N]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from measure import ROOT, run_talks

VARIANTS = ("slides", "speaker-notes", "handout")

NOT_TALKS = {"_posts", "_layouts", "_includes", "_notes", "_notebooks"}
INCLUDE = re.compile(r"\\include\{([^}]*)\}")

def corpus_talks(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "talks").glob("_*/*.md") if p.parent.name not in NOT_TALKS)


def fragment_users(corpus: Path, talks: list[Path]) -> Counter:
    """How many talks include each snippet directly."""
    counts: Counter[str] = Counter()
    for talk in talks:
        for target in set(INCLUDE.findall(talk.read_text(encoding="utf-8", errors="replace"))):
            if (corpus / "snippets" / target.strip()).is_file():
                counts[target.strip()] += 1
    return counts


def pick_fragments(corpus: Path, talks: list[Path]) -> list[tuple[str, Path, int]]:
    """Three edits: a fragment one talk uses (and no other fragment includes), a typical
    shared fragment (the median use among fragments that at least two talks include) and a
    widely shared one (used by 10 to 15 talks)."""
    counts = fragment_users(corpus, talks)
    nested = fragment_users(corpus, sorted((corpus / "snippets").rglob("*.md")))
    alone = sorted(t for t, n in counts.items() if n == 1 and t not in nested)
    shared = sorted((n, t) for t, n in counts.items() if n >= 2)
    typical = shared[len(shared) // 2]
    wide = max(((n, t) for n, t in shared if 10 <= n <= 15), default=shared[-1])
    return [("one talk", corpus / "snippets" / alone[len(alone) // 2], 1),
            ("typical", corpus / "snippets" / typical[1], typical[0]),
            ("widely shared", corpus / "snippets" / wide[1], wide[0])]


def run(args: list[str], log: Path) -> dict:
    """One ``talks build``, measured; ``problems`` says why it is no build to time, if so."""
    result, proc = run_talks(args)
    log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if result is None:
        last = (proc.stderr.strip().splitlines() or [""])[-1]
        return {"problems": [f"the build did not finish (exit status {proc.returncode}): {last}"],
                "wall": proc.wall, "peak_kb": proc.peak_kb, "processes": proc.most_processes,
                "failed": 0, "read": []}
    result["failed"] = len(re.findall(r"^error: talk '", proc.stderr, re.M))
    result["read"] = re.findall(r"documents read: (.*?); site", proc.stderr)
    result["problems"] = build_problems(result, proc.stderr)
    return result


def build_problems(result: dict, log_text: str) -> list[str]:
    """Why a finished build is no measure of a build: a variant that stopped, an exit
    status other than 0 (built) or 1 (some talk failed), a variant that reported nothing."""
    problems = re.findall(r"^error: the (\S+ build stopped: .*)$", log_text, re.M)
    if result["code"] not in (0, 1):
        problems.append(f"exit status {result['code']}")
    reported = dict(part.split(" ", 1) for read in result["read"] for part in read.split(", "))
    absent = [v for v in VARIANTS if v not in reported]
    if absent:
        problems.append(f"no result for {', '.join(absent)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--keep", help="Build here and keep it (default: a temporary folder).")
    parser.add_argument("--limit", type=int, default=0, help="Only the first N talks.")
    opts = parser.parse_args(argv)
    source = Path(opts.corpus)
    if not (source / "talks").is_dir():
        print(f"no corpus at {source}; nothing to measure")
        return 0
    work = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="talks-bench-"))
    try:
        corpus = work / "corpus"
        if corpus.exists():
            shutil.rmtree(corpus)
        for part in ("talks", "snippets", "bibliography"):
            shutil.copytree(source / part, corpus / part)
        # a build needs a project: the corpus copy gets the default one
        shutil.copy(ROOT / "build_tools" / "templates" / "project" / "conf.py", corpus)
        talks = corpus_talks(corpus)[: opts.limit or None]
        out = work / "site"
        for stale in (out, work / ".work"):
            shutil.rmtree(stale, ignore_errors=True)
        args = ["build", "--quiet", "--to", "none", "--out", str(out),
                "-I", str(corpus / "snippets"), "-I", str(corpus / "talks"),
                *[a for bib in sorted((corpus / "bibliography").glob("*.bib")) for a in ("--bib", str(bib))],
                *map(str, talks)]
        print(f"{len(talks)} talks, 3 variants; cores: {len(os.sched_getaffinity(0))}")

        full = run(args, work / "full.log")
        report("full build", full)
        nochange = run(args, work / "nochange.log")
        report("no-change rebuild", nochange)

        edits = []
        for label, fragment, users in pick_fragments(corpus, talks):
            time.sleep(0.05)
            with open(fragment, "a", encoding="utf-8") as fh:
                fh.write("\n\\notes{A sentence added by the benchmark.}\n")
            edit = run(args, work / f"edit-{label.split()[0]}.log")
            report(f"edit, {label}", edit)
            print(f"{'':>20}({fragment.relative_to(corpus)}, included directly by {users} talks)")
            edits.append((label, edit))

        runs = [("full build", full), ("no-change rebuild", nochange), *edits]
        broken = [label for label, r in runs if r["problems"]]
        print(f"built without error: {len(talks) - full['failed']} of {len(talks)} talks "
              f"(the others have includes that do not resolve, or other errors; see full.log)")
        if broken:
            print(f"no ratios: {', '.join(broken)} failed (see above; --keep DIR keeps the logs)")
        else:
            print(f"no-change / full: {nochange['wall'] / full['wall']:.1%}; one-fragment edit / full: "
                  + ", ".join(f"{label} {e['wall'] / full['wall']:.1%}" for label, e in edits)
                  + " (target: 3% for a fragment one talk uses)")
        print(f"logs: {work}" if opts.keep else "")
        status = 1 if broken else 0
    finally:
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)
    return status


def report(name: str, result: dict) -> None:
    if result["problems"]:
        print(f"{name:>20}: FAILED, not timed: " + "; ".join(result["problems"]))
        return
    read = "; ".join(result["read"])
    print(f"{name:>20}: {result['wall']:7.2f} s   peak memory {result['peak_kb'] / 1024:6.0f} MB"
          f" ({result['processes']} processes at most)   read: {read}")


if __name__ == "__main__":
    sys.exit(main())
