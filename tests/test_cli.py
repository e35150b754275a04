"""The talks command: output format, files written, exit status."""
import json
import re

from click.testing import CliRunner

from build_tools.cli import main

from helpers import write_repo

FRONT = "---\ntitle: T\n---\n"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_check_prints_located_problems_and_fails_on_errors(tmp_path, monkeypatch):
    write_repo(tmp_path, {"talks/t.md": FRONT + "ok\n  \\include{_x/includes/gone.md}\n",
                          "includes/_x/includes/there.md": "x"})
    monkeypatch.chdir(tmp_path)
    result = run("check", "talks/t.md")
    assert result.exit_code == 1
    assert re.search(r"^talks/t\.md:5:3: error: include file not found: _x/includes/gone\.md",
                     result.output, re.M)
    assert "Traceback" not in result.output


def test_check_json_and_clean_exit(tmp_path, monkeypatch):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\notes{fine}\n"})
    monkeypatch.chdir(tmp_path)
    result = run("check", "talks/t.md", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output) == []


def test_check_warnings_alone_do_not_fail(tmp_path, monkeypatch):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\notes{a} b}\n"})
    monkeypatch.chdir(tmp_path)
    result = run("check", "talks/t.md")
    assert result.exit_code == 0
    assert "talks/t.md:4:12: warning:" in result.output


def test_preprocess_prints_and_writes_one_file_per_talk(tmp_path, monkeypatch):
    write_repo(tmp_path, {"talks/a/one.md": FRONT + "\\slides{S}\\notes{N}",
                          "talks/b/two.md": FRONT + "\\slides{S2}"})
    monkeypatch.chdir(tmp_path)
    result = run("preprocess", "talks/a/one.md", "--variant", "slides")
    assert result.exit_code == 0 and "S" in result.output and "N" not in result.output
    result = run("preprocess", "talks/a/one.md", "talks/b/two.md", "--variant", "handout",
                 "--out", "out")
    assert result.exit_code == 0
    assert (tmp_path / "out/a/one.md").read_text().strip().endswith("N")
    assert (tmp_path / "out/b/two.md").exists()


def test_usage_errors_are_not_tracebacks(tmp_path):
    result = run("preprocess", tmp_path / "nope.md", "--variant", "slides")
    assert result.exit_code == 2 and "does not exist" in result.output


