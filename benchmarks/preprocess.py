#!/usr/bin/env python3
"""Preprocessing speed against gpp, measured side by side in one run.

Expands every corpus talk in all three variants with ``talks preprocess --out``
(one process per variant, as a site build does) and runs gpp with lamd's own
macro files once per talk and variant, as lamd does.  Prints talks per second,
peak memory and the ratio gpp time / project time (above 1: faster than gpp).

    python benchmarks/preprocess.py [--corpus ../shared/corpus] [--repeat 3]

Needs gpp (Debian package ``gpp``); lamd's macro files come from the ``lamd``
package on PyPI, downloaded once into a cache folder.
"""
from __future__ import annotations

import argparse
import glob
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"slides": ["SLIDES"], "speaker-notes": ["SLIDES"], "handout": ["NOTES", "CODE", "EDIT", "EXERCISES"]}
GPP_MODE = ["+n", "-U", "\\", "", "{", "}{", "}", "{", "}", "#", ""]
NOT_TALKS = {"_posts", "_layouts", "_includes", "_notes", "_notebooks"}


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


def run_gpp(talks: list[str], roots: list[str], macros: Path, work: Path) -> float:
    """lamd's way: one gpp process per talk and variant."""
    empty = work / "legacy"  # lamd users keep empty stand-ins for the retired macro files
    (empty / "sub").mkdir(parents=True, exist_ok=True)
    for name in ("talk-macros.tex", "../talk-macros.tex", "../talk-macros.gpp"):
        (empty / "sub" / name).touch()
    start = time.perf_counter()
    for talk in talks:
        source = work / "in.md"
        source.write_text("\\include{talk-macros.gpp}\n" + Path(talk).read_text(errors="replace"))
        for variant, symbols in VARIANTS.items():
            cmd = ["gpp", *GPP_MODE, "-DHTML=1", *(f"-D{s}=1" for s in symbols),
                   "-DdiagramsDir=/diagrams", f"-I{os.path.dirname(talk)}",
                   *(f"-I{r}" for r in roots), f"-I{macros}", f"-I{empty / 'sub'}",
                   "-o", str(work / f"out-{variant}.md"), str(source)]
            subprocess.run(cmd, capture_output=True)
    return time.perf_counter() - start


def run_project(talks: list[str], roots: list[str], work: Path) -> float:
    cli = shutil.which("talks", path=os.path.dirname(sys.executable)) or "talks"
    start = time.perf_counter()
    for variant in VARIANTS:
        out = work / variant
        shutil.rmtree(out, ignore_errors=True)
        cmd = [cli, "preprocess", *talks, "--variant", variant, "--out", str(out)]
        for root in roots:
            cmd += ["-I", root]
        subprocess.run(cmd, capture_output=True)
    return time.perf_counter() - start


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
    best_gpp = best_project = float("inf")
    try:
        for _ in range(args.repeat):  # interleaved, best of each, so load affects both alike
            best_gpp = min(best_gpp, run_gpp(talks, roots, macros, work))
            best_project = min(best_project, run_project(talks, roots, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    n = len(talks) * len(VARIANTS)
    print(f"talks: {len(talks)} x {len(VARIANTS)} variants = {n} expansions")
    print(f"project: {best_project:.2f} s, {n / best_project:.0f} talk-variants/s, "
          f"{len(talks) / best_project:.0f} talks/s (all variants)")
    print(f"gpp:     {best_gpp:.2f} s, {n / best_gpp:.0f} talk-variants/s")
    print(f"peak memory of one child process: {peak_mb:.0f} MB")
    print(f"preprocess-vs-gpp: ratio {best_gpp / best_project:.2f} (above 1: faster than gpp)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
