"""Compare our notebooks with lamd's for the corpus talks lamd made notebooks of.

For each talk in ``../shared/reference/lamd-outputs/manifest.tsv`` that has a
notebook, builds ours (``build_tools.export.notebook``) and prints lamd's code
cells against ours, and how alike the two sequences of code cells are: the
ratio of a sequence alignment (difflib) over normalised code text, 1.0 when the
same cells come in the same order.  Says so and exits cleanly without the
shared folder.

    python benchmarks/notebooks.py [--shared DIR] [--out DIR] [--families]

``--families`` also counts the code cells each family of code macros adds (by
expanding at each code level in turn): ``\\code``, ``\\setupcode``, ``\\loadcode``,
``\\installcode``... at ``sparse``; ``\\plotcode`` and its kin at ``plot``;
``\\displaycode`` and ``\\helpercode`` at ``diagnostic``.
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def normalise(code: str) -> str:
    """Code without comments, blank lines or spacing differences, lamd's paths made ours."""
    lines = []
    for line in code.splitlines():
        line = re.sub(r"#.*$", "", line).strip()
        if line:
            lines.append(re.sub(r"\s+", " ", line))
    return "\n".join(lines)


def code_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [normalise("".join(c["source"])) for c in cells if c["cell_type"] == "code"]


FAMILIES = (("sparse", "code, setupcode, loadcode, installcode, download..."),
            ("plot", "plotcode, setupplotcode, loadplotcode"),
            ("diagnostic", "displaycode, helpercode and their setup forms"))


def family_counts(talk: Path, config) -> list[int]:
    """Code cells each family of code macros adds to the talk's notebook."""
    from dataclasses import replace

    from build_tools.engine.run import expand
    from build_tools.export import markdown as md

    style = md.Style(image_link=lambda path: path)
    totals = []
    for level, _ in FAMILIES:
        items = expand(str(talk), "handout", replace(config, code_level=level)).items
        totals.append(sum(1 for cell in md.cells(items, style) if cell.kind == "code"))
    return [totals[0]] + [b - a for a, b in zip(totals, totals[1:], strict=False)]


def notebook_pairs(shared: Path) -> list[tuple[Path, Path]]:
    pairs = []
    manifest = shared / "reference" / "lamd-outputs" / "manifest.tsv"
    for line in manifest.read_text(encoding="utf-8").splitlines()[1:]:
        talk, _notes, notebook = (line.split("\t") + ["", ""])[:3]
        if notebook:
            pairs.append((shared / "corpus" / talk, shared / "reference" / "lamd-outputs" / notebook))
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--out", default=None, help="Keep our notebooks here.")
    parser.add_argument("--code-level", default="full", help="Code macros switched on (config.CODE_LEVELS).")
    parser.add_argument("--families", action="store_true",
                        help="Also count the cells each family of code macros adds.")
    opts = parser.parse_args()
    shared = Path(opts.shared)
    if not (shared / "reference" / "lamd-outputs" / "manifest.tsv").is_file():
        print(f"no lamd reference outputs under {shared}; nothing to compare")
        return 0
    from build_tools.config import build_config
    from build_tools.export.notebook import write_notebook

    out = Path(opts.out or tempfile.mkdtemp(prefix="talks-notebooks-"))
    roots = [str(shared / "corpus" / "snippets"), str(shared / "corpus" / "talks")]
    bibs = sorted(str(p) for p in (shared / "corpus" / "bibliography").glob("*.bib"))
    notation = str(ROOT / "macros" / "notation.tex")
    totals = {"lamd": 0, "ours": 0, "matched": 0, "talks": 0}
    families = [0] * len(FAMILIES)
    print(f"{'talk':<58} {'lamd':>5} {'ours':>5} {'diff':>6} {'order':>6}")
    for talk, theirs in notebook_pairs(shared):
        if not talk.is_file() or not theirs.is_file():
            print(f"{talk.name:<58} missing")
            continue
        config = build_config(str(talk), include_roots=roots, bib_files=bibs)
        ours = out / f"{theirs.stem}.ipynb"
        write_notebook(str(talk), ours, config, None, notation, code_level=opts.code_level)
        lamd_cells, our_cells = code_cells(theirs), code_cells(ours)
        matcher = difflib.SequenceMatcher(a=lamd_cells, b=our_cells, autojunk=False)
        matched = sum(block.size for block in matcher.get_matching_blocks())
        totals["lamd"] += len(lamd_cells)
        totals["ours"] += len(our_cells)
        totals["matched"] += matched
        totals["talks"] += 1
        if opts.families:
            families = [a + b for a, b in zip(families, family_counts(talk, config), strict=True)]
        diff = (len(our_cells) - len(lamd_cells)) / max(1, len(lamd_cells))
        print(f"{theirs.stem[:58]:<58} {len(lamd_cells):>5} {len(our_cells):>5} {diff:>+6.0%} "
              f"{matcher.ratio():>6.2f}")
    if totals["talks"]:
        lamd, ours = totals["lamd"], totals["ours"]
        order = 2 * totals["matched"] / max(1, lamd + ours)
        print(f"\n{totals['talks']} talks: lamd {lamd} code cells, ours {ours} "
              f"({(ours - lamd) / max(1, lamd):+.1%}); cells matching in order "
              f"{totals['matched']} (alignment ratio {order:.2f}); our notebooks in {out}")
        if opts.families:
            for (level, macros), count in zip(FAMILIES, families, strict=True):
                print(f"  {count:>5} cells from {macros} (level {level})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
