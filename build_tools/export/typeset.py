"""The handout as a typeset PDF: the handout's pandoc tree -> Typst -> PDF.

The tree is the one the DOCX is written from (``documents.handout_tree``: read by
pandoc 3.1.2 or later in its sandbox, citations resolved by ``--citeproc``,
author-date, with a References section), fitted to a printed document
(``tree.fitted``: numbered figures, no raw Typst or HTML, headings from level 1).
Its images are looked up on disk and confined (``images.ImageFinder``); one that
cannot be placed is a warning at the FILE:LINE that named it, and is left out.
Those that pass are copied into a fresh folder, the only folder the Typst compiler
may read (its ``root``); nothing else is there.

pandoc then writes Typst and the ``typst`` package compiles it.  docs/handout-pdf.md
says why Typst and not LaTeX or the browser.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

from .sanitize import tool_warnings
from ..config import TalkConfig
from ..diagnostics import Diagnostic, Severity
from ..engine.output import origin_of
from ..engine.run import ExpandedTalk
from . import tools
from .completeness import pdf_content as read_back  # noqa: F401 - the format's reader
from .shared import ExportJob, Handout, HandoutTree, Written, handout_tree, raise_first
from .images import ImageFinder
from .tree import PandocNode, fitted, without_images
from .typst_process import CompileError, compile_typst

TYPST_IMAGES = (".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf")
"""What Typst places (vector SVG and PDF stay vector)."""

PAPER = "a4"


def write(job: ExportJob, out: Path, handout: Handout) -> Written:
    """The runner's entry (``formats.FORMAT_TABLE``)."""
    inputs, errors, warnings = write_handout_pdf(job.talk, out, job.config, job.diagrams,
                                                 job.notation, handout=handout())
    return Written(raise_first(inputs, errors), warnings)


def settings(job: ExportJob) -> dict:
    """What, besides files, changes the handout PDF."""
    return {"code_level": job.config.code_level, "notation": job.notation, "typeset": "typst"}


def write_handout_pdf(talk: str, out: Path, config: TalkConfig, diagrams: str | None,
                      notation: str | None = None, bib_cache: str | None = None,
                      handout: HandoutTree | None = None
                      ) -> tuple[list[str], list[Diagnostic], list[Diagnostic]]:
    """Typeset the handout as ``out``; return (files it was made from, errors, warnings).
    ``handout`` is the talk's tree when another export has read it already; ``bib_cache``
    is where the HTML build keeps its cleaned bibliographies."""
    tools.pandoc()
    handout = handout or handout_tree(talk, config, notation, bib_cache)
    expanded = handout.expanded
    finder = ImageFinder.for_talk(expanded, config, diagrams, TYPST_IMAGES)
    out.parent.mkdir(parents=True, exist_ok=True)
    said: list[str] = []
    with tempfile.TemporaryDirectory(prefix="talks-typeset-") as root:
        placed = Placement(finder, Path(root))
        document = within_the_page(fitted(handout.tree, placed.name_for), Path(root))
        pdf = _typeset(document, placed, config.step_timeout, said)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(pdf)
    tmp.replace(out)
    errors = [d for d in expanded.diagnostics if d.severity >= Severity.ERROR]
    warnings = [*handout.warnings, *finder.warnings, *_math_left_as_tex(list(dict.fromkeys(said)), expanded),
                *tool_warnings("pandoc", said, expanded, left=UNCONVERTED.search)]
    return [*expanded.dependencies, *expanded.absent, *handout.bibs, *finder.used], errors, warnings


# -- pictures that fit the page ----------------------------------------------------------

TEXT_WIDTH_IN = 8.27 - 2 * 1.25
"""The width of the text on an A4 page with pandoc's Typst margins (1.25 in each side)."""
TALLEST_IN = 5.5
"""The tallest a picture is drawn: with its caption it stays on the page (9.2 in of text)."""


