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
"""
from __future__ import annotations

import os
from dataclasses import dataclass

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
    from .engine.talkfile import YamlTooLarge, load_yaml

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
