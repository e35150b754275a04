"""Typographic quotes, dashes and ellipses, made while MyST parses rather than after.

pandoc (lamd's renderer) turns ``"quotes"``, ``--``, ``---`` and ``...`` into their
typographic forms (``. . .`` too), and so does Sphinx by default, with docutils' SmartQuotes transform
walking every finished document.  On a site of hundreds of talks that walk is among the
costliest steps of reading.  markdown-it does the same while it parses: its ``smartquotes``
rule for the quotes, and ``dashes_and_ellipses`` below for the rest (markdown-it's own
``replacements`` rule would also turn ``(c)`` and ``+-`` into symbols, which pandoc does not).
Code, math and raw HTML are tokens of their own and stay as written, as do the addresses
shown as links.

``smartquotes = False`` in conf.py turns all of it off, as it turns off Sphinx's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from sphinx.application import Sphinx
    from sphinx.config import Config

REPLACED = (("---", "\u2014"), ("--", "\u2013"), (". . .", "\u2026"), ("...", "\u2026"))


def dashes_and_ellipses(state: StateCore) -> None:
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        in_address = False
        for token in block.children:
            if token.type == "link_open" and token.info == "auto":
                in_address = True
            elif token.type == "link_close" and in_address:
                in_address = False
            elif token.type == "text" and not in_address and ("--" in token.content
                                                               or ". ." in token.content
                                                               or ".." in token.content):
                for plain, typographic in REPLACED:
                    token.content = token.content.replace(plain, typographic)


def enable(md: MarkdownIt) -> None:
    """Make a MyST parser do what Sphinx's SmartQuotes would have done after it."""
    md.options["typographer"] = True
    md.enable("smartquotes")
    md.core.ruler.after("smartquotes", "dashes_and_ellipses", dashes_and_ellipses)


def take_over_smartquotes(app: Sphinx, config: Config) -> None:
    """Sphinx's transform is off; the parser does its work where conf.py wants it."""
    config.talks_typography = bool(config.smartquotes)
    config.smartquotes = False


def setup(app: Sphinx) -> None:
    app.add_config_value("talks_typography", True, "env", types=[bool],
                         description="Set from conf.py's smartquotes: typographic quotes, "
                         "dashes and ellipses, made by the parser.")
    app.connect("config-inited", take_over_smartquotes)