def within_the_page(node: PandocNode, root: Path, tallest: float = TALLEST_IN) -> PandocNode:
    """The tree with each raster picture that its width would make taller than ``tallest``
    given that height instead: a picture taller than the page runs off it, over its caption
    and the page number.  The pictures of one figure share the height, as they stack."""
    if isinstance(node, list):
        return [within_the_page(x, root, tallest) for x in node]
    if not isinstance(node, dict):
        return node
    if node.get("t") == "Figure":
        tallest = tallest / max(1, _count_images(node))
    if node.get("t") == "Image":
        (ident, classes, attrs), alt, (src, title) = node["c"]
        height = _drawn_height_in(root / src, dict(attrs).get("width", ""))
        if height is not None and height > tallest:
            attrs = [(k, v) for k, v in attrs if k not in ("width", "height")]
            attrs.append(("height", f"{tallest:.2f}in"))
            return {"t": "Image", "c": [[ident, classes, attrs], alt, [src, title]]}
        return node
    return {key: within_the_page(value, root, tallest) for key, value in node.items()}


def _count_images(node: PandocNode) -> int:
    if isinstance(node, list):
        return sum(_count_images(x) for x in node)
    if isinstance(node, dict):
        return int(node.get("t") == "Image") + _count_images(node.get("c"))
    return 0


def _drawn_height_in(path: Path, width: str) -> float | None:
    """How tall the picture would be drawn at ``width`` (a share of the text's width; the
    whole width when none is given), from its header; None when that cannot be told."""
    from .standins import picture_size

    try:
        with open(path, "rb") as fh:
            size = picture_size(fh.read(256 * 1024))
    except OSError:
        return None
    share = float(width[:-1]) / 100 if width.endswith("%") and width[:-1].replace(".", "", 1).isdigit() \
        else 1.0 if not width else None
    if not size or share is None or not size[0]:
        return None
    return share * TEXT_WIDTH_IN * size[1] / size[0]


# -- what pandoc could not convert ----------------------------------------------------

UNCONVERTED = re.compile(r"Could not convert TeX math (.*?), rendering as TeX", re.S)


def _math_left_as_tex(messages: list[str], expanded: ExpandedTalk) -> list[Diagnostic]:
    """A formula pandoc cannot write as Typst math stays TeX text in the PDF: say where."""
    found = []
    for message in messages:
        m = UNCONVERTED.search(message)
        if not m:
            continue
        formula = " ".join(m.group(1).split())
        where = next((origin_of(p) for item, p in expanded.items
                      if isinstance(item, str) and formula[:40] in " ".join(item.split())), None)
        location = where.location if where else tools.at_start(expanded.talk.source.path)
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


# -- Typst ----------------------------------------------------------------------------

def _typeset(document: dict, placed: Placement, timeout: float, said: list[str]) -> bytes:
    """The PDF; an image the compiler cannot read (an SVG that links a file outside, a
    damaged file) is found, left out with a warning, and the rest typeset again."""
    source = _typst_source(document, timeout, said)
    root = str(placed.root)
    try:
        return compile_typst(source.encode("utf-8"), root, "pdf", timeout=timeout)
    except CompileError as first:
        bad = [name for name in list(placed.names.values()) if not _places(name, root, timeout)]
        if not bad:
            raise tools.ToolFailure(f"Typst could not typeset the handout: {first}") from None
        for name in bad:
            placed.refuse(name, "Typst cannot read it (an SVG that links files outside its "
                                "folder, or a damaged file)")
        source = _typst_source(without_images(document, set(bad)), timeout, said)
        try:
            return compile_typst(source.encode("utf-8"), root, "pdf", timeout=timeout)
        except CompileError as again:
            raise tools.ToolFailure(f"Typst could not typeset the handout: {again}") from None


def _places(name: str, root: str, timeout: float) -> bool:
    try:
        compile_typst(f'#image("{name}")'.encode(), root, "pdf", timeout=timeout)
        return True
    except CompileError:
        return False


def _typst_source(document: dict, timeout: float, said: list[str] | None = None) -> str:
    """Typst markup of the fitted tree (its citations already resolved: pandoc writes their
    text, not Typst's own citations)."""
    return tools.run_pandoc(["--from=json", "--to=typst-citations", "--standalone",
                             f"--variable=papersize:{PAPER}"], json.dumps(document),
                            timeout=timeout, said=said)
