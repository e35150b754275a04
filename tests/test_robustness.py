"""Hostile input: every problem is a located diagnostic, never a traceback, and limits hold."""
import datetime
import os
import sys
import time

import pytest


from helpers import codes, expand, write_repo

FRONT = "---\ntitle: T\n---\n"
VARIANTS = ("slides", "speaker-notes", "handout")


def expand_all(root, talk="talks/t.md", **config):
    return [expand(root, talk, v, **config) for v in VARIANTS]


def located(expansion, code):
    found = [d for d in expansion.diagnostics if d.code == code]
    assert found, f"no {code} in {[str(d) for d in expansion.diagnostics]}"
    return found[0]


# -- no crashes ---------------------------------------------------------------------

@pytest.mark.parametrize("call", ["\\__heading", "\\__svg{a}{b}", "\\__image{a}{b}{c}{d}{e}{f}{g}{h}",
                                  "\\__count{a}{b}"])
def test_internal_macros_with_the_wrong_number_of_arguments(tmp_path, call):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\n" + call + "\n"})
    for e in expand_all(tmp_path):
        diag = located(e, "E-PRIMITIVE-ARGS")
        assert (diag.location.line, diag.location.column) == (5, 1)


@pytest.mark.parametrize("field", ["date: 2024-13-45", "author: 12", "author: true", "author: 1.5",
                                   "bibliography: 3", "bibliography: [1, {a: b}]"])
def test_front_matter_values_of_an_odd_shape(tmp_path, field):
    write_repo(tmp_path, {"talks/t.md": f"---\ntitle: T\n{field}\n---\nx\n"})
    for e in expand_all(tmp_path):
        assert not e.errors
        if not field.startswith("date"):
            assert str(located(e, "W-FRONTMATTER").location).endswith("t.md:3:1")


def test_date_that_is_no_date_stays_as_written(tmp_path):
    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\ndate: 2024-13-45\n---\nx\n"})
    assert expand(tmp_path, "talks/t.md").talk.meta["date"] == "2024-13-45"


def test_a_talks_front_matter_is_read_anew_when_its_file_changes(tmp_path):
    from build_tools.engine.source import new_snapshot
    from build_tools.engine.talkfile import read_talk

    write_repo(tmp_path, {"talks/t.md": "---\ntitle: One\nauthor: 12\n---\nx\n"})
    path = str(tmp_path / "talks" / "t.md")
    first = read_talk(path)
    first.meta["title"] = "changed by a caller"
    first.diagnostics.clear()
    again = read_talk(path)  # what one caller does to its copy reaches no other
    assert again.meta["title"] == "One" and [d.code for d in again.diagnostics] == ["W-FRONTMATTER"]
    (tmp_path / "talks" / "t.md").write_text("---\ntitle: Two, longer\n---\nx\n", encoding="utf-8")
    new_snapshot()
    changed = read_talk(path)
    assert changed.meta["title"] == "Two, longer" and not changed.diagnostics


def test_self_referencing_yaml_anchor(tmp_path):
    write_repo(tmp_path, {"talks/t.md": "---\ntitle: &a [*a]\n---\nx\n"})
    diag = located(expand(tmp_path, "talks/t.md"), "E-FRONTMATTER")
    assert "refers to the value that contains it" in diag.message
    assert diag.location.line == 2


