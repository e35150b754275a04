"""Benchmark ``talks build`` on the shared corpus: full build, no-change rebuild,
one-fragment-edit rebuild, with the peak memory of each.

The corpus is copied to a temporary folder first (the edit must not touch the
shared copy); it is read from ``../shared/corpus`` beside the repository, and
the benchmark says so and exits cleanly when it is absent.

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
    """Two edits: a typical shared fragment (the median use among fragments that
    at least two talks include) and a widely shared one (used by 10 to 15 talks)."""
    counts = fragment_users(corpus, talks)
    shared = sorted((n, t) for t, n in counts.items() if n >= 2)
    typical = shared[len(shared) // 2]
    wide = max(((n, t) for n, t in shared if 10 <= n <= 15), default=shared[-1])
    return [("typical", corpus / "snippets" / typical[1], typical[0]),
            ("widely shared", corpus / "snippets" / wide[1], wide[0])]


def run(args: list[str], log: Path) -> dict:
    result, proc = run_talks(args)
    log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if result is None:
        raise SystemExit(f"the build did not finish; see {log}")
    result["failed"] = len(re.findall(r"^error: talk '", proc.stderr, re.M))
    result["read"] = re.findall(r"documents read: (.*?); site", proc.stderr)
    return result


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

        print(f"built without error: {len(talks) - full['failed']} of {len(talks)} talks "
              f"(the others have includes that do not resolve, or other errors; see full.log)")
        print(f"no-change / full: {nochange['wall'] / full['wall']:.1%}; one-fragment edit / full: "
              + ", ".join(f"{label} {e['wall'] / full['wall']:.1%}" for label, e in edits)
              + " (target: under 10%)")
        print(f"logs: {work}" if opts.keep else "")
    finally:
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def report(name: str, result: dict) -> None:
    read = "; ".join(result["read"])
    print(f"{name:>20}: {result['wall']:7.2f} s   peak memory {result['peak_kb'] / 1024:6.0f} MB"
          f"   read: {read}")


if __name__ == "__main__":
    sys.exit(main())
