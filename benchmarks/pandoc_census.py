"""Census of pandoc-only syntax in the corpus (talks and snippets), and what becomes of it.

Counts each construct MyST would read differently from pandoc, in every ``.md`` file
of ``../shared/corpus/talks`` and ``../shared/corpus/snippets``, outside code blocks.
Says so and exits cleanly without the shared folder.

    python benchmarks/pandoc_census.py [--shared DIR]
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PATTERNS: dict[str, tuple[re.Pattern, str]] = {
    "attribute fence ```{.lang}": (re.compile(r"^\s*(`{3,}|~{3,})\s*\{\.[\w+-]+[^}]*\}\s*$"),
                                   "translated to ```lang"),
    "lone $$ line": (re.compile(r"^\s*\$\$\s*$"),
                     "kept; an unclosed block is closed at the paragraph's end (W-MATH-UNCLOSED)"),
    "::: div": (re.compile(r"^\s*:{3,}\s*(\{[.#][^}]*\}|[\w-]+)\s*$"), "translated to :::{container} classes"),
    "[text]{.class} span": (re.compile(r"\][{][.#][^}]*[}]"), "MyST attrs_inline reads it"),
    "definition list": (re.compile(r"^:\s{1,3}\S"), "MyST deflist reads it"),
    "grid table": (re.compile(r"^\s*\+[-=]{3,}\+"), "not translated: shown as text"),
    "pipe table": (re.compile(r"^\s*\|.*\|\s*$"), "MyST reads pipe tables"),
    "line block": (re.compile(r"^\|\s(?!.*\|\s*$)"), "not translated: shown as text"),
    "raw \\begin{...}": (re.compile(r"\\begin\{(?!align|equation|array|bmatrix|pmatrix|matrix|cases|split"
                                     r"|gather|aligned)"),
                         "inside math: MathJax; else shown as text"),
    "pandoc footnote ^[...]": (re.compile(r"\^\[[^\]]"), "not translated: shown as text"),
    "fenced div attribute {=html}": (re.compile(r"\{=(html|latex|tex)\}"), "raw blocks: not translated"),
    "heading attributes # x {#id}": (re.compile(r"^#+ .*\{[#.][^}]*\}\s*$"),
                                     "MyST attrs_block reads some; others warned"),
}
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def census(files: list[Path]) -> dict[str, tuple[int, int]]:
    """Construct -> (occurrences, files holding it), outside code blocks."""
    counts = {name: [0, 0] for name in PATTERNS}
    for path in files:
        seen = set()
        fence = None
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            m = FENCE.match(line)
            if fence is not None:
                if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                        and not line.strip()[len(m.group(1)):].strip():
                    fence = None
                continue
            for name, (pattern, _) in PATTERNS.items():
                if pattern.search(line):
                    counts[name][0] += 1
                    seen.add(name)
            if m and not PATTERNS["attribute fence ```{.lang}"][0].match(line):
                fence = m.group(1)
            elif m:
                fence = m.group(1)
        for name in seen:
            counts[name][1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = parser.parse_args()
    corpus = Path(args.shared) / "corpus"
    if not corpus.is_dir():
        print(f"no corpus at {corpus}; nothing to count")
        return 0
    files = sorted((corpus / "talks").rglob("*.md")) + sorted((corpus / "snippets").rglob("*.md"))
    print(f"{len(files)} files\n")
    print("| construct | occurrences | files | what becomes of it |\n|---|---:|---:|---|")
    for name, (count, holding) in census(files).items():
        print(f"| {name} | {count} | {holding} | {PATTERNS[name][1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
