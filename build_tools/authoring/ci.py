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
import re
import shlex
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
    bibliography, the slides repository's diagrams), checked out beside the project and
    mapped with ``TALKS_PATH_MAP``: a folder granted from outside the repository."""

    written: str
    """The folder as the settings write it (``$HOME/lawrennd/snippets``)."""
    repository: str
    """``OWNER/NAME`` on GitHub."""
    subfolder: str = ""
    """The only part of the repository the talks read (``diagrams``): checked out alone."""
    ref: str = ""
    """The branch or tag followed ('' : the repository's default branch)."""
    commit: str = ""
    """The commit pinned in the lock ('' : none yet; the ref's latest commit is built)."""
    derived: bool = False
    """Found from the settings' known layout, not given by the maintainer."""

    @property
    def folder(self) -> str:
        return f"{SOURCES_FOLDER}/{self.repository.rpartition('/')[2]}"

    @property
    def spec(self) -> str:
        """``OWNER/NAME[/SUBFOLDER][@REF]``, as ``--source`` and the lock write it."""
        path = "/".join(filter(None, (self.repository, self.subfolder)))
        return f"{path}@{self.ref}" if self.ref else path

    @classmethod
    def parse(cls, text: str) -> Source:
        written, sep, target = text.rpartition("=")
        return cls.from_spec(written, target, given=text) if sep and written else \
            cls._refuse(text)

    @classmethod
    def from_spec(cls, written: str, target: str, commit: str = "", given: str = "") -> Source:
        path, _, ref = target.strip().partition("@")
        owner, _, rest = path.strip("/").partition("/")
        name, _, subfolder = rest.partition("/")
        if not written.startswith("$HOME/") or not _NAME_RE.fullmatch(owner) \
                or not _NAME_RE.fullmatch(name) or not _SUBFOLDER_RE.fullmatch(subfolder) \
                or (ref and not _REF_RE.fullmatch(ref)) \
                or (commit and not _COMMIT_RE.fullmatch(commit)):
            return cls._refuse(given or f"{written}={target}")
        return cls(written.rstrip("/"), f"{owner}/{name}", subfolder.strip("/"), ref, commit)

    @staticmethod
    def _refuse(text: str) -> Source:
        raise CiError(f"--source {text!r}: expected $HOME/FOLDER=OWNER/NAME[/SUBFOLDER][@REF], "
                      "e.g. '$HOME/lawrennd/slides=lawrennd/slides/diagrams@main'")


_NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")
_SUBFOLDER_RE = re.compile(r"(?:[A-Za-z0-9_.-]+/?)*")
_REF_RE = re.compile(r"[A-Za-z0-9_./-]+")
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")


@dataclass
class WorkflowSettings:
    shards: int = 3
    install: str = ""
    """What ``pip install`` is given to install talks: a pinned requirement (``install_spec``)."""
    sources: list[Source] = field(default_factory=list)
    branches: tuple[str, ...] = ("main",)
    python: str = "3.11"
    to: str = "none"
    """``talks build --to``: ``none`` makes the HTML only (exports need more than Python)."""
    schedule: str = "17 4 * * 1"
    """When the site is rebuilt from its sources' latest commits (cron, UTC): weekly."""


# -- how CI installs talks ----------------------------------------------------------------

PACKAGE = "talks-build-tools"


def install_spec(given: str) -> str:
    """The requirement pip is given on a fresh runner: ``given`` when it is pinned and
    reachable from there, else this copy's repository at its commit when that commit is
    pushed; CiError says what to give otherwise."""
    if given:
        problem = _unpinned(given)
        if problem:
            raise CiError(f"--install {given!r}: {problem}; give a pinned requirement a fresh "
                          f"runner can reach, e.g. '{PACKAGE}==0.1.0' (from PyPI) or "
                          f"'{PACKAGE} @ git+https://github.com/OWNER/talks@COMMIT'")
        return given
    found = pushed_commit()
    if not found:
        raise CiError("cannot tell where CI should install talks from: this copy's commit is "
                      "not on a branch of a remote a runner can reach (push it, or give "
                      f"--install, e.g. --install '{PACKAGE}==0.1.0' or --install "
                      f"'{PACKAGE} @ git+https://github.com/OWNER/talks@COMMIT')")
    return found


def _unpinned(spec: str) -> str:
    """Why ``spec`` does not name one release a runner can fetch ('' when it does)."""
    text = spec.strip()
    if text.startswith("-") or " -" in text:
        return "pip options are not a requirement (an editable install needs a local clone)"
    name, at, url = text.partition("@")
    if at:
        url = url.strip()
        if not url.startswith(("git+https://", "https://")):
            return "a URL must be https:// (a runner has no local paths, no ssh keys)"
        if url.startswith("git+"):
            ref = url.rpartition("@")[2].split("#")[0] if url.count("@") else ""
            return "" if _COMMIT_RE.fullmatch(ref) or re.fullmatch(r"v?\d[\w.]*", ref) else \
                "a git URL must end in @COMMIT (40 hex digits) or @TAG (v1.2.3)"
        return "" if "#sha256=" in url or url.endswith((".whl", ".tar.gz", ".zip")) else \
            "an archive URL must name a release file (.whl, .tar.gz)"
    return "" if re.fullmatch(r"[A-Za-z0-9_.-]+(?:\[[\w,]+\])?\s*===?\s*[\w.+!-]+", text) else \
        "a requirement must pin its version (NAME==VERSION)"


def pushed_commit() -> str:
    """This copy's repository at its current commit, as a requirement, when that commit is
    on a branch of its ``origin`` (so a runner can fetch it) and origin is on the network."""
    repo = Path(__file__).resolve().parent.parent.parent
    try:
        url = _git(repo, "remote", "get-url", "origin")
        commit = _git(repo, "rev-parse", "HEAD")
        pushed = _git(repo, "branch", "-r", "--contains", commit)
    except (OSError, subprocess.CalledProcessError):
        return ""
    if url.startswith("git@"):  # git@github.com:owner/name.git -> https://github.com/owner/name.git
        host, _, path = url[4:].partition(":")
        url = f"https://{host}/{path}"
    if not url.startswith("https://") or not pushed.strip():
        return ""
    return f"{PACKAGE} @ git+{url}@{commit}"


# -- where the site is published from -------------------------------------------------------

def default_branch(project: Path) -> str:
    """The branch pushes publish from: the remote's default branch (a lamd talks repository
    may have only ``gh-pages``), else the branch checked out, else ``main``."""
    for args in (("symbolic-ref", "--short", "refs/remotes/origin/HEAD"),
                 ("symbolic-ref", "--short", "HEAD")):
        try:
            return _git(project, *args).removeprefix("origin/") or "main"
        except (OSError, subprocess.CalledProcessError):
            continue
    return "main"


def render_workflow(settings: WorkflowSettings) -> str:
    import jinja2

    if settings.shards < 1:
        raise CiError(f"--shards {settings.shards}: at least 1")
    install = install_spec(settings.install)
    env = jinja2.Environment(loader=jinja2.PackageLoader("build_tools", "templates/ci"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             variable_start_string="[[", variable_end_string="]]",
                             block_start_string="[%", block_end_string="%]",
                             trim_blocks=True, lstrip_blocks=True)
    mappings = ":".join(f"{s.written}=${{{{ github.workspace }}}}/{s.folder}"
                        for s in settings.sources)
    return env.get_template("github.yml").render(
        shards=settings.shards, shard_list=json.dumps(list(range(1, settings.shards + 1))),
        branches=json.dumps(list(settings.branches)), install=shlex.quote(install),
        python=settings.python, to=settings.to, sources=settings.sources, mappings=mappings,
        version=_version(), schedule=settings.schedule, lock=LOCK.as_posix(),
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


# -- the repositories the talks read, and the commits built ---------------------------------

LOCK = Path(".github") / "talks-sources.yml"
"""The project's sources: each folder the lamd settings name, the repository (and ref) it
maps to, and the commit pushes build (so a build can be repeated)."""

KNOWN_LAYOUT = {"snippetsdir": "", "bibdir": "", "slidesdir": "diagrams"}
"""lamd settings that name another repository, as ``$HOME/OWNER/NAME/`` on its author's
machine, and the only part of it the talks read (the slides repository's diagrams)."""


def read_lock(project: Path) -> list[Source]:
    """The sources the maintainer mapped (``LOCK``); CiError names a wrong entry."""
    from ..yamlfile import YAMLError, YamlTooLarge, load_yaml, plain

    path = project / LOCK
    try:
        data = plain(load_yaml(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return []
    except (OSError, YAMLError, YamlTooLarge) as exc:
        raise CiError(f"{LOCK}: unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise CiError(f"{LOCK}: expected FOLDER: OWNER/NAME[/SUBFOLDER][@REF] entries")
    sources = []
    for written, entry in data.items():
        entry = entry if isinstance(entry, dict) else {"repository": entry}
        try:
            sources.append(Source.from_spec(str(written), str(entry.get("repository", "")),
                                            str(entry.get("commit") or "")))
        except CiError as exc:
            raise CiError(f"{LOCK}: {exc}") from None
    return sources


def write_lock(project: Path, sources: list[Source]) -> Path:
    path = project / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# The repositories the talks read, by the folder their lamd settings name:",
             "# OWNER/NAME[/SUBFOLDER][@REF] (edit it, then run `talks ci github --force`),",
             "# and the commit a push builds (a schedule or a manual run builds the latest).",
             "# Written by `talks ci github`."]
    for source in sources:
        lines += [f"{json.dumps(source.written)}:", f"  repository: {json.dumps(source.spec)}"]
        if source.commit:
            lines.append(f"  commit: {source.commit}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def derived_sources(project: Path) -> list[Source]:
    """The repositories the talk folders' lamd settings name in the known layout
    (``$HOME/OWNER/NAME/``, the repository ``OWNER/NAME`` on GitHub)."""
    from ..lamd import folder_settings
    from ..project import talk_folders

    found: dict[str, Source] = {}
    for folder in talk_folders(project):
        settings = folder_settings(str(folder))
        for key, part in KNOWN_LAYOUT.items():
            value = settings[key].value if key in settings else None
            for written in str(value or "").split(":"):
                match = re.fullmatch(r"(\$HOME/([\w.-]+)/([\w.-]+))/?", written.strip())
                if match and match.group(1) not in found:
                    found[match.group(1)] = Source(match.group(1),
                                                   f"{match.group(2)}/{match.group(3)}", part,
                                                   derived=True)
    return list(found.values())


def project_sources(project: Path, given: list[Source]) -> list[Source]:
    """The sources a workflow checks out: those given, then the lock's, then the settings'
    (one per folder, the first winning)."""
    chosen: dict[str, Source] = {}
    for source in [*given, *read_lock(project), *derived_sources(project)]:
        chosen.setdefault(source.written, source)
    return sorted(chosen.values(), key=lambda s: s.written)


def pin(source: Source, timeout: float = 30) -> Source:
    """The source with the commit its ref names now (``git ls-remote``); unchanged when
    the network or the repository cannot say."""
    from dataclasses import replace

    url = f"https://github.com/{source.repository}.git"
    try:
        lines = subprocess.run(["git", "ls-remote", url, source.ref or "HEAD"], check=True,
                               capture_output=True, text=True, timeout=timeout,
                               env={**os.environ, "GIT_TERMINAL_PROMPT": "0"}).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return source
    return replace(source, commit=lines[0]) if lines and _COMMIT_RE.fullmatch(lines[0]) else source


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


# -- which commits the pages came from ------------------------------------------------------

def record_sources(site: Path, folders: list[str]) -> dict:
    """Write ``SOURCES_RECORD`` into a shard site: each folder's commit, and the shard's talks
    (``talks merge`` turns the shards' records into one, talk by talk)."""
    from ..site.shards import MANIFEST, SOURCES_RECORD

    commits = {}
    for folder in folders:
        name = os.path.normpath(folder).removeprefix("../")
        commits["project" if name == "." else name] = _git(Path(folder), "rev-parse", "HEAD")
    try:
        talks = sorted(json.loads((site / MANIFEST).read_text(encoding="utf-8"))
                       .get("talks", {}))
    except (OSError, ValueError):
        talks = []
    record = {"commits": commits, "talks": talks}
    (site / SOURCES_RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record
