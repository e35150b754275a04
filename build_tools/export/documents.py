"""The handout as DOCX, written from the handout's pandoc tree (``shared.handout_tree``,
read once per talk for every document).

The tree is fitted to the document (``tree.fitted``): the DOCX hands pandoc every image
inline, after ``source.confine`` let it through, so equations become Word equations and
figures are embedded.  pandoc always runs in its sandbox.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..config import TalkConfig
from ..diagnostics import Diagnostic, Severity
from . import tools
from ..engine.run import ExpandedTalk
from .sanitize import tool_warnings
from .images import ImageFinder
from .completeness import docx_content as read_back  # noqa: F401 - the format's reader
from .shared import ExportJob, Handout, HandoutTree, Written, raise_first
from .standins import Pictures
from .tree import fitted

DOCX_IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".bmp", ".tif", ".tiff", ".emf", ".wmf")
"""What pandoc places in a DOCX."""


def write(job: ExportJob, out: Path, handout: Handout) -> Callable[[], Written]:
    """The runner's entry (``formats.FORMAT_TABLE``): pandoc starts on the DOCX, and the
    value is the function that waits for it (the runner calls it after the other formats)."""
    pending = start_docx(handout(), out, job.config, job.diagrams)

    def finish() -> Written:
        inputs, errors, warnings = pending.finish()
        return Written(raise_first(inputs, errors), warnings)
    return finish


def settings(job: ExportJob) -> dict:
    """What, besides files, changes the DOCX."""
    return {"code_level": job.config.code_level, "notation": job.notation}


def start_docx(handout: HandoutTree, out: Path, config: TalkConfig, diagrams: str | None
               ) -> PendingDocx:
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
                       [*expanded.dependencies, *expanded.absent, *handout.bibs, *finder.used], errors,
                       [*handout.warnings, *finder.warnings], config.step_timeout, expanded)


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
    expanded: ExpandedTalk
    """The talk, where what pandoc says is reported."""

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
            self.warnings += tool_warnings("pandoc", tools.pandoc_warnings(message), self.expanded)
            self.pictures.put_in(self.tmp)
            self.tmp.replace(self.out)
        finally:
            self.folder.cleanup()
        return self.inputs, self.errors, self.warnings
