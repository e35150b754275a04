"""The site stays consistent: partial builds, deleted, renamed and broken talks, each
checked on the assembled site (pages, index links, search entries)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from build_tools.site.build import SiteOptions, build_site

ROOTS = Path(__file__).resolve().parent / "roots"
VARIANT_DIRS = ("slides", "speaker-notes", "handout")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "three-talks"
    shutil.copytree(ROOTS / "test-three-talks", dest)
    return dest


def build(project: Path, *talks: str):
    return build_site(SiteOptions(talks=[str(project / t) for t in talks],
                                  out=str(project / "_build/site"), project=str(project)))


def listed(site: Path) -> list[str]:
    return re.findall(r'variant-handout" href="handout/([^"]+)\.html"',
                      (site / "index.html").read_text(encoding="utf-8"))


def pages(site: Path, doc: str) -> list[bool]:
    return [(site / v / f"{doc}.html").is_file() for v in VARIANT_DIRS]


def searchable(site: Path, doc: str) -> bool:
    """The handouts' search index has the document (its list of document names)."""
    text = (site / "handout/searchindex.js").read_text(encoding="utf-8")
    names = re.search(r'"docnames":\[([^\]]*)\]', text)
    return names is not None and f'"{doc}"' in names.group(1)


def test_partial_delete_rename_break_and_rebuild(project):
    site = project / "_build/site"
    assert build(project).ok
    assert sorted(listed(site)) == ["alpha", "beta", "gamma"]

    # a partial build updates its talk and keeps the others' pages and index rows
    alpha = project / "talks/alpha.md"
    alpha.write_text(alpha.read_text().replace("\\thanks", "\\notes{Freshly edited words.}\n\n\\thanks"))
    report = build(project, "talks/alpha.md")
    assert report.ok
    assert sorted(listed(site)) == ["alpha", "beta", "gamma"]
    assert all(pages(site, "beta")) and all(pages(site, "gamma"))
    assert "Freshly edited words" in (site / "handout/alpha.html").read_text()
    assert searchable(site, "beta")

    # a deleted talk's pages, index row and search entries go
    (project / "talks/gamma.md").unlink()
    assert build(project).ok
    assert sorted(listed(site)) == ["alpha", "beta"]
    assert not any(pages(site, "gamma")) and not searchable(site, "gamma")

    # a renamed talk is found under its new name only
    (project / "talks/beta.md").rename(project / "talks/delta.md")
    assert build(project).ok
    assert sorted(listed(site)) == ["alpha", "delta"]
    assert not any(pages(site, "beta")) and not searchable(site, "beta")
    assert all(pages(site, "delta")) and searchable(site, "delta")

    # a failed talk keeps its last good pages and the index marks it
    alpha.write_text(alpha.read_text().replace("\\thanks", "\\include{_shared/includes/gone.md}"))
    report = build(project)
    assert not report.ok and "alpha" in report.failed
    assert all(pages(site, "alpha"))
    assert "Freshly edited words" in (site / "handout/alpha.html").read_text()
    index = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(r'id="talk-alpha">\s*<h2>[^<]*<span class="failed"', index)

    # a partial rebuild of another talk keeps the failed one's pages and its mark
    delta = project / "talks/delta.md"
    delta.write_text(delta.read_text().replace("\\thanks", "\\notes{Delta again.}\n\n\\thanks"))
    report = build(project, "talks/delta.md")
    assert sorted(listed(site)) == ["alpha", "delta"]
    assert "Delta again" in (site / "handout/delta.html").read_text()
    assert all(pages(site, "alpha"))
    assert 'class="failed"' in (site / "index.html").read_text(encoding="utf-8")


def test_a_named_talk_builds_alone_and_the_site_keeps_what_it_holds(project):
    site = project / "_build/site"
    report = build(project, "talks/beta.md")
    assert report.ok and list(report.talks) == ["beta"]
    assert listed(site) == ["beta"] and not any(pages(site, "alpha"))
    assert not searchable(site, "alpha")

    # another named talk joins the one the site holds; the whole project comes with no names
    report = build(project, "talks/gamma.md")
    assert sorted(report.talks) == ["beta", "gamma"] and sorted(listed(site)) == ["beta", "gamma"]
    assert all(pages(site, "beta")) and searchable(site, "beta")
    assert sorted(build(project).talks) == ["alpha", "beta", "gamma"]
    assert sorted(listed(site)) == ["alpha", "beta", "gamma"]


def test_pages_render_once_in_the_handout_theme_and_are_listed(project):
    seeds = Path(__file__).resolve().parent.parent / "pages"
    shutil.copytree(seeds, project / "pages")
    assert build(project).ok
    site = project / "_build/site"
    page = site / "handout/pages/senior-ml-engineers.html"
    assert page.is_file() and "Senior Machine Learning Engineers" in page.read_text()
    assert not (site / "slides/pages/senior-ml-engineers.html").exists()
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="handout/pages/ml-academy-2025.html"' in index
    assert "lead the development of our software culture" in index  # the excerpt
    assert sorted(listed(site)) == ["alpha", "beta", "gamma"]  # pages are no talks


def site_files(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_every_talk_in_every_variant_the_same_from_parallel_and_serial_builds(project):
    """Nine talks: the decks are prepared by a pool of processes (eight or more talks) and
    the three variants are built at once, each in its own process; every talk's page in
    every variant shows that talk in that variant, as a build in one process at a time does."""
    alpha = (project / "talks/alpha.md").read_text()
    for n in range(6):
        (project / f"talks/extra{n}.md").write_text(alpha.replace("Alpha Talk", f"Extra Talk {n}"))
    docs = {"alpha": "Alpha Talk", "beta": "Beta Talk", "gamma": "Gamma Talk",
            **{f"extra{n}": f"Extra Talk {n}" for n in range(6)}}
    sites = {}
    for jobs in (None, 1):
        out = project / "_build" / f"site-{jobs or 'all'}"
        report = build_site(SiteOptions(out=str(out), project=str(project), jobs=jobs))
        assert report.ok, report.failed
        assert {v: sorted(r.read) for v, r in report.results.items()} == \
            {v: sorted(["index", *docs]) for v in VARIANT_DIRS}
        sites[jobs] = out
    site = sites[None]
    assert sorted(listed(site)) == sorted(docs)
    for doc, title in docs.items():
        slides, notes, handout = ((site / v / f"{doc}.html").read_text(encoding="utf-8")
                                  for v in VARIANT_DIRS)
        assert all(title in page for page in (slides, notes, handout)), doc
        assert 'class="reveal"' in slides and "a bullet only the deck shows" in slides
        assert "a bullet only the deck shows" in notes and "Say this with" in notes
        assert "Prose that every handout carries" in notes
        assert "Prose that every handout carries" in handout
        assert "a bullet only the deck shows" not in handout and "Say this with" not in handout
        assert searchable(site, doc)
    parallel, serial = site_files(sites[None]), site_files(sites[1])
    assert sorted(parallel) == sorted(serial)
    assert [name for name in parallel if parallel[name] != serial[name]] == []
