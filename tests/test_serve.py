"""talks serve: a change to a fragment rebuilds only the talks that use it, and the page follows."""
import json
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOTS = Path(__file__).parent / "roots"
VARIANTS = ("slides", "speaker-notes", "handout")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def status(base: str) -> dict:
    return json.loads(get(base + "__talks/status"))


def wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def rebuilt_after(base: str, before: int, what: str, timeout: float = 60) -> dict:
    """The server's status once a build after version ``before`` has ended."""
    return wait_for(lambda: (s := status(base))["version"] > before and not s["building"] and s,
                    timeout, what)


@contextlib.contextmanager
def serving(folder, env=None, first_build: float = 180, args=()):
    """``talks serve`` run in ``folder`` on a free loopback port, its first build done;
    yields the base URL, and ends the server (and its workers) afterwards."""
    port = free_port()
    talks = os.path.join(os.path.dirname(sys.executable), "talks")
    # its output goes to a file: a pipe nobody reads fills up (64 KB, two builds of a course's
    # warnings) and stops the server at its next line
    said = tempfile.TemporaryFile()
    proc = subprocess.Popen([talks, "serve", "--port", str(port), *args], cwd=folder, env=env,
                            stdout=said, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: proc.poll() is None and status(base)["version"] >= 1
                 and not status(base)["building"], first_build, "the first build")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        assert proc.poll() is not None
        said.close()


