"""The Sphinx stage: a fixture project of three talks sharing fragments, built for real.

Dependency tracking is checked against Sphinx's own report of what it read
(the documents passed to ``env-before-read-docs``), for the html builder and
for the reveal.js builder, whose stock behaviour is to re-read everything.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from conftest import ROOT, require_module

ROOTS = Path(__file__).resolve().parent / "roots"
REPO = Path(__file__).resolve().parent.parent

sphinx_application = require_module("sphinx.application", "sphinx")


def build(project: Path, variant: str, builder: str = "html", **overrides
          ) -> tuple[list[str], str, Path]:
    """Build one variant; return (documents read, warnings, output folder)."""
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    out = project / "_build" / variant
    warnings = io.StringIO()
    read: list[str] = []
    with patch_docutils(project), docutils_namespace():
        app = sphinx_application.Sphinx(
            str(project), str(project), str(out / "html"), str(out / "doctrees"), builder,
            confoverrides={"talks_variant": variant, **overrides}, status=None,
            warning=warnings)
        app.connect("env-before-read-docs", lambda app, env, docs: read.extend(sorted(docs)))
        app.build()
    return read, warnings.getvalue(), out / "html"


def touch(path: Path) -> None:
    time.sleep(0.02)  # later than the last read, but not in the future
    now = time.time()
    os.utime(path, (now, now))


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "three-talks"
    shutil.copytree(ROOTS / "test-three-talks", dest)
    return dest


TALKS = ["talks/alpha", "talks/beta", "talks/gamma"]


@pytest.mark.parametrize("variant,builder", [("handout", "html"), ("slides", "revealjs")])
def test_fragment_edit_rereads_exactly_its_talks(project, variant, builder):
    read, _, _ = build(project, variant, builder)
    assert read == ["index", *TALKS]

    read, _, _ = build(project, variant, builder)
    assert read == [], "a rebuild with no change must read nothing"

    touch(project / "includes/_shared/includes/ab.md")
    read, _, _ = build(project, variant, builder)
    assert read == ["talks/alpha", "talks/beta"]

    touch(project / "includes/_shared/includes/c-only.md")
    read, _, _ = build(project, variant, builder)
    assert read == ["talks/gamma"]

    touch(project / "includes/_shared/includes/common.md")
    read, _, _ = build(project, variant, builder)
    assert read == TALKS

    touch(project / "references.bib")
    read, _, _ = build(project, variant, builder)
    assert "talks/alpha" in read and "talks/beta" in read


def test_a_check_of_what_changed_asks_the_disk_once_per_file(tmp_path):
    from build_tools.sphinx_ext.reading import file_time, one_look_per_file

    shared = tmp_path / "shared.md"
    shared.write_text("x", encoding="utf-8")
    before = file_time(str(shared))
    assert before is not None and file_time(str(tmp_path)) is None, "a folder is no file"
    with one_look_per_file():
        assert file_time(str(shared)) == before
        shared.unlink()
        assert file_time(str(shared)) == before, "one view of the disk for the whole check"
    assert file_time(str(shared)) is None, "the next check looks again"


def test_the_search_index_kept_up_to_date_is_the_one_sphinx_writes(tmp_path, monkeypatch):
    """Edits that add and drop words, a talk gone, a talk new, no change: after each, the
    handout's ``searchindex.js`` is the file Sphinx's own index writes."""
    import sphinx.search

    from build_tools.sphinx_ext import searchindex

    ours, sphinxs = tmp_path / "ours", tmp_path / "sphinx"
    for dest in (ours, sphinxs):
        shutil.copytree(ROOTS / "test-three-talks", dest)
    steps = [
        lambda p: None,
        lambda p: (p / "includes/_shared/includes/ab.md").write_text(
            "\\notes{Zanzibar quokkas hum @Doe-shared20.}\n", encoding="utf-8"),
        lambda p: (p / "talks/gamma.md").unlink(),
        lambda p: (p / "talks/delta.md").write_text(
            "---\ntitle: Delta Talk\n---\n\\notes{Okapis and quokkas.}\n", encoding="utf-8"),
        lambda p: None,
    ]
    stock = searchindex.IncrementalIndex.__bases__[0]
    for step in steps:
        indexes = []
        for dest, index_builder in ((ours, searchindex.IncrementalIndex), (sphinxs, stock)):
            monkeypatch.setattr(searchindex, "use_incremental_index", lambda app, cls=index_builder:
                                setattr(sphinx.search, "IndexBuilder", cls))
            time.sleep(0.02)
            step(dest)
            build(dest, "handout")
            indexes.append((dest / "_build/handout/html/searchindex.js").read_text(encoding="utf-8"))
        assert indexes[0] == indexes[1]
    assert '"quokka":[1,2,3]' in indexes[0] and '"okapi":3' in indexes[0]
    assert '"docnames":["index","talks/alpha","talks/beta","talks/delta"]' in indexes[0]
    monkeypatch.setattr(sphinx.search, "IndexBuilder", stock)


def test_the_parsed_bibliography_is_kept_apart_from_the_environment(project):
    """The environment names the file the parsed bibliography is kept in; a bibliography
    edited, or that file gone, is parsed again, and the pages cite what the file now says."""
    import pickle

    from build_tools.sphinx_ext import keptbib

    _, _, out = build(project, "handout")
    assert "Shared Fragments" in (out / "talks/alpha.html").read_text(encoding="utf-8")
    doctrees = project / "_build/handout/doctrees"
    kept = list((doctrees / "talks-bib").glob(keptbib.PREFIX + "*.pickle"))
    assert len(kept) == 1
    environment = (doctrees / "environment.pickle").read_bytes()
    assert b"Example Press" not in environment, "the parsed entries are not in the environment"
    keptbib._LOADED.clear()  # as a new process: the environment is restored from the file
    with open(doctrees / "environment.pickle", "rb") as file:
        bibdata = pickle.load(file).domaindata["cite"]["bibdata"]
    assert isinstance(bibdata, keptbib.KeptBibData) and "Doe-shared20" in bibdata.data.entries

    bib = project / "references.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("Shared Fragments", "Kept Apart"),
                   encoding="utf-8")
    keptbib._LOADED.clear()
    _, _, out = build(project, "handout")
    assert "Kept Apart" in (out / "talks/alpha.html").read_text(encoding="utf-8")
    assert list((doctrees / "talks-bib").glob(keptbib.PREFIX + "*.pickle")) == kept, \
        "one file per set of bibliographies, rewritten when they change"

    kept[0].unlink()
    keptbib._LOADED.clear()
    touch(project / "talks/alpha.md")
    _, warnings, out = build(project, "handout")
    assert "Kept Apart" in (out / "talks/alpha.html").read_text(encoding="utf-8"), warnings
    assert kept[0].is_file()


def test_the_kept_bibliography_is_read_once_per_version_of_its_file(project, monkeypatch):
    """``talks build`` reads the kept file before its variants start; ``talks serve``, which
    does so before each rebuild, reads it again only once it changed."""
    from build_tools.sphinx_ext import keptbib

    build(project, "handout")
    folder = project / "_build/handout/doctrees/talks-bib"
    read = []
    read_file = keptbib._read_file
    monkeypatch.setattr(keptbib, "_read_file", lambda path: read.append(path) or read_file(path))
    keptbib._LOADED.clear()
    keptbib.load_kept(str(folder))
    keptbib.load_kept(str(folder))
    assert len(read) == 1 and keptbib._LOADED
    (kept,) = folder.glob(keptbib.PREFIX + "*.pickle")
    os.utime(kept, ns=(0, kept.stat().st_mtime_ns + 10**9))
    keptbib.load_kept(str(folder))
    assert len(read) == 2


@pytest.mark.parametrize("damage", ["gone", "no words", "not JSON"])
def test_an_index_file_the_last_build_did_not_write_makes_every_page_written_again(project, damage):
    """A search index gone or damaged is made whole again, never left holding only the
    pages a rebuild writes, and never stops the build."""
    import json

    build(project, "handout")
    index = project / "_build/handout/html/searchindex.js"
    whole = json.loads(index.read_text(encoding="utf-8")[len("Search.setIndex("):-1])
    if damage == "gone":
        index.unlink()
    else:
        frozen = json.loads(index.read_text(encoding="utf-8")[len("Search.setIndex("):-1])
        index.write_text("Search.setIndex(" + json.dumps({"envversion": frozen["envversion"],
                                                          "docnames": ["talks/alpha"]}) + ")"
                         if damage == "no words" else "Search.setIndex({", encoding="utf-8")
    touch(project / "talks/alpha.md")
    read, warnings, _ = build(project, "handout")
    assert read == ["index", *TALKS], warnings
    frozen = json.loads(index.read_text(encoding="utf-8")[len("Search.setIndex("):-1])
    assert frozen == whole, "the same index as before the damage (the talks did not change)"
    read, _, _ = build(project, "handout")
    assert read == [], "the index the build wrote is taken as it is"


def test_missing_image_is_a_located_warning_with_a_placeholder(project):
    _, warnings, out = build(project, "handout")
    line = next(n for n, text in enumerate(
        (project / "includes/_shared/includes/c-only.md").read_text().splitlines(), 1)
        if "absent" in text)
    assert re.search(rf"includes/_shared/includes/c-only\.md:{line}: WARNING: .*absent", warnings), warnings
    assert "included from" in warnings and "gamma.md" in warnings
    page = (out / "talks/gamma.html").read_text()
    # readers see a neutral frame; the warning is the author's, in the log and the preview
    assert "admonition warning" not in page and "Missing image" not in page
    assert re.search(r'<div class="talks-missing talks-missing-image" '
                     r'data-missing="[^"]*absent[^"]*"></div>', page), page


def test_the_preview_shows_the_missing_image_warning(project):
    read, _, out = build(project, "handout")
    assert "talks/gamma" in read
    read, _, out = build(project, "handout", talks_preview=True)
    assert read == [], "switching to the preview rewrites the pages without reading the talks"
    page = (out / "talks/gamma.html").read_text()
    assert "admonition warning" in page and re.search(r"Missing image: .*absent", page)
    assert "talks-missing-image" not in page


def test_missing_image_appearing_rebuilds_the_talk(project):
    build(project, "handout")
    shutil.copy(project / "diagrams/shared/loop.svg", project / "diagrams/shared/absent.svg")
    read, warnings, _ = build(project, "handout")
    assert read == ["talks/gamma"]
    assert "absent" not in warnings


def test_deck_notes_keep_their_formatting(project):
    _, _, out = build(project, "slides", "revealjs")
    page = (out / "talks/alpha.html").read_text()
    asides = re.findall(r'<aside class="notes">(.*?)</aside>', page, re.S)
    assert asides, "the deck has speaker notes"
    assert "<em>feeling</em>" in asides[0]
    assert asides[0].count("<p>") == 2, "paragraphs stay apart"
    assert "a bullet only the deck shows" in page


def test_handout_has_prose_citations_and_links_to_slides(project):
    _, warnings, out = build(project, "handout")
    page = (out / "talks/alpha.html").read_text()
    assert "Prose that every handout carries" in page
    assert "a bullet only the deck shows" not in page
    assert "Doe" in page and "Shared Fragments" in page, "the bibliography is rendered"
    assert re.search(r'href="\.\./\.\./slides/talks/alpha\.html#/\d+"', page)
    assert 'id="slide-1"' in page
    assert "bibtex" not in warnings, warnings


def test_math_uses_local_mathjax_and_notation_macros(project):
    _, _, out = build(project, "handout")
    page = (out / "talks/gamma.html").read_text()
    assert "mathjax/tex-svg.js" in page and "cdn.jsdelivr" not in page
    assert (out / "_static/mathjax/tex-svg.js").is_file()


def test_generated_warnings_are_mapped_to_the_fragment(project):
    """A MyST problem on a generated line is reported at the fragment that wrote it."""
    frag = project / "includes/_shared/includes/ab.md"
    frag.write_text(frag.read_text() + "\n\\notes{A reference to [nowhere](#no-such-target).}\n")
    _, warnings, _ = build(project, "handout")
    last = len(frag.read_text().splitlines())
    assert re.search(rf"includes/_shared/includes/ab\.md:{last}: WARNING", warnings), warnings


# -- the whole site ----------------------------------------------------------------------

def test_site_build_swaps_in_and_keeps_last_good_pages(project, tmp_path):
    from build_tools.site.build import SiteOptions, build_site

    out = tmp_path / "site"
    talks = [str(project / "talks" / f"{t}.md") for t in ("alpha", "beta", "gamma")]
    options = SiteOptions(talks=talks, out=str(out), project=str(REPO),
                          bib_files=[str(project / "references.bib")])
    report = build_site(options)
    assert report.ok, report.failed
    index = (out / "index.html").read_text()
    for title in ("Alpha Talk", "Beta Talk", "Gamma Talk", "The first of three", "Room Two"):
        assert title in index
    for variant in ("slides", "speaker-notes", "handout"):
        assert f'href="{variant}/alpha.html"' in index
        assert (out / variant / "alpha.html").is_file()
    assert (out / "handout/search.html").is_file()
    good = (out / "handout/beta.html").read_text()

    report = build_site(options)  # no change: nothing is read
    assert all(not r.read for r in report.results.values())

    beta = project / "talks/beta.md"
    beta.write_text(beta.read_text().replace("\\thanks", "\\include{_shared/includes/no-such.md}"))
    report = build_site(options)
    assert not report.ok and "beta" in report.failed
    assert ("handout", "beta") in report.kept
    assert (out / "handout/beta.html").read_text() == good
    assert "build failed" in (out / "index.html").read_text()
    assert not (tmp_path / "site.tmp").exists() and not (tmp_path / "site.old").exists()


def build_handouts(project: Path, name: str, parallel: int) -> tuple[object, str, Path]:
    """The handout variant built with ``parallel`` reading processes; (app, warnings, html)."""
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    out = project / "_build" / name
    warnings = io.StringIO()
    with patch_docutils(project), docutils_namespace():
        app = sphinx_application.Sphinx(
            str(project), str(project), str(out / "html"), str(out / "doctrees"), "html",
            confoverrides={"talks_variant": "handout"}, status=None, warning=warnings,
            parallel=parallel)
        for name, ext in app.extensions.items():
            if name.startswith("sphinx_revealjs"):
                ext.parallel_read_safe = True
        assert app.is_parallel_allowed("read") and app.parallel == parallel
        app.build()
    return app, warnings.getvalue(), out / "html"


def site_files(html: Path) -> dict[str, bytes]:
    """Every file of a built site by its path, but ``.buildinfo``, which hashes the
    configuration: that names each build's own doctree folder (the bibliography copies)."""
    return {str(p.relative_to(html)): p.read_bytes() for p in sorted(html.rglob("*"))
            if p.is_file() and p.name != ".buildinfo"}


