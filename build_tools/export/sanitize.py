"""What a document writer would obey in a talk's pandoc tree, taken out before it writes.

pandoc's writers act on parts of the tree that a talk can set: raw blocks and inlines
(`` `...`{=typst} ``, ``{=openxml}``, ``{=latex}``) go into the output verbatim, and
attributes such as ``typst:text:fill="..."`` (copied into the Typst source unescaped:
it runs as Typst code) or ``custom-style="..."`` (a Word style by name) program the
writer.  A talk is untrusted, so neither reaches a writer: raw content is dropped (it
means nothing in a document), and every attribute but an image's size is dropped too;
each one a writer would have obeyed is one ``W-EXPORT-ATTRIBUTE`` warning at its line.
"""
from __future__ import annotations

import os

from ..diagnostics import Diagnostic, Location, Severity
from ..engine.output import origin_of

KEPT_ATTRIBUTES = frozenset({"width", "height"})
"""What a writer may read from an element's attributes: an image's size."""

WRITER_ATTRIBUTES = ("custom-style",)
"""Attributes a writer obeys besides those named ``format:...`` (``typst:text:fill``)."""


def obeyed_by_a_writer(name: str) -> bool:
    return ":" in name or name in WRITER_ATTRIBUTES

RAW = frozenset({"RawBlock", "RawInline"})


def writer_safe(tree: dict) -> tuple[dict, list[str]]:
    """A new tree without raw content or attributes a writer interprets, and the names of
    the attributes dropped (in the order first met)."""
    dropped: dict[str, None] = {}
    return {**tree, "blocks": _clean(tree["blocks"], dropped)}, list(dropped)


def _clean(node, dropped: dict[str, None]):
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


def dropped_attribute_warnings(names: list[str], expanded) -> list[Diagnostic]:
    """One warning per attribute the writers were not given, at the first line of the talk
    that writes it (the talk's first line when it came from elsewhere)."""
    warnings = []
    for name in filter(obeyed_by_a_writer, names):
        origin = _first_origin(expanded.items, name)
        where = origin.location if origin else Location(os.path.relpath(expanded.talk.source.path), 1, 1)
        warnings.append(Diagnostic(
            "W-EXPORT-ATTRIBUTE", Severity.WARNING,
            f"attribute {name} left out of the documents: a document writer would obey it",
            where, origin.chain if origin else (),
            hint="only an image's width and height reach the DOCX, PDF and PPTX writers"))
    return warnings


def _first_origin(items, name: str):
    for item, position in items:
        if isinstance(item, str) and name in item:
            return origin_of(position)
    return None