def test_billion_laughs_stops_at_a_named_limit(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    write_repo(tmp_path, {"talks/t.md": "---\n" + "\n".join(lines) + "\n---\nx\n"})
    diag = located(expand(tmp_path, "talks/t.md"), "E-FRONTMATTER")
    assert "MAX_YAML_VALUES" in diag.message and diag.location.line > 2


def test_yaml_error_in_the_middle_points_at_its_line_and_column(tmp_path):
    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\nvenue: V\nauthor: [a, b\ndate: 2024\n---\nx\n"})
    diag = located(expand(tmp_path, "talks/t.md"), "E-FRONTMATTER")
    # the flow sequence opened on line 4 is never closed; PyYAML notices at line 5, column 5
    assert (diag.location.line, diag.location.column) == (5, 5)
    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\nvenue: V\n  bad: indent\ndate: 2024\n---\nx\n"})
    diag = located(expand(tmp_path, "talks/t.md"), "E-FRONTMATTER")
    assert (diag.location.line, diag.location.column) == (4, 6)


def test_nul_byte_in_an_image_path(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\includepng{a\x00b}\n![x](c\x00d.png)\n"})
    for e in expand_all(tmp_path):
        assert str(located(e, "W-ENCODING").location).endswith("t.md:4:14")


# -- confinement: one rule for every file a talk names --------------------------------

OUTSIDE = {"secret/s.png": b"\x89PNG", "secret/s.svg": "<svg/>", "secret/s.bib": "@a{k,}",
           "secret/s.txt": "secret", "secret/snips/x.md": "SECRET"}


def confined_repo(tmp_path, talk_body, extra=None, front=FRONT):
    """A repository in repo/ and a folder beside it, secret/, that talks must not reach."""
    write_repo(tmp_path, OUTSIDE)
    repo = tmp_path / "repo"
    write_repo(repo, {"conf.py": "", "includes/a.md": "A\n", "talks/t.md": front + talk_body,
                      **(extra or {})})
    return repo


def refused(expansion):
    return [d for d in expansion.diagnostics if d.code == "E-PATH-OUTSIDE"]


@pytest.mark.parametrize("call", ["\\includepng{../../secret/s}", "\\includejpg{../../secret/s.png}",
                                  "\\includediagram{../../secret/s}", "\\includeimg{../../secret/s.png}",
                                  "\\__image{/../../secret/s.png}"])
def test_image_macros_refuse_paths_outside(tmp_path, call):
    repo = confined_repo(tmp_path, call + "\n")
    for e in expand_all(repo, image_root=str(repo)):
        diag = refused(e)[0]
        assert diag.location.line == 4 and "secret" in diag.message
        assert not [line for line in e.text.splitlines() if "secret" in line and "{" in line]


def test_inputdiagram_never_reads_outside(tmp_path):
    repo = confined_repo(tmp_path, "\\inputdiagram{../../secret/s}\n")
    for e in expand_all(repo):
        assert refused(e) and "<svg" not in e.text


def test_symlink_inside_diagrams_pointing_outside(tmp_path):
    repo = confined_repo(tmp_path, "\\inputdiagram{/diagrams/link}\n\\includepng{/diagrams/img}\n")
    (repo / "diagrams").mkdir()
    os.symlink(tmp_path / "secret" / "s.svg", repo / "diagrams" / "link.svg")
    os.symlink(tmp_path / "secret" / "s.png", repo / "diagrams" / "img.png")
    for e in expand_all(repo, image_root=str(repo)):
        assert [d.location.line for d in refused(e)] == [4, 5] and "<svg" not in e.text


@pytest.mark.parametrize("line", ["![x](../../secret/s.png)", '<img src="../../secret/s.png">',
                                  '<object data="../../secret/s.svg"></object>',
                                  "[file](../../secret/s.txt)", "{download}`see <../../secret/s.txt>`",
                                  '<div data-background="../../secret/s.png"></div>'])
def test_markdown_and_html_paths_outside(tmp_path, line):
    repo = confined_repo(tmp_path, "\n" + line + "\n")
    for e in expand_all(repo):
        assert [d.location.line for d in refused(e)] == [5]
        assert "secret" not in e.text


@pytest.mark.parametrize("body,lines", [("<!--![x](../../secret/s.png)-->\n", [7]),
                                        ("<!--\n![x](../../secret/s.png)\n-->\n", [9]),
                                        ("`<!--` ![x](../../secret/s.png)\n", [5, 7])])
def test_a_path_in_a_comment_fails_nothing_and_reaches_nothing(tmp_path, body, lines):
    """A comment is not content: no error, but its paths are replaced all the same; a
    ``<!--`` written in code opens no comment."""
    repo = confined_repo(tmp_path, "\n" + body + "\n![y](../../secret/s.png)\n")
    for e in expand_all(repo):
        assert [d.location.line for d in refused(e)] == lines
        assert "secret" not in e.text


def test_slide_background_outside(tmp_path):
    repo = confined_repo(tmp_path, '\n## Slide {data-background="../../secret/s.png"}\n\ntext\n')
    e = expand(repo, "talks/t.md", "slides")
    assert refused(e) and "secret" not in e.text


@pytest.mark.parametrize("fence", ["```{literalinclude} ../../secret/s.txt\n```",
                                   "```{include} ../../secret/s.txt\n```",
                                   "```{raw} html\n:file: ../../secret/s.txt\n```",
                                   "```{csv-table}\n:file: ../../secret/s.txt\n```",
                                   "```{LiteralInclude} ../../secret/s.txt\n```",
                                   "```{raw} html\n:FILE: ../../secret/s.txt\n```",
                                   "{Download}`../../secret/s.txt`"])
def test_file_reading_directives_outside(tmp_path, fence):
    repo = confined_repo(tmp_path, "\n" + fence + "\n")
    for e in expand_all(repo):
        assert refused(e) and "secret" not in e.text


def test_paths_inside_the_repository_are_kept(tmp_path):
    repo = confined_repo(tmp_path, "\n![x](../diagrams/a.png)\n```{literalinclude} ../includes/a.md\n```\n",
                         {"diagrams/a.png": b"\x89PNG"})
    for e in expand_all(repo):
        assert not refused(e) and "../diagrams/a.png" in e.text


def test_bibliography_outside(tmp_path):
    repo = confined_repo(tmp_path, "x\n", front="---\ntitle: T\nbibliography: ../../secret/s.bib\n---\n")
    e = expand(repo, "talks/t.md")
    assert str(refused(e)[0].location).endswith("t.md:3:1")


def test_snippetsdir_outside_is_refused_unless_given_with_I(tmp_path):
    repo = confined_repo(tmp_path, "\\include{x.md}\n",
                         {"talks/_lamd.yml": "title: x\nsnippetsdir: ../../secret/snips\n"})
    e = expand(repo, "talks/t.md")
    assert str(refused(e)[0].location).endswith("_lamd.yml:2:1")
    assert "SECRET" not in e.text
    given = expand(repo, "talks/t.md", include_roots=[str(tmp_path / "secret" / "snips")])
    assert "SECRET" in given.text and not refused(given)


def test_include_through_a_symlink_outside(tmp_path):
    repo = confined_repo(tmp_path, "\\include{link.md}\n")
    os.symlink(tmp_path / "secret" / "snips" / "x.md", repo / "includes" / "link.md")
    e = expand(repo, "talks/t.md")
    assert "SECRET" not in e.text and "E-INCLUDE-MISSING" in codes(e)


# -- limits that hold ------------------------------------------------------------------

def test_doubling_through_arguments_stops_at_max_output(tmp_path):
    body = "\\x" * 64
    write_repo(tmp_path, {"talks/t.md": FRONT + f"\\define{{\\a{{x}}}}{{{body}}}"
                          + "\\a{" * 40 + "x" + "}" * 40 + "\n"})
    e = expand(tmp_path, "talks/t.md")
    assert "max_output" in located(e, "E-LIMIT").message


def test_many_unclosed_comments_scan_in_linear_time(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "<!--" * 250_000 + "\n"})
    expand(tmp_path, "talks/t.md")


def test_in_math_is_linear_and_agrees_with_the_simple_count():
    from build_tools.engine.source import in_math

    def simple(text, offset):
        if text.rfind("$$", 0, offset) >= 0 and text.count("$$", 0, offset) % 2 == 1:
            return True
        line_start = text.rfind("\n", 0, offset) + 1
        return text[line_start:offset].replace("$$", "").count("$") % 2 == 1

    text = "a $x$ b $$\ny$$ z $$$ w\n$ q \\n $$ r $"
    assert [in_math(text, i) for i in range(len(text) + 1)] == \
        [simple(text, i) for i in range(len(text) + 1)]
    big = "$$ x $$ \\y " * 100_000
    for i in range(0, len(big), 7):
        in_math(big, i)


def test_warnings_are_capped_with_one_final_count(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "}\n" * 100_000})
    e = expand(tmp_path, "talks/t.md")
    braces = [d for d in e.diagnostics if d.code == "W-BRACE"]
    assert len(braces) == 200
    assert "99,800 more warning(s) left out" in located(e, "W-LIMIT").message


def test_include_memo_is_bounded():
    from build_tools.engine.memo import Memo, Recording
    from build_tools.engine.output import Out

    memo = Memo(max_keys=10, max_bytes=10_000)
    for i in range(100):
        rec = Recording(root=None)
        rec.out = Out()
        rec.out.add("x" * 500)
        memo.keep(("k", i), rec)
    assert len(memo.store) <= 10 and memo.weight <= 10_000
    assert ("k", 99) in memo.store and ("k", 0) not in memo.store


# -- processes -------------------------------------------------------------------------

def test_a_second_build_of_one_site_is_refused_while_the_first_runs(tmp_path):
    from build_tools.site.publish import SiteBusy, lock_site

    with lock_site(tmp_path / "work"):
        with pytest.raises(SiteBusy, match="another talks build"):
            lock_site(tmp_path / "work")
    lock_site(tmp_path / "work").close()  # released with the first


def test_an_unwritable_site_fails_before_anything_moves(tmp_path, monkeypatch):
    from build_tools.site import build

    site = tmp_path / "site"
    (site / "handout").mkdir(parents=True)
    (site / "index.html").write_text("good")
    real_access = os.access
    monkeypatch.setattr(build.os, "access", lambda p, m: False if str(p) == str(site) else real_access(p, m))
    with pytest.raises(PermissionError):
        build.assemble(site, tmp_path / "work", {}, (), {}, False)
    assert (site / "index.html").read_text() == "good" and not (tmp_path / "site.tmp").exists()


WORKER = """
import ctypes, os, sys, time
from build_tools.workers import die_with_parent
asked = die_with_parent() if sys.argv[1] == "ask" else None
signal = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(signal), 0, 0, 0)  # PR_GET_PDEATHSIG
print(os.getpid(), asked, signal.value, flush=True)
time.sleep(120)
"""
PARENT = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a request to Linux")
@pytest.mark.parametrize("ask", [True, False])
def test_workers_ask_to_die_with_their_parent(ask):
    """A worker that asked ends when its parent is killed; one that did not (the control,
    so that the observation can fail) lives on."""
    import signal
    import subprocess

    parent = subprocess.Popen([sys.executable, "-c", PARENT, WORKER, "ask" if ask else "stay"],
                              stdout=subprocess.PIPE, text=True)
    pid, asked, death_signal = parent.stdout.readline().split()
    pid = int(pid)
    try:
        assert asked == ("True" if ask else "None")
        assert int(death_signal) == (signal.SIGTERM if ask else 0)
        assert alive(pid)
        parent.kill()
        parent.wait(timeout=10)
        ended = wait_for(lambda: not alive(pid), 10 if ask else 2)
        assert ended == ask
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
        parent.stdout.close()


ORPHAN = """
import os, time
from build_tools.workers import die_with_parent
pid = os.fork()
if pid == 0:
    parent = os.getppid()
    while os.getppid() == parent:  # until the parent is gone
        time.sleep(0.01)
    print("asking", flush=True)
    die_with_parent()
    print("survived", flush=True)
    time.sleep(60)
    os._exit(0)
print(pid, flush=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a request to Linux")
def test_a_worker_whose_parent_died_before_it_asked_ends_at_once():
    """The request cannot be made for a parent already gone: the worker ends instead
    (its parent is the one that forked it, not whichever process adopted it)."""
    import signal
    import subprocess

    parent = subprocess.Popen([sys.executable, "-c", ORPHAN], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    try:
        out, _ = parent.communicate(timeout=15)  # to the end of the worker's output
        assert out.split() == ["asking"]
        assert wait_for(lambda: not alive(pid), 10)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_serve_on_a_public_address_needs_allow_remote():
    from click.testing import CliRunner

    from build_tools.authoring.serve import _PreviewHTTPServer, is_loopback
    from build_tools.cli import main

    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code != 0 and "--allow-remote" in result.output
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    assert _PreviewHTTPServer.request_queue_size >= 64


# -- fuzzing, short --------------------------------------------------------------------

def test_fuzz_300_inputs_without_a_crash_or_a_slow_input():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "fuzz", Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz.py")
    fuzz = importlib.util.module_from_spec(spec)
    sys.modules["fuzz"] = fuzz  # dataclasses look their module up there
    spec.loader.exec_module(fuzz)
    report = fuzz.fuzz(300, seed=7, time_limit=240)
    assert report.inputs == 300
    assert not report.crashes, report.crashes
    assert report.slowest < 1, report.slowest_input


# -- processes, end to end: real `talks build` runs ---------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_TALK = "---\ntitle: {title}\n---\n\n\\section{{{title}}}\n\n\\slides{{* a point}}\n\n" \
            "\\notes{{Some words about {title}.}}\n"


def tiny_project(root):
    import shutil

    shutil.copy(os.path.join(ROOT, "conf.py"), root / "conf.py")
    return write_repo(root, {"talks/one.md": TINY_TALK.format(title="One"),
                             "talks/two.md": TINY_TALK.format(title="Two")})


def start_build(project, *extra):
    import subprocess

    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.Popen([sys.executable, "-m", "build_tools.cli", "build", "--quiet",
                             "--to", "none", *extra], cwd=project, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(predicate, seconds=60.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def lock_is_held(work) -> bool:
    import fcntl

    try:
        with open(work / "build.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def assert_complete_site(site):
    assert (site / "index.html").is_file() and not site.with_name("site.tmp").exists()
    index = (site / "index.html").read_text(encoding="utf-8")
    for variant in VARIANTS:
        for doc in ("one", "two"):
            page = site / variant / f"{doc}.html"
            assert page.is_file(), page
            assert f"{variant}/{doc}.html" in index
            assert "</html>" in page.read_text(encoding="utf-8")


def test_two_builds_of_one_site_at_once(tmp_path):
    project = tiny_project(tmp_path)
    first = start_build(project)
    assert wait_for(lambda: lock_is_held(project / "_build" / ".work" / "site"))
    second = start_build(project)
    out2, err2 = second.communicate(timeout=120)
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode != 0 and "another talks build is writing this site" in err2
    assert "Traceback" not in err2
    assert_complete_site(project / "_build" / "site")


def child_pids(pid: int) -> set[int]:
    """Every live process under ``pid`` (children, their children...), from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_killing_the_build_ends_its_workers_and_the_next_build_succeeds(tmp_path):
    import signal

    project = tiny_project(tmp_path)
    good = start_build(project)
    assert good.wait(timeout=300) == 0, good.stderr.read()
    site = project / "_build" / "site"
    (project / "talks" / "two.md").write_text(TINY_TALK.format(title="Two, again"))
    build = start_build(project)
    workers: set[int] = set()
    assert wait_for(lambda: len(workers.update(child_pids(build.pid)) or workers) >= 2, 120)
    os.kill(build.pid, signal.SIGKILL)
    build.wait(timeout=30)
    assert wait_for(lambda: not any(alive(p) for p in workers), 10), \
        [p for p in workers if alive(p)]
    assert_complete_site(site)  # the last good site, untouched
    again = start_build(project)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert_complete_site(site)
    assert "Two, again" in (site / "handout" / "two.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("variant", VARIANTS)
def test_front_matter_that_lost_its_opening_line_is_still_front_matter(tmp_path, variant):
    write_repo(tmp_path, {"talks/t.md": 'title: "Lost line"\nauthor:\n- family: X\n---\n\n'
                                        "\\slides{* point}\\notes{Prose.}\n"})
    e = expand(tmp_path, "talks/t.md", variant)
    [warning] = [d for d in e.diagnostics if d.code == "W-FRONTMATTER"]
    assert str(warning.location).endswith("t.md:1:1") and "opening '---'" in warning.message
    assert e.talk.meta["title"] == "Lost line" and "title:" not in e.text
    assert ("point" in e.text) == (variant != "handout")


def test_a_page_with_a_colon_in_its_first_line_is_no_front_matter(tmp_path):
    write_repo(tmp_path, {"talks/t.md": "Note: this is text\n\nMore text\n"})
    e = expand(tmp_path, "talks/t.md")
    assert not [d for d in e.diagnostics if d.code == "W-FRONTMATTER"] and "Note: this" in e.text


def test_yaml_read_twice_is_parsed_once_and_each_reader_gets_its_own_values(monkeypatch):
    from build_tools import yamlfile

    text = "title: T\nauthor: [a, b]\ndate: 2024-01-02\n"
    first = yamlfile.load_yaml(text)
    first["author"].append("changed by a caller")
    monkeypatch.setattr(yamlfile, "_parse", lambda text: pytest.fail("parsed again"))
    second = yamlfile.load_yaml(text)
    assert second == {"title": "T", "author": ["a", "b"], "date": datetime.date(2024, 1, 2)}
    # a text that does not parse is not remembered: it fails every time, at its place
    monkeypatch.undo()
    for _ in range(2):
        with pytest.raises(yamlfile.YAMLError):
            yamlfile.load_yaml("a: [b\n")
