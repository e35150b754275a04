"""Every lamd repository builds in place: a speaker's talks repository (subject folders with
their own settings), a course whose settings are in ``_lamd/_config.yml``, and a folder of
talks on its own; each talk takes its folder's settings, then its parents', then the
project's, and ``talks config`` says which file gave each."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from build_tools.cli import main
from build_tools.lamd import folder_settings, lamd_settings, snippet_dirs
from build_tools.project import find_project_root, one_view_of_projects, project_kind, talk_folders

from conftest import CORPUS, SHARED, absent_data
from helpers import write_repo

COURSE = SHARED / "reference" / "course-execed"
TALK = "---\ntitle: {title}\ndate: {date}\n---\n\\include{{_s/includes/x.md}}\n"
JEKYLL = ("title: My site\nbaseurl: /talks\nauthor:\n  name: Somebody\ntransition: none\n"
          "notesdir: _notes\nghub:\n- organization: someone\n")
"""A Jekyll site's settings, with keys lamd's also have (as the real talks repository's)."""


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def mapping(snippets: Path, bibliography: Path | None = None) -> str:
    pairs = [f"$HOME/lawrennd/snippets={snippets}"]
    if bibliography is not None:
        pairs.append(f"$HOME/lawrennd/bibliography={bibliography}")
    return ":".join(pairs)


def talks_repository(root: Path) -> Path:
    """A small talks repository: a Jekyll site whose subject folders carry lamd settings."""
    return write_repo(root, {
        "_config.yml": JEKYLL,
        "_ml/_lamd.yml": "snippetsdir: $HOME/lawrennd/snippets/\nvenue: ML venue\n",
        "_ml/old.md": TALK.format(title="Old ML", date="2019-05-01"),
        "_ml/new.md": TALK.format(title="New ML", date="2024-05-01"),
        "_gp/_config.yml": "ghub:\n- organization: someone\ndiagramsdir: ./slides/diagrams/\n",
        "_gp/gp.md": TALK.format(title="GP", date="2021-01-01"),
        "_drafts/draft.md": TALK.format(title="Draft", date="2025-01-01"),
        "snippets/_s/includes/x.md": "FROM THE SNIPPETS\n",
    })


# -- detection ----------------------------------------------------------------------------

def test_a_talks_repository_is_one_project_from_its_root_and_from_each_folder(tmp_path):
    repo = talks_repository(tmp_path / "talks")
    for start in (repo, repo / "_ml", repo / "_gp" / "gp.md"):
        assert find_project_root(start) == repo
    assert project_kind(repo) == "lamd talks repository"
    assert talk_folders(repo) == [repo / "_gp", repo / "_ml"]  # drafts are not published


def test_a_build_looks_for_each_folders_project_once_and_the_next_build_looks_anew(tmp_path):
    repo = talks_repository(tmp_path / "talks")
    with one_view_of_projects():
        assert find_project_root(repo / "_ml" / "a.md") == repo
        (repo / "_ml" / "conf.py").write_text("", encoding="utf-8")  # mid-build: not seen
        assert find_project_root(repo / "_ml" / "b.md") == repo
        with one_view_of_projects():  # a build inside a build keeps the outer view
            assert find_project_root(repo / "_ml") == repo
    assert find_project_root(repo / "_ml" / "a.md") == repo / "_ml"


def test_a_jekyll_site_alone_is_no_project(tmp_path):
    write_repo(tmp_path, {"site/_config.yml": "title: My site\nbaseurl: /blog\n", "site/_posts/p.md": "x\n",
                          "site/about.md": "---\nlayout: page\n---\n"})
    assert find_project_root(tmp_path / "site") is None


def test_a_folder_takes_its_settings_then_its_parents_then_the_repositorys(tmp_path, monkeypatch):
    repo = talks_repository(tmp_path / "talks")
    monkeypatch.setenv("TALKS_PATH_MAP", mapping(repo / "snippets"))
    ml, gp = folder_settings(str(repo / "_ml")), folder_settings(str(repo / "_gp"))
    assert ml["venue"].file == str(repo / "_ml" / "_lamd.yml")
    assert not {"title", "transition", "notesdir"} & set(ml)  # the Jekyll file is not lamd's
    # _gp names no snippets tree: it takes the one its sibling folders agree on
    assert gp["snippetsdir"].shared and gp["snippetsdir"].file == str(repo / "_ml" / "_lamd.yml")
    assert snippet_dirs(str(repo / "_gp")) == [str(repo / "snippets")]
    source = {s.name: s.source for s in lamd_settings(repo / "_gp")}["snippetsdir"]
    assert "shared by the talks repository's folders" in source and "TALKS_PATH_MAP" in source


def test_the_nearer_settings_file_wins(tmp_path):
    write_repo(tmp_path, {
        "repo/_lamd/_config.yml": "ghub: x\nvenue: From config\nauthor: Config Author\n",
        "repo/_lamd/_lamd.yml": "ghub: x\nvenue: From lamd\n",
        "repo/_lamd/t.md": "---\ntitle: t\n---\n",
    })
    settings = folder_settings(str(tmp_path / "repo" / "_lamd"))
    assert settings["venue"].value == "From lamd" and settings["author"].value == "Config Author"


def test_a_course_whose_settings_are_in_lamd_config_yml_is_a_course(tmp_path):
    write_repo(tmp_path, {"course/_lamd/_config.yml": "snippetsdir: ../snippets\n",
                          "course/_lamd/one.md": "---\ntitle: One\n---\n"})
    assert project_kind(tmp_path / "course") == "lamd course"
    assert find_project_root(tmp_path / "course" / "_lamd" / "one.md") == tmp_path / "course"


# -- building in place ---------------------------------------------------------------------

def test_a_talks_repository_builds_in_place_grouped_by_folder(tmp_path, monkeypatch):
    repo = talks_repository(tmp_path / "talks")
    monkeypatch.setenv("TALKS_PATH_MAP", mapping(repo / "snippets"))
    monkeypatch.chdir(repo)
    result = run("build", "--quiet", "--to", "none", "--variant", "handout")
    assert result.exit_code == 0, result.output
    index = (repo / "_build/site/index.html").read_text(encoding="utf-8")
    groups = re.findall(r'<h2 class="group" id="group-([^"]+)"', index)
    assert groups == ["gp", "ml"]
    order = re.findall(r'href="handout/([^"]+)\.html"', index)
    assert order == ["gp/gp", "ml/new", "ml/old"]  # newest first within a folder
    page = (repo / "_build/site/handout/gp/gp.html").read_text(encoding="utf-8")
    assert "FROM THE SNIPPETS" in page and "draft" not in index


def test_a_folder_of_a_talks_repository_builds_alone(tmp_path, monkeypatch):
    repo = talks_repository(tmp_path / "talks")
    monkeypatch.setenv("TALKS_PATH_MAP", mapping(repo / "snippets"))
    monkeypatch.chdir(repo)
    result = run("build", "_ml", "--quiet", "--to", "none", "--variant", "handout")
    assert result.exit_code == 0, result.output
    index = (repo / "_build/site/index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="handout/([^"]+)\.html"', index) == ["new", "old"]


def test_a_folder_without_talks_is_refused_and_the_site_kept(tmp_path, monkeypatch):
    repo = talks_repository(tmp_path / "talks")
    monkeypatch.setenv("TALKS_PATH_MAP", mapping(repo / "snippets"))
    monkeypatch.chdir(repo)
    assert run("build", "_ml", "--quiet", "--to", "none", "--variant", "handout").exit_code == 0
    index = (repo / "_build/site/index.html").read_text(encoding="utf-8")
    result = run("build", "snippets", "--quiet", "--to", "none")
    assert result.exit_code == 2 and "snippets holds no talks" in result.output
    assert "Traceback" not in result.output
    assert (repo / "_build/site/index.html").read_text(encoding="utf-8") == index


def test_config_in_a_folder_shows_its_settings_and_their_files(tmp_path, monkeypatch):
    repo = talks_repository(tmp_path / "talks")
    monkeypatch.setenv("TALKS_PATH_MAP", mapping(repo / "snippets"))
    monkeypatch.chdir(repo / "_gp")
    output = run("config").output
    assert "# project: .. (lamd talks repository)" in output
    assert re.search(r"^diagramsdir: './slides/diagrams/'    # _config.yml$", output, re.M)
    assert re.search(r"^snippetsdir: '.*snippets'    # \.\./_ml/_lamd\.yml, shared", output, re.M)
    assert "venue" not in output  # _ml's own setting, not _gp's


def test_the_shared_talks_repository_builds_in_place(tmp_path, monkeypatch):
    """The speaker's real talks repository, with only the path mapping set."""
    if not (CORPUS / "talks").is_dir():
        absent_data("the corpus")
    repo = tmp_path / "talks"
    shutil.copytree(CORPUS / "talks", repo)
    monkeypatch.setenv("TALKS_PATH_MAP", mapping(CORPUS / "snippets", CORPUS / "bibliography"))
    monkeypatch.chdir(repo)
    result = run("build", "--quiet", "--to", "none", "--variant", "handout")
    assert "Traceback" not in result.output
    index = (repo / "_build/site/index.html").read_text(encoding="utf-8")
    listed = re.findall(r'href="handout/([^"]+)\.html"', index)
    failed = len(re.findall(r'class="failed"', index))
    built = len(listed) - failed
    print(f"talks repository: {len(listed)} talks listed, {built} built, {failed} failed")
    assert built >= 220
    assert {"ml", "gp", "ai"} <= set(re.findall(r'id="group-([^"]+)"', index))
    for folder in ("_ml", "_gp"):
        monkeypatch.chdir(repo / folder)
        output = run("config").output
        assert "# lamd settings for the talks in ./" in output
        assert re.search(r"^snippetsdir: '.*'    # .*mapped by TALKS_PATH_MAP", output, re.M)


def test_a_course_with_its_settings_in_config_yml_builds_in_place(tmp_path, monkeypatch):
    if not COURSE.is_dir() or not (CORPUS / "snippets").is_dir():
        absent_data("the reference course course-execed or the corpus snippets")
    course = tmp_path / "course"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("slides", "_lectures"))
    (course / "_lamd" / "_lamd.yml").rename(course / "_lamd" / "_config.yml")
    monkeypatch.setenv("TALKS_PATH_MAP", mapping(CORPUS / "snippets"))
    monkeypatch.chdir(course)
    result = run("build", "--quiet", "--to", "none", "--variant", "handout")
    assert "no talks project" not in result.output and "Traceback" not in result.output
    lectures = {p.stem for p in (course / "_lamd").glob("*.md")}
    built = {p.stem for p in (course / "_build/site/handout").glob("*.html")} & lectures
    assert built == lectures


def test_serve_previews_a_talks_repository_and_rebuilds_an_edited_talk(tmp_path):
    import os

    from test_serve import get, rebuilt_after, serving, status

    repo = talks_repository(tmp_path / "talks")
    env = {**os.environ, "TALKS_PATH_MAP": mapping(repo / "snippets")}
    with serving(repo, env) as base:
        first = status(base)
        assert sorted(d for d in first["rebuilt"]["handout"] if d != "index") == \
            ["gp/gp", "ml/new", "ml/old"]
        assert "FROM THE SNIPPETS" in get(base + "handout/gp/gp.html").decode()
        talk = repo / "_ml" / "new.md"
        talk.write_text(talk.read_text(encoding="utf-8") + "\nEdited while served.\n",
                        encoding="utf-8")
        after = rebuilt_after(base, first["version"], "the rebuild after an edit", 120)
        assert after["rebuilt"]["handout"] == ["ml/new"]
        assert "Edited while served." in get(base + "handout/ml/new.html").decode()


def test_a_folder_this_user_cannot_list_is_passed_over(tmp_path):
    """Finding a project looks at every folder above a lone folder of talks; one the user
    may not list (many a home folder) is none of theirs and stops nothing.  Run as an
    ordinary user: root may list anything."""
    import os
    import shutil
    import subprocess
    import sys

    setpriv = shutil.which("setpriv")  # util-linux, in every Debian
    if setpriv is None or os.geteuid() != 0:
        pytest.skip("runs as another user: needs root and setpriv")
    solo = write_repo(tmp_path / "solo", {"_lamd.yml": "venue: Somewhere\n",
                                          "t.md": "---\ntitle: t\n---\n"})
    for path in [*tmp_path.parents, *solo.rglob("*"), solo]:
        path.chmod(path.stat().st_mode | 0o005)
    tmp_path.chmod(0o711)  # others may pass through, not list it
    check = ("from build_tools.project import find_project_root, talk_folders; "
             f"r = find_project_root({str(solo / 't.md')!r}); "
             "print(r, [f.name for f in talk_folders(r)])")
    done = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-c", check], capture_output=True, text=True,
                          cwd="/", timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(solo), "['solo']"]


def test_diagrams_are_found_in_the_mapped_slides_repository_or_missed_once(tmp_path, monkeypatch):
    """lamd's ``./slides/diagrams/`` is the slides repository's ``diagrams/``, which
    ``slidesdir`` names; unmapped, one warning says where the tool looked."""
    figure = "\\figure{\\includediagram{\\diagramsDir/ml/loop}{40%}}{A loop}{loop}\n"
    repo = write_repo(tmp_path / "talks", {
        "_ml/_lamd.yml": "diagramsdir: ./slides/diagrams/\nslidesdir: $HOME/someone/slides/\n",
        **{f"_ml/t{i}.md": f"---\ntitle: T{i}\ndate: 2024-01-0{i}\n---\n\n## One\n\n" + figure * 3
           for i in (1, 2)}})
    slides = write_repo(tmp_path / "slides", {
        "diagrams/ml/loop.svg": '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'})
    monkeypatch.chdir(repo)
    missed = run("build", "--quiet", "--to", "none", "--variant", "handout")
    assert missed.exit_code == 0, missed.output
    [warning] = [line for line in missed.output.splitlines() if "DIAGRAMS" in line]
    assert "looked in _ml/slides/diagrams, slides/diagrams, $HOME/someone/slides/diagrams" in warning
    assert "TALKS_PATH_MAP='$HOME/someone/slides=DIR'" in warning
    assert "W-IMAGE-MISSING]" not in missed.output  # counted in the summary, not listed
    assert "W-IMAGE-MISSING 6" in missed.output

    monkeypatch.setenv("TALKS_PATH_MAP", f"$HOME/someone/slides={slides}")
    found = run("build", "--quiet", "--to", "none", "--variant", "handout")
    assert found.exit_code == 0 and "DIAGRAMS" not in found.output, found.output
    assert "<circle" in (repo / "_build/site/handout/t1.html").read_text(encoding="utf-8")


# -- the maintainer's other commands, in place --------------------------------------------------

def lamd_copy(tmp_path: Path, kind: str) -> Path:
    """A copy of the reference course, or of two subject folders of the talks repository."""
    if kind == "course":
        if not COURSE.is_dir() or not (CORPUS / "snippets").is_dir():
            absent_data("the reference course course-execed or the corpus snippets")
        shutil.copytree(COURSE, tmp_path / kind, ignore=shutil.ignore_patterns("slides"))
    else:
        if not (CORPUS / "talks").is_dir():
            absent_data("the corpus")
        (tmp_path / kind).mkdir()
        for part in ("_config.yml", "_governance", "_ml"):
            copy = shutil.copytree if (CORPUS / "talks" / part).is_dir() else shutil.copy
            copy(CORPUS / "talks" / part, tmp_path / kind / part)
    return tmp_path / kind


@pytest.mark.parametrize("kind, talk, fragment", [
    ("course", "_lamd/the-data-crisis.md", "_data-science/includes/the-data-crisis.md"),
    ("talks", "_governance/data-governance-ai-for-er.md", "_data-science/includes/safe-boda.md")])
def test_check_deps_and_where_used_read_the_project_as_build_does(kind, talk, fragment, tmp_path,
                                                                  monkeypatch):
    repo = lamd_copy(tmp_path, kind)
    monkeypatch.setenv("TALKS_PATH_MAP", mapping(CORPUS / "snippets", CORPUS / "bibliography"))
    monkeypatch.chdir(repo)
    tree = run("deps", talk)
    assert tree.exit_code == 0 and f"{fragment}  (" in tree.output, tree.output
    assert "MISSING" not in tree.output.split(fragment)[0]  # the snippets tree is searched
    users = run("where-used", fragment)
    assert users.exit_code == 0, users.output
    assert talk in users.output.splitlines()
    checked = run("check")  # every talk talks build builds, with no arguments
    assert "Traceback" not in checked.output and "name the talks" not in checked.output
    from build_tools.site.discovery import find_talks

    every = [os.path.relpath(t) for t in find_talks(repo)]
    assert talk in every
    assert checked.output == run("check", *every).output  # the talks build builds, no fewer
    assert re.search(r"\d+ error\(s\), [1-9]\d* warning\(s\)", checked.output)


def test_the_courses_fragments_page_lists_the_snippets_its_lectures_include(tmp_path, monkeypatch):
    course = lamd_copy(tmp_path, "course")
    monkeypatch.setenv("TALKS_PATH_MAP", mapping(CORPUS / "snippets", CORPUS / "bibliography"))
    monkeypatch.chdir(course)
    assert run("build", "--quiet", "--to", "none", "--variant", "handout").exit_code in (0, 1)
    page = (course / "_build/site/fragments/index.html").read_text(encoding="utf-8")
    count = int(re.search(r"(\d+) fragments?, most used first", page).group(1))
    assert count >= 50 and "_data-science/includes/the-data-crisis.md" in page
    # lamd's address of the second lecture's notes (its row in lectures.csv, its collection)
    forward = (course / "_build/site/lectures/02-the-data-crisis.html").read_text(encoding="utf-8")
    assert 'url=../handout/the-data-crisis.html"' in forward
    assert not (course / "_build/site/slides").exists()  # no deck built, no deck address
