"""Stage 1, reading a talk: its YAML front matter, its body, its folder's lamd settings."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, Location, MacroError, Severity
from ..lamd import directory_settings
from ..paths import display_name
from ..yamlfile import YAMLError, YamlTooLarge, load_yaml, plain
from .source import SourceFile, load_source


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


def parse_yaml(text: str, source: SourceFile, first_line: int) -> tuple[dict, list[Diagnostic]]:
    try:
        data = load_yaml(text) or {}
    except (YAMLError, YamlTooLarge) as exc:
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
    return plain(data), []


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
    parsed = _FRONT_MATTER.get(source.path)
    if parsed is None or parsed[0] is not source:  # a file read anew: its text changed
        parsed = _FRONT_MATTER[source.path] = (source, *_front_matter(source))
    _, parsed_meta, body, diagnostics = parsed
    meta = dict(parsed_meta)
    settings = directory_settings(os.path.dirname(source.path))
    for key in ("author", "venue", "transition", "writediagramsdir"):
        if key not in meta and key in settings:
            meta[key] = settings[key]
    return Talk(source, meta, body, list(diagnostics))


_FRONT_MATTER: dict[str, tuple[SourceFile, dict, int, list[Diagnostic]]] = {}
"""Each talk's front matter as read from the text ``load_source`` gave: a build reads a
talk's front matter in several stages, and parsing YAML is the slow part."""


def _front_matter(source: SourceFile) -> tuple[dict, int, list[Diagnostic]]:
    """The front matter's fields, where the body starts, and what is wrong with the fields."""
    yaml_text, body, first_line = split_front_matter(source.text)
    meta: dict = {}
    diagnostics: list[Diagnostic] = []
    if yaml_text is not None:
        meta, diagnostics = parse_yaml(yaml_text, source, first_line)
        diagnostics += check_fields(meta, yaml_text, source, first_line)
        if first_line == 1:
            diagnostics.append(Diagnostic(
                "W-FRONTMATTER", Severity.WARNING,
                "the front matter has no opening '---' line; it is read as front matter all the same",
                Location(source.display, 1, 1), hint="add a line '---' above the first line"))
    return meta, body, diagnostics
