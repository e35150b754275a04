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

from ..formats import FORMATS, LABELS, SUFFIXES, parse_formats

__all__ = ["FORMATS", "LABELS", "SUFFIXES", "parse_formats"]
