"""lamd's folder settings: ``_config.yml`` and ``_lamd.yml`` beside a talk.

lamd reads its settings from the talk's folder (the legacy ``_config.yml``, then
``_lamd.yml``); here they add include roots (``snippetsdir``), name the images
(``diagramsdir``) and the bibliographies (``bibdir``), give front-matter defaults
and choose exports.  Paths that name their author's machine are mapped with
``paths.map_path``; any other path must stay inside the tree above the settings file.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .diagnostics import Diagnostic, Location, Severity
from .formats import FORMATS
from .paths import confine, display_name, map_path
from .yamlfile import YAMLError, YamlTooLarge, load_yaml, plain

LAMD_SETTINGS = ("snippetsdir", "diagramsdir", "bibdir", "writediagramsdir", "author", "venue",
                 "transition")
"""The ``_lamd.yml`` / ``_config.yml`` keys that mean something here (the others are lamd's
own: output folders, Jekyll layout, pptx...)."""

LAMD_PATH_SETTINGS = ("snippetsdir", "diagramsdir", "bibdir", "writediagramsdir")

LAMD_EXPORTS = {"ipynb": "ipynb", "slidesipynb": "ipynb", "notebook": "ipynb", "docx": "docx",
                "notespdf": "pdf", "pdf": "slides-pdf", "slidespdf": "slides-pdf"}
"""lamd's output switches and the export each one asks for (lamd's ``pdf`` is the deck)."""


@dataclass(frozen=True)
class Setting:
    name: str
    value: object
    source: str


def lamd_settings(folder: str | os.PathLike) -> list[Setting]:
    """The lamd settings of a talk folder that apply here, paths mapped for this machine."""
    folder = str(folder)
    raw = directory_settings(folder)
    origin = _settings_file(folder)
    found = []
    for key in LAMD_SETTINGS:
        if key not in raw:
            continue
        value, source = raw[key], origin
        if key in LAMD_PATH_SETTINGS and isinstance(value, str):
            parts = []
            for entry in value.split(":"):
                mapped, mapping = map_path(entry)
                parts.append(mapped)
                if mapping is not None:
                    source = f"{origin}, {mapping.prefix} mapped by {mapping.origin}"
            value = ":".join(parts)
        found.append(Setting(key, value, source))
    exports = lamd_exports(raw)
    if exports is not None:
        found.append(Setting("exports", list(exports), origin))
    return found


def lamd_exports(settings: dict) -> tuple[str, ...] | None:
    """The exports lamd's output switches ask for; None when the settings name none."""
    named = [key for key in LAMD_EXPORTS if key in settings]
    if not named:
        return None
    chosen = {LAMD_EXPORTS[key] for key in named if settings[key] is True
              or str(settings[key]).lower() in ("true", "yes", "1")}
    return tuple(f for f in FORMATS if f in chosen)


def _settings_file(folder: str) -> str:
    names = [n for n in ("_config.yml", "_lamd.yml") if os.path.isfile(os.path.join(folder, n))]
    return " then ".join(os.path.relpath(os.path.join(folder, n)) for n in names) or "none"


_SETTINGS: dict[str, dict] = {}


def directory_settings(folder: str) -> dict:
    """lamd's per-folder defaults: ``_lamd.yml``, then the legacy ``_config.yml`` (docs/macro-language.md, "Folder settings")."""
    if folder not in _SETTINGS:
        _SETTINGS[folder] = _read_settings(folder)
    return _SETTINGS[folder]


