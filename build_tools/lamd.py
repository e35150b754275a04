"""lamd's folder settings: ``_config.yml`` and ``_lamd.yml`` beside a talk.

A talk takes its folder's settings (the legacy ``_config.yml``, then ``_lamd.yml``), over
its parents' up to the project's root, over what a talks repository's folders agree on
(``folder_settings``); here they add include roots (``snippetsdir``), name the images
(``diagramsdir``) and the bibliographies (``bibdir``), give front-matter defaults
and choose exports.  Paths that name their author's machine are mapped with
``paths.map_path``; a settings file is part of the repository, so any path it names must
stay inside the project or a folder granted from outside it (``settings_roots``).
"""
from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import Diagnostic, Location, Severity
from .formats import FORMAT_TABLE, FORMATS
from .paths import confine, display_name, map_path, mapped_roots, real_roots
from .project import (SETTINGS_FILES, find_project_root, lamd_settings_files,
                      subject_folders)
from .yamlfile import YAMLError, YamlTooLarge, load_yaml, plain

LAMD_SETTINGS = ("snippetsdir", "diagramsdir", "bibdir", "writediagramsdir", "author", "venue",
                 "transition", "potx")
"""The ``_lamd.yml`` / ``_config.yml`` keys that mean something here (the others are lamd's
own: output folders, Jekyll layout...)."""

LAMD_PATH_SETTINGS = ("snippetsdir", "diagramsdir", "bibdir", "writediagramsdir")

LAMD_EXPORTS = {switch: f.name for f in FORMAT_TABLE for switch in f.lamd_settings}
"""lamd's output switches and the export each one asks for (lamd's ``pdf`` is the deck)."""


@dataclass(frozen=True)
class Setting:
    name: str
    value: object
    source: str


def lamd_settings(folder: str | os.PathLike) -> list[Setting]:
    """The lamd settings that apply to the talks in ``folder``, paths mapped for this
    machine, each with the file it came from."""
    settings = folder_settings(str(folder))
    found = []
    for key in LAMD_SETTINGS:
        if key not in settings:
            continue
        value, source = settings[key].value, settings[key].source
        if key in LAMD_PATH_SETTINGS and isinstance(value, str):
            parts = []
            for entry in value.split(":"):
                mapped, mapping = map_path(entry)
                parts.append(mapped)
                if mapping is not None:
                    source = f"{source}, {mapping.prefix} mapped by {mapping.origin}"
            value = ":".join(parts)
        found.append(Setting(key, value, source))
    exports = lamd_exports({k: v.value for k, v in settings.items()})
    if exports is not None:
        origins = sorted({settings[k].source for k in LAMD_EXPORTS if k in settings})
        found.append(Setting("exports", list(exports), " and ".join(origins)))
    return found


def lamd_exports(settings: dict) -> tuple[str, ...] | None:
    """The exports lamd's output switches ask for; None when the settings name none."""
    named = [key for key in LAMD_EXPORTS if key in settings]
    if not named:
        return None
    chosen = {LAMD_EXPORTS[key] for key in named if settings[key] is True
              or str(settings[key]).lower() in ("true", "yes", "1")}
    return tuple(f for f in FORMATS if f in chosen)


@dataclass(frozen=True)
class SettingValue:
    value: object
    file: str
    """The settings file that gave it: paths in it are relative to its folder."""
    shared: bool = False
    """Named by no folder above the talk: the value a talks repository's folders agree on."""

    @property
    def folder(self) -> str:
        return os.path.dirname(self.file)

    @property
    def source(self) -> str:
        shown = os.path.relpath(self.file)
        return f"{shown}, shared by the talks repository's folders" if self.shared else shown


SHARED_SETTINGS = ("snippetsdir", "bibdir")
"""The trees a speaker keeps once for all their talks: in a talks repository, a subject
folder that names none takes the one its sibling folders agree on."""

_SETTINGS: dict[str, dict[str, SettingValue]] = {}


def folder_settings(folder: str) -> dict[str, SettingValue]:
    """The lamd settings for the talks in ``folder``, as lamd reads them: the project's, then
    each folder's ``_lamd.yml`` down to ``folder``, then the folder's own (``_config.yml``,
    then ``_lamd.yml``), the nearer winning.

    Above the talk's own folder a ``_config.yml`` never counts: lamd's legacy file lives
    beside the talks, and one higher up is a Jekyll site's."""
    folder = os.path.abspath(folder)
    if folder not in _SETTINGS:
        root = find_project_root(folder)
        merged = dict(_shared_settings(root)) if root is not None else {}
        for above in _folders_down_to(folder, root):
            files = [Path(above) / n for n in SETTINGS_FILES] if above == folder \
                else [Path(above) / "_lamd.yml"]
            for path in files:
                merged.update({k: SettingValue(v, str(path)) for k, v in _read(path).items()})
        _SETTINGS[folder] = merged
    return _SETTINGS[folder]