def inventory(data: bytes) -> dict[tuple[str, str], tuple[str, str]]:
    """objects.inv: (name, role) -> (page, rest of the entry)."""
    import zlib

    _, body = data.split(b"compressed using zlib.\n", 1)
    entries = {}
    for line in zlib.decompress(body).decode().splitlines():
        name, role, priority, uri, title = line.split(" ", 4)
        entries[name, role] = (uri.split("#")[0], f"{priority} {uri.split('#', 1)[-1]} {title}")
    return entries


def differences(ours: dict[str, bytes], theirs: dict[str, bytes]) -> list[str]:
    """The first lines that differ, file by file."""
    import difflib

    found = []
    for name in sorted(set(ours) | set(theirs)):
        if ours.get(name) != theirs.get(name):
            a = ours.get(name, b"").decode("utf-8", "replace").splitlines()
            b = theirs.get(name, b"").decode("utf-8", "replace").splitlines()
            found.append(name + "\n" + "\n".join(list(difflib.unified_diff(a, b, lineterm=""))[2:12]))
    return found


def same_inventory(ours: dict[str, bytes], theirs: dict[str, bytes]) -> None:
    """The same entries; a label that several pages define (a shared fragment's figure)
    is listed at one of them, whichever Sphinx merged last, which a parallel read changes."""
    mine, other = inventory(ours["objects.inv"]), inventory(theirs["objects.inv"])
    assert mine.keys() == other.keys()
    for (name, role), (page, rest) in mine.items():
        their_page, their_rest = other[name, role]
        assert rest == their_rest, (name, role)
        if page != their_page:
            assert role == "std:label", (name, role, page, their_page)
            for files in (ours, theirs):
                for defining in (page, their_page):
                    assert f'id="{name}"'.encode() in files[defining], (name, defining)


