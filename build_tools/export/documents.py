"""The handout as a document: its pandoc tree, shared by the DOCX (written here) and the
typeset PDF (``typeset``).

The handout's items are written as pandoc Markdown (``$math$``, ``[@key]``,
``![caption](path){width=..}``, figures as ``.talks-figure`` divs) and read by
pandoc once per talk, citations resolved there by ``--citeproc`` against the
entries the talk cites (``handout_tree``).  Each document then fits that tree to
itself (``tree.fitted``): the DOCX hands pandoc every image inline, after
``source.confine`` let it through, so equations become Word equations and figures
are embedded.  pandoc always runs in its sandbox.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..config import TalkConfig
from ..diagnostics import Diagnostic, Severity
from ..engine.run import ExpandedTalk, expand
from . import markdown as md
from . import tools
from .citations import bib_text, cited_keys
from .images import ImageFinder
from .notebook import notation_definitions
from .sanitize import dropped_attribute_warnings, writer_safe
from .standins import Pictures
from .tree import fitted

PANDOC_INPUT = "markdown+tex_math_dollars+latex_macros+raw_html+fenced_divs+citations"


def handout_markdown(talk: str, config: TalkConfig, notation: str | None = None):
    """(pandoc Markdown, bib files, expansion) for the talk's handout: images as the talk
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
    from ..api import talk_bib_files

    bibs = [f for f in talk_bib_files(expanded.talk, config) if os.path.isfile(f)]
    listed = "{#refs}" in body  # the talk says where its references go
    text = "\n\n".join(filter(None, [md.metadata_block(expanded.talk.meta, abstract=True,
                                                      references=bool(bibs) and not listed),
                                      macros, body]))
    return text + "\n", bibs, expanded


DOCX_IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".bmp", ".tif", ".tiff", ".emf", ".wmf")
"""What pandoc places in a DOCX."""


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
        tree, dropped = writer_safe(json.loads(
            tools.run_pandoc(args, text, timeout=config.step_timeout, cwd=folder)))
    return HandoutTree(tree, expanded, bibs, dropped_attribute_warnings(dropped, expanded))


def start_docx(handout: HandoutTree, out: Path, config: TalkConfig, diagrams: str | None
               ) -> "PendingDocx":
    """Start writing the handout as ``out`` (.docx); ``finish()`` the result to wait for it.

    pandoc reads only what it is handed, never a file or URL the talk names: each image
    ``confine`` lets through goes in inline, as a stand-in whose picture goes into the
    package once pandoc is done (``standins``); any other is left out, with a warning at
    the line that named it.  The writing runs while the caller goes on (printing the
    PDFs, say)."""
    pandoc = tools.pandoc()
    finder = ImageFinder.for_talk(handout.expanded, config, diagrams, DOCX_IMAGES)
    pictures = Pictures()

    def inline(path: str) -> str | None:
        found = finder.locate(path)
        return pictures.data_url(found.read_bytes(), found.name) if found else None

    document = fitted(handout.tree, inline)
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = tempfile.TemporaryDirectory(prefix="talks-docx-")
    try:
        source = os.path.join(folder.name, "handout.json")
        with open(source, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(document))  # dumps is C; dump to a file is pure Python, 10x slower
        tmp = out.with_name(out.name + ".tmp.docx")
        log = open(os.path.join(folder.name, "pandoc.log"), "w+", encoding="utf-8")
        process = subprocess.Popen(
            [pandoc, *tools.pandoc_runtime(), "--sandbox", "--from=json", "--to=docx",
             "--standalone", f"--output={tmp}", source], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=log, cwd=folder.name)
    except BaseException:
        folder.cleanup()
        raise
    expanded = handout.expanded
    errors = [d for d in expanded.diagnostics if d.severity >= Severity.ERROR]
    return PendingDocx(process, log, folder, tmp, out, pictures,
                       [*expanded.dependencies, *handout.bibs, *finder.used], errors,
                       [*handout.warnings, *finder.warnings], config.step_timeout)


@dataclass
class PendingDocx:
    """A DOCX pandoc is writing."""

    process: subprocess.Popen
    log: IO[str]
    folder: tempfile.TemporaryDirectory
    tmp: Path
    out: Path
    pictures: Pictures
    inputs: list[str]
    errors: list[Diagnostic]
    warnings: list[Diagnostic]
    timeout: float
    """Seconds pandoc may take, counted from when it is waited for."""

    def finish(self) -> tuple[list[str], list[Diagnostic], list[Diagnostic]]:
        """Wait for pandoc; put the file in place (the last good one stays when it failed).
        Returns (files it was made from, the engine's errors, the images' warnings)."""
        try:
            try:
                code = self.process.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise tools.StepTimeout(f"pandoc ran past its time limit of {self.timeout:g} s "
                                        "and was stopped") from None
            self.log.seek(0)
            message = self.log.read()
            self.log.close()
            if code != 0:
                raise tools.ToolFailure(f"pandoc: {message.strip()[-2000:]}")
            self.pictures.put_in(self.tmp)
            self.tmp.replace(self.out)
        finally:
            self.folder.cleanup()
        return self.inputs, self.errors, self.warnings
