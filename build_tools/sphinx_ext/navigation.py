"""Navigation: the site's talks in the sidebar of each handout, and the previous and
next talk at its foot, from the list the site builder hands over
(``talks_navigation``, ``build_tools.navigation``) rather than a toctree of every
talk, whose cost grows with the square of the number of talks.

The sidebar is written in the markup of furo's own navigation tree (so the theme
styles it, marks the current page and folds groups); any other theme finds the
same list in the page context as ``talks_course``.
"""
from __future__ import annotations

import contextlib
import html
import os
import pickle
from typing import TYPE_CHECKING, Any

from ..navigation import CourseEntry, entries_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from docutils import nodes
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

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
    copy of every slide's heading, megabytes for a corpus, saved by every build that read
    the deck) and renders it into every page's context: a deck's is left empty, as Sphinx
    leaves that of a page without sections."""
    from docutils import nodes as docutils_nodes

    if app.builder.name in DECK_BUILDERS:
        app.env.tocs[app.env.docname] = docutils_nodes.bullet_list("")


ON_DISK = "talks: in its file"
"""What ``PageContents`` holds for a table not read from its file yet."""


class PageContents(dict):
    """``env.tocs``, each page's table of contents, kept in a file of its own beside the
    page's doctree (``NAME.toc``) instead of in Sphinx's environment.

    The tables are nine tenths of the notes' environment, which every build loads and every
    build that read a talk saves again, while a page needs only its own, when it is written.
    A table is read from its file when asked for; one set since the environment was last
    saved is written to its file when the environment is saved (pickled), so the
    environment and the files always agree."""

    def __init__(self, folder: str, tables: dict | None = None, stored: Iterable[str] = ()) -> None:
        super().__init__(tables or {})
        self.folder = folder
        self.unsaved = set(self)
        for doc in stored:
            dict.__setitem__(self, doc, ON_DISK)

    def path(self, doc: str) -> str:
        return os.path.join(self.folder, f"{doc}.toc")

    def missing(self) -> list[str]:
        """Documents whose table should be in a file that is not there."""
        return [doc for doc, table in dict.items(self)
                if table is ON_DISK and not os.path.isfile(self.path(doc))]

    def __getitem__(self, doc: str) -> Any:
        table = dict.__getitem__(self, doc)
        if table is ON_DISK:
            table = self._read(doc)
            dict.__setitem__(self, doc, table)
        return table

    def __setitem__(self, doc: str, table: Any) -> None:
        dict.__setitem__(self, doc, table)
        self.unsaved.add(doc)

    def get(self, doc: str, default: Any = None) -> Any:
        return self[doc] if doc in self else default

    def pop(self, doc: str, *default: Any) -> Any:
        self.unsaved.discard(doc)
        with contextlib.suppress(OSError):
            os.remove(self.path(doc))
        return dict.pop(self, doc, *default)

    def items(self) -> Any:
        return [(doc, self[doc]) for doc in list(self)]

    def values(self) -> Any:
        return [self[doc] for doc in list(self)]

    def save(self) -> None:
        for doc in sorted(self.unsaved):
            path = self.path(doc)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path + ".tmp", "wb") as file:
                pickle.dump(dict.__getitem__(self, doc), file, pickle.HIGHEST_PROTOCOL)
            os.replace(path + ".tmp", path)
        self.unsaved.clear()

    def __reduce__(self) -> tuple:
        self.save()
        return (PageContents, (self.folder, None, list(self)))

    def _read(self, doc: str) -> Any:
        try:
            with open(self.path(doc), "rb") as file:
                return pickle.load(file)
        except (OSError, pickle.UnpicklingError, EOFError):  # gone since the build began
            from docutils import nodes as docutils_nodes

            return docutils_nodes.bullet_list("")


def keep_contents_apart(app: Sphinx) -> None:
    """Give the loaded (or new) environment its tables of contents as ``PageContents``."""
    env = app.env
    if not isinstance(env.tocs, PageContents):
        env.tocs = PageContents(str(app.doctreedir), env.tocs)


def reread_without_contents(app: Sphinx, env: BuildEnvironment, added: set[str],
                            changed: set[str], removed: set[str]) -> list[str]:
    """Pages whose table of contents file is gone are read again, which makes it anew."""
    return env.tocs.missing() if isinstance(env.tocs, PageContents) else []


def _link(entry: CourseEntry | None, pathto: PathTo) -> dict[str, str] | None:
    # Sphinx's own prev/next titles are HTML: the theme writes them as they are
    return {"link": pathto(entry.doc), "title": html.escape(entry.title)} if entry else None


def setup(app: Sphinx) -> None:
    app.add_config_value("talks_navigation", [], "html", types=[list, tuple],
                         description="The site's talks in order, as [document, title, group] "
                         "(set by `talks build`): listed beside each page, with previous/next.")
    app.connect("doctree-read", no_contents_table_for_decks, priority=800)  # after Sphinx's
    app.connect("builder-inited", keep_contents_apart)
    app.connect("env-get-outdated", reread_without_contents)
    app.connect("html-page-context", before_the_theme, priority=300)
    app.connect("html-page-context", on_html_page_context, priority=700)
