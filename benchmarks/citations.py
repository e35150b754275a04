"""Citations against lamd: in-text citations rendered with author–year text, and entries
listed under References, for a sample of corpus talks that cite, against lamd's notes pages.

lamd's pages (``../shared/reference/lamd-outputs/notes``) are pandoc HTML: one
``<span class="citation">`` per citation and one ``csl-entry`` per listed reference.
Ours are the handouts of ``talks build`` over the same talks, with the corpus's
snippets and its three BibTeX files.  The sample is the talks whose lamd page cites
something and whose expansion (preprocessing) has a citation of a known key.

    python benchmarks/citations.py [--shared DIR] [--sample N] [--keep DIR]

Skips cleanly (exit 0) when ``../shared`` is absent.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

from workfolder import work_folder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAMD_CITATION = re.compile(r'<span class="citation"[^>]*>(.*?)</span>', re.S)
LAMD_ENTRY = re.compile(r'class="csl-entry"')
OUR_CITATION = re.compile(r'<span class="citation">(.*?)</span>', re.S)
OUR_ENTRY = re.compile(r'<p class="csl-entry"')
AUTHOR_YEAR = re.compile(r"[^\W\d_].*(\d{4}|n\.d\.)", re.S)
ROLE = re.compile(r"\{footcite:[pt]\}`")


def lamd_counts(page: Path) -> tuple[int, int]:
    html = page.read_text(encoding="utf-8", errors="replace")
    return len(LAMD_CITATION.findall(html)), len(LAMD_ENTRY.findall(html))


def our_counts(page: Path) -> tuple[int, int]:
    """(citations with author–year text, references listed) of one built handout."""
    html = page.read_text(encoding="utf-8", errors="replace")
    texts = [re.sub(r"<[^>]+>", "", t) for t in OUR_CITATION.findall(html)]
    return sum(1 for t in texts if AUTHOR_YEAR.search(t)), len(OUR_ENTRY.findall(html))


def cited_roles(talk: Path, config) -> int:
    """Citations of known keys in the talk's handout MyST (the preprocessing stage)."""
    from build_tools.api import expand_talk
    from build_tools.diagnostics import MacroError
    from build_tools.myst.emit import EmitOptions

    try:
        expansion = expand_talk(str(talk), "handout", config,
                                emit_options=EmitOptions(local_citations=True))
    except MacroError:
        return 0
    return len(ROLE.findall(expansion.text))


def sample_talks(shared: Path, size: int) -> list[tuple[Path, Path, int]]:
    """(talk, lamd page, citations after preprocessing) for ``size`` talks spread over the corpus."""
    from build_tools.config import build_config

    corpus = shared / "corpus"
    bibs = sorted(str(p) for p in (corpus / "bibliography").glob("*.bib"))
    rows = []
    with open(shared / "reference" / "lamd-outputs" / "manifest.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            page = shared / "reference" / "lamd-outputs" / row["notes"] if row["notes"] else None
            talk = corpus / row["talk"]
            if page and page.is_file() and talk.is_file() and lamd_counts(page)[0]:
                rows.append((talk, page))
    picked = []
    step = max(1, len(rows) // (size * 2))
    for talk, page in rows[::step]:
        config = build_config(talk, include_roots=[str(corpus / "snippets"), str(corpus / "talks")],
                              bib_files=bibs)
        roles = cited_roles(talk, config)
        if roles:
            picked.append((talk, page, roles))
        if len(picked) == size:
            break
    return picked


def build(talks: list[Path], shared: Path, work: Path) -> Path:
    from build_tools.site.build import SiteOptions, build_site

    corpus = shared / "corpus"
    out = work / "site"
    options = SiteOptions(talks=[str(t) for t in talks], out=str(out), project=str(ROOT),
                          include_roots=[str(corpus / "snippets"), str(corpus / "talks")],
                          bib_files=sorted(str(p) for p in (corpus / "bibliography").glob("*.bib")),
                          variants=("handout",), exports=())
    build_site(options)
    return out / "handout"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--keep", help="Build here and keep it (default: a temporary folder).")
    opts = parser.parse_args(argv)
    shared = Path(opts.shared)
    if not (shared / "corpus" / "bibliography").is_dir() or not (shared / "reference").is_dir():
        print(f"no corpus or lamd reference outputs at {shared}; nothing to measure")
        return 0
    picked = sample_talks(shared, opts.sample)
    with work_folder(opts.keep, "talks-cites-") as work:
        handouts = build([t for t, _, _ in picked], shared, work)
        totals = [0, 0, 0, 0, 0]
        covered = [0, 0]  # per talk, no more than lamd's count: a surplus does not hide a deficit
        print(f"{'talk':<58} {'roles':>5} {'cites ours/lamd':>16} {'refs ours/lamd':>15}")
        for talk, page, roles in picked:
            ours = next(handouts.rglob(f"{talk.stem}.html"), None)
            mine = our_counts(ours) if ours else (0, 0)
            lamd = lamd_counts(page)
            for i, n in enumerate((roles, mine[0], lamd[0], mine[1], lamd[1])):
                totals[i] += n
            covered[0] += min(mine[0], lamd[0])
            covered[1] += min(mine[1], lamd[1])
            print(f"{talk.stem[:58]:<58} {roles:>5} {mine[0]:>7}/{lamd[0]:<8} {mine[1]:>6}/{lamd[1]:<8}")
        roles, cites, lamd_cites, refs, lamd_refs = totals
        print(f"\n{len(picked)} talks; citations after preprocessing: {roles}")
        print(f"in-text citations with author–year text: {cites} of lamd's {lamd_cites} "
              f"({cites / max(lamd_cites, 1):.0%})")
        print(f"references listed: {refs} of lamd's {lamd_refs} ({refs / max(lamd_refs, 1):.0%})")
        print(f"together: {(cites + refs) / max(lamd_cites + lamd_refs, 1):.0%} (target: at least 95%)")
        print(f"counted per talk up to lamd's count: citations {covered[0]} of {lamd_cites} "
              f"({covered[0] / max(lamd_cites, 1):.0%}), references {covered[1]} of {lamd_refs} "
              f"({covered[1] / max(lamd_refs, 1):.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
