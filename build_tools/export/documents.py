"""The handout as a document: DOCX through pandoc (the typeset PDF is ``typeset``).

DOCX: the handout's items are written as pandoc Markdown (``$math$``, ``[@key]``,
``![caption](data:...){width=..}``) and converted by pandoc, so equations become
Word equations, citations are resolved by ``--citeproc`` against the entries
the talk cites and figures are embedded.  pandoc runs in its sandbox and is
handed every image inline, only after ``source.confine`` let it through.

The same Markdown, every figure kept as a figure, is what ``typeset`` makes
the handout PDF from.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..config import TalkConfig
from ..diagnostics import Diagnostic, Severity
from ..engine.run import expand
from . import markdown as md
from . import tools
from .citations import bib_text, cited_keys
from .notebook import notation_definitions
from .standins import Pictures

PANDOC_INPUT = "markdown+tex_math_dollars+latex_macros+raw_html+fenced_divs+citations"
IMAGE_PLACEHOLDER = "talks-image-"
"""What the Markdown names an image by until it is put in inline."""


def handout_markdown(talk: str, config: TalkConfig, diagrams: str | None,
                     notation: str | None = None, image_link=None, figure_divs: bool = False):
    """(pandoc Markdown, bib files, expansion, images) for the talk's handout.

    By default each image it names that lies inside the talk's allowed folders is written
    as a placeholder, ``images`` mapping each placeholder to its file, and any other image
    is left out; ``image_link`` writes them otherwise (the typesetter places them itself).
    ``figure_divs`` keeps every caption in a figure (``markdown.Style``).
    """
    expanded = expand(talk, "handout", config)
    talk_dir = os.path.dirname(expanded.talk.source.path)
    allowed = md.allowed_roots(expanded, diagrams)
    images: dict[str, Path] = {}

    @functools.lru_cache(maxsize=None)
    def placeholder(path: str) -> str | None:
        found = md.image_file(path, talk_dir, diagrams, allowed)
        if found is None:
            return None
        name = f"{IMAGE_PLACEHOLDER}{len(images)}{found.suffix}"
        images[name] = found
        return name

    link = image_link or placeholder
    style = md.Style(image_link=link, image_attrs=True, raw_html=False, split_at_headings=False,
                     resource_link=link, figure_divs=figure_divs)
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
    return text + "\n", bibs, expanded, images


def inline_images(node, images: dict[str, Path], pictures: Pictures) -> None:
    """Every image of a pandoc AST (JSON) whose target is a placeholder of ``images`` made a
    ``data:`` URL of its file (a stand-in, ``standins``), in place."""
    if isinstance(node, list):
        for child in node:
            inline_images(child, images, pictures)
    elif isinstance(node, dict):
        if node.get("t") == "Image":
            target = node["c"][2]
            if target[0] in images:
                path = images[target[0]]
                target[0] = pictures.data_url(path.read_bytes(), path.name)
        for child in node.values():
            if isinstance(child, (list, dict)):
                inline_images(child, images, pictures)


def write_docx(talk: str, out: Path, config: TalkConfig, diagrams: str | None,
               notation: str | None = None, bib_cache: str | None = None):
    """Write the handout as ``out`` (.docx); return (files it was made from, errors)."""
    return start_docx(talk, out, config, diagrams, notation, bib_cache).finish()


def start_docx(talk: str, out: Path, config: TalkConfig, diagrams: str | None,
               notation: str | None = None, bib_cache: str | None = None) -> "PendingDocx":
    """Start writing the handout as ``out`` (.docx); ``finish()`` the result to wait for it.

    pandoc runs with ``--sandbox``: it reads only what it is handed (the document, the
    bibliography written for it with the cited entries alone), never a file or URL the talk
    names.  The Markdown is read with images as placeholders, then the images (only those
    ``confine`` let through) are put in inline, as stand-ins whose pictures go into the
    package once pandoc is done (``standins``).  The writing runs while the caller goes on
    (printing the PDFs, say)."""
    pandoc = tools.pandoc()
    text, bibs, expanded, images = handout_markdown(talk, config, diagrams, notation)
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = tempfile.TemporaryDirectory(prefix="talks-docx-")
    try:
        ast = json.loads(_run(pandoc, ["--sandbox", f"--from={PANDOC_INPUT}", "--to=json"],
                              text, folder.name))
        pictures = Pictures()
        inline_images(ast, images, pictures)
        document = os.path.join(folder.name, "handout.json")
        with open(document, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(ast))  # dumps is C; dump to a file is pure Python, 10x slower
        tmp = out.with_name(out.name + ".tmp.docx")
        args = ["--sandbox", "--from=json", "--to=docx", "--standalone", f"--output={tmp}", document]
        if bibs:
            cited = os.path.join(folder.name, "cited.bib")
            with open(cited, "w", encoding="utf-8") as fh:
                fh.write(bib_text(bibs, cited_keys([text]), bib_cache))
            args += ["--citeproc", f"--bibliography={cited}"]
        log = open(os.path.join(folder.name, "pandoc.log"), "w+", encoding="utf-8")
        process = subprocess.Popen([pandoc, *args], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=log, cwd=folder.name)
    except BaseException:
        folder.cleanup()
        raise
    errors = [d for d in expanded.diagnostics if d.severity >= Severity.ERROR]
    return PendingDocx(process, log, folder, tmp, out, pictures,
                       [*expanded.dependencies, *bibs, *map(str, images.values())], errors)


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

    def finish(self) -> tuple[list[str], list[Diagnostic]]:
        """Wait for pandoc; put the file in place (the last good one stays when it failed).
        Returns (files it was made from, the engine's errors)."""
        try:
            code = self.process.wait()
            self.log.seek(0)
            message = self.log.read()
            self.log.close()
            if code != 0:
                raise RuntimeError(f"pandoc: {message.strip()[-2000:]}")
            self.pictures.put_in(self.tmp)
            self.tmp.replace(self.out)
        finally:
            self.folder.cleanup()
        return self.inputs, self.errors


def _run(pandoc: str, args: list[str], text: str, folder: str) -> str:
    done = subprocess.run([pandoc, *args], input=text, text=True, capture_output=True, cwd=folder)
    if done.returncode != 0:
        raise RuntimeError(f"pandoc: {done.stderr.strip()[-2000:]}")
    return done.stdout

