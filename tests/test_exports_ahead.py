"""The PPTX begun as soon as the deck is built, beside the other variants' Sphinx builds:
the same file as made after the whole site, put in place only for a talk the build
publishes; a talk another variant fails keeps its last good PPTX."""
from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from pathlib import Path

from build_tools.config import VARIANTS, build_config
from build_tools.export import parse_formats
from build_tools.export.run import (STAGED, ExportsAhead, export_path, incomplete_path, made_ahead,
                                    run_exports)
from build_tools.export.shared import ExportJob
from build_tools.site.build import SiteOptions, build_site

from conftest import require_module
from helpers import exports_demo_project

require_module("pptx", "python-pptx")

DOC = "exports-demo"


def built_project(root: Path) -> tuple[Path, Path]:
    """The exports demonstration, built as HTML: (the talk, the work folder)."""
    talk = exports_demo_project(root)
    report = build_site(SiteOptions(talks=[str(talk)], project=str(root), out=str(root / "_build/site"),
                                    exports=()))
    assert report.ok, report.failed
    return talk, root / "_build" / ".work" / "site"


def job(talk: Path, work: Path, out: str) -> ExportJob:
    pages = {v: str(work / v / "html" / f"{DOC}.html") for v in VARIANTS}
    return ExportJob(str(talk), DOC, ("pptx",), out, build_config(talk), pages,
                     pictures=str(work / "pictures"))


def parts(deck: Path) -> dict[str, bytes]:
    """What the deck shows: its slides, notes and pictures (not the package's dates)."""
    with zipfile.ZipFile(deck) as z:
        return {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}


def test_only_what_is_made_from_the_deck_alone_is_made_ahead():
    assert [fmt for fmt in parse_formats("all") if made_ahead(fmt)] == ["pptx"]


def test_a_pptx_made_ahead_is_the_one_made_after_the_site_and_checked_the_same(tmp_path):
    talk, work = built_project(tmp_path)
    after = job(talk, work, str(tmp_path / "after"))
    [made_after] = run_exports([after])
    assert made_after.written == ["pptx"], [d.format() for d in made_after.diagnostics]
    early = job(talk, work, str(tmp_path / "early"))
    ahead = ExportsAhead(workers=1)
    ahead.start([early])
    [made_ahead_] = run_exports([early], ahead=ahead)
    assert made_ahead_.written == ["pptx"] and not made_ahead_.incomplete
    assert made_ahead_.diagnostics == made_after.diagnostics
    assert parts(export_path(early.out_dir, DOC, "pptx")) == parts(export_path(after.out_dir, DOC, "pptx"))
    assert not (Path(early.out_dir) / STAGED).exists()
    # made, stamped, up to date: the next build neither begins it again nor remakes it
    again = ExportsAhead(workers=1)
    again.start([early])
    assert again.started == []
    assert run_exports([early], ahead=again)[0].up_to_date == ["pptx"]


def test_a_talk_failed_after_its_deck_keeps_its_last_good_pptx(tmp_path):
    """Begun when the deck was built, but the handout then failed: nothing is put in place."""
    talk, work = built_project(tmp_path)
    out = tmp_path / "exports"
    good = export_path(out, DOC, "pptx")
    good.parent.mkdir(parents=True)
    good.write_bytes(b"the last good deck")
    ahead = ExportsAhead(workers=1)
    ahead.start([job(talk, work, str(out))])
    assert run_exports([], ahead=ahead) == []
    assert good.read_bytes() == b"the last good deck"
    assert not (out / STAGED).exists()


def test_a_build_whose_handout_fails_keeps_the_last_good_pptx(tmp_path):
    talk = exports_demo_project(tmp_path)
    out = tmp_path / "_build" / "site"

    def build():
        return build_site(SiteOptions(talks=[str(talk)], project=str(tmp_path), out=str(out),
                                      exports=("pptx",)))

    first = build()
    assert first.ok and first.exports[0].written == ["pptx"]
    good = (out / "exports" / f"{DOC}.pptx").read_bytes()
    text = talk.read_text(encoding="utf-8")
    # only the handout fails; the deck has a slide more, so a PPTX made of it would differ
    talk.write_text(text.replace("\\section{Counting", "\\ifdef{NOTES}\\include{no-such-fragment.md}"
                                 "\\endif\n\n## One Slide More\n\n\\section{Counting"), encoding="utf-8")
    broken = build()
    assert not broken.ok and DOC in broken.failed
    assert broken.exports == []
    assert (out / "exports" / f"{DOC}.pptx").read_bytes() == good
    assert not (tmp_path / "_build" / ".work" / "site" / "exports" / STAGED).exists()


