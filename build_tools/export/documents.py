"""The handout as documents: DOCX through pandoc, PDF through headless Chromium.

DOCX: the handout's items are written as pandoc Markdown (``$math$``, ``[@key]``,
``![caption](data:...){width=..}``) and converted by pandoc, so equations become
Word equations, citations are resolved by ``--citeproc`` against the entries
the talk cites and figures are embedded.  pandoc runs in its sandbox and is
handed every image inline, only after ``source.confine`` let it through.

PDF: the built HTML handout printed by Chromium, which keeps the site's
typography, figures and MathJax equations without a TeX installation.
"""
from __future__ import annotations

import base64
import functools
import mimetypes
import os
import subprocess
import tempfile
from pathlib import Path

import yaml

from ..config import TalkConfig
from ..diagnostics import Severity
from ..engine.run import expand
from ..engine.talkfile import author_list
from . import markdown as md
from . import tools
from .browser import Printed, print_page
from .citations import bib_text, cited_keys
from .notebook import notation_definitions

PANDOC_INPUT = "markdown+tex_math_dollars+latex_macros+raw_html+fenced_divs+citations"


def handout_markdown(talk: str, config: TalkConfig, diagrams: str | None,
                     notation: str | None = None):
    """(pandoc Markdown, bib files, expansion) for the talk's handout.  Every image it names
    is inline (a ``data:`` URL) and lies inside the talk's allowed folders: pandoc, run in
    its sandbox, reads nothing else."""
    expanded = expand(talk, "handout", config)
    talk_dir = os.path.dirname(expanded.talk.source.path)
    allowed = md.allowed_roots(expanded, diagrams)
    inline = functools.lru_cache(maxsize=None)(lambda path: _inline_image(path, talk_dir, diagrams,
                                                                         allowed))
    style = md.Style(image_link=inline, image_attrs=True, raw_html=False,
                     split_at_headings=False, resource_link=inline)
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
    text = "\n\n".join(filter(None, [_front_matter(expanded.talk.meta, bool(bibs) and not listed),
                                      macros, body]))
    return text + "\n", bibs, expanded


def _front_matter(meta: dict, cited: bool) -> str:
    fields = {"title": str(meta.get("title") or "Untitled talk")}
    if meta.get("subtitle"):
        fields["subtitle"] = str(meta["subtitle"])
    authors = [a["name"] for a in author_list(meta)]
    if authors:
        fields["author"] = authors
    when = ", ".join(str(meta[k]) for k in ("venue", "date") if meta.get(k))
    if when:
        fields["date"] = when
    if isinstance(meta.get("abstract"), str) and meta["abstract"].strip():
        fields["abstract"] = " ".join(meta["abstract"].split())
    if cited:
        fields["reference-section-title"] = "References"
    return "---\n" + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) + "---"


def _inline_image(path: str, talk_dir: str, diagrams: str | None, allowed) -> str | None:
    """The image as a ``data:`` URL when it is a file inside the allowed folders; None for
    anything else (a file elsewhere, a URL: nothing is fetched)."""
    found = md.image_file(path, talk_dir, diagrams, allowed)
    if found is None:
        return None
    kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(found.read_bytes()).decode('ascii')}"


def write_docx(talk: str, out: Path, config: TalkConfig, diagrams: str | None,
               notation: str | None = None, bib_cache: str | None = None):
    """Write the handout as ``out`` (.docx); return (files it was made from, errors).

    pandoc runs with ``--sandbox``: it reads only the Markdown it is handed on its input
    and the bibliography written for it (the cited entries alone), never a file or URL the
    talk names."""
    pandoc = tools.pandoc()
    text, bibs, expanded = handout_markdown(talk, config, diagrams, notation)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.docx")
    with tempfile.TemporaryDirectory(prefix="talks-docx-") as folder:
        args = [pandoc, "--sandbox", f"--from={PANDOC_INPUT}", "--to=docx", "--standalone",
                f"--output={tmp}"]
        if bibs:
            cited = os.path.join(folder, "cited.bib")
            with open(cited, "w", encoding="utf-8") as fh:
                fh.write(bib_text(bibs, cited_keys([text]), bib_cache))
            args += ["--citeproc", f"--bibliography={cited}"]
        done = subprocess.run(args, input=text, text=True, capture_output=True, cwd=folder)
    if done.returncode != 0:
        raise RuntimeError(f"pandoc: {done.stderr.strip()[-2000:]}")
    tmp.replace(out)
    errors = [d for d in expanded.diagnostics if d.severity >= Severity.ERROR]
    return [*expanded.dependencies, *bibs], errors


def write_handout_pdf(browser, site: Path, handout_html: Path, out: Path) -> Printed:
    """Print the built handout page (inside the site folder ``site``) to ``out``."""
    return print_page(browser, site, handout_html, out)
