"""What the export formats share, below them all: a format module imports from here and
never from another format (``tests/test_architecture.py``).

* the job a format is given (``ExportJob``), and how it says it cannot write
  (``ExportFailure``);
* the handout read into pandoc's tree once per talk (``handout_tree``), which the DOCX and
  the typeset PDF both write from;
* the notation macros a document's math uses, the talk's bibliography files and the HTML
  build's cleaned copies of them;
* SVG drawn as PNG by the confined Typst compiler, once per picture (``drawn_svg``);
* the process's browser, started once and kept for every deck a worker prints.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import multiprocessing.util
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import TalkConfig
from ..diagnostics import Diagnostic
from ..engine.run import ExpandedTalk, expand
from ..engine.talkfile import Talk
from . import markdown as md
from . import tools
from .citations import bib_text, cited_keys
from .sanitize import dropped_attribute_warnings, tool_warnings, writer_safe
from .tree import PandocNode
from .typst_process import compile_typst

if TYPE_CHECKING:
    from .browser import Printer

NEWCOMMAND = re.compile(r"^\s*\\(?:re)?newcommand\s*\{?\\(\w+)\}?")


@dataclass
class ExportJob:
    talk: str
    doc: str
    formats: tuple[str, ...]
    out_dir: str
    config: TalkConfig
    pages: dict[str, str] = field(default_factory=dict)
    """Variant -> the built HTML page of this talk."""
    diagrams: str | None = None
    notation: str | None = None
    slide_notes: bool = False
    pictures: str | None = None
    """Where pictures drawn for the exports are kept, named by their content (in the work
    folder): every worker and every later build reuses them.  None: kept in this process."""
    deck: str | None = None
    """The deck's record, prepared before Sphinx: its size says how much there is to export
    before any page is built (the largest talks are begun first)."""


@dataclass
class Written:
    """What writing one export gave: the files it was made from, and the places it looked for
    a file in vain (what makes it out of date), its warnings, and the addresses the printing
    browser refused."""

    inputs: list[str]
    warnings: list[Diagnostic] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class ExportFailure(Exception):
    """The format cannot be written; the message says why."""


def raise_first(inputs: list[str], errors: list[Diagnostic]) -> list[str]:
    """``inputs``, or ``ExportFailure`` with the first of the expansion's errors."""
    if errors:  # the expansion's own message, with its file and line, says what to fix
        raise ExportFailure(errors[0].format())
    return inputs


def bib_cache(job: ExportJob, variant: str = "handout") -> str | None:
    """Where the variant's build keeps its cleaned bibliographies: the exports share them.
    A format takes those of the variant it is made from, built before it begins."""
    from ..sphinx_ext.citations import BIB_FOLDER

    page = job.pages.get(variant)
    return str(site_folder(Path(page), job.doc).parent / "doctrees" / BIB_FOLDER / "cache") \
        if page else None


def site_folder(page: Path, doc: str) -> Path:
    """The built variant's folder a page of ``doc`` (``folder/name``) lies in: all the
    printing browser may read."""
    return page.parents[len(Path(doc).parts) - 1]


def talk_bib_files(talk: Talk, config: TalkConfig) -> list[str]:
    """The BibTeX files the talk may cite that are there."""
    from ..api import talk_bib_files as named

    return [f for f in named(talk, config) if os.path.isfile(f)]


def notation_definitions(notation: str | None, text: str) -> str:
    """The ``\\newcommand`` lines of the notation file whose names the text uses."""
    if not notation or not os.path.isfile(notation):
        return ""
    used = set(re.findall(r"\\([A-Za-z]+)", text))
    lines = []
    with open(notation, encoding="utf-8") as fh:
        for line in fh:
            m = NEWCOMMAND.match(line)
            if m and m.group(1) in used:
                lines.append(line.split("%")[0].strip())
    return "\n".join(lines)


# -- the handout as pandoc's tree ------------------------------------------------------

PANDOC_INPUT = "markdown+tex_math_dollars+latex_macros+raw_html+fenced_divs+citations"


def handout_markdown(talk: str, config: TalkConfig, notation: str | None = None
                     ) -> tuple[str, list[str], ExpandedTalk]:
    """(pandoc Markdown, bib files, expansion) for the talk's handout, written as pandoc
    Markdown (``$math$``, ``[@key]``, ``![caption](path){width=..}``, figures as
    ``.talks-figure`` divs) for pandoc to read with citeproc: images as the talk
    names them (each document places them itself), every caption in a figure
    (``markdown.Style.figure_divs``), raw HTML left out."""
    expanded = expand(talk, "handout", config)
    style = md.Style(image_link=lambda path: path, image_attrs=True, raw_html=False,
                     split_at_headings=False, figure_divs=True)
    parts = []
    for cell in md.cells(expanded.items, style):
        if cell.kind == "code":
            parts.append(f"```{cell.language or 'python'}\n{cell.text}\n```")
        else:
            parts.append(cell.text)
    body = "\n\n".join(parts)
    macros = notation_definitions(notation, body)  # pandoc expands them inside math
    bibs = talk_bib_files(expanded.talk, config)
    listed = "{#refs}" in body  # the talk says where its references go
    text = "\n\n".join(filter(None, [md.metadata_block(expanded.talk.meta, abstract=True,
                                                      references=bool(bibs) and not listed),
                                      macros, body]))
    return text + "\n", bibs, expanded