def directory_settings(folder: str) -> dict:
    """The values of ``folder_settings`` (docs/macro-language.md, "Folder settings")."""
    return {key: setting.value for key, setting in folder_settings(folder).items()}


def _folders_down_to(folder: str, root: Path | None) -> list[str]:
    """``root`` and every folder below it down to ``folder``; just ``folder`` outside it."""
    if root is None or not Path(folder).is_relative_to(root):
        return [folder]
    chain = [folder]
    while Path(chain[-1]) != root:
        chain.append(os.path.dirname(chain[-1]))
    return chain[::-1]


@functools.lru_cache(maxsize=64)
def _shared_settings(root: Path) -> dict[str, SettingValue]:
    """What a talks repository's subject folders agree on, for those that name nothing
    (once per repository and process, as ``folder_settings`` is once per folder)."""
    named: dict[str, dict[str, str]] = {}
    for subject in subject_folders(root):
        for path in lamd_settings_files(subject):
            for key, value in _read(path).items():
                if key in SHARED_SETTINGS and isinstance(value, str):
                    named.setdefault(key, {}).setdefault(value.rstrip("/"), str(path))
    return {key: SettingValue(value, file, shared=True) for key, values in named.items()
            if len(values) == 1 for value, file in values.items()}


def _read(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            data = load_yaml(fh.read())
    except (OSError, YAMLError, YamlTooLarge):
        return {}
    return plain(data) if isinstance(data, dict) else {}


def settings_roots(folder: str, granted: Iterable[str] = ()) -> tuple[str, ...]:
    """Where the paths a settings file names may lead (real paths, as ``confine`` takes them).

    A settings file comes with the repository, so by itself it may name only folders inside
    the project that holds ``folder``.  Anything else must have been granted from outside the
    repository: a folder the user mapped (``TALKS_PATH_MAP``, the user's ``paths.yml``) or
    one of ``granted`` (``-I DIR``, ``--diagrams``, ``--bib``, the project's ``conf.py``).
    """
    project = find_project_root(folder)
    return real_roots([str(project) if project else folder, *mapped_roots(), *granted])


def snippet_dirs(folder: str, allowed: Sequence[str] | None = None) -> list[str]:
    """Include roots a folder's ``snippetsdir`` names (``$VAR`` expanded, ':'-separated,
    the user's path mapping applied: ``build_tools.paths``).

    Only folders that exist count: lamd configurations often name a checkout on
    their author's machine (``$HOME/...``), which is simply not there unless the
    user mapped it.  ``allowed`` defaults to ``settings_roots``; a folder outside it is left
    out (``refused_settings`` reports it).
    """
    return _setting_folders(folder, "snippetsdir", allowed)[0]


def diagrams_dir_setting(folder: str, allowed: Sequence[str] | None = None) -> str | None:
    """The images folder lamd's ``diagramsdir`` names for the talks in ``folder``."""
    return diagrams_dir_candidates(folder, allowed)[0]


def diagrams_dir_candidates(folder: str, allowed: Sequence[str] | None = None) -> tuple[str | None, list[str]]:
    """The images folder lamd's ``diagramsdir`` names for the talks in ``folder``, and
    every place looked (for the one warning a build gives when none holds it).

    lamd writes it relative to the course repository (``./slides/diagrams/`` in a course
    whose talks sit in ``_lamd/``), so it is looked for beside the settings file first,
    then beside its folder.  A folder outside ``allowed`` (default ``settings_roots``) is
    left out; unmapped ``$HOME/...`` values name the author's machine and are ignored.
    A talks repository's ``./slides/diagrams/`` is the ``diagrams/`` of the slides
    repository its ``slidesdir`` names (``$HOME/lawrennd/slides/``): found there when the
    user mapped that folder (``TALKS_PATH_MAP``), a grant from outside the repository.
    """
    found = _setting_folders(folder, "diagramsdir", allowed, beside_parent=True)[0]
    if found:
        return found[0], []
    settings = folder_settings(folder)
    setting = settings.get("diagramsdir")
    value = str(setting.value or "").strip() if setting is not None else ""
    if setting is None or not value or "$" in value or "://" in value:
        return None, []
    looked = [os.path.normpath(os.path.join(base, value))
              for base in (setting.folder, os.path.dirname(setting.folder))]
    slides = settings.get("slidesdir")
    written = str(slides.value or "").strip().rstrip("/") if slides is not None else ""
    first, _, rest = os.path.normpath(value).partition(os.sep)
    if written and rest and os.path.basename(written) == first:
        mapped, mapping = map_path(written)
        looked.append(os.path.join(mapped if mapping is not None else written, rest))
        path = os.path.normpath(os.path.join(mapped, rest))
        allowed = settings_roots(folder) if allowed is None else allowed
        if mapping is not None and os.path.isdir(path) and confine(path, allowed):
            return path, looked
    return None, looked


def bibdir_files(folder: str | os.PathLike[str], allowed: Sequence[str] | None = None) -> list[str]:
    """Every ``*.bib`` in the folders lamd's ``bibdir`` names for the talks in ``folder``
    (relative to the settings file; outside ``allowed``, default ``settings_roots``, left out)."""
    files: list[str] = []
    for path in _setting_folders(str(folder), "bibdir", allowed)[0]:
        files += sorted(os.path.join(path, n) for n in os.listdir(path) if n.endswith(".bib"))
    return files


FOLDER_SETTINGS = {"snippetsdir": False, "diagramsdir": True, "bibdir": False}
"""The settings that name folders a talk reads, and whether lamd also looks for the folder
beside the settings file's own folder (``diagramsdir``, written relative to a course)."""


def refused_settings(folder: str, allowed: Sequence[str] | None = None) -> list[Diagnostic]:
    """An ``E-PATH-OUTSIDE`` error, at the settings file's line, for every folder (or the
    ``potx`` file) that the settings of ``folder`` name outside ``allowed``."""
    allowed = settings_roots(folder) if allowed is None else allowed
    refused = [d for key, beside in FOLDER_SETTINGS.items()
               for d in _setting_folders(folder, key, allowed, beside_parent=beside)[1]]
    potx = folder_settings(folder).get("potx")
    if potx is not None and isinstance(potx.value, str) and potx.value.strip():
        path = os.path.join(potx.folder, os.path.expanduser(potx.value.strip()))
        if os.path.exists(path) and not confine(path, allowed):
            refused.append(_outside(potx, "potx", potx.value.strip(), path))
    return refused


def _setting_folders(folder: str, key: str, allowed: Sequence[str] | None, *,
                     beside_parent: bool = False) -> tuple[list[str], list[Diagnostic]]:
    """The existing folders setting ``key`` names for the talks in ``folder``: those inside
    ``allowed``, and an error for each outside."""
    setting = folder_settings(folder).get(key)
    if setting is None or not isinstance(setting.value, str):
        return [], []
    allowed = settings_roots(folder) if allowed is None else allowed
    bases = (setting.folder, os.path.dirname(setting.folder)) if beside_parent else (setting.folder,)
    found, refused = [], []
    for written in setting.value.split(":"):
        entry = os.path.expandvars(map_path(written.strip())[0])
        if not entry or "$" in entry or "\x00" in entry or "://" in entry:
            continue  # unmapped, it names its author's machine
        candidates = [os.path.normpath(os.path.join(base, os.path.expanduser(entry)))
                      for base in bases]
        path = next((c for c in candidates if os.path.isdir(c)), None)
        if path is None:
            continue
        if confine(path, allowed):
            found.append(path)
        else:
            refused.append(_outside(setting, key, written.strip(), path))
    return found, refused


def _outside(setting: SettingValue, key: str, written: str, path: str) -> Diagnostic:
    return Diagnostic(
        "E-PATH-OUTSIDE", Severity.ERROR,
        f"{key} {written} resolves to {display_name(path)}, outside the "
        "project; a settings file may not name folders outside its repository; refused",
        setting_location(setting.file, key),
        hint="map the folder with TALKS_PATH_MAP or ~/.config/talks/paths.yml, or give it "
             "with -I DIR, to allow it")


def setting_location(file: str, key: str) -> Location | None:
    """Where the settings ``file`` gives ``key``."""
    try:
        with open(file, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    m = re.search(rf"^{re.escape(key)}[ \t]*:", text, re.M)
    return Location(display_name(file), text.count("\n", 0, m.start()) + 1, 1) if m else None
