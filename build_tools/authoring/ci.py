"""Publishing from GitHub Actions: the workflow ``talks ci github`` (and ``talks init --ci
github``) writes, and ``talks ci mtimes``, the step that lets its cached build be reused.

The workflow builds the site in shards (``talks build --shard I/N``), merges them
(``talks merge``) and deploys the result to GitHub Pages.  Each shard keeps its build
folder in the Actions cache.  Sphinx and the prepared decks decide what to read again
by file times, and a fresh checkout gives every file the time of the checkout, so
``mtimes`` first dates every tracked file in the past, then gives the files that
changed since the cached build's commit (recorded in the cache) the present time:
a push then rebuilds only the talks its changes affect.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

WORKFLOW = Path(".github") / "workflows" / "talks.yml"
PAST = 946684800  # 2000-01-01: older than any build that could be cached
SOURCES_FOLDER = "sources"
"""Where the workflow checks out the other repositories the talks read (beside the project)."""


ACTIONS = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "actions/cache/restore": ("5a3ec84eff668545956fd18022155c47e93e2684", "v4.2.3"),
    "actions/cache/save": ("5a3ec84eff668545956fd18022155c47e93e2684", "v4.2.3"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    "actions/upload-pages-artifact": ("56afc609e74202658d3ffba0e8f6dda462b719fa", "v3.0.1"),
    "actions/deploy-pages": ("d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e", "v4.0.5"),
}
"""The actions the workflow uses, each pinned to the commit of a release (a tag can be
moved; a commit cannot), with the release's name."""


class CiError(Exception):
    """A workflow that cannot be written as asked; the message says what to give."""


@dataclass(frozen=True)
class Source:
    """A repository the talks read through a path their lamd settings name (snippets,
    bibliography), checked out beside the project and mapped with ``TALKS_PATH_MAP``."""

    written: str
    """The folder as the settings write it (``$HOME/lawrennd/snippets``)."""
    repository: str
    """``OWNER/NAME`` on GitHub."""

    @property
    def folder(self) -> str:
        return f"{SOURCES_FOLDER}/{self.repository.rpartition('/')[2]}"

    @classmethod
    def parse(cls, text: str) -> Source:
        written, sep, repository = text.rpartition("=")
        owner, slash, name = repository.partition("/")
        if not sep or not written or not owner or not slash or not name or "/" in name:
            raise CiError(f"--source {text!r}: expected FOLDER=OWNER/NAME, e.g. "
                          "'$HOME/lawrennd/snippets=lawrennd/snippets'")
        return cls(written, repository)


@dataclass
class WorkflowSettings:
    shards: int = 3
    install: str = ""
    """What ``pip install`` is given to install talks (a VCS URL, editable)."""
    sources: list[Source] = field(default_factory=list)
    branches: tuple[str, ...] = ("main",)
    python: str = "3.11"
    to: str = "none"
    """``talks build --to``: ``none`` makes the HTML only (exports need more than Python)."""