def test_a_pptx_begun_before_the_deck_is_built_is_checked_against_the_built_deck(tmp_path):
    """Written while Sphinx still builds the deck, the PPTX waits for the deck to be checked:
    a page there before (a previous build's, here one with a slide the PPTX lacks) is never
    what it is compared with."""
    import time

    talk, work = built_project(tmp_path)
    early = job(talk, work, str(tmp_path / "early"))
    page = Path(early.pages["slides"])
    built = page.read_text(encoding="utf-8")
    stale = re.sub(r'(<div class="slides"[^>]*>)', r'\1<section><h2>A Slide Nobody Wrote Into '
                   r'This Deck</h2><p>Words of an older deck that the new one has dropped for '
                   r'good.</p></section>', built, count=1)
    assert stale != built
    page.write_text(stale, encoding="utf-8")
    ahead = ExportsAhead(workers=1)
    ahead.start([early], before_decks=True)
    staged = Path(early.out_dir) / STAGED
    made_files = (export_path(staged, DOC, "pptx"), incomplete_path(staged, DOC, "pptx"))
    deadline = time.monotonic() + 300
    while not any(f.exists() for f in made_files) and time.monotonic() < deadline:
        time.sleep(0.1)  # written (or, checked too soon, set aside); its check waits
    time.sleep(1)
    page.write_text(built, encoding="utf-8")  # the deck is built
    ahead.decks_built()
    [made] = run_exports([early], ahead=ahead)
    assert made.written == ["pptx"] and not made.incomplete, [d.format() for d in made.diagnostics]


def test_before_any_page_is_built_the_largest_deck_is_begun_first(tmp_path):
    from build_tools.export.run import _chunks

    jobs = []
    for name, size in (("small", 10), ("large", 5000), ("middle", 500)):
        deck = tmp_path / f"{name}.pickle"
        deck.write_bytes(bytes(size))
        jobs.append(ExportJob(str(tmp_path / f"{name}.md"), name, ("pptx",), str(tmp_path),
                              build_config(tmp_path / f"{name}.md"),
                              {"slides": str(tmp_path / f"{name}.html")}, deck=str(deck)))
    assert [chunk[0].doc for chunk in _chunks(jobs)] == ["large", "middle", "small"]


def test_a_worker_begun_before_the_decks_writes_its_whole_share_before_checking(tmp_path):
    """Its checks wait for the decks, its writing does not: both talks of one worker are
    written while the deck is still being built, then checked."""
    import time

    talk, work = built_project(tmp_path)
    first = job(talk, work, str(tmp_path / "early"))
    second = replace(first, doc=f"{DOC}-again")
    ahead = ExportsAhead(workers=1)
    ahead.start([first, second], before_decks=True)
    staged = [export_path(Path(first.out_dir) / STAGED, j.doc, "pptx") for j in (first, second)]
    deadline = time.monotonic() + 300
    while not all(f.exists() for f in staged) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(f.exists() for f in staged)  # the deck not yet said to be built
    ahead.decks_built()
    made = run_exports([first, second], ahead=ahead)
    assert [m.written for m in made] == [["pptx"], ["pptx"]], [d.format() for m in made for d in m.diagnostics]


def test_the_pictures_drawn_first_are_those_the_pptx_draws(tmp_path):
    """Drawn while the build cleans the bibliographies, the deck's SVGs are kept where the
    PPTX looks for them: exactly the ones it would draw itself."""
    talk, work = built_project(tmp_path)
    first = replace(job(talk, work, str(tmp_path / "first")), pictures=str(tmp_path / "drawn-first"))
    ahead = ExportsAhead(workers=1)
    ahead.draw_first([first])
    assert ahead.take([]) == {}
    drawn_first = sorted(p.name for p in Path(first.pictures).glob("*.png"))
    assert drawn_first
    by_itself = replace(job(talk, work, str(tmp_path / "after")), pictures=str(tmp_path / "drawn"))
    [made] = run_exports([by_itself], workers=1)
    assert made.written == ["pptx"]
    assert drawn_first == sorted(p.name for p in Path(by_itself.pictures).glob("*.png"))


def test_the_shares_of_workers_begun_before_the_decks_balance_the_largest_first(tmp_path):
    from build_tools.export.run import _shares

    jobs = []
    for name, size in (("a", 100), ("b", 900), ("c", 500), ("d", 400), ("e", 50)):
        deck = tmp_path / f"{name}.pickle"
        deck.write_bytes(bytes(size))
        jobs.append(ExportJob(str(tmp_path / f"{name}.md"), name, ("pptx",), str(tmp_path),
                              build_config(tmp_path / f"{name}.md"),
                              {"slides": str(tmp_path / f"{name}.html")}, deck=str(deck)))
    assert [[j.doc for j in share] for share in _shares(jobs, 2)] == [["b", "a"], ["c", "d", "e"]]
    assert [[j.doc for j in share] for share in _shares(jobs[:1], 2)] == [["a"]]