def test_parallel_reading_gives_the_same_site(project):
    """Our extension reads safely in parallel: state merges, warnings keep their origin,
    and the site is the serial build's, file for file.

    sphinx-revealjs declares itself unsafe for parallel reading, which keeps every
    build serial; here it is declared safe for the html build so that ours is tested."""
    alpha = (project / "talks/alpha.md").read_text()
    for n in range(6):
        (project / f"talks/extra{n}.md").write_text(alpha.replace("Alpha Talk", f"Extra Talk {n}"))
    app, warnings, parallel = build_handouts(project, "parallel", 2)
    serial_app, serial_warnings, serial = build_handouts(project, "serial", 1)
    assert len(app.env.talks_info) == 9
    assert app.env.talks_info == serial_app.env.talks_info
    assert re.search(r"includes/_shared/includes/c-only\.md:\d+: WARNING: .*absent", warnings)
    assert sorted(warnings.splitlines()) == sorted(serial_warnings.splitlines())
    page = (parallel / "talks/extra3.html").read_text()
    assert "Extra Talk 3" in page and 'id="slide-1"' in page
    ours, theirs = site_files(parallel), site_files(serial)
    same_inventory(ours, theirs)
    assert differences({**ours, "objects.inv": b""}, {**theirs, "objects.inv": b""}) == []


