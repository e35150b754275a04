"""Stage 1, reading a talk: its YAML front matter, its body, its folder's lamd settings."""
from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

from ..diagnostics import Diagnostic, Location, MacroError, Severity
from .source import SourceFile, display_name, load_source

FRONT_END_RE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)


@dataclass
class Talk:
    source: SourceFile
    meta: dict
    body_offset: int
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or os.path.splitext(os.path.basename(self.source.path))[0])


def author_list(meta: dict) -> list[dict[str, str]]:
    """The talk's authors as name and URL: from lamd's given/family maps, or plain strings."""
    authors = meta.get("author") or []
    if isinstance(authors, (str, dict)):
        authors = [authors]
    found = []
    for a in authors:
        if isinstance(a, dict):
            name = " ".join(str(a.get(k) or "").strip() for k in ("given", "family")).strip()
            found.append({"name": name or str(a.get("name") or "").strip(), "url": str(a.get("url") or "")})
        elif a:
            found.append({"name": str(a), "url": ""})
    return [a for a in found if a["name"]]


def split_front_matter(text: str) -> tuple[str | None, int, int]:
    """(YAML text or None, offset where the body starts, line number of the YAML's first line)."""
    if not (text.startswith("---\n") or text.startswith("---\r") or text == "---"):
        return None, 0, 0
    m = FRONT_END_RE.search(text, 4)
    if m is None:
        return None, 0, 0
    body = m.end() + 1 if m.end() < len(text) else m.end()
    return text[4:m.start()], body, 2


def _plain(value):
    """YAML dates and the like as the strings authors wrote."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_yaml(text: str, source: SourceFile, first_line: int) -> tuple[dict, list[Diagnostic]]:
    try:
        data = yaml.load(text, Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + first_line) if mark else first_line
        col = (mark.column + 1) if mark else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return {}, [Diagnostic("E-FRONTMATTER", Severity.ERROR,
                               f"front matter is not valid YAML: {problem}",
                               Location(source.display, line, col))]
    if not isinstance(data, dict):
        return {}, [Diagnostic("E-FRONTMATTER", Severity.ERROR,
                               "front matter must be a YAML mapping of field: value",
                               Location(source.display, first_line, 1))]
    return _plain(data), []


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
                    data = yaml.load(fh, Loader=_Loader)
            except yaml.YAMLError:
                continue
            if isinstance(data, dict):
                merged.update(_plain(data))
    return merged


def snippet_dirs(folder: str) -> list[str]:
    """Include roots a folder's ``snippetsdir`` names (``$VAR`` expanded, ':'-separated).

    Only folders that exist count: lamd configurations often name a checkout on
    their author's machine (``$HOME/...``), which is simply not there.
    """
    value = directory_settings(folder).get("snippetsdir")
    found = []
    for entry in str(value or "").split(":"):
        entry = os.path.expandvars(entry.strip())
        if entry and "$" not in entry:
            path = os.path.normpath(os.path.join(folder, os.path.expanduser(entry)))
            if os.path.isdir(path):
                found.append(path)
    return found


def read_talk(path: str) -> Talk:
    try:
        source = load_source(path)
    except OSError as exc:
        raise MacroError(Diagnostic("E-READ", Severity.ERROR, f"cannot read the talk: {exc.strerror}",
                                    Location(display_name(path), 1, 1))) from None
    yaml_text, body, first_line = split_front_matter(source.text)
    meta, diagnostics = ({}, [])
    if yaml_text is not None:
        meta, diagnostics = parse_yaml(yaml_text, source, first_line)
    settings = directory_settings(os.path.dirname(source.path))
    for key in ("author", "venue", "transition", "writediagramsdir"):
        if key not in meta and key in settings:
            meta[key] = settings[key]
    return Talk(source, meta, body, diagnostics)
