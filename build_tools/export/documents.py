"""The handout as a document: DOCX through pandoc (the typeset PDF is ``typeset``).

DOCX: the handout's items are written as pandoc Markdown (``$math$``, ``[@key]``,
``![caption](path){width=..}``) and converted by pandoc, so equations become
Word equations, citations are resolved by ``--citeproc`` against the talk's
BibTeX files and figures are embedded (found through ``--resource-path``).

The same Markdown, every figure kept as a figure, is what ``typeset`` makes
the handout PDF from.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from ..config import TalkConfig
from ..diagnostics import Severity
from ..engine.run import expand
from ..engine.talkfile import author_list
from . import markdown as md
from . import tools
from .notebook import notation_definitions

PANDOC_INPUT = "markdown+tex_math_dollars+latex_macros+raw_html+fenced_divs+citations"


def handout_markdown(talk: str, config: TalkConfig, diagrams: str | None,
                     notation: str | None = None, image_link=None, figure_divs: bool = False):
    """(pandoc Markdown, resource folders, bib files, expansion) for the talk's handout.

    ``image_link`` writes an image's path (default: relative to a resource folder);
    ``figure_divs`` keeps every caption in a figure (``markdown.Style``)."""
    expanded = expand(talk, "handout", config)
    talk_dir = os.path.dirname(expanded.talk.source.path)
    roots = [talk_dir, *([os.path.abspath(diagrams)] if diagrams else [])]
    style = md.Style(image_link=image_link or (lambda path: _resource_link(path, talk_dir, diagrams)),
                     image_attrs=True, raw_html=False, split_at_headings=False,
                     figure_divs=figure_divs)
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
    return text + "\n", roots, bibs, expanded


def _front_matter(meta: dict, cited: bool) -> str:
    fields: dict[str, str | list[str]] = {"title": str(meta.get("title") or "Untitled talk")}
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


def _resource_link(path: str, talk_dir: str, diagrams: str | None) -> str | None:
    """An image path relative to a folder on ``--resource-path``, so pandoc embeds it;
    None for an image not on disk (pandoc would stop) or on the web (nothing is downloaded)."""
    found = md.image_file(path, talk_dir, diagrams)
    if found is None:
        return None
    for root in [diagrams, talk_dir]:
        if root and found.is_relative_to(Path(root).resolve()):
            return found.relative_to(Path(root).resolve()).as_posix()
    return found.as_posix()


def write_docx(talk: str, out: Path, config: TalkConfig, diagrams: str | None,
               notation: str | None = None):
    """Write the handout as ``out`` (.docx); return (files it was made from, errors)."""
    import pypandoc

    tools.pandoc()
    text, roots, bibs, expanded = handout_markdown(talk, config, diagrams, notation)
    args = ["--standalone", f"--resource-path={os.pathsep.join(roots)}"]
    if bibs:
        args += ["--citeproc", *(f"--bibliography={b}" for b in bibs)]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.docx")
    pypandoc.convert_text(text, "docx", format=PANDOC_INPUT, outputfile=str(tmp),
                          extra_args=args, cworkdir=roots[0])
    tmp.replace(out)
    errors = [d for d in expanded.diagnostics if d.severity >= Severity.ERROR]
    return [*expanded.dependencies, *bibs], errors

