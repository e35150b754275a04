"""Where a project is: the folder a build, a check or a preview works in, and its talks.

A project is the nearest folder, from a talk or the current folder up, holding a
``conf.py``, an ``includes/`` folder, or a lamd course's ``_lamd/_lamd.yml``.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
"""The installed package (its templates and static files)."""

PROJECT_MARKERS = "a conf.py, an includes/ folder, or a lamd course's _lamd/_lamd.yml"
"""What makes a folder a project (said when none is found)."""

DEFAULT_CONF_DIR = PACKAGE_DIR / "templates" / "project"
"""The conf.py a project without one (a lamd course) is built with; ``talks init`` copies it."""


def find_project_root(start: str | os.PathLike) -> Path | None:
    """The nearest folder above ``start`` that holds a ``conf.py``, an ``includes/`` folder
    or a lamd course's ``_lamd/_lamd.yml``."""
    here = Path(start).resolve()
    for folder in [here, *here.parents] if here.is_dir() else here.parents:
        if (folder / "conf.py").is_file() or (folder / "includes").is_dir() or is_lamd_course(folder):
            return folder
    return None


def is_lamd_course(folder: Path) -> bool:
    """A lamd course repository: its lectures and settings live in ``_lamd/``."""
    return (folder / "_lamd" / "_lamd.yml").is_file()


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
    """Where a project's talks are: ``talks/``, and a lamd course's ``_lamd/``."""
    root = Path(project)
    return [root / name for name in ("talks", "_lamd") if (root / name).is_dir()]
