"""The exports a build can make besides the HTML: one declared record per format, in one
table.  The runner (``export.run``), the command's help, the lamd settings and the CI check
all iterate ``FORMAT_TABLE``; adding a format is one module under ``export/`` and one line
here (docs/exports.md, "Adding a format")."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportFormat:
    name: str
    """What ``--to`` and ``talks_exports`` call it."""
    suffix: str
    """The file's ending after the talk's name."""
    label: str
    """How the pages and the index name the download."""
    lamd_settings: tuple[str, ...]
    """lamd's output switches that ask for it (``pptx: True`` in ``_lamd.yml``)."""
    source: str
    """The variant it is made from, and whose built page it is checked against."""
    module: str
    """The module of ``build_tools.export`` that writes it (``write``) and reads it back for
    the completeness check (``read_back``)."""
    printed: bool = False
    """Printed by the browser from the built page (it is out of date when the page is newer,
    and it needs the browser)."""


FORMAT_TABLE = (
    ExportFormat("ipynb", ".ipynb", "Notebook", ("ipynb", "slidesipynb", "notebook"), "handout",
                 "notebook"),
    ExportFormat("docx", ".docx", "Handout (DOCX)", ("docx",), "handout", "documents"),
    ExportFormat("pdf", ".pdf", "Handout (PDF)", ("notespdf",), "handout", "typeset"),
    ExportFormat("slides-pdf", ".slides.pdf", "Slides (PDF)", ("pdf", "slidespdf"), "slides",
                 "slides_pdf", printed=True),
    ExportFormat("pptx", ".pptx", "Slides (PPTX)", ("pptx",), "slides", "pptx"),
)
"""Every export, in the order the index lists them."""

FORMATS = tuple(f.name for f in FORMAT_TABLE)
SUFFIXES = {f.name: f.suffix for f in FORMAT_TABLE}
LABELS = {f.name: f.label for f in FORMAT_TABLE}


def export_format(name: str) -> ExportFormat:
    """The record of the format ``name`` (KeyError for an unknown one)."""
    for record in FORMAT_TABLE:
        if record.name == name:
            return record
    raise KeyError(name)


def parse_formats(text: str | list | tuple | None) -> tuple[str, ...]:
    """``"ipynb,pdf"`` (or a list) as a tuple of known formats, in the canonical order.

    Raises ValueError naming an unknown format.
    """
    if text is None:
        return ()
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n and n != "none"]
    if names == ["all"]:
        return FORMATS
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in names)