def tool_install() -> str:
    """How CI installs the talks this command runs: an editable install of its own
    repository at its current commit, or '' when that cannot be told."""
    repo = Path(__file__).resolve().parent.parent.parent
    try:
        url = _git(repo, "remote", "get-url", "origin")
        commit = _git(repo, "rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return ""
    if url.startswith("git@"):  # git@github.com:owner/name.git -> https://github.com/owner/name.git
        host, _, path = url[4:].partition(":")
        url = f"https://{host}/{path}"
    return f'-e "git+{url}@{commit}#egg=talks-build-tools"'


def render_workflow(settings: WorkflowSettings) -> str:
    import jinja2

    if settings.shards < 1:
        raise CiError(f"--shards {settings.shards}: at least 1")
    install = settings.install or tool_install()
    if not install:
        raise CiError("cannot tell where CI should install talks from (this copy has no git "
                      "remote): give --install, e.g. --install "
                      "'-e git+https://github.com/OWNER/talks@v0.1.0#egg=talks-build-tools'")
    env = jinja2.Environment(loader=jinja2.PackageLoader("build_tools", "templates/ci"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             variable_start_string="[[", variable_end_string="]]",
                             block_start_string="[%", block_end_string="%]",
                             trim_blocks=True, lstrip_blocks=True)
    mappings = ":".join(f"{s.written}=${{{{ github.workspace }}}}/{s.folder}"
                        for s in settings.sources)
    return env.get_template("github.yml").render(
        shards=settings.shards, shard_list=json.dumps(list(range(1, settings.shards + 1))),
        branches=json.dumps(list(settings.branches)), install=install, python=settings.python,
        to=settings.to, sources=settings.sources, mappings=mappings, version=_version(),
        actions={name: f"{name}@{commit}  # {tag}" for name, (commit, tag) in ACTIONS.items()},
        mtime_folders=" ".join([".", *(f"../{s.folder}" for s in settings.sources)]))


def write_workflow(project: Path, settings: WorkflowSettings, force: bool = False) -> Path:
    """Write ``.github/workflows/talks.yml``; an existing one only with ``force``."""
    text = render_workflow(settings)
    path = project / WORKFLOW
    if path.exists() and not force:
        raise CiError(f"{path} exists; give --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"talks-build-tools {version('talks-build-tools')}"
    except PackageNotFoundError:
        return "talks-build-tools"


# -- the cached build's file times ------------------------------------------------------------

@dataclass
class Dated:
    """What ``settle_mtimes`` did in one folder."""

    folder: str
    commit: str
    since: str = ""
    """The commit of the cached build ('' when there is none to compare with)."""
    changed: list[str] = field(default_factory=list)
    past: int = 0


def settle_mtimes(folders: list[str], state_file: str, now: float | None = None) -> list[Dated]:
    """Date each git folder's tracked files in the past, those changed since the commit
    recorded in ``state_file`` in the present, and record the current commits.

    A folder with no recorded commit (no cached build, or a commit the clone lacks) is
    left as checked out: everything in it is new, so everything is built.  The macro
    files talks itself reads are dated in the past while they are those of the commit
    recorded (CI installs talks afresh on every run, at one commit).
    """
    now = time.time() if now is None else now
    state = _read_state(state_file)
    done = []
    for folder in folders:
        key = os.path.normpath(folder)
        root = Path(_git(Path(folder), "rev-parse", "--show-toplevel"))
        commit = _git(root, "rev-parse", "HEAD")
        dated = Dated(key, commit, since=state.get(key, ""))
        changed = _changed_since(root, dated.since) if dated.since else None
        if changed is None:
            dated.since = ""
        else:
            dated.changed = sorted(changed)
            for name in _git(root, "ls-files", "-z").split("\0"):
                if name:
                    _date(root / name, now if name in changed else PAST)
                    dated.past += name not in changed
        state[key] = commit
        done.append(dated)
    from ..config import PROJECT_MACROS

    tool = _tool_identity(PROJECT_MACROS)
    last_run = float(state.get("run", "inf"))
    if tool and state.get("talks") == tool:  # the same macros, installed since the last run
        for path in PROJECT_MACROS.rglob("*"):
            if path.is_file() and path.stat().st_mtime > last_run:
                _date(path, PAST)
    state["talks"], state["run"] = tool, str(now)
    os.makedirs(os.path.dirname(os.path.abspath(state_file)), exist_ok=True)
    Path(state_file).write_text(json.dumps(state, indent=1), encoding="utf-8")
    return done


def _tool_identity(macros: Path) -> str:
    """The commit talks was installed from, when its macro files are exactly that
    commit's ('' otherwise: an edited or unknown copy is never dated)."""
    try:
        if _git(macros, "status", "--porcelain", "--", "."):
            return ""
        return _git(macros, "rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return ""


def _changed_since(folder: Path, commit: str) -> set[str] | None:
    """Tracked files that differ from ``commit``; None when the clone does not have it."""
    try:
        _git(folder, "cat-file", "-e", f"{commit}^{{commit}}")
        return set(filter(None, _git(folder, "diff", "--name-only", "-z", commit, "HEAD")
                          .split("\0")))
    except subprocess.CalledProcessError:
        return None


def _date(path: Path, when: float) -> None:
    try:
        os.utime(path, (when, when), follow_symlinks=False)
    except OSError:
        pass  # a file that vanished or is not ours to date is simply built


def _read_state(path: str) -> dict[str, str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(data, dict) else {}


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True,
                          text=True).stdout.strip()