def test_strict_fails_a_talk_with_warnings(project, tmp_path):
    from build_tools.site.build import SiteOptions, build_site

    talks = [str(project / "talks" / f"{t}.md") for t in ("alpha", "beta", "gamma")]
    report = build_site(SiteOptions(talks=talks, out=str(tmp_path / "site"), project=str(REPO),
                                    strict=True, variants=("handout",),
                                    bib_files=[str(project / "references.bib")]))
    assert not report.ok
    assert set(report.failed) == {"gamma"}, report.failed
    assert any("absent" in p for p in report.failed["gamma"])


def test_site_build_expands_each_variant_of_a_talk_once(project, tmp_path, monkeypatch):
    """The deck is prepared before Sphinx starts; its build and the handout's links use it."""
    from build_tools import api
    from build_tools.site.build import SiteOptions, build_site

    log = tmp_path / "expansions.log"
    expand_talk = api.expand_talk

    def counted(path, variant, *args, **kwargs):
        with open(log, "a", encoding="utf-8") as fh:  # the variant builds run in other processes
            fh.write(f"{os.path.basename(path)} {variant}\n")
        return expand_talk(path, variant, *args, **kwargs)

    monkeypatch.setattr(api, "expand_talk", counted)
    talks = [str(project / "talks" / f"{t}.md") for t in ("alpha", "beta", "gamma")]
    out = tmp_path / "site"
    report = build_site(SiteOptions(talks=talks, out=str(out), project=str(project)))
    assert report.ok, report.failed
    counts = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        counts[line] = counts.get(line, 0) + 1
    assert counts == {f"{t}.md {v}": 1 for t in ("alpha", "beta", "gamma")
                      for v in ("slides", "speaker-notes", "handout")}, counts
    handout = (out / "handout" / "alpha.html").read_text(encoding="utf-8")
    assert re.search(r'href="\.\./slides/alpha\.html#/\d+"', handout) and 'id="slide-1"' in handout
    log.unlink()
    assert build_site(SiteOptions(talks=talks, out=str(out), project=str(project))).ok
    assert not log.exists(), "a build with nothing to do expands nothing"
    touch(project / "includes/_shared/includes/ab.md")  # shared by alpha and beta
    assert build_site(SiteOptions(talks=talks, out=str(out), project=str(project))).ok
    assert sorted(log.read_text(encoding="utf-8").splitlines()) == sorted(
        f"{t}.md {v}" for t in ("alpha", "beta") for v in ("slides", "speaker-notes", "handout"))