@dataclass
class HandoutTree:
    """The handout as pandoc's document tree (JSON), citations resolved, images as the talk
    writes them; made once per talk for every document export."""

    tree: dict
    expanded: ExpandedTalk
    bibs: list[str]
    """The BibTeX files the talk's citations were resolved against."""
    warnings: list[Diagnostic]
    """What was taken out of the tree before any writer sees it (``sanitize``)."""


Handout = Callable[[], HandoutTree]
"""What a format is given to read the talk's handout tree: read on the first call, kept for
the next (a talk exported with no document format never reads it)."""


def handout_tree(talk: str, config: TalkConfig, notation: str | None = None,
                 bib_cache: str | None = None) -> HandoutTree:
    """Read the handout into pandoc's tree (in its sandbox), with ``--citeproc`` given only
    the entries the talk cites (taken from the cleaned copies in ``bib_cache``)."""
    tools.pandoc()
    notation = notation or os.path.join(config.macros_dir, "notation.tex")
    text, bibs, expanded = handout_markdown(talk, config, notation)
    with tempfile.TemporaryDirectory(prefix="talks-handout-") as folder:
        args = [f"--from={PANDOC_INPUT}", "--to=json"]
        if bibs:
            with open(os.path.join(folder, "cited.bib"), "w", encoding="utf-8") as fh:
                fh.write(bib_text(bibs, cited_keys([text]), bib_cache))
            args += ["--citeproc", "--bibliography=cited.bib"]
        said: list[str] = []
        tree, dropped = writer_safe(raw_tex_as_text(json.loads(
            tools.run_pandoc(args, text, timeout=config.step_timeout, cwd=folder, said=said))))
    return HandoutTree(tree, expanded, bibs, [*dropped_attribute_warnings(dropped, expanded),
                                              *tool_warnings("pandoc", said, expanded)])


DEFINITION = re.compile(r"^\s*\\(?:re)?newcommand|^\s*\\def\b")


def raw_tex_as_text(node: PandocNode) -> PandocNode:
    """pandoc's tree with each piece of raw TeX as the text it is: a macro the talk never
    defines (``\\includes{...}``) is shown as written on the page, and pandoc, reading it
    as raw TeX, would leave it out (its paragraph with it).  A macro definition stays raw
    (pandoc applies it to the math; no writer prints it)."""
    if isinstance(node, list):
        return [raw_tex_as_text(x) for x in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("t")
    if kind in ("RawInline", "RawBlock") and node["c"][0] in ("tex", "latex") \
            and not DEFINITION.match(node["c"][1]):
        text = {"t": "Str", "c": node["c"][1]}
        return text if kind == "RawInline" else {"t": "Para", "c": [text]}
    return {key: raw_tex_as_text(value) for key, value in node.items()}


# -- pictures --------------------------------------------------------------------------

PICTURES = ".pictures"
"""The folder of the exports' work folder that keeps the pictures drawn for them."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DRAWN: dict[str, bytes] = {}
"""Pictures drawn in this process, when no folder keeps them (by content and resolution)."""
MEMORY_KEPT = 64


def drawn_svg(svg: Path, ppi: int, timeout: float, folder: str | None = None) -> bytes:
    """The SVG drawn as a PNG at ``ppi`` (for formats whose readers do not all draw SVG),
    drawn once per content: kept in ``folder`` when given, else in this process.  Raises
    ``CompileError`` when it cannot be drawn."""
    content = svg.read_bytes()
    key = f"{hashlib.sha256(content).hexdigest()}-{ppi}"
    kept = Path(folder) / f"{key}.png" if folder else None
    png = _DRAWN.get(key) if kept is None else _read_png(kept)
    if png is not None:
        return png
    png = rasterize(content, ppi, timeout)
    if kept is None:
        if len(_DRAWN) >= MEMORY_KEPT:
            _DRAWN.pop(next(iter(_DRAWN)))
        _DRAWN[key] = png
    else:
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")  # workers may draw at once
        partial.write_bytes(png)
        os.replace(partial, kept)
    return png


def _read_png(path: Path) -> bytes | None:
    """A kept picture, when it is there and is a PNG."""
    try:
        png = path.read_bytes()
    except OSError:
        return None
    return png if png.startswith(PNG_SIGNATURE) else None


def rasterize(svg: bytes, ppi: int, timeout: float = 180.0) -> bytes:
    """An SVG's content drawn as a PNG by the confined compiler; raises ``CompileError``
    when it cannot be drawn."""
    with tempfile.TemporaryDirectory(prefix="talks-raster-") as root:
        (Path(root) / "image.svg").write_bytes(svg)
        page = '#set page(width: auto, height: auto, margin: 0pt)\n#image("image.svg")\n'
        return compile_typst(page.encode("utf-8"), root, "png", ppi, timeout)


# -- the browser -----------------------------------------------------------------------

_BROWSER: list = []
"""This process's browser: (its context manager, its ``Printer``), started by the first
talk that prints and kept for every later talk the process exports."""


def worker_printer() -> Printer:
    """The process's browser, launched once.  A worker process closes it when it exits;
    ``export_talks`` run in the main process closes it when it returns."""
    from .browser import chromium

    if not _BROWSER:
        context = chromium()
        _BROWSER.extend([context, context.__enter__()])
        if multiprocessing.parent_process() is not None:
            multiprocessing.util.Finalize(None, close_browser, exitpriority=10)
    return _BROWSER[1]


def close_browser() -> None:
    if _BROWSER:
        context = _BROWSER[0]
        _BROWSER.clear()
        context.__exit__(None, None, None)
