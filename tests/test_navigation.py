"""The site's talks beside each handout, and the previous and next talk at its foot,
from the list the site builder hands Sphinx (no toctree of every talk)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from build_tools.navigation import CourseEntry
from build_tools.site.navigation import course_navigation

from conftest import require_module
from helpers import write_repo

ROOTS = Path(__file__).resolve().parent / "roots"
REPO = Path(__file__).resolve().parent.parent


def sidebar(page: str) -> list[str]:
    tree = page[page.index('class="sidebar-tree"'):]
    tree = tree[:tree.index("</div>")]
    return [text for text in re.findall(r">([^<>]+)</a>", tree)]


def test_a_course_is_in_lecture_order_and_a_repository_by_folder_newest_first(tmp_path):
    write_repo(tmp_path, {
        "course/lectures.csv": "lectureId\nsecond\nfirst\n",
        "course/first.md": "---\ntitle: First\n---\n",
        "course/second.md": "---\ntitle: Second\n---\n",
        "repo/_ml/old.md": "---\ntitle: Old ML\ndate: 2019-01-01\n---\n",
        "repo/_ml/new.md": "---\ntitle: New ML\ndate: 2024-01-01\n---\n",
        "repo/_gp/gp.md": "---\ntitle: GPs\ndate: 2020-01-01\n---\n",
    })
    course = course_navigation({str(tmp_path / f"course/{n}.md"): n for n in ("first", "second")})
    assert [CourseEntry.from_config(e) for e in course] == [
        CourseEntry("second", "Second"), CourseEntry("first", "First")]
    repo = course_navigation({str(tmp_path / "repo/_ml/old.md"): "ml/old",
                              str(tmp_path / "repo/_ml/new.md"): "ml/new",
                              str(tmp_path / "repo/_gp/gp.md"): "gp/gp"})
    assert repo == [["gp/gp", "GPs", "gp"], ["ml/new", "New ML", "ml"], ["ml/old", "Old ML", "ml"]]


def test_handouts_list_the_talks_and_link_their_neighbours(tmp_path):
    require_module("sphinx.application", "sphinx")
    from build_tools.site.build import build_site, SiteOptions

    project = tmp_path / "three-talks"
    shutil.copytree(ROOTS / "test-three-talks", project)
    out = tmp_path / "site"
    talks = [str(project / "talks" / f"{t}.md") for t in ("alpha", "beta", "gamma")]
    report = build_site(SiteOptions(talks=talks, out=str(out), project=str(REPO), exports=(),
                                    variants=("handout",),
                                    bib_files=[str(project / "references.bib")]))
    assert report.ok, report.failed
    titles = {"alpha": "Alpha Talk", "beta": "Beta Talk", "gamma": "Gamma Talk"}
    index = (out / "index.html").read_text()
    order = re.findall(r'variant-handout" href="handout/([^"]+)\.html"', index)
    assert order[0] == "gamma"  # the newest; the list beside each page follows the index
    for n, doc in enumerate(order):
        page = (out / "handout" / f"{doc}.html").read_text()
        assert sidebar(page) == [titles[d] for d in order]
        assert re.search(r'class="toctree-l1 current current-page"><a [^>]*>' + titles[doc], page)
        foot = page[page.index('class="related-pages"'):]
        after = re.search(r'class="next-page" href="([^"]+)\.html"', foot)
        before = re.search(r'class="prev-page" href="([^"]+)\.html"', foot)
        assert (after.group(1) if after else None) == (order[n + 1] if n + 1 < len(order) else None)
        assert (before.group(1) if before else None) == (order[n - 1] if n else None)
    assert "toctree" not in (project / "index.md").read_text()


def test_a_repository_page_lists_its_own_folder_and_one_link_per_other_folder():
    from build_tools.sphinx_ext.navigation import neighbours, sidebar_html

    entries = [CourseEntry("gp/a", "GP A", "gp"), CourseEntry("gp/b", "GP B", "gp"),
               CourseEntry("ml/c", "ML C", "ml"), CourseEntry("ml/d", "ML D", "ml"),
               CourseEntry("uq/e", "UQ E", "uq")]
    page = sidebar_html(entries, "ml/d", lambda doc: f"../{doc}.html")
    assert re.findall(r'caption-text">([^<]+)<', page) == ["ml", "Other subjects"]
    assert re.findall(r">([^<>]+)</a>", page) == ["ML C", "ML D", "gp (2)", "uq (1)"]
    assert 'href="../gp/a.html">gp (2)' in page and 'current-page"><a class="current' in page
    assert neighbours(entries, "ml/c") == (entries[1], entries[3])  # across folders too


def test_a_lecture_of_front_matter_alone_listed_in_lectures_csv_stays_a_lecture(tmp_path):
    from build_tools.site.discovery import find_pages, find_talks

    course = write_repo(tmp_path / "course", {
        "_lamd/_lamd.yml": "snippetsdir: ../snippets\n",
        "_lamd/lectures.csv": "lectureId\nplanned\nintro\n",
        "_lamd/intro.md": "---\ntitle: Intro\nlayout: lecture\n---\n\\include{x.md}\n",
        "_lamd/planned.md": "---\ntitle: Planned\nlayout: lecture\n---\n",
        "_lamd/about.md": "---\ntitle: About\nlayout: page\n---\nText.\n",
    })
    lamd = course / "_lamd"
    assert find_talks(course) == [str(lamd / "intro.md"), str(lamd / "planned.md")]
    assert find_pages(course, [lamd]) == [str(lamd / "about.md")]


def test_a_course_site_takes_its_title_and_author_from_its_jekyll_settings(tmp_path):
    from build_tools.site.build import _sphinx_overrides, SiteOptions
    from build_tools.site.discovery import site_identity
    from build_tools.site.index_page import render_index

    course = write_repo(tmp_path / "course", {
        "_config.yml": "title: Short  Program\nauthor:\n  name: Ada Lovelace\n  email:\n",
        "_lamd/_lamd.yml": "snippetsdir: ../snippets\n"})
    assert site_identity(course) == ("Short Program", "Ada Lovelace")
    overrides = _sphinx_overrides(SiteOptions(talks=[], out=str(tmp_path / "site")), course, [])
    assert {k: overrides[k] for k in ("project", "html_title", "copyright", "html_show_copyright")} \
        == {"project": "Short Program", "html_title": "Short Program", "copyright": "Ada Lovelace",
            "html_show_copyright": True}
    assert "<h1>Short Program</h1>" in render_index({}, ("handout",), {}, title="Short Program")
    (course / "_config.yml").write_text("baseurl: /x\n")
    assert _sphinx_overrides(SiteOptions(talks=[], out=str(tmp_path / "site")), course, [])[
        "html_show_copyright"] is False  # no bare "Copyright ©"


def test_furo_works_out_no_navigation_tree_the_course_sidebar_replaces(tmp_path):
    from types import SimpleNamespace

    furo = require_module("furo", "furo")
    from build_tools.sphinx_ext.navigation import before_the_theme, on_html_page_context

    asked = []

    def sphinx_toctree(**options):
        asked.append(options)
        return "<ul>every talk</ul>"

    app = SimpleNamespace(builder=SimpleNamespace(name="html"),
                          config=SimpleNamespace(talks_navigation=[["a", "A", ""], ["b", "B", ""]]))
    context = {"toctree": sphinx_toctree, "pathto": lambda doc: f"{doc}.html"}
    before_the_theme(app, "a", "page.html", context, None)
    assert furo._compute_navigation_tree(context) == ""  # what furo's handler does
    on_html_page_context(app, "a", "page.html", context, None)
    assert asked == [] and context["toctree"] is sphinx_toctree  # the templates get it back
    assert "A" in context["furo_navigation_tree"] and "B" in context["furo_navigation_tree"]