def test_an_unreadable_talk_is_a_located_error(tmp_path, monkeypatch):
    write_repo(tmp_path, {"talks/t.md": FRONT})
    monkeypatch.chdir(tmp_path)
    import builtins
    real_open = builtins.open

    def deny(path, *args, **kwargs):  # root ignores file modes: refuse the read here
        if str(path).endswith("talks/t.md"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    from build_tools.engine.source import clear_caches
    clear_caches()
    result = run("check", "talks/t.md")
    assert result.exit_code == 1
    assert "talks/t.md:1:1: error: cannot read the talk: Permission denied [E-READ]" in result.output


def test_an_unwritable_output_folder_is_an_error_not_a_traceback(tmp_path, monkeypatch):
    write_repo(tmp_path, {"talks/t.md": FRONT + "x", "blocker": "a file, not a folder"})
    monkeypatch.chdir(tmp_path)
    result = run("preprocess", "talks/t.md", "--variant", "slides", "--out", "blocker/out")
    assert result.exit_code == 1 and "cannot write" in result.output and "[E-WRITE]" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_installed_command_ends_a_batch_with_everything_written(tmp_path):
    """``talks`` (``run``) ends a batch without tearing down its caches: the exit status,
    every file, the diagnostics and the printed MyST must all be complete anyway."""
    import subprocess
    import sys

    talks = {f"talks/_t/t{n:02d}.md": FRONT + f"\\notes{{body {n}}}\n" for n in range(20)}
    talks["talks/_t/t07.md"] += "\\include{_x/includes/gone.md}\n"
    write_repo(tmp_path, talks)
    command = [sys.executable, "-c", "from build_tools.cli import run; run()"]

    batch = subprocess.run([*command, "preprocess", *sorted(talks), "--variant", "handout",
                            "--out", "out"], cwd=tmp_path, capture_output=True, text=True)
    assert batch.returncode == 1
    assert "talks/_t/t07.md:5:1: error: include file not found: _x/includes/gone.md" in batch.stderr
    for n in range(20):
        written = (tmp_path / f"out/t{n:02d}.md").read_text()
        assert f"body {n}\n" in written and written.endswith("\n")
    assert (tmp_path / "out/t07.md").read_text().endswith("Missing include: `_x/includes/gone.md`\n```\n")

    printed = subprocess.run([*command, "preprocess", "talks/_t/t03.md", "--variant", "handout"],
                             cwd=tmp_path, capture_output=True, text=True)
    assert printed.returncode == 0 and printed.stdout.strip().endswith("body 3")
    clean = subprocess.run([*command, "check", "talks/_t/t03.md"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert clean.returncode == 0


def test_a_batch_whose_worker_dies_reports_each_of_its_talks(tmp_path, monkeypatch):
    """The worker's share is lost, not the batch: each of its talks is a located error."""
    import os

    from build_tools import api
    from build_tools.config import TalkConfig
    from build_tools.paths import display_name

    talks = {f"talks/t{n:02d}.md": FRONT + f"\\notes{{body {n}}}\n" for n in range(20)}
    write_repo(tmp_path, talks)
    parent = os.getpid()
    write_share = api._write_share

    def dies_in_the_worker(share):
        if os.getpid() != parent:
            os._exit(9)
        return write_share(share)

    monkeypatch.setattr(api, "_write_share", dies_in_the_worker)
    paths = [str(tmp_path / t) for t in sorted(talks)]
    results = dict(api.write_myst(paths, "handout", TalkConfig(), str(tmp_path / "out"), jobs=2))
    lost = [p for p, diags in results.items() if any(d.code == "E-WORKER" for d in diags)]
    assert lost == paths[:10]
    assert results[paths[0]][0].format().startswith(f"{display_name(paths[0])}:1:1: error: the process")
    assert all((tmp_path / "out" / f"t{n:02d}.md").exists() for n in range(10, 20))


def batch_project(root, count: int) -> list[str]:
    """``count`` talks in two folders sharing fragments: each defines its own name, which a
    fragment then uses, so a worker that mixed up the talks' state would be seen."""
    files = {
        "includes/_x/includes/intro.md": "\\ifndef{INTRO}\\define{INTRO}\n"
                                          "\\slides{* Intro for \\speaker}\\notes{Notes for \\speaker.}\n"
                                          "\\endif\n",
        "includes/_x/includes/body.md": "\\ifdef{SLIDES}\\slides{* deck of \\speaker}\\else"
                                         "\\notes{Handout of \\speaker.}\\endif\n"
                                         "\\include{_x/includes/intro.md}\n",
    }
    talks = []
    for n in range(count):
        talk = f"talks/{'ab'[n % 2]}/t{n:02d}.md"
        files[talk] = (FRONT + f"\\define{{speaker}}{{Speaker {n}}}\n"
                       "\\include{_x/includes/intro.md}\n\\include{_x/includes/body.md}\n"
                       + ("\\include{_x/includes/gone.md}\n" if n == 5 else ""))
        talks.append(talk)
    write_repo(root, files)
    return talks


def test_a_batch_shared_with_workers_writes_what_one_talk_at_a_time_writes(tmp_path, monkeypatch):
    """talks preprocess A B C ... --out DIR shares a large batch between processes; every
    talk's file is there and the same as when the talk is expanded alone."""
    from build_tools import api
    from build_tools.config import build_config

    talks = batch_project(tmp_path, 20)
    monkeypatch.chdir(tmp_path)
    for variant in ("slides", "speaker-notes", "handout"):
        alone = {}
        for talk in talks:
            result = run("preprocess", talk, "--variant", variant, "--out", f"alone/{talk}")
            assert result.exit_code == (1 if talk.endswith("t05.md") else 0), result.output
            [written] = (tmp_path / "alone" / talk).iterdir()
            alone[talk] = written.read_text(encoding="utf-8")
        assert "Speaker 7" in alone["talks/b/t07.md"]
        result = run("preprocess", *talks, "--variant", variant, "--out", f"cli-{variant}")
        assert result.exit_code == 1 and "t05.md:7:1: error: include file not found" in result.output
        for talk in talks:  # as the command shares it: one worker per core beyond the first
            written = (tmp_path / f"cli-{variant}" / talk.removeprefix("talks/")).read_text()
            assert written == alone[talk], (variant, talk)
        config = build_config(talks[0])
        for jobs in (2, 3):  # on any machine: the process itself and one or two workers
            out = tmp_path / f"batch-{variant}-{jobs}"
            results = dict(api.write_myst(talks, variant, config, str(out), jobs=jobs))
            assert sorted(results) == sorted(talks)
            assert not any(d.code == "E-WORKER" for diags in results.values() for d in diags)
            for talk in talks:
                written = (out / talk.removeprefix("talks/")).read_text(encoding="utf-8")
                assert written == alone[talk], (variant, jobs, talk)