def test_files_shown_by_raw_html_are_copied_into_the_site(tmp_path):
    from build_tools.site.build import SiteOptions, build_site

    project = tmp_path / "raw"
    (project / "talks").mkdir(parents=True)
    (project / "diagrams").mkdir()
    (project / "conf.py").write_text('extensions = ["myst_parser", "build_tools.sphinx_ext"]\n')
    for name in ("a", "b"):
        (project / "diagrams" / f"{name}.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><!--{name}--></svg>')
    (project / "talks" / "raw.md").write_text(
        "---\ntitle: Raw\n---\n\n## One\n\n"
        '<table><tr><td><img src="\\diagramsDir/a.svg" width="40%"></td></tr></table>\n\n'
        '<object data="\\diagramsDir/b.svg" type="image/svg+xml"></object>\n\n'
        '<div><img src="\\diagramsDir/gone.svg"></div>\n')
    out = tmp_path / "site"
    report = build_site(SiteOptions(talks=[str(project / "talks" / "raw.md")], out=str(out),
                                    project=str(project), variants=("handout", "slides")))
    for variant in ("handout", "slides"):
        page = (out / variant / "raw.html").read_text(encoding="utf-8")
        shown = re.findall(r'(?:src|data)="(\.\./_images/[^"]+)"', page)  # the variants' one folder
        assert len(shown) == 2 and all((out / variant / s).is_file() for s in shown), shown
        assert "/diagrams/" not in page.replace('"/diagrams/gone.svg"', "")
    assert any("raw.md:" in w and "gone.svg" in w for w in report.warnings()), report.warnings()


def test_an_image_that_appears_is_shown_by_the_next_build(tmp_path):
    from build_tools.site.build import SiteOptions, build_site

    project = tmp_path / "appear"
    (project / "talks").mkdir(parents=True)
    (project / "diagrams").mkdir()
    (project / "conf.py").write_text('extensions = ["myst_parser", "build_tools.sphinx_ext"]\n')
    talk = project / "talks" / "a.md"
    talk.write_text("---\ntitle: A\n---\n\n## Picture\n\n\\includediagram{\\diagramsDir/later}{40%}\n")
    options = SiteOptions(talks=[str(talk)], out=str(tmp_path / "site"), project=str(project))
    first = build_site(options)
    assert any("later.svg" in w for w in first.warnings())
    (project / "diagrams" / "later.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    second = build_site(options)
    assert not any("later.svg" in w for w in second.warnings()), second.warnings()
    for variant in ("slides", "handout"):
        page = (tmp_path / "site" / variant / "a.html").read_text(encoding="utf-8")
        [name] = set(re.findall(r'"\.\./_images/(later-\w+\.svg)"', page))  # named by content
        copy = tmp_path / "site" / "_images" / name  # one folder all variants share
        assert copy.read_text() == (project / "diagrams" / "later.svg").read_text(), variant


def test_the_variants_share_one_images_folder_and_a_rebuild_links_unchanged_pages(tmp_path):
    from build_tools.site.build import SiteOptions, build_site

    project = tmp_path / "shared"
    (project / "talks").mkdir(parents=True)
    (project / "diagrams").mkdir()
    (project / "conf.py").write_text('extensions = ["myst_parser", "build_tools.sphinx_ext"]\n')
    (project / "diagrams" / "loop.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    for name in ("a", "b"):
        (project / "talks" / f"{name}.md").write_text(
            f"---\ntitle: {name}\n---\n\n## Picture\n\n\\includediagram{{\\diagramsDir/loop}}{{40%}}\n")
    site = tmp_path / "site"
    options = SiteOptions(out=str(site), project=str(project))
    assert build_site(options).ok
    assert not list(site.glob("*/_images"))  # no variant keeps a copy of its own
    [picture] = site.glob("_images/loop-*.svg")
    for variant in ("handout", "slides", "speaker-notes"):
        for name in ("a", "b"):
            page = (site / variant / f"{name}.html").read_text(encoding="utf-8")
            assert f'"../_images/{picture.name}"' in page, (variant, name)
    work = tmp_path / ".work" / "site"  # what CI caches beside the site: the picture once
    copies = [work / variant / "html" / "_images" / picture.name
              for variant in ("handout", "slides", "speaker-notes")]
    assert {c.stat().st_ino for c in copies} == {picture.stat().st_ino}
    before = {p: p.stat().st_ino for p in site.glob("*/a.html")}
    (project / "talks" / "b.md").write_text((project / "talks" / "b.md").read_text() + "\nMore.\n")
    assert build_site(options).ok
    assert {p: p.stat().st_ino for p in site.glob("*/a.html")} == before  # linked, not rewritten
    assert "More." in (site / "handout" / "b.html").read_text(encoding="utf-8")


def test_figures_of_one_image_and_of_several_are_numbered_alike(project):
    shots = sorted(p.name for p in (project / "diagrams/shared").iterdir())[:1]
    image = f"/diagrams/shared/{shots[0]}"
    (project / "talks/alpha.md").write_text(
        "---\ntitle: Alpha Talk\n---\n\n## Figures\n\n"
        f"\\figure{{\\includeimg{{{image}}}}}{{One *image*.}}{{one-image}}\n\n"
        f"\\figure{{\\includeimg{{{image}}}\\includeimg{{{image}}}}}{{Two images.}}{{two-images}}\n\n"
        "See [](#two-images) and Figure \\ref{one-image}.\n\nSection \\ref{sec:gone} ends.\n",
        encoding="utf-8")
    _, warnings, out = build(project, "handout")
    page = (out / "talks/alpha.html").read_text(encoding="utf-8")
    numbers = re.findall(r'<span class="caption-number">([^<]*)</span>', page)
    assert numbers == ["Figure 1: ", "Figure 2: "], numbers
    assert 'alt="One image."' in page and page.count('alt="Two images."') == 2
    assert "Figure:" not in page  # no unnumbered prefix
    assert "two-images" not in warnings and "one-image" not in warnings
    assert "Section <span></span> ends." in page and "%s" not in page
    assert re.search(r"alpha\.md:13: WARNING: \\ref\{sec:gone\} names no numbered figure.*\[talks\.W-REF\]",
                     warnings), warnings
    assert re.search(r'and Figure <a class="reference internal" href="#one-image">'
                     r'<span class="std std-numref">1</span></a>', page)


def test_pandoc_markdown_lamd_talks_use_reaches_readers_rendered(project):
    """Issue "What readers see": a bracketed span, an inline footnote, a fenced div, a pause, a
    link without its scheme and a path in a comment, rendered by Sphinx as pandoc renders
    them: no brackets, colons, carets or dots shown, nothing refused."""
    (project / "talks/alpha.md").write_text(
        "---\ntitle: Alpha Talk\n---\n\n## Pandoc\n\nA \\fragment{word}{fade-in} b, and a note^[Said "
        "aside.].\n\n::: {.callout}\nInside the div.\n:::\n\nOne.\n\n. . .\n\nTwo.\n\n"
        "See [the site](www.example.org).\n\n<!--![image](../../../gp/tex/diagrams/x)-->\n",
        encoding="utf-8")
    for variant in ("slides", "handout"):
        _, warnings, out = build(project, variant)
        page = (out / "talks/alpha.html").read_text(encoding="utf-8")
        text = re.sub(r"<[^>]+>", "", page.split("<body", 1)[1])
        for shown in (":::", "]{.", "^[", ". . .", "www.example.org)"):
            assert shown not in text, (variant, shown)
        assert 'href="https://www.example.org"' in page and "Inside the div." in page
        assert re.search(r'<div class="callout[^"]*">\s*<p>Inside the div.</p>', page), variant
        assert "PATH-OUTSIDE" not in warnings and "gp/tex" not in warnings
        if variant == "slides":
            assert '<span class="fragment fade-in">word</span>' in page
            assert re.search(r'class="fragment[^"]*">\s*<p>Two.</p>', page)
        else:
            assert "word" in page and "Said aside." in page and 'class="footnote' in page


def test_transforms_no_talk_needs_are_left_out_and_each_still_names_a_sphinx_class(project):
    """Left out by name: a name Sphinx no longer has would leave its transform in, unseen."""
    import importlib

    from sphinx.util.docutils import docutils_namespace, patch_docutils

    from build_tools.sphinx_ext.speedups import UNUSED_TRANSFORMS

    for name in UNUSED_TRANSFORMS:
        module, _, cls = name.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), cls), type), name
    out = project / "_build" / "handout"
    with patch_docutils(project), docutils_namespace():
        app = sphinx_application.Sphinx(
            str(project), str(project), str(out / "html"), str(out / "doctrees"), "html",
            confoverrides={"talks_variant": "handout"}, status=None, warning=io.StringIO())
        registered = {f"{t.__module__}.{t.__qualname__}"
                      for t in [*app.registry.get_transforms(), *app.registry.get_post_transforms()]}
    assert registered and not registered & UNUSED_TRANSFORMS
    # SmartQuotes' work is done by the parser (``typography``), not by the transform
    assert app.config.smartquotes is False and app.config.talks_typography is True


