"""Speaker notes with their formatting, in reveal.js's speaker view.

sphinx-revealjs writes ``<aside class="notes">`` holding the *escaped text* of
the notes, which loses paragraphs, lists, links, emphasis and math.  Here the
``revealjs_notes`` node keeps its visitor for every builder but the decks,
where the aside holds the rendered HTML of its children instead.  The notes
plugin copies that HTML into the speaker view as it is; math in it is
typeset by MathJax as self-contained SVG (see ``assets``), so it shows there too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sphinx_revealjs._ext.notes import revealjs_notes

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator

DECK_BUILDERS = ("revealjs", "dirrevealjs")


def visit_notes(self: HTML5Translator, node: revealjs_notes) -> None:
    if self.builder.name not in DECK_BUILDERS:
        self.visit_admonition(node)
        return
    self.body.append('<aside class="notes">\n')


def depart_notes(self: HTML5Translator, node: revealjs_notes) -> None:
    if self.builder.name not in DECK_BUILDERS:
        self.depart_admonition(node)
        return
    self.body.append("</aside>\n")


def setup(app: Sphinx) -> None:
    handlers = (visit_notes, depart_notes)
    app.add_node(revealjs_notes, override=True, html=handlers, revealjs=handlers,
                 dirrevealjs=handlers)
