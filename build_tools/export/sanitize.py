"""What a document writer would obey in a talk's pandoc tree, taken out before it writes.

pandoc's writers act on parts of the tree that a talk can set: raw blocks and inlines
(`` `...`{=typst} ``, ``{=openxml}``, ``{=latex}``) go into the output verbatim, and
attributes such as ``typst:text:fill="..."`` (copied into the Typst source unescaped:
it runs as Typst code) or ``custom-style="..."`` (a Word style by name) program the
writer.  A talk is untrusted, so neither reaches a writer: raw content is dropped (it
means nothing in a document), and every attribute but an image's size is dropped too;
each one a writer would have obeyed is one ``W-EXPORT-ATTRIBUTE`` warning at its line.

The same goes for the document's metadata: a YAML block in a talk's body sets it as the
front matter does, and the writers interpolate some of it unescaped (``header-includes``
goes into the Typst source as it is).  Only the fields the export writes itself
(``markdown.metadata_block``) reach a writer; any other is a ``W-EXPORT-ATTRIBUTE``
warning at the line that sets it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from . import tools
from ..diagnostics import Diagnostic, Severity
from ..engine.output import Origin, origin_of
from ..engine.run import ExpandedTalk, Item
from .tree import PandocNode

KEPT_ATTRIBUTES = frozenset({"width", "height"})
"""What a writer may read from an element's attributes: an image's size."""

WRITER_ATTRIBUTES = ("custom-style",)
"""Attributes a writer obeys besides those named ``format:...`` (``typst:text:fill``)."""


def obeyed_by_a_writer(name: str) -> bool:
    return ":" in name or name in WRITER_ATTRIBUTES


RAW = frozenset({"RawBlock", "RawInline"})

KEPT_METADATA = frozenset({"title", "subtitle", "author", "date", "abstract",
                           "reference-section-title", "bibliography"})
"""The metadata the exports give the writers themselves (and the bibliography, which the
command line sets and the talk cannot override)."""


@dataclass(frozen=True)
class Dropped:
    """What ``writer_safe`` took out that the talk wrote, each name once, in order."""

    attributes: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()


def writer_safe(tree: dict) -> tuple[dict, Dropped]:
    """A new tree without raw content, attributes a writer interprets or metadata the export
    did not set, and what was taken out."""
    dropped: dict[str, None] = {}
    meta = tree.get("meta", {})
    kept = {key: _clean(value, {}) for key, value in meta.items() if key in KEPT_METADATA}
    return ({**tree, "meta": kept, "blocks": _clean(tree["blocks"], dropped)},
            Dropped(tuple(dropped), tuple(k for k in meta if k not in KEPT_METADATA)))


def _clean(node: PandocNode, dropped: dict[str, None]) -> PandocNode:
    if isinstance(node, dict):
        return {key: _clean(value, dropped) for key, value in node.items()}
    if not isinstance(node, list):
        return node
    if _is_attr(node):
        kept = [pair for pair in node[2] if pair[0] in KEPT_ATTRIBUTES]
        dropped.update(dict.fromkeys(pair[0] for pair in node[2] if pair[0] not in KEPT_ATTRIBUTES))
        return [node[0], list(node[1]), kept]
    return [_clean(x, dropped) for x in node
            if not (isinstance(x, dict) and x.get("t") in RAW)]


def _is_attr(node: list) -> bool:
    """pandoc's ``Attr``: [identifier, [classes], [[key, value], ...]]."""
    return (len(node) == 3 and isinstance(node[0], str) and isinstance(node[1], list)
            and isinstance(node[2], list) and all(isinstance(c, str) for c in node[1])
            and all(isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p)
                    for p in node[2]))


def dropped_attribute_warnings(dropped: Dropped, expanded: ExpandedTalk) -> list[Diagnostic]:
    """One warning per attribute a writer would obey and per metadata field the writers were
    not given, at the first line of the talk that writes it (the talk's first line when it
    came from elsewhere)."""
    said = [(f"attribute {name}", name, "a document writer would obey it",
             "only an image's width and height reach the DOCX, PDF and PPTX writers")
            for name in dropped.attributes if obeyed_by_a_writer(name)]
    said += [(f"metadata {name}", f"{name}:", "a YAML block in the talk's body may not set "
              "the documents' metadata", "the front matter's title, authors, date and abstract "
              "are what the documents show") for name in dropped.metadata]
    warnings = []
    for what, written, why, hint in said:
        origin = _first_origin(expanded.items, written)
        where = origin.location if origin else tools.at_start(expanded.talk.source.path)
        warnings.append(Diagnostic("W-EXPORT-ATTRIBUTE", Severity.WARNING,
                                   f"{what} left out of the documents: {why}", where,
                                   origin.chain if origin else (), hint=hint))
    return warnings


def _first_origin(items: list[Item], written: str) -> Origin | None:
    for item, position in items:
        if isinstance(item, str) and written in item:
            return origin_of(position)
    return None


NOTE_KEY_RE = re.compile(r"[Nn]ote (?:with key |reference )'([^']+)'")
"""pandoc's messages about one footnote: defined but not used, defined twice."""
CITATION_KEY_RE = re.compile(r"citation (\S+) not found")
PANDOC_POSITION_RE = re.compile(r" at line \d+ column \d+")
"""A position in the text pandoc was handed, which is no file anybody wrote."""


def tool_warnings(tool: str, messages: list[str], expanded: ExpandedTalk,
                  left: Callable[[str], object] = lambda message: False) -> list[Diagnostic]:
    """What a program an export runs said, as warnings at the talk's line: a footnote's
    message where the footnote is defined, a citation's where it is cited, anything else at
    the talk's first line; never a bare line of the program's (``left`` says which
    messages another warning reports)."""
    warnings = []
    for message in dict.fromkeys(" ".join(m.split()) for m in messages):
        if not message or left(message):
            continue
        note, cited = NOTE_KEY_RE.search(message), CITATION_KEY_RE.search(message)
        written = f"[^{note.group(1)}]:" if note else f"@{cited.group(1)}" if cited else None
        origin = _first_origin(expanded.items, written) if written else None
        where = origin.location if origin else tools.at_start(expanded.talk.source.path)
        warnings.append(Diagnostic("W-EXPORT-FOOTNOTE" if note else "W-EXPORT-TOOL-SAID",
                                   Severity.WARNING,
                                   f"{tool}: {PANDOC_POSITION_RE.sub('', message)}", where,
                                   origin.chain if origin else ()))
    return warnings
