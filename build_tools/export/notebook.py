"""A Jupyter notebook per talk, as lamd makes them: the notes as markdown cells, every
code-family block as a code cell, in reading order.

The talk is expanded for the handout with the code level that switches on
every code macro (``full``: setup, plotting, display and helper code), so the
notebook runs the talk's code from the top.  Figures are copied next to the
notebook (``<name>_files/``) so the links work wherever the folder is moved.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..config import TalkConfig
from ..diagnostics import Diagnostic, Severity
from ..engine.run import expand
from . import markdown as md
from .citations import cited_keys
from .completeness import notebook_content as read_back  # noqa: F401 - the format's reader
from .shared import ExportJob, Handout, Written, bib_cache, notation_definitions, raise_first, talk_bib_files

NOTEBOOK_CODE_LEVEL = "full"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
NEWCOMMAND = re.compile(r"^\s*\\(?:re)?newcommand\s*\{?\\(\w+)\}?")


def write(job: ExportJob, out: Path, handout: Handout) -> Written:
    """The runner's entry (``formats.FORMAT_TABLE``)."""
    inputs, errors = write_notebook(job.talk, out, job.config, job.diagrams, job.notation,
                                    bib_cache=bib_cache(job))
    return Written(raise_first(inputs, errors))


def settings(job: ExportJob) -> dict:
    """What, besides files, changes the notebook."""
    return {"notation": job.notation}


def write_notebook(talk: str, out: Path, config: TalkConfig, diagrams: str | None,
                   notation: str | None = None, code_level: str = NOTEBOOK_CODE_LEVEL,
                   bib_cache: str | None = None) -> tuple[list[str], list[Diagnostic]]:
    """Write ``out`` (.ipynb); return the files it was made from and the engine's problems.

    ``bib_cache`` is where the HTML build keeps its cleaned bibliographies."""
    import nbformat

    expanded = expand(talk, "handout", replace(config, code_level=code_level))
    files_dir = out.with_name(out.stem + "_files")
    bibs = talk_bib_files(expanded.talk, config)
    keys = cited_keys(md.texts_of(expanded.items))
    cite = md.ReadableCitations(md.citation_labels(bibs, keys, bib_cache))
    copier = _image_copier(expanded.talk.source.path, diagrams, md.allowed_roots(expanded, diagrams),
                           files_dir, out.parent)
    style = md.Style(image_link=copier, cite=cite, bibliography=cite.references,
                     resource_link=copier)
    body = md.cells(expanded.items, style)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.cells.append(nbformat.v4.new_markdown_cell(md.title_block(expanded.talk.meta)))
    macros = notation_definitions(notation, "\n".join(c.text for c in body if c.kind == "markdown"))
    if macros:  # MathJax in Jupyter keeps definitions from one cell for the next
        notebook.cells.append(nbformat.v4.new_markdown_cell(f"$$\n{macros}\n$$"))
    diagrams_here = _diagrams_here(expanded.talk.meta, config.diagrams_url)
    for cell in body:
        if cell.kind == "code":
            notebook.cells.append(nbformat.v4.new_code_cell(diagrams_here(cell.text)))
        else:
            notebook.cells.append(nbformat.v4.new_markdown_cell(cell.text))
    if cite.cited and not any(isinstance(item, str) and item.strip().startswith(md.BIBLIOGRAPHY_FENCE)
                              for item, _ in expanded.items):
        # the handout lists what it cites at its end when the talk says nowhere
        notebook.cells.append(nbformat.v4.new_markdown_cell(f"## References\n\n{cite.references()}"))
    nbformat.validate(notebook)
    _write_atomically(out, nbformat.writes(notebook, version=4))
    errors = [d for d in expanded.diagnostics if d.severity >= Severity.ERROR]
    return [*expanded.dependencies, *expanded.absent, *bibs], errors


def _diagrams_here(meta: dict, diagrams_url: str) -> Callable[[str], str]:
    """Code that names the diagrams folder by its site address (``'/diagrams'``, what
    ``\\diagramsDir`` expands to) names it, as lamd's notebooks do, relative to where the
    notebook runs: the folder its own code writes its diagrams to (``writediagramsdir``, by
    default ``diagrams``).  A reader has no ``/diagrams``."""
    here = str(meta.get("writediagramsdir", "diagrams")).rstrip("/") or "."
    quoted = re.compile(r"""(['"])""" + re.escape(diagrams_url.rstrip("/")) + r"""(/[^'"\n]*)?\1""")
    return lambda code: quoted.sub(lambda m: f"{m[1]}{here}{m[2] or ''}{m[1]}", code) \
        if diagrams_url.rstrip("/") in code else code


def _image_copier(talk_path: str, diagrams: str | None, allowed: tuple[str, ...], files_dir: Path,
                  out_dir: Path) -> Callable[[str], str | None]:
    """A link maker that copies each file it finds inside the ``allowed`` folders into
    ``files_dir`` (once) and links the copy.  A web URL stays as written; any other
    reference (a file outside the project, a ``file:`` URL, a file not on this machine)
    gets no link: the notebook names nothing outside itself and the web."""
    talk_dir = os.path.dirname(talk_path)
    copied: dict[str, str | None] = {}

    def link(path: str) -> str | None:
        if path in copied:
            return copied[path]
        if md.is_web(path) or path.startswith("#"):
            copied[path] = path
            return path
        found = md.image_file(path, talk_dir, diagrams, allowed)
        if found is None:
            copied[path] = None
            return None
        name = _unique_name(found, copied)
        files_dir.mkdir(parents=True, exist_ok=True)
        target = files_dir / name
        if not target.is_file() or target.stat().st_mtime < found.stat().st_mtime:
            shutil.copy2(found, target)
        copied[path] = os.path.relpath(target, out_dir).replace(os.sep, "/")
        return copied[path]

    return link


def _unique_name(found: Path, copied: dict[str, str | None]) -> str:
    used = {os.path.basename(v) for v in copied.values() if v}
    name, n = found.name, 2
    while name in used:
        name, n = f"{found.stem}-{n}{found.suffix}", n + 1
    return name


def _write_atomically(path: Path, text: str) -> None:
    """A failed export never leaves a half-written file in place of the last good one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
