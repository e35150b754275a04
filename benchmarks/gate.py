"""The speed gate: this commit against its parent, built in the same run on the same machine.

Both trees build the same fixed set of corpus talks (the first ``--limit`` talks of the
shared corpus, by name), in turns (parent, this, this, parent, ...), from scratch; then
one fragment that a single one of those talks includes gets a sentence, and each tree
rebuilds, ``--rebuilds`` times in each turn, each after a sentence of its own (a rebuild
takes a second or two, so a tenth of one is noise: the best of more of them is steadier).
Each build's time is its CPU time (user and system, of the command and every
process it started and waited for): the work done, which the load of other programs on
the machine changes far less than the wall time.  The best of ``--rounds`` turns is each
tree's time; when those show a slowdown, up to ``--confirm`` more turns are taken, since
one tree can be a tenth slower than an identical one for a few turns, and only a
slowdown that lasts counts.  The gate fails (exit 1) when this commit is more than ``--threshold``
slower than its parent in the full build or in the rebuild; it prints both times, their
ratio and the wall times either way.  Both commits' code is taken with ``git archive``
(a checkout's own folder measured consistently slower than an unpacked copy of the same
code) and run with this checkout's installed dependencies.

    python benchmarks/gate.py [--against REV] [--limit N] [--rounds N] [--rebuilds N] [--confirm N]
                              [--threshold 0.10]

With no corpus beside the repository, or no parent commit, there is nothing to compare:
it says so and exits 0.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from build import corpus_talks, fragment_users
from measure import ROOT, RUNNER

SHARED = ROOT.parent / "shared"


@dataclass
class Tree:
    label: str
    folder: Path
    full: list[float] = field(default_factory=list)
    rebuild: list[float] = field(default_factory=list)
    cpu_full: list[float] = field(default_factory=list)
    cpu_rebuild: list[float] = field(default_factory=list)


def parent_tree(rev: str, into: Path) -> Path | None:
    """The repository at ``rev``, unpacked into ``into``; None when there is no such commit."""
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet",
                           f"{rev}^{{commit}}"], capture_output=True, text=True)
    if done.returncode != 0:
        return None
    archive = into.with_suffix(".tar")
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive),
                    done.stdout.strip()], check=True)
    into.mkdir(parents=True)
    subprocess.run(["tar", "-xf", str(archive), "-C", str(into)], check=True)
    return into


def workload(shared: Path, limit: int, corpus: Path) -> tuple[list[Path], Path]:
    """A project of the first ``limit`` talks of the shared corpus, with the corpus's
    snippets and bibliography; the talks, and the fragment to edit: one that exactly one of
    them includes."""
    chosen = corpus_talks(shared)[:limit]
    for talk in chosen:
        folder = corpus / "talks" / talk.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(talk, folder)
        for settings in ("_config.yml", "_lamd.yml"):
            if (talk.parent / settings).is_file():
                shutil.copy(talk.parent / settings, folder)
    for part in ("snippets", "bibliography"):
        shutil.copytree(shared / part, corpus / part)
    shutil.copy(ROOT / "build_tools" / "templates" / "project" / "conf.py", corpus)
    talks = corpus_talks(corpus)
    counts = fragment_users(corpus, talks)
    single = sorted(name for name, users in counts.items() if users == 1)
    if not single:
        raise SystemExit(f"no fragment of the first {limit} talks is included by one talk alone")
    return talks, corpus / "snippets" / single[0]


def timed_build(tree: Tree, args: list[str], log: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the build and every process it waited for)."""
    env = {**os.environ, "PYTHONPATH": str(tree.folder)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        done = subprocess.run([sys.executable, "-c", RUNNER, *args], env=env, stdout=out,
                              stderr=subprocess.STDOUT, cwd=log.parent)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: some talk of the corpus failed, as it always does
        raise SystemExit(f"{tree.label}: the build stopped (exit {done.returncode}); see {log}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def one_round(tree: Tree, corpus: Path, talks: list[Path], fragment: Path, work: Path,
              rebuilds: int = 1) -> None:
    out = work / f"site-{tree.label}"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(work / ".work", ignore_errors=True)
    args = ["build", "--quiet", "--to", "none", "--out", str(out),
            "-I", str(corpus / "snippets"), "-I", str(corpus / "talks"),
            *[a for bib in sorted((corpus / "bibliography").glob("*.bib")) for a in ("--bib", str(bib))],
            *map(str, talks)]
    original = fragment.read_bytes()
    wall, cpu = timed_build(tree, args, work / f"{tree.label}-full.log")
    tree.full.append(wall)
    tree.cpu_full.append(cpu)
    try:
        for n in range(rebuilds):  # a rebuild is short: its noise is a larger part of it
            time.sleep(0.05)  # a later modification time than the last build's
            fragment.write_bytes(original + f"\n\\notes{{A sentence added by the speed gate "
                                            f"({n + 1}).}}\n".encode())
            wall, cpu = timed_build(tree, args, work / f"{tree.label}-rebuild.log")
            tree.rebuild.append(wall)
            tree.cpu_rebuild.append(cpu)
    finally:
        fragment.write_bytes(original)
    shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD^", help="The commit to compare with.")
    parser.add_argument("--limit", type=int, default=40, help="Talks built (the first N).")
    parser.add_argument("--rounds", type=int, default=3, help="Turns each tree takes.")
    parser.add_argument("--rebuilds", type=int, default=3,
                        help="One-fragment rebuilds in each turn, each after an edit of its own.")
    parser.add_argument("--confirm", type=int, default=3,
                        help="Turns more each tree takes when the first ones show a slowdown.")
    parser.add_argument("--threshold", type=float, default=0.10,
                        help="How much slower this commit may be (0.10: 10%%).")
    opts = parser.parse_args(argv)
    if not (SHARED / "corpus" / "talks").is_dir():
        print("speed gate: no corpus beside the repository; nothing to compare")
        return 0
    work = Path(tempfile.mkdtemp(prefix="talks-gate-"))
    try:
        parent = parent_tree(opts.against, work / "parent")
        if parent is None:
            print(f"speed gate: no commit {opts.against}; nothing to compare")
            return 0
        corpus = work / "corpus"
        talks, fragment = workload(SHARED / "corpus", opts.limit, corpus)
        # this commit is unpacked too: both trees are read from the same kind of folder
        this = parent_tree("HEAD", work / "this")
        trees = [Tree("parent", parent), Tree("this", this or ROOT)]
        print(f"speed gate: {len(talks)} corpus talks, 3 variants; edit "
              f"{fragment.relative_to(corpus)}; {opts.rounds} rounds; this commit against "
              f"{opts.against}")
        for n in range(opts.rounds + opts.confirm):
            for tree in trees if n % 2 == 0 else trees[::-1]:
                one_round(tree, corpus, talks, fragment, work, opts.rebuilds)
            if n + 1 >= opts.rounds and not slower(trees, opts.threshold):
                break  # a slowdown must last through the confirming rounds to count
        return verdict(trees, opts.threshold)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measures(trees: list[Tree]) -> list[tuple[str, list[float], list[float], list[float], list[float]]]:
    """(name, parent's wall, this wall, parent's CPU, this CPU) for each measure."""
    parent, this = trees
    return [("full build", parent.full, this.full, parent.cpu_full, this.cpu_full),
            ("one-fragment rebuild", parent.rebuild, this.rebuild, parent.cpu_rebuild,
             this.cpu_rebuild)]


def slower(trees: list[Tree], threshold: float) -> list[str]:
    """Each measure in which this commit's best CPU time is over the threshold."""
    found = []
    for name, _before, _after, cpu_before, cpu_after in measures(trees):
        ratio = min(cpu_after) / min(cpu_before)
        if ratio > 1 + threshold:
            found.append(f"{name} {ratio - 1:.0%} slower")
    return found


def verdict(trees: list[Tree], threshold: float) -> int:
    for name, before, after, cpu_before, cpu_after in measures(trees):
        print(f"  {name:<21} CPU: parent {min(cpu_before):6.2f} s   this {min(cpu_after):6.2f} s   "
              f"ratio {min(cpu_after) / min(cpu_before):.3f}   (wall {min(before):.2f} s -> "
              f"{min(after):.2f} s, ratio {min(after) / min(before):.3f}; each the best of "
              f"{len(before)})")
    found = slower(trees, threshold)
    if found:
        print(f"speed gate FAILED: {', '.join(found)} than the parent (allowed: "
              f"{threshold:.0%})")
        return 1
    print(f"speed gate passed: no more than {threshold:.0%} slower than the parent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