def test_pages_made_by_other_code_are_made_anew(project, monkeypatch):
    """An upgrade (or an edit of the package) changes the code's fingerprint: every talk is
    read again, where the unchanged sources alone would have Sphinx reuse the old doctrees."""
    from build_tools import project as project_module

    first, _, _ = build(project, "handout")
    again, _, _ = build(project, "handout")
    assert first and again == []
    fingerprint = project_module.code_fingerprint()
    project_module.code_fingerprint.cache_clear()
    monkeypatch.setattr(project_module, "PACKAGE_DIR", project / "talks")  # other "code"
    try:
        assert project_module.code_fingerprint() != fingerprint
        upgraded, _, _ = build(project, "handout")
    finally:
        project_module.code_fingerprint.cache_clear()
    assert set(upgraded) == set(first)


def test_a_python_session_shows_its_doctest_flags_as_lamd_does(project):
    (project / "talks/alpha.md").write_text(
        "---\ntitle: Alpha Talk\n---\n\n## Code\n\n```pycon\n>>> f()  # doctest: +SKIP\n1\n```\n",
        encoding="utf-8")
    _, _, out = build(project, "handout")
    text = re.sub(r"<[^>]+>", "", (out / "talks/alpha.html").read_text(encoding="utf-8"))
    assert "# doctest: +SKIP" in text


