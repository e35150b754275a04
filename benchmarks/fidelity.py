"""Measure how faithfully our builds reproduce what lamd produced.

Two comparisons, both against real lamd outputs in ``../shared/reference``:

- the corpus talks lamd made notes pages of (``lamd-outputs/manifest.tsv``): each
  is built as a handout only (Sphinx over 168 talks is the slow part) and its page
  compared with lamd's notes page;
- the lamd course ``course-execed``: copied to a temporary folder and built in
  place, all variants, with ``TALKS_PATH_MAP`` pointing its ``snippetsdir`` and
  ``bibdir`` at the corpus snippets and bibliographies; our handouts are compared
  with lamd's ``_lectures/`` pages and our decks with lamd's ``slides/*.slides.html``.

Per page it counts figures, in-text citations, bibliography entries, math, code
blocks and (decks) top-level slides, and the recall of lamd's words in ours.
One row per page goes to ``fidelity.tsv`` in the output folder; the totals and
the targets are printed.  Says so and exits cleanly without the shared folder.

    python benchmarks/fidelity.py [--shared DIR] [--limit N] [--keep DIR] [--jobs N]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import unquote, urlparse

from workfolder import without_html_reader, work_folder

ROOT = Path(__file__).resolve().parent.parent
COURSE_SNIPPETS = "$HOME/lawrennd/snippets"  # how the course's _lamd.yml names the snippets
COURSE_BIBLIOGRAPHY = "$HOME/lawrennd/bibliography"  # ... and its bibdir
WORD = re.compile(r"[^\W_]+")

TARGETS = {"citations": 0.95, "bibliography": 0.95, "recall": 0.96, "slides": 1}


# --- reading pages ----------------------------------------------------------

def soup_of(path: Path):
    from bs4 import BeautifulSoup

    text = path.read_text(encoding="utf-8", errors="replace")
    if text.startswith("---"):  # a Jekyll page: YAML front matter first
        end = text.find("\n---", 3)
        text = text[end + 4:] if end > 0 else text
    return BeautifulSoup(text, "html.parser")


def drop(root, selectors: list[str]) -> None:
    for selector in selectors:
        for node in root.select(selector):
            node.decompose()


def words(root) -> Counter:
    text = root.get_text(" ").lower().replace("’", "'")
    return Counter(WORD.findall(text))


def image_refs(root) -> list[str]:
    """Sources of the images a page shows, in order (buttons and site assets left out)."""
    refs = []
    for node in root.select("img[src], object[data], embed[src]"):
        src = node.get("src") or node.get("data")
        if "{{" in src or "/assets/" in src or src.startswith("data:"):
            continue
        refs.append(unquote(src))
    return refs


def stem(ref: str) -> str:
    """An image's name without folder or extension: lamd and we may differ in both."""
    name = Path(urlparse(ref).path).name
    return name.rsplit(".", 1)[0].lower()


def resolves(page: Path, ref: str) -> bool:
    """Whether the image the page links is in the built site (or is remote)."""
    if urlparse(ref).scheme in ("http", "https"):
        return True
    return (page.parent / urlparse(ref).path).is_file()


@dataclass
class Page:
    figures: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # figures whose file is there
    citations: int = 0
    bibliography: int = 0
    math: int = 0
    code: int = 0
    slides: int = 0
    words: Counter = field(default_factory=Counter)


def lamd_notes(path: Path) -> Page:
    soup = soup_of(path)
    page = Page()
    page.figures = image_refs(soup)
    page.citations = len(soup.select("span.citation"))
    page.bibliography = len(soup.select("div#refs .csl-entry"))
    page.math = len(soup.select("span.math.inline, span.math.display"))
    page.code = len(soup.select("pre"))
    drop(soup, ["script", "style", "nav", "span.math", "pre", "div#refs", "span.citation",
                "div.magnify", "span.editsection", "span.editsection-bracket"])
    page.words = words(soup)
    return page


OUR_CITATIONS = ["a.footnote-reference[href^='#footcite-']", "span.citation",
                 "a[role='doc-biblioref']"]