@pytest.fixture
def server(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    with serving(project) as base:
        yield project, base


def test_fragment_edit_rebuilds_only_its_talks_and_the_page_changes(server):
    project, base = server
    page = get(base + "handout/alpha.html").decode()
    assert "Only the first two talks include this" in page
    assert "/__talks/reload.js" in page
    # the author's preview shows the warning box a published page replaces by a frame
    assert "Missing image" in get(base + "handout/gamma.html").decode()
    before = status(base)["version"]

    fragment = project / "includes/_shared/includes/ab.md"
    fragment.write_text(fragment.read_text().replace("Only the first two talks", "Just two talks"))
    after = rebuilt_after(base, before, "the rebuild", 30)

    for variant in VARIANTS:
        assert sorted(after["rebuilt"][variant]) == ["alpha", "beta"], variant
    assert after["errors"] == []
    for doc in ("alpha", "beta"):
        assert "Just two talks include this" in get(base + f"handout/{doc}.html").decode()
    assert "Just two talks" not in get(base + "handout/gamma.html").decode()


def test_two_talks_edited_at_once_are_rebuilt_in_one_rebuild_in_every_variant(server):
    """One rebuild, its variants built in parallel processes, with two talks to re-read."""
    project, base = server
    before = status(base)["version"]
    edits = {"alpha": "Freshly", "gamma": "Newly"}
    for doc, word in edits.items():  # both written before the watcher's debounce ends
        talk = project / f"talks/{doc}.md"
        talk.write_text(talk.read_text() + f"\n\\slides{{* {word} made bullet}}\n"
                        f"\\notes{{{word} written notes.}}\n")
    after = rebuilt_after(base, before, "the rebuild", 60)
    assert sorted(os.path.basename(c) for c in after["changed"]) == ["alpha.md", "gamma.md"]
    assert after["errors"] == []
    for variant in VARIANTS:
        assert sorted(after["rebuilt"][variant]) == ["alpha", "gamma"], variant
    for doc, word in edits.items():
        slides = get(base + f"slides/{doc}.html").decode()
        notes = get(base + f"speaker-notes/{doc}.html").decode()
        handout = get(base + f"handout/{doc}.html").decode()
        assert f"{word} made bullet" in slides and f"{word} written notes" not in slides
        assert f"{word} made bullet" in notes and f"{word} written notes" in notes
        assert f"{word} written notes" in handout and f"{word} made bullet" not in handout
    assert "Freshly" not in get(base + "handout/beta.html").decode()


def test_errors_show_in_the_page_and_go_when_the_missing_fragment_is_created(server):
    """The server keeps running on a missing include; when the fragment appears where the
    talk looked for it, the kept Sphinx applications and the server's include resolver see
    it, and the error goes."""
    project, base = server
    before = status(base)["version"]
    talk = project / "talks/gamma.md"
    talk.write_text(talk.read_text() + "\n\\include{_shared/includes/later.md}\n")
    failed = rebuilt_after(base, before, "the failing rebuild", 30)
    assert any("later.md" in e for e in failed["errors"])
    assert b"Alpha Talk" in get(base + "handout/alpha.html")
    fragment = project / "includes/_shared/includes/later.md"
    fragment.write_text("\\notes{A fragment written after the talk named it.}\n")
    after = rebuilt_after(base, failed["version"], "the rebuild", 30)
    assert after["errors"] == []
    for variant in VARIANTS:
        assert after["rebuilt"][variant] == ["gamma"], variant
    assert "A fragment written after the talk named it." in get(base + "handout/gamma.html").decode()


def test_only_the_address_it_serves_is_answered(server):
    """A page elsewhere may make a name of its own resolve to 127.0.0.1 (DNS rebinding):
    the preview answers only requests that name its own address."""
    _project, base = server
    port = base.rstrip("/").rsplit(":", 1)[1]
    for host, expected in ((f"127.0.0.1:{port}", 200), (f"localhost:{port}", 200),
                           (f"attacker.example:{port}", 421), ("127.0.0.1:9", 421), ("", 421)):
        request = urllib.request.Request(base + "index.html", headers={"Host": host})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                code = response.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        assert code == expected, host


def test_a_site_written_outside_the_project_is_rebuilt_on_an_edit(tmp_path):
    """The build's own folders are not watched, but the folder beside them is: with the
    site outside the project, the project is that folder's neighbour, not inside it."""
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    with serving(project, args=("--out", str(tmp_path / "site"))) as base:
        before = status(base)["version"]
        talk = project / "talks" / "gamma.md"
        talk.write_text(talk.read_text() + "\nA new closing line.\n")
        after = rebuilt_after(base, before, "the rebuild", 30)
        assert after["rebuilt"]["handout"] == ["gamma"]
        assert "A new closing line." in get(base + "handout/gamma.html").decode()


def append_to(talk: Path, text: str, original: str) -> None:
    time.sleep(0.05)  # a modification time after the last build's reading
    talk.write_text(original + text, encoding="utf-8")


def first_published(base: str, before: dict) -> tuple[set[str], dict]:
    """The variants published first in a rebuild, and the status then (asked often: the
    other variants may follow soon)."""
    end = time.monotonic() + 60
    while time.monotonic() < end:
        now = status(base)
        moved = {v for v in VARIANTS if now["versions"][v] != before["versions"][v]}
        if moved:
            return moved, now
        time.sleep(0.02)
    pytest.fail("timed out waiting for a variant to be published")


def test_edits_are_rebuilt_by_the_sphinx_application_each_variant_kept(server):
    """After the first build, each variant's worker keeps its Sphinx application: an edit
    re-reads only the edited talk with it, and every page holds each edit in turn."""
    project, base = server
    assert status(base)["fresh"] == {v: True for v in VARIANTS}
    talk = project / "talks/alpha.md"
    original = talk.read_text(encoding="utf-8")
    for n in (1, 2, 3):
        before = status(base)
        append_to(talk, f"\n\\notes{{Edit number {n} of the notes.}}\n", original)
        after = rebuilt_after(base, before["version"], f"the rebuild after edit {n}")
        assert after["errors"] == []
        assert after["fresh"] == {v: False for v in VARIANTS}, n
        for variant in VARIANTS:
            assert after["rebuilt"][variant] == ["alpha"], (n, variant)
            assert after["versions"][variant] == before["versions"][variant] + 1
        for variant in ("handout", "speaker-notes"):
            page = get(base + f"{variant}/alpha.html").decode()
            assert f"Edit number {n} of the notes." in page, (n, variant)
            assert f"Edit number {n - 1} of" not in page
        assert "Edit number" not in get(base + "slides/alpha.html").decode()


def test_a_broken_edit_then_its_fix_show_with_the_kept_applications(server):
    project, base = server
    talk = project / "talks/gamma.md"
    original = talk.read_text(encoding="utf-8")
    line = original.count("\n") + 2
    get(base + "handout/gamma.html")  # the reader's page, built and reloaded first
    before = status(base)
    append_to(talk, "\n\\include{_shared/includes/no-such-fragment.md}\n\nA sentence in the broken edit.\n",
              original)
    moved, now = first_published(base, before)  # the reloaded page shows the error at once
    assert moved == {"handout"} and any("no-such-fragment.md" in e for e in now["errors"])
    broken = rebuilt_after(base, before["version"], "the rebuild of the broken edit")
    assert any(f"gamma.md:{line}:1" in e and "no-such-fragment.md" in e for e in broken["errors"])
    assert broken["fresh"] == {v: False for v in VARIANTS}
    # the failed talk keeps its last good page, whose reader sees the error over it
    assert "A sentence in the broken edit." not in get(base + "handout/gamma.html").decode()

    append_to(talk, "\nA sentence in the fixed edit.\n", original)
    fixed = rebuilt_after(base, broken["version"], "the rebuild of the fixed edit")
    assert fixed["errors"] == [] and fixed["fresh"] == {v: False for v in VARIANTS}
    for variant in VARIANTS:
        page = get(base + f"{variant}/gamma.html").decode()
        assert "A sentence in the fixed edit." in page and "broken edit" not in page, variant


def test_a_variant_worker_that_died_is_replaced_and_its_build_made_afresh(server):
    """Nothing is left stale when a kept worker goes: the next edit is built by a new
    worker with a new Sphinx application, which reads every document again (the
    environment the old one kept died with it, and none is saved after each build)."""
    import psutil

    project, base = server
    get(base + "speaker-notes/beta.html")  # the reader's page: its variant is built first
    serve = next(p for p in psutil.process_iter(["cmdline"])
                 if base.rstrip("/").rsplit(":", 1)[1] in (p.info["cmdline"] or []))
    workers = serve.children()
    assert len(workers) == len(VARIANTS)
    for worker in workers:
        worker.kill()
    psutil.wait_procs(workers, timeout=10)
    talk = project / "talks/beta.md"
    append_to(talk, "\nWritten after the workers were gone.\n", talk.read_text(encoding="utf-8"))
    after = rebuilt_after(base, status(base)["version"], "the rebuild with new workers")
    assert after["errors"] == [] and after["fresh"] == {v: True for v in VARIANTS}
    for variant in VARIANTS:
        assert after["rebuilt"][variant] == ["alpha", "beta", "gamma", "index"], variant
        assert "Written after the workers were gone." in get(base + f"{variant}/beta.html").decode()
    assert not set(serve.children()) & set(workers)


def test_the_variant_of_the_page_being_read_is_published_first(server):
    """The page the reader has open reloads as soon as its variant is rebuilt; the other
    variants follow in the same rebuild."""
    project, base = server
    get(base + "slides/alpha.html")  # what the browser asked for last
    before = status(base)
    talk = project / "talks/alpha.md"
    append_to(talk, "\n\\slides{* A bullet for the open deck}\n", talk.read_text(encoding="utf-8"))

    moved, now = first_published(base, before)
    assert moved == {"slides"} and now["building"]
    assert "A bullet for the open deck" in get(base + "slides/alpha.html").decode()
    after = rebuilt_after(base, before["version"], "the other variants")
    assert all(after["versions"][v] == before["versions"][v] + 1 for v in VARIANTS)
    assert "A bullet for the open deck" in get(base + "speaker-notes/alpha.html").decode()


def test_ctrl_c_stops_the_server_and_its_kept_workers_without_a_traceback(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    port = free_port()
    talks = os.path.join(os.path.dirname(sys.executable), "talks")
    proc = subprocess.Popen([talks, "serve", "--port", str(port)], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,  # Ctrl-C reaches the terminal's process group
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: status(base)["version"] >= 1 and not status(base)["building"], 180,
                 "the first build")
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0
    assert "stopped" in output and "Traceback" not in output and "KeyboardInterrupt" not in output


def saved_environments(project: Path) -> dict[str, bool]:
    """Per variant, whether an environment Sphinx saved is on disk for the preview's builds."""
    work = project / "_build" / ".work" / "preview"
    return {v: (work / v / "doctrees" / "environment.pickle").is_file() for v in VARIANTS}


def test_a_kept_application_saves_no_environment_and_a_later_build_reads_the_edits(tmp_path):
    """A kept application's environment is in memory: a rebuild does not save it (seconds
    of a course's rebuild), and none is left on disk that a later ``talks build`` could
    trust; that build, after the server was killed, shows every edit."""
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    talk = project / "talks" / "alpha.md"
    with serving(project) as base:
        before = status(base)
        append_to(talk, "\nA sentence written while serving.\n", talk.read_text(encoding="utf-8"))
        after = rebuilt_after(base, before["version"], "the rebuild")
        assert after["rebuilt"]["handout"] == ["alpha"]
        assert saved_environments(project) == {v: False for v in VARIANTS}
    # the server was killed (no chance to save): the build reads every talk again
    talks = os.path.join(os.path.dirname(sys.executable), "talks")
    built = subprocess.run([talks, "build", "--out", "_build/preview"], cwd=project,
                           capture_output=True, text=True, timeout=300)
    assert built.returncode in (0, 1), built.stderr
    for variant in ("handout", "speaker-notes"):
        page = (project / "_build" / "preview" / variant / "alpha.html").read_text(encoding="utf-8")
        assert "A sentence written while serving." in page, variant
    assert saved_environments(project) == {v: True for v in VARIANTS}


def stop_with_ctrl_c(proc: subprocess.Popen) -> str:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return output


def start_serving(project: Path, port: int) -> subprocess.Popen:
    talks = os.path.join(os.path.dirname(sys.executable), "talks")
    return subprocess.Popen([talks, "serve", "--port", str(port)], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,  # Ctrl-C reaches the terminal's process group
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_the_server_saves_its_environments_when_stopped_and_the_next_starts_from_them(tmp_path):
    """Ctrl-C saves each kept application's environment once: the next ``talks serve``
    starts from it and reads only what changed meanwhile."""
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    talk = project / "talks" / "beta.md"
    proc = start_serving(project, port)
    try:
        wait_for(lambda: status(base)["version"] >= 1 and not status(base)["building"], 180,
                 "the first build")
        append_to(talk, "\nWritten before the server stopped.\n", talk.read_text(encoding="utf-8"))
        rebuilt_after(base, 1, "the rebuild")
        assert saved_environments(project) == {v: False for v in VARIANTS}
    finally:
        output = stop_with_ctrl_c(proc)
    assert "Traceback" not in output
    assert saved_environments(project) == {v: True for v in VARIANTS}

    append_to(talk, "\nWritten while no server ran.\n", talk.read_text(encoding="utf-8"))
    proc = start_serving(project, port)
    try:
        first = wait_for(lambda: (s := status(base))["version"] >= 1 and not s["building"] and s,
                         180, "the first build of the next server")
        assert first["fresh"] == {v: True for v in VARIANTS}
        assert first["rebuilt"] == {v: ["beta"] for v in VARIANTS}
        page = get(base + "handout/beta.html").decode()
        assert "Written before the server stopped." in page and "Written while no server ran." in page
    finally:
        stop_with_ctrl_c(proc)


def test_a_rebuild_says_the_warnings_of_the_talks_it_rebuilt_and_counts_the_others(
        tmp_path, monkeypatch):
    """Every talk's warnings are said on the first build; a rebuild says those of the talks
    it rebuilt, and counts the others' in one line, instead of the whole site's again."""
    from build_tools.authoring.serve import PreviewServer
    from build_tools.site.options import SiteOptions

    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    monkeypatch.chdir(project)
    said: list[str] = []
    server = PreviewServer(SiteOptions(project=str(project), out="_build/preview"), port=0,
                           log=said.append)
    try:
        server.rebuild([])
        gamma = [line for line in said if "WARNING" in line and "talks/gamma.md" in line]
        assert gamma and all("absent.svg" in line for line in gamma)  # a fragment gamma includes
        assert not any("nosuchmacro" in line for line in said)

        said.clear()
        alpha = project / "talks" / "alpha.md"
        append_to(alpha, "\n\\notes{A note with \\nosuchmacro{in it}.}\n", alpha.read_text(encoding="utf-8"))
        server.rebuild([str(alpha)])
        new = [line for line in said if line.startswith("talks/alpha.md:")]
        assert new and all("nosuchmacro" in line for line in new)
        assert not any("absent.svg" in line for line in said)
        count = [line for line in said if "of talks not rebuilt this time" in line]
        assert count == [f"{len(gamma)} more warning(s), of talks not rebuilt this time, as before"]
        assert any(line.startswith(f"{len(gamma) + len(new)} warning(s):") for line in said), said

        said.clear()
        gamma_talk = project / "talks" / "gamma.md"
        append_to(gamma_talk, "\nA closing line.\n", gamma_talk.read_text(encoding="utf-8"))
        server.rebuild([str(gamma_talk)])
        assert [line for line in said if "absent.svg" in line] == gamma
        assert f"{len(new)} more warning(s), of talks not rebuilt this time, as before" in said
    finally:
        server.kept.close()
        server.httpd.server_close()



@contextlib.contextmanager
def preview_server(project: Path):
    """A ``talks serve`` server in this process (no watcher, no HTTP requests): each test
    calls its ``rebuild`` itself."""
    from build_tools.authoring.serve import PreviewServer
    from build_tools.site.options import SiteOptions

    server = PreviewServer(SiteOptions(project=str(project), out="_build/preview"), port=0,
                           log=lambda line: None)
    try:
        yield server
    finally:
        server.kept.close()
        server.httpd.server_close()


def test_fragment_pages_link_every_variant_after_a_rebuild_in_turns(tmp_path, monkeypatch):
    """A rebuild builds the variant being read first, then the others: the fragment pages
    of each turn link every variant the site holds, not only those of that turn."""
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    monkeypatch.chdir(project)
    with preview_server(project) as server:
        server.rebuild([])
        server.viewing = "handout"
        alpha = project / "talks" / "alpha.md"
        append_to(alpha, "\nA new line.\n", alpha.read_text(encoding="utf-8"))
        server.rebuild([str(alpha)])
        assert server.state.versions == {v: 2 for v in VARIANTS}
        page = project / "_build" / "preview" / "fragments" / "_shared-includes-ab.md.html"
        text = page.read_text(encoding="utf-8")
        for variant in VARIANTS:
            assert f'href="../{variant}/alpha.html"' in text, variant


def test_a_preview_rebuild_publishes_into_the_replaced_site_linking_what_is_alike(
        tmp_path, monkeypatch):
    """The site a preview rebuild replaced is kept and its folders hold the next site (a
    folder or a new file costs the file system far more than a link), and the pages the
    build makes again alike (the index, the fragment pages) are links to the old copies."""
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    monkeypatch.chdir(project)
    site = project / "_build" / "preview"
    replaced = site.with_name("preview.old")
    with preview_server(project) as server:
        server.rebuild([])
        server.viewing = "handout"  # built and published alone, then the others
        alpha = project / "talks" / "alpha.md"
        folders = []
        for n in (1, 2):
            append_to(alpha, f"\nEdit number {n}.\n", alpha.read_text(encoding="utf-8"))
            server.rebuild([str(alpha)])
            assert f"Edit number {n}." in (site / "handout" / "alpha.html").read_text(encoding="utf-8")
            folders.append({os.stat(s / "handout").st_ino for s in (site, replaced)})
        assert folders[0] == folders[1] and len(folders[0]) == 2  # the same two, in turn
        fragments = sorted((site / "fragments").glob("*.html"))
        assert len(fragments) > 1
        for page in fragments:
            assert os.path.samefile(page, replaced / "fragments" / page.name), page
        assert os.path.samefile(site / "index.html", replaced / "index.html")


def test_a_kept_application_copies_the_images_of_the_pages_it_writes_only(tmp_path, monkeypatch):
    """As a new application does: a kept one does not go over every image an earlier
    build copied (comparing each with its copy) when it writes one page."""
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    monkeypatch.chdir(project)
    images = project / "_build" / ".work" / "preview" / "handout" / "html" / "_images"
    with preview_server(project) as server:
        server.rebuild([])
        loop = next(images.glob("loop*.svg"))  # alpha's and beta's figure, not gamma's
        loop.unlink()
        gamma = project / "talks" / "gamma.md"
        append_to(gamma, "\nA new line.\n", gamma.read_text(encoding="utf-8"))
        server.rebuild([str(gamma)])
        assert server.state.rebuilt["handout"] == ["gamma"]
        assert not loop.exists()
        alpha = project / "talks" / "alpha.md"
        append_to(alpha, "\nA new line.\n", alpha.read_text(encoding="utf-8"))
        server.rebuild([str(alpha)])
        assert loop.is_file()
