"""Stage 1, reading a talk: its YAML front matter, its body, its folder's lamd settings."""
from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field

import yaml

from ..diagnostics import Diagnostic, Location, MacroError, Severity
from .source import SourceFile, display_name, load_source


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe loader, except that a date that is no date stays the text written."""


def _timestamp_or_text(loader, node):
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:  # date: 2024-13-45
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)

MAX_YAML_VALUES = 100_000
"""Values a YAML document may expand to through aliases (the billion-laughs guard)."""
MAX_YAML_DEPTH = 64
"""Lists and mappings nested inside each other in a YAML document."""


class YamlTooLarge(ValueError):
    """A YAML document whose aliases expand too far, refer to themselves, or nest too deeply."""

    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.problem, self.problem_mark = message, mark

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
    if not isinstance(authors, list):  # one name, one map, or a stray number
        authors = [authors]
    found = []
    for a in authors:
        if isinstance(a, dict):
            name = " ".join(str(a.get(k) or "").strip() for k in ("given", "family")).strip()
            found.append({"name": name or str(a.get("name") or "").strip(), "url": str(a.get("url") or "")})
        elif a:
            found.append({"name": str(a), "url": ""})
    return [a for a in found if a["name"]]


UNOPENED_FRONT_MATTER_RE = re.compile(r"\A[A-Za-z_][\w-]*:[ \t][^\n]*\n(?:[^\n]*\n){0,80}?---[ \t]*$",
                                      re.M)
"""``title: ...`` lines closed by ``---`` but never opened: a talk whose first line was lost."""


def split_front_matter(text: str) -> tuple[str | None, int, int]:
    """(YAML text or None, offset where the body starts, line number of the YAML's first line).

    Front matter whose opening ``---`` was lost is still front matter (line 1 on):
    ``read_talk`` warns about it.
    """
    if not (text.startswith("---\n") or text.startswith("---\r") or text == "---"):
        unopened = UNOPENED_FRONT_MATTER_RE.match(text)
        if unopened is None:
            return None, 0, 0
        end = unopened.end()
        return text[:end - len(unopened.group().rsplit("\n", 1)[-1])], min(end + 1, len(text)), 1
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


def _expanded_size(node, mark=None) -> int:
    """How many values ``node`` stands for once every alias is expanded; refuses cycles."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(n, depth: int) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in busy:
            raise YamlTooLarge("an alias refers to the value that contains it", n.start_mark)
        if depth > MAX_YAML_DEPTH:
            raise YamlTooLarge(f"values nested more than {MAX_YAML_DEPTH} levels deep "
                               "(limit MAX_YAML_DEPTH)", n.start_mark)
        busy.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            total += sum(size(c, depth + 1) for c in n.value)
        elif isinstance(n, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in n.value)
        busy.discard(key)
        if total > MAX_YAML_VALUES:
            raise YamlTooLarge(f"aliases expand to more than {MAX_YAML_VALUES:,} values "
                               "(limit MAX_YAML_VALUES)", n.start_mark)
        sizes[key] = total
        return total

    return size(node, 0)


def load_yaml(text) -> object:
    """Safe YAML, refusing alias bombs, self-references and deep nesting before building values."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_yaml(text: str, source: SourceFile, first_line: int) -> tuple[dict, list[Diagnostic]]:
    try:
        data = load_yaml(text) or {}
    except (yaml.YAMLError, YamlTooLarge) as exc:
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
                    data = load_yaml(fh.read())
            except (yaml.YAMLError, YamlTooLarge):
                continue
            if isinstance(data, dict):
                merged.update(_plain(data))
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
    from .source import confine

    from ..paths import map_path

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
                    "the talk's repository; refused", _setting_location(folder, "snippetsdir"),
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
    from .source import confine

    value = str(directory_settings(folder).get("diagramsdir") or "").strip()
    if not value or "$" in value or "\x00" in value or "://" in value:
        return None
    parent = os.path.dirname(os.path.abspath(folder))
    for base in (folder, parent):
        path = os.path.normpath(os.path.join(base, os.path.expanduser(value)))
        if os.path.isdir(path) and confine(path, [os.path.realpath(parent)]):
            return path
    return None


def _setting_location(folder: str, key: str) -> Location | None:
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


def _field_location(yaml_text: str, key: str, source: SourceFile, first_line: int) -> Location:
    m = re.search(rf"^{re.escape(key)}[ \t]*:", yaml_text, re.M)
    line = yaml_text.count("\n", 0, m.start()) if m else 0
    return Location(source.display, first_line + line, 1)


def front_matter_location(talk: Talk, key: str) -> Location:
    """Where the front matter gives ``key`` (its first line when it does not)."""
    yaml_text, _, first_line = split_front_matter(talk.source.text)
    return _field_location(yaml_text or "", key, talk.source, first_line or 1)


def check_fields(meta: dict, yaml_text: str, source: SourceFile, first_line: int) -> list[Diagnostic]:
    """Fields whose values have a shape nothing can use: warn, and keep what can be kept."""
    found = []

    def warn(key: str, message: str) -> None:
        found.append(Diagnostic("W-FRONTMATTER", Severity.WARNING, message,
                                _field_location(yaml_text, key, source, first_line)))

    author = meta.get("author")
    if isinstance(author, (bool, int, float)):
        warn("author", f"author should be a name, a list of names or given/family maps, "
                       f"not {author!r}; it is shown as text")
        meta["author"] = str(author)
    bib = meta.get("bibliography")
    if bib is not None and not isinstance(bib, str) and not (
            isinstance(bib, list) and all(isinstance(b, str) for b in bib)):
        warn("bibliography", f"bibliography should be a file name or a list of file names, "
                             f"not {bib!r}; it is ignored")
        del meta["bibliography"]
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
        diagnostics += check_fields(meta, yaml_text, source, first_line)
        if first_line == 1:
            diagnostics.append(Diagnostic(
                "W-FRONTMATTER", Severity.WARNING,
                "the front matter has no opening '---' line; it is read as front matter all the same",
                Location(source.display, 1, 1), hint="add a line '---' above the first line"))
    settings = directory_settings(os.path.dirname(source.path))
    for key in ("author", "venue", "transition", "writediagramsdir"):
        if key not in meta and key in settings:
            meta[key] = settings[key]
    return Talk(source, meta, body, diagnostics)
