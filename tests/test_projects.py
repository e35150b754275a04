"""Projects: found (never the tool's own), made by `talks init`, configured once, and lamd
course repositories built in place with the user's path mapping."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from click.testing import CliRunner

from build_tools.cli import main
from build_tools.lamd import lamd_settings
from build_tools.paths import map_path, path_mappings

from conftest import SHARED, absent_data
from helpers import write_repo

COURSE = SHARED / "reference" / "course-execed"
SNIPPETS = SHARED / "corpus" / "snippets"
BIBLIOGRAPHY = SHARED / "corpus" / "bibliography"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_mapping_from_the_environment_overrides_the_user_file(isolated_user, tmp_path, monkeypatch):
    config = isolated_user / ".config" / "talks"
    config.mkdir(parents=True)
    (config / "paths.yml").write_text("$HOME/lawrennd/snippets: /from/file\n"
                                      "$HOME/lawrennd/bibliography: /bib\n", encoding="utf-8")
    assert map_path("$HOME/lawrennd/snippets/_ml")[0] == "/from/file/_ml"
    monkeypatch.setenv("TALKS_PATH_MAP", f"$HOME/lawrennd/snippets={tmp_path}")
    assert map_path("$HOME/lawrennd/snippets")[0] == str(tmp_path)
    assert map_path(f"{isolated_user}/lawrennd/snippets")[0] == str(tmp_path)  # as expanded
    assert map_path("$HOME/elsewhere") == ("$HOME/elsewhere", None)
    assert {m.origin for m in path_mappings()} == {"TALKS_PATH_MAP", str(config / "paths.yml")}


def test_lamd_settings_map_paths_and_outputs(tmp_path, monkeypatch):
    write_repo(tmp_path, {"_lamd/_lamd.yml": "snippetsdir: $HOME/lawrennd/snippets\n"
                          "diagramsdir: ./slides/diagrams/\nipynb: True\ndocx: False\n"
                          "pdf: True\nvenue: Cambridge\nlayout: lecture\n"})
    monkeypatch.setenv("TALKS_PATH_MAP", f"$HOME/lawrennd/snippets={tmp_path / 'snips'}")
    settings = {s.name: s for s in lamd_settings(tmp_path / "_lamd")}
    assert settings["snippetsdir"].value == str(tmp_path / "snips")
    assert "mapped by TALKS_PATH_MAP" in settings["snippetsdir"].source
    assert settings["exports"].value == ["ipynb", "slides-pdf"]
    assert settings["venue"].value == "Cambridge" and "layout" not in settings


def test_config_prints_lamd_settings_and_the_mapping(tmp_path, monkeypatch):
    write_repo(tmp_path, {"_lamd/_lamd.yml": "snippetsdir: $HOME/lawrennd/snippets\n",
                          "_lamd/a.md": "---\ntitle: A\n---\n"})
    monkeypatch.setenv("TALKS_PATH_MAP", f"$HOME/lawrennd/snippets={tmp_path}")
    monkeypatch.chdir(tmp_path)
    result = run("config")
    assert result.exit_code == 0, result.output
    assert f"snippetsdir: '{tmp_path}'" in result.output
    assert f"$HOME/lawrennd/snippets = {tmp_path}    # TALKS_PATH_MAP" in result.output
    assert "talks_exports = None    # default" in result.output


def test_build_outside_a_project_says_what_it_looked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("build", "--quiet")
    assert result.exit_code != 0
    assert "looked for a conf.py" in result.output and "talks init" in result.output
    assert not (tmp_path / "_build" / "site").exists()
    assert "Traceback" not in result.output


def test_init_makes_a_project_that_builds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("init", "course", "--title", "First Steps")
    assert result.exit_code == 0, result.output
    project = tmp_path / "course"
    assert {p.name for p in project.iterdir()} >= {"conf.py", "talks", "includes", "pages"}
    monkeypatch.chdir(project)
    result = run("build", "--quiet", "--to", "none")
    assert result.exit_code == 0, result.output
    index = (project / "_build/site/index.html").read_text(encoding="utf-8")
    assert "First Steps" in index
    assert "Accelerate" not in index  # never the tool's own talks


def test_new_outside_a_project_makes_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("new", "A Talk")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "conf.py").is_file() and (tmp_path / "talks" / "a-talk.md").is_file()


def _course_copy(tmp_path: Path) -> Path:
    if not COURSE.is_dir() or not SNIPPETS.is_dir():
        absent_data("the reference course course-execed or the corpus snippets")
    course = tmp_path / "course-execed"
    # lamd's own outputs stay behind; the course's diagrams come along
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("*.slides.html", "_lectures"))
    for path in [course, *course.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    return course


KNOWN_MISSING_UPSTREAM = {"_software/includes/mythical-man-month.md"}
"""Includes the course names that the snippets snapshot no longer has (moved upstream)."""


def test_lamd_course_builds_in_place_in_lecture_order(tmp_path, monkeypatch):
    course = _course_copy(tmp_path)
    monkeypatch.setenv("TALKS_PATH_MAP", f"$HOME/lawrennd/snippets={SNIPPETS}:"
                                         f"$HOME/lawrennd/bibliography={BIBLIOGRAPHY}")
    monkeypatch.chdir(course)
    started = time.monotonic()
    result = run("build", "--quiet")
    elapsed = time.monotonic() - started
    missing = set(re.findall(r"include file not found: (\S+)", result.output))
    assert missing <= KNOWN_MISSING_UPSTREAM, missing
    # a lecture whose include is missing fails (exit 1); no other does
    naming = {p.stem for p in (course / "_lamd").glob("*.md")
              if any(m in p.read_text(encoding="utf-8") for m in missing)}
    failed = set(re.findall(r"^error: talk '([^']+)' failed", result.output, re.M))
    assert failed == naming, result.output[-3000:]
    assert result.exit_code == (1 if failed else 0), result.output[-3000:]
    assert "Traceback" not in result.output and "build stopped" not in result.output
    index = (course / "_build/site/index.html").read_text(encoding="utf-8")
    order = re.findall(r'variant-handout" href="handout/([^"]+)\.html"', index)
    expected = [row.strip() for row in (course / "_lamd/lectures.csv").read_text().splitlines()[1:]]
    assert order == expected
    bib_lines = re.findall(r"^.*W-BIB\]$", result.output, re.M)
    print(f"course-execed: {len(order)} lectures, {len(missing)} missing include(s), "
          f"{len(re.findall('W-IMAGE-MISSING', result.output))} missing image warning(s), "
          f"{len(bib_lines)} bibliography line(s), {elapsed:.1f}s")
    assert_course_pages(course / "_build/site/handout", expected)
    assert_readers_see_what_lamd_shows(course / "_build/site")
    # the shared bibliographies' defects in entries the course never cites: a line a file
    whole_files = [line for line in bib_lines if "lists them all" in line]
    assert 0 < len(whole_files) <= len(list(BIBLIOGRAPHY.glob("*.bib")))
    assert len(bib_lines) - len(whole_files) <= 3 * len(re.findall(r"cites '", result.output)) + 3


def assert_course_pages(handout: Path, lectures: list[str]) -> None:
    """Each lecture's handout lists the lectures in course order beside it, links the
    lecture before and after it, and shows readers no warning box."""
    for n, lecture in enumerate(lectures):
        page = (handout / f"{lecture}.html").read_text(encoding="utf-8")
        tree = page[page.index('class="sidebar-tree"'):]
        tree = tree[:tree.index("</div>")]
        listed = re.findall(r'href="([^"#]+)\.html"|(current-page)', tree)
        assert [name or lecture for name, _ in listed] == lectures
        foot = page[page.index('class="related-pages"'):]
        if n + 1 < len(lectures):
            assert re.search(rf'class="next-page" href="{lectures[n + 1]}\.html"', foot)
        if n > 0:
            assert re.search(rf'class="prev-page" href="{lectures[n - 1]}\.html"', foot)
        assert "admonition warning" not in page


def raw_markup_benchmark():
    import importlib.util
    import sys

    benchmarks = Path(__file__).resolve().parent.parent / "benchmarks"
    if str(benchmarks) not in sys.path:  # its sibling modules, as when it runs as a script
        sys.path.append(str(benchmarks))
    spec = importlib.util.spec_from_file_location("raw_markup", benchmarks / "raw_markup.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["raw_markup"] = module
    spec.loader.exec_module(module)
    return module


def assert_readers_see_what_lamd_shows(site: Path) -> None:
    """What readers see on the real course (issue "What readers see"): no source markup on
    any page; the course's own title and author; figures numbered, their alt text their
    caption; the speaker notes' sentences whole; portraits without their pictures as names;
    a fade-in fragment and a pause in the decks."""
    raw = raw_markup_benchmark()
    for page in raw.pages(site):
        text = raw.visible_text(page)
        kinds, names = raw.count(text)
        assert not sum(kinds.values()), (page.relative_to(site), kinds, names)
        assert "Figure:" not in text, page.relative_to(site)  # captions are numbered or bare
    for page in sorted((site / "handout").glob("*.html")):
        html = page.read_text(encoding="utf-8")
        assert re.search(r"<title>[^<]*Short Introduction Program</title>", html), page.name
        assert 'sidebar-brand-text">Short Introduction Program<' in html
        assert "Copyright &#169; Neil D. Lawrence" in html, page.name
        assert_figures_numbered_with_their_captions_as_alt_text(html, page.name)
    notes = (site / "speaker-notes/the-new-world.html").read_text(encoding="utf-8")
    assert re.search(r"<p>For further thoughts see Guardian article on <a [^>]*>marketing in the "
                     r"internet era</a> from 2015.</p>", notes)
    assert re.search(r"<p>You can also check my blog post on <a [^>]*>System Zero</a>. This was "
                     r"also written in 2015.</p>", notes)
    for variant in ("handout", "slides"):
        people = (site / variant / "data-quality.html").read_text(encoding="utf-8")
        assert re.search(r'<figure class="talks-portrait"[^>]*><a href="https://www.linkedin.com/in/'
                         r'emwebaze/"[^>]*><span class="talks-initials"[^>]*>EM</span></a><figcaption>'
                         r'<a [^>]*>Ernest Mwebaze</a>', people), variant
    assert re.search(r'<div class="fragment fade-in">\s*<small>\s*<p>Outline of the DeepFace',
                     (site / "slides/the-new-world.html").read_text(encoding="utf-8"))
    deck = (site / "slides/bringing-together.html").read_text(encoding="utf-8")
    two_answers = deck[deck.index("<h2>Two Answers</h2>"):]
    two_answers = two_answers[:two_answers.index("</section>")]
    assert re.search(r'class="fragment[^"]*">.*More controversially', two_answers, re.S), two_answers


SINGLE_IMAGE_FIGURE_RE = re.compile(
    r'<figure[^>]*>\s*(?:<a [^>]*>\s*)?<img alt="([^"]*)"[^>]*>\s*(?:</a>\s*)?<figcaption>\s*<p>'
    r'<span class="caption-number">[^<]*</span><span class="caption-text">(.*?)</span><a class="headerlink"',
    re.S)
CITATION_SPAN_RE = re.compile(r'\s*<span class="citation">.*?</a>\)?</span>', re.S)


def assert_figures_numbered_with_their_captions_as_alt_text(html: str, name: str) -> None:
    import html as entities

    def words(text: str) -> str:
        text = entities.unescape(re.sub(r"<[^>]+>", "", text))
        return " ".join(text.translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\"")).split())

    figures = len(re.findall(r'<figure(?! class="talks-portrait")[ >]', html))
    numbers = [int(n) for n in re.findall(r'<span class="caption-number">Figure (\d+): </span>', html)]
    assert numbers == list(range(1, figures + 1)), (name, numbers, figures)
    for alt, caption in SINGLE_IMAGE_FIGURE_RE.findall(html):
        assert words(alt) == words(CITATION_SPAN_RE.sub("", caption)), (name, alt)


def test_front_matter_session_orders_a_course_and_dates_order_talks(tmp_path):
    from build_tools.site.index_page import index_order, talk_rows

    write_repo(tmp_path, {"c/b.md": "---\ntitle: B\nsession: 1\n---\n",
                          "c/a.md": "---\ntitle: A\nweek: 2\nsession: 1\n---\n",
                          "c/z.md": "---\ntitle: Z\nweek: 1\nsession: 2\n---\n",
                          "t/old.md": "---\ntitle: Old\ndate: 2020-01-01\n---\n",
                          "t/new.md": "---\ntitle: New\ndate: 2024-01-01\n---\n"})
    course = talk_rows({str(tmp_path / f"c/{n}.md"): n for n in "abz"}, {})
    assert [doc for doc, _ in index_order(course)] == ["b", "z", "a"]
    plain = talk_rows({str(tmp_path / f"t/{n}.md"): n for n in ("old", "new")}, {})
    assert [doc for doc, _ in index_order(plain)] == ["new", "old"]
