"""The handout's pandoc document tree (pandoc's JSON), fitted to a document to print or
hand out: shared by the DOCX and the typeset PDF.

* every image is handed to the caller's ``place`` function, which gives the source to
  write instead (a file in the typesetter's root, a ``data:`` URL), or None to leave
  the image out;
* a figure of several blocks (``.talks-figure``) becomes pandoc's Figure, its caption
  the ``.talks-caption`` div (so the writer numbers and captions it);
* raw blocks and inlines are dropped: raw Typst or Office XML would let a talk program
  the writer, and raw HTML means nothing in a document;
* headings are lifted so that the first level is 1.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

PandocNode = Any
"""Any part of pandoc's JSON tree (a dict, a list, a string, a number, None): its shape
varies with the element's kind, so it is read by kind, not typed."""

Place = Callable[[str], "str | None"]
"""An image's source as written -> the source to write, or None to leave it out."""

BLOCK_KINDS = {"Plain", "Para", "LineBlock", "CodeBlock", "RawBlock", "BlockQuote", "OrderedList",
               "BulletList", "DefinitionList", "Header", "HorizontalRule", "Table", "Figure", "Div"}
INLINE_KINDS = {"Str", "Emph", "Underline", "Strong", "Strikeout", "Superscript", "Subscript",
                "SmallCaps", "Quoted", "Cite", "Code", "Space", "SoftBreak", "LineBreak", "Math",
                "RawInline", "Link", "Image", "Note", "Span"}


def fitted(tree: dict, place: Place) -> dict:
    """A new tree, fitted (the module's docstring says how)."""
    shift = _lowest_heading(tree["blocks"]) - 1
    return {**tree, "blocks": _blocks(tree["blocks"], place, shift)}


def without_images(node: PandocNode, sources: set[str]) -> PandocNode:
    """The tree without the images whose source is one of ``sources``."""
    if isinstance(node, list):
        return [without_images(x, sources) for x in node
                if not (isinstance(x, dict) and x.get("t") == "Image" and x["c"][2][0] in sources)]
    if isinstance(node, dict):
        return {key: without_images(value, sources) for key, value in node.items()}
    return node


def _lowest_heading(node: PandocNode) -> int:
    levels: list[int] = []

    def visit(n: PandocNode) -> None:
        if isinstance(n, dict):
            if n.get("t") == "Header":
                levels.append(n["c"][0])
            visit(n.get("c"))
        elif isinstance(n, list):
            for x in n:
                visit(x)

    visit(node)
    return min(levels, default=1)


def _blocks(blocks: list, place: Place, shift: int) -> list:
    out = []
    for block in blocks:
        kind = block.get("t")
        if kind == "RawBlock":
            continue
        if kind == "Div" and "talks-figure" in block["c"][0][1]:
            out.append(_figure(block["c"][1], place, shift))
            continue
        if kind == "Header":
            level, attr, inlines = block["c"]
            out.append({"t": "Header", "c": [max(1, level - shift), attr, _inlines(inlines, place)]})
            continue
        out.append(_inside(block, place, shift))
    return out


def _figure(blocks: list, place: Place, shift: int) -> dict:
    """A ``.talks-figure`` div as pandoc's Figure: its contents, then its caption."""
    caption = [b for b in blocks if b.get("t") == "Div" and "talks-caption" in b["c"][0][1]]
    body = [b for b in blocks if not any(b is c for c in caption)]
    caption_blocks = caption[-1]["c"][1] if caption else []
    return {"t": "Figure", "c": [["", [], []], [None, _blocks(caption_blocks, place, shift)],
                                 _blocks(body, place, shift)]}


def _inside(node: PandocNode, place: Place, shift: int) -> PandocNode:
    """Any other element: its block and inline lists fitted in turn."""
    if isinstance(node, list):
        if node and all(isinstance(x, dict) and "t" in x for x in node):
            kinds = {x["t"] for x in node}
            if kinds & BLOCK_KINDS:
                return _blocks(node, place, shift)
            if kinds & INLINE_KINDS:
                return _inlines(node, place)
        return [_inside(x, place, shift) for x in node]
    if isinstance(node, dict) and "c" in node:
        return {**node, "c": _inside(node["c"], place, shift)}
    return node


def _inlines(inlines: list, place: Place) -> list:
    out = []
    for inline in inlines:
        kind = inline.get("t")
        if kind == "RawInline":
            continue
        if kind == "Image":
            attr, alt, (src, title) = inline["c"]
            placed = place(src)
            if placed is not None:
                out.append({"t": "Image", "c": [attr, _inlines(alt, place), [placed, title]]})
            continue
        out.append(_inside(inline, place, 0))
    return out
