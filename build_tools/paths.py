"""Where the user keeps the trees lamd settings name by their author's paths.

lamd settings name folders on their author's machine (``snippetsdir:
$HOME/lawrennd/snippets``).  A user says once where those trees are on theirs,
as ``FROM=TO`` pairs, each ``FROM`` written as the settings write it:

1. the environment variable ``TALKS_PATH_MAP``, pairs separated by ``os.pathsep``
   (``TALKS_PATH_MAP='$HOME/lawrennd/snippets=/srv/snippets'``);
2. the user file ``$XDG_CONFIG_HOME/talks/paths.yml`` (default
   ``~/.config/talks/paths.yml``), a mapping ``FROM: TO``.

The environment wins over the file for the same ``FROM``.  A mapped folder is
the user's own choice, as ``-I DIR`` is, so talks may read from it.

``confine`` is the one rule for every file a talk or its settings name: it must lie
inside the allowed roots, symlinks followed.  ``display_name`` is how messages show a path.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass

from .yamlfile import YamlTooLarge, load_yaml

ENV_VAR = "TALKS_PATH_MAP"


@dataclass(frozen=True)
class PathMapping:
    prefix: str
    """As a setting writes it (``$HOME/lawrennd/snippets``), variables unexpanded."""
    target: str
    origin: str
    """Where the user said it: ``TALKS_PATH_MAP`` or the user file's path."""


def user_file() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "talks", "paths.yml")


def _from_env() -> list[PathMapping]:
    found = []
    for pair in os.environ.get(ENV_VAR, "").split(os.pathsep):
        prefix, sep, target = pair.partition("=")
        if sep and prefix.strip() and target.strip():
            found.append(PathMapping(prefix.strip(), target.strip(), ENV_VAR))
    return found


def _from_file() -> list[PathMapping]:
    path = user_file()
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            data = load_yaml(fh.read())
    except (OSError, ValueError, YamlTooLarge):
        return []
    except Exception:  # noqa: BLE001 - a broken user file maps nothing rather than stop a build
        return []
    if not isinstance(data, dict):
        return []
    return [PathMapping(str(k), str(v), path) for k, v in data.items() if k and v]


def path_mappings() -> list[PathMapping]:
    """Every mapping in force, longest prefix first (so the most specific one applies)."""
    chosen: dict[str, PathMapping] = {}
    for mapping in [*_from_file(), *_from_env()]:  # the environment overrides the file
        chosen[_norm(mapping.prefix)] = mapping
    return sorted(chosen.values(), key=lambda m: -len(_norm(m.prefix)))


def _norm(path: str) -> str:
    return path.rstrip("/\\") or path


def _target(mapping: PathMapping) -> str:
    return os.path.abspath(os.path.expanduser(os.path.expandvars(mapping.target)))


def map_path(entry: str) -> tuple[str, PathMapping | None]:
    """``entry`` with a mapped prefix replaced by its target; compared as written and expanded."""
    written = entry.strip()
    expanded = os.path.expanduser(os.path.expandvars(written))
    for mapping in path_mappings():
        for prefix in {_norm(mapping.prefix),
                       _norm(os.path.expanduser(os.path.expandvars(mapping.prefix)))}:
            for candidate in (written, expanded):
                if candidate == prefix or candidate.startswith(prefix + "/"):
                    rest = candidate[len(prefix):].lstrip("/")
                    return os.path.join(_target(mapping), rest) if rest else _target(mapping), mapping
    return written, None


def mapped_roots() -> list[str]:
    """Every folder the user mapped a setting's path to (talks may read from them)."""
    return [_target(m) for m in path_mappings()]


# -- showing and confining paths ---------------------------------------------------------

def display_name(path: str) -> str:
    return display_name_in(path, os.getcwd())


@functools.lru_cache(maxsize=4096)
def display_name_in(path: str, cwd: str) -> str:
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:
        return path
    # inside the folder: relative to it; outside: absolute, so one file is always written
    # the same way, whoever names it
    return os.path.abspath(path) if rel == ".." or rel.startswith(".." + os.sep) else rel


def real_roots(folders: Iterable[str | None]) -> tuple[str, ...]:
    """Folders as ``confine`` compares them: symlinks followed, each once."""
    return tuple(dict.fromkeys(os.path.realpath(f) for f in folders if f))


def confine(path: str, allowed_roots: Iterable[str]) -> str | None:
    """The real path of ``path`` when it lies inside one of ``allowed_roots``, else None.

    The one rule for every file a talk or its settings name (includes, images,
    diagrams, bibliographies, snippet folders): symlinks are followed first, so
    neither ``../`` nor a link inside an allowed folder can reach anything else, and
    nothing below a root may sit in a hidden (dot-named) folder or be a hidden file.
    ``allowed_roots`` are real paths (``real_roots``).
    """
    if not path or "\x00" in path:
        return None
    try:
        real = _real_path(os.path.abspath(path))
    except (OSError, ValueError):
        return None
    return real if any(_inside_visible(real, root) for root in allowed_roots) else None


def hidden(path: str) -> bool:
    """``path`` names a hidden (dot-named) folder or file on its way (``..`` aside)."""
    return any(part.startswith(".") and part not in (".", "..")
               for part in path.replace("\\", "/").split("/"))


def _inside_visible(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it, and no folder or file on the way down is hidden
    (``.git/``, ``.github/``, ``.env``, ``.venv/``): a repository keeps there what it never
    means to publish, such as a CI checkout's token in ``.git/config``."""
    if path == root:
        return True
    prefix = root.rstrip(os.sep) + os.sep
    return path.startswith(prefix) and not (os.sep + path[len(prefix):]).count(os.sep + ".")


def _real_path(path: str) -> str:
    """``os.path.realpath`` of an absolute, normal path, its folders' real paths reused:
    many files share a few folders, so most paths cost one look at their last part."""
    real = _REAL_PATHS.get(path)
    if real is None:
        folder, name = os.path.split(path)
        if not name or folder == path or os.path.islink(path):
            real = os.path.realpath(path)
        else:
            real = os.path.join(_real_path(folder), name)
        _REAL_PATHS[path] = real
    return real


_REAL_PATHS: dict[str, str] = {}
"""Where each path named since ``new_snapshot`` really is (symlinks followed)."""


def forget_real_paths() -> None:
    """Start a new view of the disk: a path is looked up again the next time it is named."""
    _REAL_PATHS.clear()