def test_a_deck_keeps_no_table_of_its_contents_and_shows_every_slide(project):
    import pickle

    (project / "talks/alpha.md").write_text(
        "---\ntitle: Alpha Talk\n---\n\n## One\n\nFirst.\n\n## Two\n\nSecond.\n\n## Three\n\nThird.\n",
        encoding="utf-8")
    _, _, out = build(project, "slides", "revealjs")
    page = (out / "talks/alpha.html").read_text(encoding="utf-8")
    assert all(word in page for word in ("First.", "Second.", "Third."))
    assert len(re.findall(r"<section", page)) >= 3
    with open(out.parent / "doctrees" / "environment.pickle", "rb") as fh:
        env = pickle.load(fh)
    assert env.tocs["talks/alpha"].astext() == ""  # nothing kept of the slides' headings
    _, _, handout = build(project, "handout")
    assert "Three" in (handout / "talks/alpha.html").read_text(encoding="utf-8")


def test_remembered_entry_points_are_the_installed_ones():
    """Every caller of ``entry_points`` (by name or through importlib) gets what a fresh
    reading of the installed packages gives, for each group the builds look up."""
    import importlib
    from importlib.metadata import distributions

    from build_tools.sphinx_ext.speedups import ENTRY_POINT_USERS, remember_entry_points

    remember_entry_points()
    for group in ("sphinx.html_themes", "pybtex.backends", "pybtex.style.formatting",
                  "sphinxcontrib.bibtex.style.referencing"):
        fresh = {(ep.name, ep.value) for dist in distributions() for ep in dist.entry_points
                 if ep.group == group}
        assert fresh, group
        for name in ENTRY_POINT_USERS:
            lookup = getattr(importlib.import_module(name), "entry_points")
            assert {(ep.name, ep.value) for ep in lookup(group=group)} == fresh, (name, group)
    furo = importlib.import_module("importlib.metadata").entry_points(
        group="sphinx.html_themes", name="furo")
    assert [ep.name for ep in furo] == ["furo"]


