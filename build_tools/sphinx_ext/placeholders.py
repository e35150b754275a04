"""Placeholders: what a reader sees where an include, image or diagram was not found.

The emit stage marks each such place with a ``{talks-missing}`` directive, a
warning box ("Missing image: /diagrams/x.svg") that knows what is missing.  That box is for the
author: ``talks serve`` sets ``talks_preview`` and shows it.  A published page
(``talks build``) shows a neutral frame instead, as the deck does; the figure's
caption stays, and the warning itself is in the build log.  The frame keeps the
missing target in a ``data-missing`` attribute, for tools, not for readers.

The swap happens when the page is written, so switching ``talks_preview``
rewrites the pages without reading the talks again.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

if TYPE_CHECKING:
    from sphinx.application import Sphinx

MISSING_CLASS = "talks-missing"


class MissingFile(SphinxDirective):
    """``{talks-missing} WHAT`` with ``:target: PATH``: the author's warning box ("Missing
    WHAT: PATH", also the directive's content for other MyST readers), carrying what was
    missing for the placeholder that replaces it in published pages.  The box is made here,
    not parsed from the content: a corpus without its diagrams has thousands."""

    required_arguments = 1
    has_content = True
    option_spec = {"target": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        what, target = self.arguments[0], self.options.get("target", "")
        box = nodes.warning(classes=[MISSING_CLASS])
        box["talks_missing"] = (what, target)
        self.set_source_info(box)
        box += nodes.paragraph("", "", nodes.Text(f"Missing {what}: "), nodes.literal(target, target))
        return [box]


def placeholder(what: str, target: str) -> nodes.raw:
    """A neutral frame, naming the missing target only in an attribute."""
    return nodes.raw("", f'<div class="{MISSING_CLASS} {MISSING_CLASS}-{html.escape(what)}" '
                         f'data-missing="{html.escape(target)}"></div>', format="html")


class NeutralPlaceholders(SphinxPostTransform):
    """Outside the preview, each missing-file warning box becomes a neutral frame."""

    default_priority = 200

    def run(self, **kwargs: Any) -> None:
        if self.config.talks_preview:
            return
        for box in list(self.document.findall(nodes.warning)):
            if "talks_missing" in box.attributes:
                # not replace_self: it would give the frame the box's classes (a wrapping div)
                box.parent.replace(box, placeholder(*box["talks_missing"]))


def setup(app: Sphinx) -> None:
    app.add_config_value("talks_preview", False, "html", types=[bool],
                         description="Show the author's warnings in the pages (set by `talks "
                         "serve`); published pages show neutral placeholders.")
    app.add_directive("talks-missing", MissingFile)
    app.add_post_transform(NeutralPlaceholders)