def _read_settings(folder: str) -> dict:
    merged: dict = {}
    for name in ("_config.yml", "_lamd.yml"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    data = load_yaml(fh.read())
            except (YAMLError, YamlTooLarge):
                continue
            if isinstance(data, dict):
                merged.update(plain(data))
    return merged


def snippet_dirs(folder: str, allowed=None) -> tuple[list[str], list[Diagnostic]]:
    """Include roots a folder's ``snippetsdir`` names (``$VAR`` expanded, ':'-separated,
    the user's path mapping applied: ``build_tools.paths``).

    Only folders that exist count: lamd configurations often name a checkout on
    their author's machine (``$HOME/...``), which is simply not there unless the
    user mapped it (a mapped folder is the user's choice, as ``-I`` is).  With
    ``allowed`` (real paths, see ``source.confine``), a folder outside them is
    refused with an error: settings come with the talk and may not widen what it
    reads; only ``-I DIR`` can.
    """
    value = directory_settings(folder).get("snippetsdir")
    found, refused = [], []
    for entry in str(value or "").split(":"):
        entry, mapping = map_path(entry)
        entry = os.path.expandvars(entry)
        if entry and "$" not in entry and "\x00" not in entry:
            path = os.path.normpath(os.path.join(folder, os.path.expanduser(entry)))
            if not os.path.isdir(path):
                continue
            if allowed is None or mapping is not None or confine(path, allowed):
                found.append(path)
            else:
                refused.append(Diagnostic(
                    "E-PATH-OUTSIDE", Severity.ERROR,
                    f"snippetsdir {entry} resolves to {display_name(os.path.realpath(path))}, outside "
                    "the talk's repository; refused", setting_location(folder, "snippetsdir"),
                    hint="give the folder with -I DIR to allow it"))
    return found, refused


def diagrams_dir_setting(folder: str) -> str | None:
    """The images folder lamd's ``diagramsdir`` names for the talks in ``folder``.

    lamd writes it relative to the course repository (``./slides/diagrams/`` in a course
    whose talks sit in ``_lamd/``), so it is looked for beside the settings file first,
    then beside its folder.  Only a folder inside that parent tree is accepted (settings
    may not widen what a talk reads); ``$HOME/...`` values name the author's machine and
    are ignored, as for ``snippetsdir``.
    """
    value = str(directory_settings(folder).get("diagramsdir") or "").strip()
    if not value or "$" in value or "\x00" in value or "://" in value:
        return None
    parent = os.path.dirname(os.path.abspath(folder))
    for base in (folder, parent):
        path = os.path.normpath(os.path.join(base, os.path.expanduser(value)))
        if os.path.isdir(path) and confine(path, [os.path.realpath(parent)]):
            return path
    return None


def setting_location(folder: str, key: str) -> Location | None:
    for name in ("_lamd.yml", "_config.yml"):
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            continue
        m = re.search(rf"^{key}[ \t]*:", text, re.M)
        if m:
            return Location(display_name(path), text.count("\n", 0, m.start()) + 1, 1)
    return None


def bibdir_files(folder: str | os.PathLike) -> list[str]:
    """Every ``*.bib`` in the folders lamd's ``bibdir`` names for the talks in ``folder``.

    A path mapping (``TALKS_PATH_MAP``, ``paths.yml``) is the user's choice, as ``-I DIR``
    is; an unmapped folder is relative to the settings file and must be inside the tree
    above it (settings may not widen what a talk reads); ``$HOME/...`` left unmapped names
    the author's machine and is ignored.
    """
    folder = os.path.abspath(str(folder))
    setting = next((s for s in lamd_settings(folder) if s.name == "bibdir"), None)
    if setting is None or not isinstance(setting.value, str):
        return []
    mapped = "mapped by" in setting.source
    parent = os.path.realpath(os.path.dirname(folder))
    files: list[str] = []
    for entry in setting.value.split(":"):
        entry = entry.strip()
        if not entry or "$" in entry or "\x00" in entry or "://" in entry:
            continue
        path = os.path.normpath(os.path.join(folder, os.path.expanduser(entry)))
        if not os.path.isdir(path) or not (mapped or confine(path, [parent])):
            continue
        files += sorted(os.path.join(path, n) for n in os.listdir(path) if n.endswith(".bib"))
    return files
