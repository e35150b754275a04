"""Exports: each talk as files to take away, made from the expansion and the built site.

* ``notebook``: a Jupyter notebook (code cells from the code-family macros);
* ``documents``: the handout as DOCX (pandoc);
* ``typeset``: the handout as a typeset PDF (pandoc to Typst, compiled by ``typst``);
* ``pptx``: the deck as PowerPoint (pandoc), speaker notes in the notes pane;
* ``images``: the images those documents place, found, confined and located;
* ``slides_pdf``: the deck, one slide per page (reveal.js print mode in Chromium);
* ``run``: which exports are out of date, and running them in parallel processes.

Nothing here runs unless asked for (``talks build --to ...`` or ``talks_exports``
in conf.py): the HTML build never waits for an export it did not ask for.
"""
from __future__ import annotations

FORMATS = ("ipynb", "docx", "pdf", "slides-pdf", "pptx")
"""Every export, in the order the index lists them."""

SUFFIXES = {"ipynb": ".ipynb", "docx": ".docx", "pdf": ".pdf", "slides-pdf": ".slides.pdf",
            "pptx": ".pptx"}
LABELS = {"ipynb": "Notebook", "docx": "Handout (DOCX)", "pdf": "Handout (PDF)",
          "slides-pdf": "Slides (PDF)", "pptx": "Slides (PPTX)"}


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
