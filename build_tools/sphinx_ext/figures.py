"""Figures: numbered in handouts and speaker notes, as the README promises, whether they
hold one image (MyST's ``{figure}``) or several pieces (``{talks-figure}``, which the emit
stage writes for ``\\figure`` of anything but a single image); both are figure nodes, so
they are numbered in one sequence and their captions read alike ("Figure 3: ...").

Sphinx numbers only the figures of documents in a toctree, and the site has none (see
``navigation``): each talk's labelled figures are numbered here, in their order on the page,
for every document Sphinx left unnumbered."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

if TYPE_CHECKING:
    from collections.abc import Collection
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment

logger = logging.getLogger(__name__)

FIGURE_FORMAT = "Figure %s:"
NUMBER_ONLY = "%s"
"""The title the engine gives ``\\ref{label}``'s cross-reference: the figure's number alone."""
SPHINX_FIGURE_FORMAT = "Fig. %s"


class TalksFigure(SphinxDirective):
    """``{talks-figure}`` with ``:name:``: its content, the last paragraph being the caption."""

    has_content = True
    option_spec = {"name": directives.unchanged, "class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        figure = nodes.figure(classes=["talks-figure", *self.options.get("class", [])])
        self.set_source_info(figure)
        self.state.nested_parse(self.content, self.content_offset, figure)
        last = figure.children[-1] if figure.children else None
        if isinstance(last, nodes.paragraph):
            caption = nodes.caption(last.rawsource, "", *last.children)
            caption.source, caption.line = last.source, last.line
            figure.replace(last, caption)
            for image in figure.findall(nodes.image):  # what the pictures show, for the blind
                image.setdefault("alt", caption.astext())
        self.add_name(figure)
        return [figure]


def number_figures(app: Sphinx, config: Config) -> None:
    """Figures are numbered; their prefix is ours unless conf.py gave one of its own."""
    config.numfig = True
    formats = dict(config.numfig_format or {})
    if formats.get("figure", SPHINX_FIGURE_FORMAT) == SPHINX_FIGURE_FORMAT:
        config.numfig_format = {**formats, "figure": FIGURE_FORMAT}


def record_numbers(app: Sphinx, doctree: nodes.document) -> None:
    numbers = [node["ids"][0] for node in doctree.findall(nodes.figure) if node["ids"]]
    _numbers(app.env)[app.env.docname] = {ident: (n,) for n, ident in enumerate(numbers, start=1)}


def give_numbers(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """After Sphinx's own numbering (which left out every document in no toctree)."""
    for docname, numbers in _numbers(env).items():
        if numbers and not env.toc_fignumbers.get(docname, {}).get("figure"):
            env.toc_fignumbers.setdefault(docname, {})["figure"] = numbers
    return []


def forget(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _numbers(env).pop(docname, None)


def merge(app: Sphinx, env: BuildEnvironment, docnames: Collection[str],
          other: BuildEnvironment) -> None:
    ours, theirs = _numbers(env), _numbers(other)
    ours.update({doc: theirs[doc] for doc in docnames if doc in theirs})


def _numbers(env: BuildEnvironment) -> dict[str, dict[str, tuple[int, ...]]]:
    if not hasattr(env, "talks_figure_numbers"):
        env.talks_figure_numbers = {}  # type: ignore[attr-defined]
    return env.talks_figure_numbers  # type: ignore[attr-defined]


class UnnumberedReferences(SphinxPostTransform):
    """``\\ref{label}`` of a label no numbered figure of the page has (a section of lamd's
    LaTeX output, a figure of another talk) shows nothing, as pandoc shows nothing, and is
    a warning at its line; Sphinx would show the bare ``%s``."""

    default_priority = 5  # before the references are resolved

    def run(self, **kwargs: Any) -> None:
        docname = self.env.docname
        numbers = self.env.toc_fignumbers.get(docname, {}).get("figure", {})
        labels = self.env.get_domain("std").anonlabels  # type: ignore[attr-defined]
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("reftype") != "numref" or node.astext() != NUMBER_ONLY:
                continue
            where, ident = labels.get(node["reftarget"], ("", ""))
            if where == docname and ident in numbers:
                continue
            logger.warning(f"\\ref{{{node['reftarget']}}} names no numbered figure of this talk; "
                           "nothing is shown", location=node, type="talks", subtype="W-REF")
            node.replace_self(nodes.inline())


def setup(app: Sphinx) -> None:
    app.add_directive("talks-figure", TalksFigure)
    app.add_post_transform(UnnumberedReferences)
    app.connect("config-inited", number_figures)
    app.connect("doctree-read", record_numbers)
    app.connect("env-get-updated", give_numbers, priority=900)
    app.connect("env-purge-doc", forget)
    app.connect("env-merge-info", merge)
