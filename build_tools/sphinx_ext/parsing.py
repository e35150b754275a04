"""Parsing: one talk's broken MyST must not stop the build of every other talk.

MyST and the roles it calls (sphinxcontrib-bibtex's citations, for one) can
raise on input they do not expect.  Sphinx would stop the whole build; this
parser catches the exception, reports it as an error of that talk at its
document, records it for ``talks build`` (the talk keeps its last good pages),
and puts a visible error page in its place.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from docutils import nodes
from myst_parser.parsers.sphinx_ import MystParser
from sphinx.util import logging

from ..status import TalkStatus
from .reading import talk_info

if TYPE_CHECKING:
    from sphinx.application import Sphinx

logger = logging.getLogger(__name__)


class TalkParser(MystParser):
    """MyST, with a failure confined to the document that caused it."""

    def parse(self, inputstring: str, document: nodes.document) -> None:
        try:
            super().parse(inputstring, document)
        except Exception as exc:  # noqa: BLE001 - any failure stays with this talk
            env = document.settings.env
            docname = env.docname
            message = f"this talk could not be rendered: {type(exc).__name__}: {exc}"
            logger.error(message, location=docname, type="talks", subtype="E-RENDER")
            status = talk_info(env).setdefault(docname, TalkStatus())
            status.errors.append(f"{env.doc2path(docname)}: error: {message}")
            document.children = []
            first = inputstring.split("\n", 1)[0]
            title = first[2:].strip() if first.startswith("# ") else docname
            fence = "`" * 4
            super().parse(f"# {title}\n\n{fence}{{error}}\n{message}\n{fence}\n", document)


def setup(app: Sphinx) -> None:
    app.add_source_parser(TalkParser, override=True)
