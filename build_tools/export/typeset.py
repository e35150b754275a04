"""The handout as a typeset PDF: pandoc Markdown -> pandoc's document tree -> Typst -> PDF.

The Markdown is the one the DOCX export writes (``documents.handout_markdown``),
with every figure kept as a figure.  pandoc (3.1.2 or later, run with
``--sandbox``) reads it into its document tree; here the tree is fitted to a
printed document:

* every image is looked up on disk and confined (``images.ImageFinder``); one that
  cannot be placed is a warning at the FILE:LINE that named it, and is left out;
* the images that pass are copied into a fresh folder, the only folder the Typst
  compiler may read (its ``root``); nothing else is there;
* a figure of several blocks (``.talks-figure``) becomes a numbered figure;
* raw Typst and raw HTML are dropped (a talk cannot program the typesetter);
* headings are lifted so the first level is 1.

pandoc then writes Typst (citations formatted by ``--citeproc``, author-date, with
a References section) and the ``typst`` package compiles it.  docs/handout-pdf.md
says why Typst and not LaTeX or the browser.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from ..config import TalkConfig
from ..diagnostics import Diagnostic, Location, Severity
from ..engine.output import origin_of
from . import tools
from .citations import bib_text, cited_keys
from .documents import PANDOC_INPUT, handout_markdown
from .images import ImageFinder

TYPST_IMAGES = (".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf")
"""What Typst places (vector SVG and PDF stay vector)."""

PAPER = "a4"


def write_handout_pdf(talk: str, out: Path, config: TalkConfig, diagrams: str | None,
                      notation: str | None = None, bib_cache: str | None = None):
    """Typeset the handout as ``out``; return (files it was made from, errors, warnings).
    ``bib_cache`` is where the HTML build keeps its cleaned bibliographies."""
    tools.pandoc()
    compiler = _compiler()
    notation = notation or os.path.join(config.macros_dir, "notation.tex")
    text, bibs, expanded, _ = handout_markdown(talk, config, diagrams, notation,
                                               image_link=lambda path: path, figure_divs=True)
    finder = ImageFinder.for_talk(expanded, config, diagrams, TYPST_IMAGES)
    tree = json.loads(_pandoc(text, "json", PANDOC_INPUT, []))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="talks-typeset-") as root, \
            _PandocWarnings() as said:
        placed = Placement(finder, Path(root))
        document = _fitted(tree, placed)
        pdf = _typeset(compiler, document, _cited_only(bibs, text, root, bib_cache), placed)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(pdf)
    tmp.replace(out)
    errors = [d for d in expanded.diagnostics if d.severity >= Severity.ERROR]
    warnings = [*finder.warnings, *_math_left_as_tex(said.messages, expanded)]
    return [*expanded.dependencies, *bibs, *finder.used], errors, warnings


def _cited_only(bibs: list[str], text: str, folder: str, bib_cache: str | None) -> list[str]:
    """A bibliography of the entries the handout cites (citeproc parses every entry it is
    given, and a course's shared files hold thousands)."""
    if not bibs:
        return []
    cited = os.path.join(folder, "cited.bib")
    with open(cited, "w", encoding="utf-8") as fh:
        fh.write(bib_text(bibs, cited_keys([text]), bib_cache))
    return [cited]


# -- what pandoc could not convert ----------------------------------------------------

UNCONVERTED = re.compile(r"Could not convert TeX math (.*?), rendering as TeX", re.S)


class _PandocWarnings(logging.Handler):
    """pandoc's warnings while in use (pypandoc passes them to its logger)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> "_PandocWarnings":
        logging.getLogger("pypandoc").addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger("pypandoc").removeHandler(self)


def _math_left_as_tex(messages: list[str], expanded) -> list[Diagnostic]:
    """A formula pandoc cannot write as Typst math stays TeX text in the PDF: say where."""
    found = []
    for message in messages:
        m = UNCONVERTED.search(message)
        if not m:
            continue
        formula = " ".join(m.group(1).split())
        where = next((origin_of(p) for item, p in expanded.items
                      if isinstance(item, str) and formula[:40] in " ".join(item.split())), None)
        location = where.location if where else Location(os.path.relpath(expanded.talk.source.path), 1, 1)
        found.append(Diagnostic("W-EXPORT-MATH", Severity.WARNING,
                                f"the handout PDF shows ${formula}$ as TeX: pandoc cannot write it "
                                "as Typst math", location, where.chain if where else (),
                                hint="define the macro in the notation file, or write it plainly"))
    return found


# -- the document tree, fitted to print ---------------------------------------------------

class Placement:
    """The images of one document, copied into the compiler's root under new names."""

    def __init__(self, finder: ImageFinder, root: Path):
        self.finder, self.root = finder, root
        self.names: dict[str, str] = {}
        """Source path as written -> its name in the root."""
        self.refused: set[str] = set()

    def name_for(self, path: str) -> str | None:
        if path in self.refused:
            return None
        if path not in self.names:
            found = self.finder.locate(path)
            if found is None:
                self.refused.add(path)
                return None
            name = f"images/{len(self.names) + 1}{found.suffix.lower()}"
            (self.root / "images").mkdir(exist_ok=True)
            shutil.copyfile(found, self.root / name)  # a copy: no link leads out of the root
            self.names[path] = name
        return self.names[path]

    def refuse(self, name: str, why: str) -> None:
        """An image the compiler could not place after all: left out, with a warning."""
        path = next(p for p, n in self.names.items() if n == name)
        self.refused.add(path)
        del self.names[path]
        self.finder.refuse(path, why)


def _fitted(tree: dict, placed: Placement) -> dict:
    shift = _lowest_heading(tree["blocks"]) - 1
    return {**tree, "blocks": _blocks(tree["blocks"], placed, shift)}


def _lowest_heading(node) -> int:
    levels = []

    def visit(n):
        if isinstance(n, dict):
            if n.get("t") == "Header":
                levels.append(n["c"][0])
            visit(n.get("c"))
        elif isinstance(n, list):
            for x in n:
                visit(x)

    visit(node)
    return min(levels, default=1)


def _blocks(blocks: list, placed: Placement, shift: int) -> list:
    out = []
    for block in blocks:
        kind = block.get("t")
        if kind == "RawBlock":
            continue  # raw Typst would let a talk program the typesetter; raw HTML means nothing
        if kind == "Div" and "talks-figure" in block["c"][0][1]:
            out.append(_figure(block["c"][1], placed, shift))
            continue
        if kind == "Header":
            level, attr, inlines = block["c"]
            out.append({"t": "Header", "c": [max(1, level - shift), attr, _inlines(inlines, placed)]})
            continue
        out.append(_inside(block, placed, shift))
    return out


def _figure(blocks: list, placed: Placement, shift: int) -> dict:
    """A ``.talks-figure`` div as pandoc's Figure: its contents, then its caption."""
    caption = [b for b in blocks if b.get("t") == "Div" and "talks-caption" in b["c"][0][1]]
    body = [b for b in blocks if not any(b is c for c in caption)]
    caption_blocks = caption[-1]["c"][1] if caption else []
    return {"t": "Figure", "c": [["", [], []], [None, _blocks(caption_blocks, placed, shift)],
                                 _blocks(body, placed, shift)]}


def _inside(node, placed: Placement, shift: int):
    """Any other element: its block and inline lists fitted in turn."""
    if isinstance(node, list):
        if node and all(isinstance(x, dict) and "t" in x for x in node):
            kinds = {x["t"] for x in node}
            if kinds & BLOCK_KINDS:
                return _blocks(node, placed, shift)
            if kinds & INLINE_KINDS:
                return _inlines(node, placed)
        return [_inside(x, placed, shift) for x in node]
    if isinstance(node, dict) and "c" in node:
        return {**node, "c": _inside(node["c"], placed, shift)}
    return node


BLOCK_KINDS = {"Plain", "Para", "LineBlock", "CodeBlock", "RawBlock", "BlockQuote", "OrderedList",
               "BulletList", "DefinitionList", "Header", "HorizontalRule", "Table", "Figure", "Div"}
INLINE_KINDS = {"Str", "Emph", "Underline", "Strong", "Strikeout", "Superscript", "Subscript",
                "SmallCaps", "Quoted", "Cite", "Code", "Space", "SoftBreak", "LineBreak", "Math",
                "RawInline", "Link", "Image", "Note", "Span"}


def _inlines(inlines: list, placed: Placement) -> list:
    out = []
    for inline in inlines:
        kind = inline.get("t")
        if kind == "RawInline":
            continue
        if kind == "Image":
            attr, alt, (src, title) = inline["c"]
            name = placed.name_for(src)
            if name is not None:
                out.append({"t": "Image", "c": [attr, _inlines(alt, placed), [name, title]]})
            continue
        out.append(_inside(inline, placed, 0))
    return out


def _without(node, refused: set[str]):
    """The fitted tree without the images named (by their name in the root)."""
    if isinstance(node, list):
        return [_without(x, refused) for x in node
                if not (isinstance(x, dict) and x.get("t") == "Image" and x["c"][2][0] in refused)]
    if isinstance(node, dict):
        return {key: _without(value, refused) for key, value in node.items()}
    return node


# -- Typst ----------------------------------------------------------------------------

def _typeset(compiler, document: dict, bibs: list[str], placed: Placement) -> bytes:
    """The PDF; an image the compiler cannot read (an SVG that links a file outside, a
    damaged file) is found, left out with a warning, and the rest typeset again."""
    import typst

    source = _typst_source(document, bibs)
    try:
        return compiler.compile(input=source.encode("utf-8"), root=str(placed.root), format="pdf")
    except typst.TypstError as first:
        bad = [name for name in list(placed.names.values()) if not _places(compiler, name, placed.root)]
        if not bad:
            raise tools.ToolFailure(f"Typst could not typeset the handout: {first.message}") from None
        for name in bad:
            placed.refuse(name, "Typst cannot read it (an SVG that links files outside its "
                                "folder, or a damaged file)")
        source = _typst_source(_without(document, set(bad)), bibs)
        return compiler.compile(input=source.encode("utf-8"), root=str(placed.root), format="pdf")


def _places(compiler, name: str, root: Path) -> bool:
    import typst

    try:
        compiler.compile(input=f'#image("{name}")'.encode(), root=str(root), format="pdf")
        return True
    except typst.TypstError:
        return False


def _typst_source(document: dict, bibs: list[str]) -> str:
    args = ["--standalone", f"--variable=papersize:{PAPER}"]
    if bibs:
        args += ["--citeproc", *(f"--bibliography={b}" for b in bibs)]
    return _pandoc(json.dumps(document), "typst-citations", "json", args)


def _pandoc(text: str, to: str, source_format: str, args: list[str]) -> str:
    import pypandoc

    return pypandoc.convert_text(text, to, format=source_format, extra_args=args, sandbox=True,
                                 verify_format=False)


def rasterize(svg: Path, ppi: int) -> bytes:
    """An SVG drawn as a PNG by the same confined compiler (for formats whose readers do
    not all draw SVG); raises ``typst.TypstError`` when it cannot be drawn."""
    with tempfile.TemporaryDirectory(prefix="talks-raster-") as root:
        shutil.copyfile(svg, Path(root) / "image.svg")
        page = '#set page(width: auto, height: auto, margin: 0pt)\n#image("image.svg")\n'
        return _compiler().compile(input=page.encode("utf-8"), root=root, format="png", ppi=ppi)


@functools.lru_cache(maxsize=1)
def _compiler():
    """One compiler per process: finding the fonts is most of a cold start.  Only the fonts
    Typst ships are used, so a handout looks the same on every machine."""
    try:
        import typst
    except ImportError:
        raise tools.MissingTool("handout PDFs need the PyPI package 'typst' (pip install typst)") \
            from None
    return typst.Compiler(ignore_system_fonts=True)

