"""Navigation: the site's talks in the sidebar of each handout, and the previous and
next talk at its foot, from the list the site builder hands over
(``talks_navigation``, ``build_tools.navigation``) rather than a toctree of every
talk, whose cost grows with the square of the number of talks.

The sidebar is written in the markup of furo's own navigation tree (so the theme
styles it, marks the current page and folds groups); any other theme finds the
same list in the page context as ``talks_course``.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from ..navigation import CourseEntry, entries_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from docutils import nodes
    from sphinx.application import Sphinx

    PathTo = Callable[[str], str]
    """The page context's ``pathto``: a document's name -> its relative URL."""

DECK_BUILDERS = ("revealjs",)
"""Builders whose pages are decks: they get no sidebar."""


def sidebar_html(entries: list[CourseEntry], current: str, pathto: PathTo) -> str:
    """The list as furo writes its navigation tree.  Ungrouped talks (a course, a folder of
    talks) are listed in full.  Grouped talks (a talks repository's subject folders) are
    listed in full for the current page's group only; every other group is one link, to
    its first talk, so a page of a 280-talk site does not carry 280 links."""
    groups: dict[str, list[CourseEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    if list(groups) == [""]:
        return _items(groups[""], current, pathto)
    mine = next((e.group for e in entries if e.doc == current), None)
    out = []
    if mine is not None:
        out += [_caption(mine or "Talks"), _items(groups[mine], current, pathto)]
    others = [(group, members) for group, members in groups.items() if group != mine]
    if others:
        out.append(_caption("Other subjects" if mine is not None else "Subjects"))
        out.append("<ul>" + "".join(
            '<li class="toctree-l1"><a class="reference internal" href="'
            f'{html.escape(pathto(members[0].doc))}">{html.escape(group or "Talks")} '
            f'({len(members)})</a></li>' for group, members in others) + "</ul>")
    return "\n".join(out)


def _caption(text: str) -> str:
    return f'<p class="caption" role="heading"><span class="caption-text">{html.escape(text)}</span></p>'


def _items(entries: list[CourseEntry], current: str, pathto: PathTo) -> str:
    out = ["<ul>"]
    for entry in entries:
        title = html.escape(entry.title)
        if entry.doc == current:
            out.append('<li class="toctree-l1 current current-page"><a class="current reference '
                       f'internal" href="#">{title}</a></li>')
        else:
            out.append('<li class="toctree-l1"><a class="reference internal" '
                       f'href="{html.escape(pathto(entry.doc))}">{title}</a></li>')
    out.append("</ul>")
    return "\n".join(out)


def neighbours(entries: list[CourseEntry], current: str
               ) -> tuple[CourseEntry | None, CourseEntry | None]:
    """The talks listed before and after ``current``."""
    docs = [e.doc for e in entries]
    if current not in docs:
        return None, None
    at = docs.index(current)
    return (entries[at - 1] if at > 0 else None,
            entries[at + 1] if at + 1 < len(entries) else None)


def before_the_theme(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                     doctree: nodes.document | None) -> None:
    """Runs before furo's handler: furo works its navigation tree out of Sphinx's table of
    contents on every page, copying it node by node, and ``on_html_page_context`` replaces
    that tree; so while furo's handler runs, the table of contents it asks for is empty."""
    if app.builder.name not in DECK_BUILDERS and entries_of(app.config.talks_navigation) \
            and "toctree" in context:
        context[SPHINX_TOCTREE] = context["toctree"]
        context["toctree"] = _no_toctree


SPHINX_TOCTREE = "talks_sphinx_toctree"


def _no_toctree(**options: Any) -> str:
    return ""


def on_html_page_context(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                         doctree: nodes.document | None) -> None:
    """Runs after furo's handler, replacing its navigation tree."""
    if SPHINX_TOCTREE in context:  # the templates get Sphinx's own back
        context["toctree"] = context.pop(SPHINX_TOCTREE)
    if app.builder.name in DECK_BUILDERS:
        return
    entries = entries_of(app.config.talks_navigation)
    if not entries:
        return
    pathto = context["pathto"]
    context["talks_course"] = entries
    context["furo_navigation_tree"] = sidebar_html(entries, pagename, pathto)
    before, after = neighbours(entries, pagename)
    if before is not None or after is not None:
        context["prev"] = _link(before, pathto)
        context["next"] = _link(after, pathto)


def no_contents_table_for_decks(app: Sphinx, doctree: nodes.document) -> None:
    """A deck shows no table of its page's contents, but Sphinx keeps one for every page (a
    copy of every slide's heading, megabytes for a corpus, saved and loaded with the
    environment on every build) and renders it into every page's context: a deck's is left
    empty, as Sphinx leaves that of a page without sections."""
    from docutils import nodes as docutils_nodes

    if app.builder.name in DECK_BUILDERS:
        app.env.tocs[app.env.docname] = docutils_nodes.bullet_list("")


def _link(entry: CourseEntry | None, pathto: PathTo) -> dict[str, str] | None:
    # Sphinx's own prev/next titles are HTML: the theme writes them as they are
    return {"link": pathto(entry.doc), "title": html.escape(entry.title)} if entry else None


def setup(app: Sphinx) -> None:
    app.add_config_value("talks_navigation", [], "html", types=[list, tuple],
                         description="The site's talks in order, as [document, title, group] "
                         "(set by `talks build`): listed beside each page, with previous/next.")
    app.connect("doctree-read", no_contents_table_for_decks, priority=800)  # after Sphinx's
    app.connect("html-page-context", before_the_theme, priority=300)
    app.connect("html-page-context", on_html_page_context, priority=700)