OUR_BIBLIOGRAPHY = ["aside.footnote[id^='footcite-']", "div.citation-list div.citation",
                    "div#refs .csl-entry", "div.references .csl-entry", "ul.bibliography li"]
# Our page furniture that lamd's page has no counterpart of.
OUR_FURNITURE = ["script", "style", "nav", "a.headerlink", "a.talks-xref", "p.editsection",
                 "p.talk-authors", "p.talk-venue", "div.admonition.warning"]


def our_handout(path: Path) -> Page:
    soup = soup_of(path)
    article = soup.select_one("article[role=main]") or soup
    page = Page()
    page.figures = image_refs(article) + missing_images(article)
    page.shown = [ref for ref in image_refs(article) if resolves(path, ref)]
    page.citations = sum(len(article.select(s)) for s in OUR_CITATIONS)
    page.bibliography = sum(len(article.select(s)) for s in OUR_BIBLIOGRAPHY)
    page.math = len(article.select("span.math, div.math"))
    page.code = len(article.select("pre"))
    drop(article, OUR_FURNITURE + ["span.math", "div.math", "pre", "aside.footnote-list",
                                   "div.citation-list", *OUR_CITATIONS])
    page.words = words(article)
    return page


def missing_images(root) -> list[str]:
    """Images our build looked for and did not find: a published page shows a neutral
    frame naming them in ``data-missing`` (the preview, a warning box)."""
    refs = [frame["data-missing"] for frame in root.select("div.talks-missing-image[data-missing]")]
    for box in root.select("div.admonition.warning"):
        text = box.get_text(" ")
        if "Missing image" in text and box.code:
            refs.append(box.code.get_text())
    return refs


def deck(path: Path) -> Page:
    """A reveal.js deck: its slides and the images it shows."""
    soup = soup_of(path)
    drop(soup, ["a.talks-xref"])  # our link from each slide to its handout section
    slides = soup.select_one("div.slides")
    page = Page()
    page.slides = len(shown_slides(slides)) if slides else 0
    page.figures = image_refs(soup) + background_images(soup)
    missing = [node["title"] for node in soup.select("div.talks-missing[title]")]
    page.shown = [ref for ref in page.figures if resolves(path, ref)]
    page.figures += missing
    return page


def shown_slides(slides) -> list:
    """The slides a viewer steps through: innermost sections (sphinx-revealjs nests
    a heading's slides in a vertical stack; lamd's decks are flat), leaving out
    lamd's blank slide of HTML comments after the title."""
    leaves = [s for s in slides.find_all("section") if not s.find("section")]
    return [s for s in leaves if s.get_text(" ").strip() or s.find(MEDIA)
            or s.select_one("div.talks-missing")  # an image we could not find: still a slide
            or any(k.startswith("data-background") for k in s.attrs)]


MEDIA = ["img", "object", "iframe", "video", "svg", "canvas", "embed"]


def background_images(soup) -> list[str]:
    return [node["data-background-image"] for node in soup.select("[data-background-image]")]


# --- one row per compared page ---------------------------------------------

@dataclass
class Row:
    source: str
    talk: str
    status: str = "built"
    lamd_figures: int = 0
    figures_found: int = 0       # lamd's figures our page refers to
    our_figures: int = 0
    our_figures_shown: int = 0   # ours whose file the site holds
    lamd_citations: int = 0
    our_citations: int = 0
    lamd_bibliography: int = 0
    our_bibliography: int = 0
    lamd_words: int = 0
    words_found: int = 0
    recall: float = 0.0
    lamd_math: int = 0
    our_math: int = 0
    lamd_code: int = 0
    our_code: int = 0
    lamd_slides: str = ""
    our_slides: str = ""
    required_figures: str = ""   # course decks: lamd's images that exist in slides/diagrams
    required_shown: str = ""
    required_dropped: str = ""   # of those not shown: ones today's sources no longer ask for
    source_recall: str = ""      # worst pages: recall of lamd's words in today's expanded source
    missing: str = ""


