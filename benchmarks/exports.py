"""Benchmark exports: the time to export every talk (notebook, DOCX, handout PDF,
slide PDF) against the time of the HTML build of the same talks, and peak memory.

Two sets: the project's demo talks (``talks/*.md``) and the first 50 corpus talks
(from ``../shared/corpus``; skipped, saying so, when it is absent).  Each set is
built from scratch with ``talks build --to none``, then exported with
``talks export --to all`` over that build (Sphinx has nothing to reread), each in
a fresh interpreter that reports its own and its workers' peak memory.

    python benchmarks/exports.py [--limit N] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from measure import ROOT, run_talks

CORPUS = ROOT.parent / "shared" / "corpus"
NOT_TALKS = {"_posts", "_layouts", "_includes", "_notes", "_notebooks"}

def run(args: list[str]) -> dict:
    result, proc = run_talks(args)
    if result is None:
        raise SystemExit(f"the run failed:\n{proc.stderr[-3000:]}")
    result["log"] = proc.stderr
    return result


def measure(label: str, talks: list[Path], roots: list[str], work: Path) -> None:
    out = work / label / "site"
    common = ["--quiet", "--out", str(out), *(a for r in roots for a in ("-I", r))]
    html = run(["build", "--to", "none", *common, *map(str, talks)])
    exports = run(["export", "--to", "all", *common, *map(str, talks)])
    files = list((out / "exports").rglob("*.*")) if (out / "exports").is_dir() else []
    made = {suffix: sum(1 for f in files if f.name.endswith(suffix))
            for suffix in (".ipynb", ".docx", ".slides.pdf")}
    made[".pdf (handout)"] = sum(1 for f in files if f.name.endswith(".pdf")
                                 and not f.name.endswith(".slides.pdf"))
    summary = next((l for l in exports["log"].splitlines() if l.startswith("exports:")), "")
    print(f"{label}: {len(talks)} talks")
    print(f"  HTML build (3 variants)   {html['wall']:7.1f} s   peak {html['peak_kb'] / 1024:6.0f} MB")
    print(f"  all exports               {exports['wall']:7.1f} s   peak {exports['peak_kb'] / 1024:6.0f} MB"
          f"   ratio to HTML {exports['wall'] / html['wall']:.2f}")
    print(f"  files: {made}; {summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=50, help="Corpus talks to export.")
    parser.add_argument("--keep", default=None, help="Build here and keep it.")
    opts = parser.parse_args()
    work = Path(opts.keep or tempfile.mkdtemp(prefix="talks-exports-bench-"))
    print(f"cores: {len(os.sched_getaffinity(0))}; work in {work}")
    measure("demo", sorted((ROOT / "talks").glob("*.md")), [], work)
    if not (CORPUS / "talks").is_dir():
        print(f"no corpus at {CORPUS}; the corpus set is skipped")
        return 0
    talks = sorted(p for p in (CORPUS / "talks").glob("_*/*.md")
                   if p.parent.name not in NOT_TALKS)[: opts.limit]
    measure("corpus", talks, [str(CORPUS / "snippets"), str(CORPUS / "talks")], work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
