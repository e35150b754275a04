"""Where a project is: the folder a build, a check or a preview works in, and its talks.

A project is the nearest folder, from a talk or the current folder up, holding a
``conf.py`` or an ``includes/`` folder, or a lamd repository: a course (its lectures and
settings in ``_lamd/``), a talks repository (subject folders such as ``_ml/`` of talks
with their ``_lamd.yml`` or ``_config.yml``), or one such folder on its own.  A
``_config.yml`` counts only when it holds lamd's keys: a Jekyll site's does not.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from pathlib import Path

from .views import OneView
from .yamlfile import YAMLError, YamlTooLarge, load_yaml

PACKAGE_DIR = Path(__file__).resolve().parent


@functools.cache
def code_fingerprint() -> str:
    """A digest of this package's own files (its code, templates, static files, vocabulary).

    What a build kept (Sphinx's environment and doctrees, the prepared decks) was made by
    some version of this code; after an upgrade or an edit it must be made anew, or the
    pages keep the old rendering while the files they come from are unchanged."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
"""The installed package (its templates and static files)."""

PROJECT_MARKERS = ("a conf.py, an includes/ folder, a lamd course (_lamd/ with its settings) or "
                   "lamd talk folders with their _lamd.yml or _config.yml")
"""What makes a folder a project (said when none is found)."""

DEFAULT_CONF_DIR = PACKAGE_DIR / "templates" / "project"
"""The conf.py a project without one (a lamd course) is built with; ``talks init`` copies it."""

SETTINGS_FILES = ("_config.yml", "_lamd.yml")
"""lamd's settings beside its talks: the legacy file first, its own overriding it."""

LAMD_KEYS = frozenset({
    "snippetsdir", "bibdir", "diagramsdir", "writediagramsdir", "talkcss", "ghub", "postsdir",
    "notesdir", "slidesdir", "notebooksdir", "practicalsdir", "scriptsdir", "slidesheader",
    "ipynb", "slidesipynb", "docx", "pptx", "notespdf", "reveal", "posts", "potx", "dotx"})
"""Keys only lamd's settings have: a Jekyll ``_config.yml`` (title, baseurl...) has none."""

TALK_FOLDER_PREFIX = "_"
"""A talks repository keeps its talks in subject folders named like Jekyll collections."""

NOT_TALK_FOLDERS = frozenset({"_drafts", "_posts", "_includes", "_layouts", "_site", "_data",
                              "_sass", "_lectures", "_notes", "_notebooks", "_practicals"})
"""Jekyll's own folders and the ones lamd writes its outputs to: never a subject folder."""


def find_project_root(start: str | os.PathLike) -> Path | None:
    """The nearest folder from ``start`` up that holds a ``conf.py`` or an ``includes/``
    folder, or is a lamd course or a lamd talks repository; failing those, the nearest
    folder of lamd talks with their settings."""
    here = Path(start).resolve()
    return _ROOTS.answer(here if here.is_dir() else here.parent, _project_root_from)


_ROOTS: OneView[Path, Path | None] = OneView()
"""Each folder's project, worked out once while ``one_view_of_projects`` holds."""


def one_view_of_projects() -> contextlib.AbstractContextManager[None]:
    """Within, a folder's project is looked for once: a build asks it for every talk, in
    every stage, and each look reads several folders up to the file system's root.  A build
    takes the tree as it finds it at its start; the next build (``talks serve``) looks anew."""
    return _ROOTS.held()


def _project_root_from(first: Path) -> Path | None:
    talk_folder = None
    for folder in [first, *first.parents]:
        kind = project_kind(folder)
        if kind == LAMD_TALK_FOLDER:
            talk_folder = talk_folder or folder
        elif kind is not None:
            return folder
    return talk_folder


LAMD_TALK_FOLDER = "lamd talk folder"


def project_kind(folder: Path) -> str | None:
    """What kind of project ``folder`` is (``talks config`` says it), or None."""
    if (folder / "conf.py").is_file() or (folder / "includes").is_dir():
        return "talks project"
    if is_lamd_course(folder):
        return "lamd course"
    if is_talks_repository(folder):
        return "lamd talks repository"
    if is_lamd_talk_folder(folder):
        return LAMD_TALK_FOLDER
    return None


def is_lamd_course(folder: Path) -> bool:
    """A lamd course repository: its lectures and settings live in ``_lamd/``."""
    return bool(lamd_settings_files(folder / "_lamd"))


def is_lamd_talk_folder(folder: Path) -> bool:
    """Talk sources with lamd settings beside them."""
    try:
        return bool(lamd_settings_files(folder)) and any(folder.glob("*.md"))
    except OSError:
        return False


def is_talks_repository(folder: Path) -> bool:
    """A speaker's talks repository: subject folders (``_ml/``, ``_gp/``...) of lamd talks."""
    return bool(subject_folders(folder))


def subject_folders(folder: Path) -> list[Path]:
    """The subject folders of talks directly inside ``folder``, in name order, when at least
    one of them has lamd settings beside its talks (the others take the repository's)."""
    key = str(folder)
    stamp = _stamp(folder)
    cached = _SUBJECTS.get(key)
    if cached is None or cached[0] != stamp:
        try:  # a folder this user may not list holds no talks of theirs
            candidates = [] if stamp is None else [
                child for child in sorted(folder.iterdir())
                if child.name.startswith(TALK_FOLDER_PREFIX)
                and child.name not in NOT_TALK_FOLDERS and child.name != "_lamd"
                and child.is_dir() and any(child.glob("*.md"))]
        except OSError:
            candidates = []
        found = candidates if any(lamd_settings_files(c) for c in candidates) else []
        cached = _SUBJECTS[key] = (stamp, found)
    return cached[1]


def lamd_settings_files(folder: Path) -> list[Path]:
    """``folder``'s settings files that hold lamd settings, in the order lamd reads them:
    a ``_lamd.yml`` always (the name is lamd's own), a ``_config.yml`` with lamd's keys."""
    return [folder / name for name in SETTINGS_FILES
            if (name == "_lamd.yml" and _stamp(folder / name) is not None)
            or LAMD_KEYS & settings_keys(folder / name)]


def settings_keys(path: Path) -> frozenset[str]:
    """The top-level keys of a YAML settings file; none when it is missing or unreadable."""
    key = str(path)
    stamp = _stamp(path)
    cached = _KEYS.get(key)
    if cached is None or cached[0] != stamp:
        keys: frozenset[str] = frozenset()
        if stamp is not None and path.is_file():
            try:
                data = load_yaml(path.read_text(encoding="utf-8", errors="replace"))
            except (OSError, YAMLError, YamlTooLarge):
                data = None
            if isinstance(data, dict):
                keys = frozenset(str(k) for k in data)
        cached = _KEYS[key] = (stamp, keys)
    return cached[1]


def _stamp(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except (OSError, ValueError):
        return None


_SUBJECTS: dict[str, tuple[int | None, list[Path]]] = {}
_KEYS: dict[str, tuple[int | None, frozenset[str]]] = {}


class NoProject(Exception):
    """``talks build`` (or serve) was run where there is no project; the message says what
    was looked for, and where."""

    def __init__(self, start: str | os.PathLike):
        super().__init__(f"no talks project at {os.path.abspath(start)} or any folder above it: "
                         f"looked for {PROJECT_MARKERS}; run `talks init` to make one")


def require_project(start: str | os.PathLike) -> Path:
    root = find_project_root(start)
    if root is None:
        raise NoProject(start)
    return root


def confdir_for(project: str | os.PathLike) -> Path:
    """The folder whose conf.py configures Sphinx: the project's own, else the default one."""
    own = Path(project)
    return own if (own / "conf.py").is_file() else DEFAULT_CONF_DIR


def talk_folders(project: str | os.PathLike) -> list[Path]:
    """Where a project's talks are: ``talks/``, a lamd course's ``_lamd/``, a talks
    repository's subject folders, or the lamd talk folder that is the project."""
    root = Path(project)
    folders = [root / name for name in ("talks", "_lamd") if (root / name).is_dir()]
    folders += subject_folders(root)
    if not folders and is_lamd_talk_folder(root):
        folders.append(root)
    return folders
