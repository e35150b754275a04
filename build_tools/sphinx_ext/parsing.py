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
from myst_parser.config.main import MdParserConfig, TopmatterReadError, merge_file_level, read_topmatter
from myst_parser.mdit_to_docutils.sphinx_ import SphinxRenderer
from myst_parser.parsers.mdit import create_md_parser
from myst_parser.parsers.sphinx_ import MystParser
from myst_parser.warnings_ import create_warning
from sphinx.util import logging

from ..status import TalkStatus
from . import typography
from .reading import talk_info

if TYPE_CHECKING:
    from sphinx.application import Sphinx

logger = logging.getLogger(__name__)


class TalkParser(MystParser):
    """MyST, with a failure confined to the document that caused it."""

    def parse(self, inputstring: str, document: nodes.document) -> None:
        try:
            self._render(inputstring, document)
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

    @staticmethod
    def _render(inputstring: str, document: nodes.document) -> None:
        """MyST's own parse, with the typography Sphinx's SmartQuotes would add later."""
        env = document.settings.env
        config: MdParserConfig = env.myst_config
        try:
            topmatter = read_topmatter(inputstring)
        except TopmatterReadError:
            topmatter = None  # MyST reports it while rendering
        if topmatter:
            def warning(wtype: object, message: str) -> None:
                create_warning(document, message, wtype, line=1, append_to=document)  # type: ignore[arg-type]

            config = merge_file_level(config, topmatter, warning)
        parser = create_md_parser(config, SphinxRenderer)
        if env.config.talks_typography:
            typography.enable(parser)
        parser.options["document"] = document
        parser.render(inputstring)


def setup(app: Sphinx) -> None:
    app.add_source_parser(TalkParser, override=True)
