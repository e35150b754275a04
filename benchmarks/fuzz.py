"""Fuzz the engine in-process: random input, every variant, report crash sites.

    python benchmarks/fuzz.py --inputs 2000 --seed 1 --time-limit 600

Four generators take turns: random macro text from the vocabulary's names and
braces, mutated corpus files (``../shared/corpus`` beside the repository, when
present), raw bytes, and random front matter.  Each input is written to a talk
in a scratch repository and expanded with ``build_tools.api.expand_talk`` for
all three variants.  Any exception other than ``MacroError`` is a crash; it is
reported by the innermost frame of this project.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from build_tools.api import expand_talk  # noqa: E402
from build_tools.config import VARIANTS, TalkConfig  # noqa: E402
from build_tools.diagnostics import MacroError, crash_site  # noqa: E402

CORPUS = HERE.parent.parent / "shared" / "corpus"
PIECES = ["{", "}", "{}", "\\", "\n", "\n\n", " ", "$", "$$", "<!--", "-->", "---\n", "#", "## ",
          "![a](", ")", "<img src=\"", "\">", "../", "/", "x", "a.png", "\x00", "\ufeff", ":::",
          "```", "```{literalinclude} ", "\\define{\\m{x}}{\\x\\x}", "\\m{", "\\ifdef{", "\\endif",
          "\\else", "\\ifeq{", "\\include{", "\\eval{", "\\defeval{", "\\undef{", "@key", "[@a]"]
FIELDS = ["title", "subtitle", "author", "date", "venue", "bibliography", "transition", "abstract",
          "layout", "talkcss", "postdir"]
VALUES = ["x", "12", "true", "1.5", "2024-13-45", "2024-01-01", "[a, b]", "{given: A, family: B}",
          "&a [*a]", "[*a]", "null", "'", "\"", "|\n  block", "- a\n- b", "[[[[", "../../x.bib",
          "/etc/passwd", ":", "{", "!!python/object:os.system x", "~"]


@dataclass
class Report:
    inputs: int = 0
    crashes: dict[str, str] = field(default_factory=dict)
    """crash site -> a short description of the first input that hit it."""
    slowest: float = 0.0
    slowest_input: str = ""


def vocabulary_names() -> list[str]:
    from build_tools.config import PROJECT_MACROS

    import re

    names = set()
    for path in PROJECT_MACROS.glob("*.gpp"):
        names.update(re.findall(r"\\define\{\\?([A-Za-z0-9_]+)", path.read_text(errors="replace")))
    names.update(["__heading", "__notes", "__image", "__svg", "__figure", "__code", "__count",
                  "__frame", "__animation", "__endanimation", "__block", "__fragments",
                  "__displaynotes", "include", "define", "ifdef", "notes", "slides", "figure",
                  "includepng", "inputdiagram", "includeimg"])
    return sorted(names)


def macro_text(rng: random.Random, names: list[str]) -> bytes:
    parts = []
    for _ in range(rng.randint(1, 80)):
        if rng.random() < 0.4:
            parts.append("\\" + rng.choice(names))
        else:
            parts.append(rng.choice(PIECES))
    return ("---\ntitle: F\n---\n" + "".join(parts)).encode("utf-8", "surrogatepass")


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*.md") if p.is_file())[:2000]


def mutated(rng: random.Random, files: list[Path], names: list[str]) -> bytes:
    if not files:
        return macro_text(rng, names)
    data = bytearray(rng.choice(files).read_bytes()[:20_000])
    for _ in range(rng.randint(1, 20)):
        if not data:
            break
        i = rng.randrange(len(data))
        choice = rng.random()
        if choice < 0.3:
            del data[i:i + rng.randint(1, 20)]
        elif choice < 0.6:
            data[i:i] = rng.choice(PIECES).encode("utf-8", "surrogatepass")
        elif choice < 0.8:
            data[i] = rng.randrange(256)
        else:
            j = rng.randrange(len(data))
            data[i:i] = data[j:j + rng.randint(1, 200)]
    return bytes(data)


def raw_bytes(rng: random.Random, names: list[str]) -> bytes:
    head = b"---\ntitle: R\n---\n" if rng.random() < 0.7 else b""
    return head + bytes(rng.randrange(256) for _ in range(rng.randint(0, 400)))


def front_matter(rng: random.Random, names: list[str]) -> bytes:
    lines = []
    for _ in range(rng.randint(0, 8)):
        lines.append(f"{rng.choice(FIELDS)}: {rng.choice(VALUES)}")
    return ("---\n" + "\n".join(lines) + "\n---\n\n## Slide\n\ntext\n").encode()


def run_one(talk: Path, data: bytes, report: Report, label: str) -> None:
    talk.write_bytes(data)
    config = TalkConfig(include_roots=[str(talk.parent.parent / "includes")], reuse_includes=False)
    start = time.perf_counter()
    for variant in VARIANTS:
        try:
            expand_talk(str(talk), variant, config)
        except MacroError:
            pass
        except Exception as exc:  # noqa: BLE001 - any other exception is what we look for
            site = crash_site(exc)
            report.crashes.setdefault(site, f"{label}: {type(exc).__name__}: {str(exc)[:80]}")
    spent = time.perf_counter() - start
    report.inputs += 1
    if spent > report.slowest:
        report.slowest, report.slowest_input = spent, f"{label} ({len(data)} bytes)"


def fuzz(inputs: int, seed: int, time_limit: float, out=sys.stdout) -> Report:
    rng = random.Random(seed)
    names = vocabulary_names()
    files = corpus_files()
    if not files:
        print(f"no corpus at {CORPUS.name} beside the repository; mutating generated text instead",
              file=out)
    generators = [("macro-text", lambda: macro_text(rng, names)),
                  ("corpus-mutation", lambda: mutated(rng, files, names)),
                  ("raw-bytes", lambda: raw_bytes(rng, names)),
                  ("front-matter", lambda: front_matter(rng, names))]
    report = Report()
    deadline = time.monotonic() + time_limit
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "includes").mkdir()
        (root / "talks").mkdir()
        (root / "includes" / "a.md").write_text("A\n")
        talk = root / "talks" / "t.md"
        cwd = os.getcwd()
        os.chdir(root)
        try:
            for i in range(inputs):
                if time.monotonic() > deadline:
                    break
                label, generate = generators[i % len(generators)]
                run_one(talk, generate(), report, f"#{i} {label}")
        finally:
            os.chdir(cwd)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=600, help="seconds")
    args = parser.parse_args(argv)
    report = fuzz(args.inputs, args.seed, args.time_limit)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"inputs run: {report.inputs}")
    print(f"distinct crash sites: {len(report.crashes)}")
    for site, first in sorted(report.crashes.items()):
        print(f"  {site}  first: {first}")
    print(f"slowest input: {report.slowest:.3f} s, {report.slowest_input}")
    print(f"peak memory: {peak_mb:.0f} MB")
    return 1 if report.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