def test_the_search_index_stems_in_c_and_gets_the_stems_of_the_pure_python_stemmer():
    """The search index's stemmer is PyStemmer's, and it stems every word of this project's
    talks, includes and macros as the pure-Python Snowball stemmer does (whose stems the
    browser's search, Sphinx's JavaScript stemmer, looks for)."""
    import Stemmer
    from snowballstemmer.english_stemmer import EnglishStemmer
    from sphinx.search.en import SearchEnglish

    index = SearchEnglish({})
    assert isinstance(index.stemmer, Stemmer.Stemmer)
    words = {w.lower() for folder in ("talks", "includes", "macros", "docs")
             for path in (ROOT / folder).rglob("*.md")
             for w in re.findall(r"\w+", path.read_text(encoding="utf-8"))}
    assert len(words) > 2000
    pure = EnglishStemmer()
    assert [index.stem(w) for w in sorted(words)] == [pure.stemWord(w) for w in sorted(words)]


def page_contents(page: Path) -> str:
    """The page's own table of contents, as the theme shows it beside the text."""
    found = re.search(r'<div class="toc-tree">(.*?)</div>', page.read_text(encoding="utf-8"), re.S)
    assert found, page
    return found.group(1)


def test_each_pages_table_of_contents_is_kept_in_a_file_and_read_when_the_page_is_written(project):
    import pickle

    from build_tools.sphinx_ext.navigation import ON_DISK, PageContents

    furo = {"html_theme": "furo"}  # the theme that shows the table beside the text
    build(project, "handout", **furo)
    doctrees = project / "_build/handout/doctrees"
    with open(doctrees / "environment.pickle", "rb") as file:
        tocs = pickle.load(file).tocs
    assert isinstance(tocs, PageContents) and set(tocs) >= {"talks/alpha", "talks/beta"}
    assert all(dict.__getitem__(tocs, doc) is ON_DISK for doc in tocs), "no table in the environment"
    alpha = page_contents(project / "_build/handout/html/talks/alpha.html")
    assert alpha.count("<li>") >= 2 and 'href="#"' in alpha

    # every page written again without reading a talk: each table comes from its file
    read, _, out = build(project, "handout", **furo,
                         talks_navigation=[["talks/alpha", "Alpha", ""]])
    assert read == []
    assert page_contents(out / "talks/alpha.html") == alpha

    # a table's file gone: its page is read again, which writes the file anew
    (doctrees / "talks/alpha.toc").unlink()
    read, _, out = build(project, "handout", **furo,
                         talks_navigation=[["talks/alpha", "Alpha", ""]])
    assert read == ["talks/alpha"]
    assert (doctrees / "talks/alpha.toc").is_file()
    assert page_contents(out / "talks/alpha.html") == alpha


def test_a_directive_option_block_reads_as_myst_reads_it():
    """``speedups.remember_directive_options``: the same tokens, a refused block refused
    each time, and the memo in use by myst-parser."""
    import pytest
    from myst_parser.parsers import directives, options

    from build_tools.sphinx_ext.speedups import remember_directive_options

    remember_directive_options()
    remember_directive_options()  # once is enough, however often a build sets it up
    assert getattr(directives.options_to_tokens, "talks_cached", False)
    for block in (":width: 70%\n:class: svgplot", "class: speaker-notes", "a: 'b'\nc: \"d e\""):
        mine, _ = directives.options_to_tokens(block)
        again, _ = directives.options_to_tokens(block)
        theirs, _ = options.options_to_tokens(block)
        assert [(k.value, v.value if v else None) for k, v in mine] == \
            [(k.value, v.value if v else None) for k, v in theirs] == \
            [(k.value, v.value if v else None) for k, v in again]
    for _ in range(2):
        with pytest.raises(options.TokenizeError):
            directives.options_to_tokens('a: "unclosed')