def compare(row: Row, theirs: Page, ours: Page) -> Row:
    lamd_stems = [stem(ref) for ref in theirs.figures]
    our_stems = {stem(ref) for ref in ours.figures}
    row.lamd_figures = len(lamd_stems)
    row.figures_found = sum(1 for s in lamd_stems if s in our_stems)
    row.our_figures, row.our_figures_shown = len(ours.figures), len(ours.shown)
    row.lamd_citations, row.our_citations = theirs.citations, ours.citations
    row.lamd_bibliography, row.our_bibliography = theirs.bibliography, ours.bibliography
    row.lamd_words = sum(theirs.words.values())
    row.words_found = sum((theirs.words & ours.words).values())
    row.recall = row.words_found / max(1, row.lamd_words)
    row.lamd_math, row.our_math = theirs.math, ours.math
    row.lamd_code, row.our_code = theirs.code, ours.code
    row.missing = " ".join(sorted({s for s in lamd_stems if s not in our_stems}))
    return row


# --- building ----------------------------------------------------------------

def run_talks(args: list[str], cwd: Path, log: Path, env: dict | None = None) -> int:
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "build_tools.cli", *args]
    proc = subprocess.run(command, cwd=cwd, env=env, text=True, capture_output=True)
    log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    return proc.returncode


def manifest(shared: Path) -> list[tuple[str, Path]]:
    """(corpus talk path, lamd notes page) for every talk lamd made notes of."""
    outputs = shared / "reference" / "lamd-outputs"
    pairs = []
    for line in (outputs / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        talk, notes = (line.split("\t") + [""])[:2]
        if notes:
            pairs.append((talk, outputs / notes))
    return pairs


def failed_talks(log: Path) -> set[str]:
    """Talk names (``folder/name``) the build reported as failed."""
    return set(re.findall(r"^error: talk '([^']+)' failed", log.read_text(encoding="utf-8"), re.M))


def corpus_rows(shared: Path, work: Path, opts) -> list[Row]:
    """Build the manifest's talks as handouts in a project holding a copy of the
    corpus talks (a build needs a project; the shared copy stays untouched)."""
    corpus = shared / "corpus"
    project = work / "corpus-project"
    pairs = manifest(shared)[: opts.limit or None]
    site = work / "corpus-site"
    bibs = sorted((corpus / "bibliography").glob("*.bib"))
    args = ["build", "--quiet", "--variant", "handout", "--to", "none", "--out", str(site),
            "-I", str(corpus / "snippets"), "-I", str(project / "talks"),
            *[a for bib in bibs for a in ("--bib", str(bib))],
            *[a for j in [opts.jobs] if j for a in ("--jobs", str(j))],
            *[str(project / talk) for talk, _ in pairs]]
    log = work / "corpus-build.log"
    if not opts.no_build:
        print(f"building {len(pairs)} corpus talks (handout only)...", flush=True)
        shutil.rmtree(project, ignore_errors=True)
        shutil.copytree(corpus / "talks", project / "talks")
        shutil.copy(ROOT / "build_tools" / "templates" / "project" / "conf.py", project)
        run_talks(args, project, log)
    failed = failed_talks(log)
    rows, sources = [], {}
    for talk, notes in pairs:
        name = page_name(talk)
        ours = site / "handout" / f"{name}.html"
        status = "no page" if not ours.is_file() else "failed" if name in failed else "built"
        theirs = lamd_notes(notes)
        sources[name] = (project / talk, theirs)
        rows.append(compare(Row("corpus", name, status), theirs,
                            our_handout(ours) if ours.is_file() else Page()))
    source_recall(rows, sources, [str(corpus / "snippets"), str(project / "talks")], opts.worst)
    return rows


def source_recall(rows: list[Row], sources: dict[str, tuple[Path, Page]], roots: list[str],
                  worst: int) -> None:
    """For the pages with the lowest recall, lamd's words found in today's expanded
    handout source: near our recall, the words are gone from the sources (snippet
    drift); well above it, our rendering loses them."""
    from build_tools.api import expand_talk
    from build_tools.config import build_config

    built = sorted((r for r in rows if r.talk in sources and r.lamd_words), key=lambda r: r.recall)
    for row in built[:worst]:
        talk, theirs = sources[row.talk]
        text = expand_talk(str(talk), "handout", build_config(str(talk), include_roots=roots)).text
        found = sum((theirs.words & Counter(WORD.findall(text.lower().replace("’", "'")))).values())
        row.source_recall = f"{found / max(1, row.lamd_words):.3f}"


def page_name(talk: str) -> str:
    """``talks/_ai/x.md`` -> ``ai/x``: where the site puts the talk's pages."""
    parts = Path(talk).with_suffix("").parts[1:]
    return "/".join(p.lstrip("_") for p in parts)


def course_rows(shared: Path, work: Path, opts) -> list[Row]:
    """Build the lamd course in place (a copy) and compare notes pages and decks."""
    course = work / "course"
    site = work / "course-site"
    corpus = (shared / "corpus").resolve()
    env = {"TALKS_PATH_MAP": f"{COURSE_SNIPPETS}={corpus / 'snippets'}:"
                             f"{COURSE_BIBLIOGRAPHY}={corpus / 'bibliography'}"}
    args = ["build", "--quiet", "--to", "none", "--out", str(site),
            *[a for j in [opts.jobs] if j for a in ("--jobs", str(j))]]
    log = work / "course-build.log"
    if not opts.no_build:
        print("building the lamd course (all variants)...", flush=True)
        shutil.rmtree(course, ignore_errors=True)
        shutil.copytree(shared / "reference" / "course-execed", course)
        run_talks(args, course, log, env)
    failed = failed_talks(log)
    rows = []
    for lamd_page in sorted((course / "_lectures").glob("*.html")):
        name = lamd_page.stem.split("-", 1)[1]  # 01-the-new-world -> the-new-world
        status = "failed" if name in failed else "built"
        ours = site / "handout" / f"{name}.html"
        row = compare(Row("course", name, status), lamd_notes(lamd_page),
                      our_handout(ours) if ours.is_file() else Page())
        compare_decks(row, course / "slides" / f"{lamd_page.stem}.slides.html",
                      site / "slides" / f"{name}.html")
        rows.append(row)
    return rows


def compare_decks(row: Row, lamd_deck: Path, our_deck: Path) -> None:
    """Slide counts, and which of the images lamd's deck shows that the course's
    diagrams folder holds ours shows too (compared by content: Sphinx renames
    images whose names clash)."""
    theirs = deck(lamd_deck) if lamd_deck.is_file() else Page()
    ours = deck(our_deck) if our_deck.is_file() else Page()
    row.lamd_slides, row.our_slides = str(theirs.slides), str(ours.slides)
    required = {}
    for ref in theirs.figures:
        local = course_file(lamd_deck.parent, ref)
        if local is not None:
            required[digest(local)] = local.name
    shown = {digest(our_deck.parent / urlparse(ref).path) for ref in ours.shown
             if urlparse(ref).scheme not in ("http", "https")}
    row.required_figures = str(len(required))
    row.required_shown = str(len(required.keys() & shown))
    missing = sorted(name for key, name in required.items() if key not in shown)
    asked = {stem(ref) for ref in ours.figures}
    row.required_dropped = str(sum(1 for name in missing if stem(name) not in asked))
    row.missing = " ".join(missing) if missing else row.missing


def course_file(slides: Path, ref: str) -> Path | None:
    """The file in the course's ``slides/diagrams`` a lamd deck's image names, if
    there: lamd writes them as absolute URLs of the published course."""
    path = urlparse(ref).path
    if "/slides/" in path:
        path = path.split("/slides/", 1)[1]
    path = re.sub(r"/+", "/", path.replace("./", ""))
    local = slides / path
    return local if path.startswith("diagrams/") and local.is_file() else None


def digest(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest() if path.is_file() else ""


# --- report ------------------------------------------------------------------

def write_tsv(rows: list[Row], path: Path) -> None:
    names = [f.name for f in fields(Row)]
    lines = ["\t".join(names)]
    for row in rows:
        lines.append("\t".join(f"{v:.3f}" if isinstance(v, float) else str(v)
                               for v in (getattr(row, n) for n in names)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def total(rows: list[Row], name: str) -> int:
    return sum(int(getattr(row, name) or 0) for row in rows)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def totals(rows: list[Row]) -> list[tuple[str, str, str, str, str]]:
    """(metric, ours, lamd, target, PASS/MISS) for the report."""
    course = [r for r in rows if r.source == "course"]
    out = []
    required, shown = total(course, "required_figures"), total(course, "required_shown")
    if course:
        out.append(("course deck figures in diagrams/ shown", str(shown), str(required),
                    "all", verdict(shown == required)))
        asked = required - total(course, "required_dropped")
        out.append(("  of those today's sources still ask for", str(shown), str(asked),
                    "all", verdict(shown == asked)))
    lamd_figs, found = total(rows, "lamd_figures"), total(rows, "figures_found")
    out.append(("notes figures referenced", str(found), str(lamd_figs),
                "(report)", f"{found / max(1, lamd_figs):.1%}"))
    for metric in ("citations", "bibliography"):
        # counted per page up to lamd's count, so a page citing more cannot hide one citing less
        lamd = total(rows, f"lamd_{metric}")
        ours = sum(min(int(getattr(r, f"our_{metric}")), int(getattr(r, f"lamd_{metric}"))) for r in rows)
        ratio = ours / max(1, lamd)
        surplus = total(rows, f"our_{metric}") - ours
        out.append((f"{metric} per page ({ratio:.1%}; +{surplus} more)", str(ours), str(lamd),
                    f">= {TARGETS[metric]:.0%}", verdict(ratio >= TARGETS[metric])))
    lamd_words, found = total(rows, "lamd_words"), total(rows, "words_found")
    recall = found / max(1, lamd_words)
    out.append((f"notes-word recall {recall:.1%}", str(found), str(lamd_words),
                f">= {TARGETS['recall']:.0%}", verdict(recall >= TARGETS["recall"])))
    for metric in ("math", "code"):
        ours, lamd = total(rows, f"our_{metric}"), total(rows, f"lamd_{metric}")
        out.append((f"{metric} ({ours / max(1, lamd):.1%})", str(ours), str(lamd), "(report)", ""))
    if course:
        within = sum(1 for r in course if abs(int(r.our_slides) - int(r.lamd_slides)) <= TARGETS["slides"])
        out.append(("course decks with slide count within ±1", str(within), str(len(course)),
                    "all", verdict(within == len(course))))
    return out


def print_totals(rows: list[Row]) -> None:
    built = sum(1 for r in rows if r.status == "built")
    print(f"\n{len(rows)} pages compared ({built} from talks that built without error)")
    print(f"{'metric':<44} {'ours':>9} {'lamd':>9} {'target':>8}  result")
    for metric, ours, lamd, target, result in totals(rows):
        print(f"{metric:<44} {ours:>9} {lamd:>9} {target:>8}  {result}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--limit", type=int, default=0, help="Only the first N corpus talks.")
    parser.add_argument("--keep", help="Build here and keep it (default: a temporary folder).")
    parser.add_argument("--jobs", type=int, default=0, help="Variants built at once.")
    parser.add_argument("--no-build", action="store_true",
                        help="Compare the builds already in --keep DIR again.")
    parser.add_argument("--worst", type=int, default=15,
                        help="Pages with the lowest recall to check against their expanded source.")
    parser.add_argument("--no-course", action="store_true", help="Leave out the lamd course.")
    opts = parser.parse_args(argv)
    if opts.no_build and not opts.keep:
        parser.error("--no-build needs --keep DIR")
    shared = Path(opts.shared).resolve()
    if not (shared / "reference" / "lamd-outputs" / "manifest.tsv").is_file():
        print(f"no lamd reference outputs under {shared}; nothing to compare")
        return 0
    if without_html_reader("nothing compared"):
        return 0
    with work_folder(opts.keep, "talks-fidelity-") as work:
        rows = corpus_rows(shared, work, opts)
        if not opts.no_course and (shared / "reference" / "course-execed").is_dir():
            rows += course_rows(shared, work, opts)
        out = Path(opts.keep).resolve() if opts.keep else Path(tempfile.mkdtemp(prefix="talks-fidelity-out-"))
        write_tsv(rows, out / "fidelity.tsv")
        print_totals(rows)
        print(f"\nper-page rows: {out / 'fidelity.tsv'}; build logs: "
              + (str(work) if opts.keep else "kept only with --keep"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
