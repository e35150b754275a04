"""Cross-links in the site: each slide to its handout section, each section to its slide.

The site keeps the variants side by side (``slides/``, ``speaker-notes/``,
``handout/``) with the same document names, so a link is a relative path plus
an anchor.  Slides are numbered as reveal.js counts them with ``hash: true``:
the title slide is ``#/0`` and the k-th ``##`` slide is ``#/k``.

* The deck links slide k to ``handout/<doc>.html#slide-k``.
* The handout finds each slide's section by origin: a heading written once
  makes the slide in the deck and the section in the handout, and both keep
  the place it was written (file, line and include chain).  The emit stage
  gives the deck's slides with those places (``myst.anchors.SlideAnchor``);
  while the handout is read, before ``locations`` moves every node to its
  origin, each section is marked with the place of its heading.  The section
  of a slide gets the id ``slide-k`` plus a link to the slide.  Titles play no
  part in this, so a title that differs between the variants (``\\slides{}`` or
  ``\\notes{}`` in it, a macro expanding differently), two slides of one title
  and a fragment included twice (its copies differ in their include chain)
  are all linked right.
* Only a slide no section shares an origin with (a heading written apart for
  each variant, the content before the first heading) falls back to titles:
  between the sections of the matched slides around it, its normalised title
  is looked for in order, among the sections no slide has taken.
* A slide that matches no section either way takes the id to the section of
  the nearest earlier slide that did, so every ``#slide-k`` lands somewhere
  sensible.
* The speaker notes have one ``##`` section per slide, in deck order.
* The handout, the speaker notes and the deck's title slide link the talk's
  exports (``exports/<doc>.ipynb``...) for the formats this build makes
  (``talks_linked_exports``, set by ``talks build``).  Exports are made after
  Sphinx, so the links name the files the site will hold, not files seen here.
"""
from __future__ import annotations

import html
import os
import re
from typing import TYPE_CHECKING, TypeVar
from collections.abc import Callable, Collection, Sequence

from docutils import nodes

from ..myst.anchors import SlideAnchor, origin_key
from . import locations
from .reading import DECK_BUILDERS, talk_info, variant_of

Section = TypeVar("Section")

if TYPE_CHECKING:
    from sphinx.application import Sphinx

ORIGIN = "talks_origin"
"""The section attribute holding the place its heading was written (``origin_key``)."""

LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
MARKUP_RE = re.compile(r"[*_`$\\{}]+")


def normalise(title: str) -> str:
    title = LINK_RE.sub(r"\1", title)
    return " ".join(MARKUP_RE.sub(" ", title).split()).lower()


def _up(docname: str) -> str:
    return "../" * (docname.count("/") + 1)


def _link(href: str, label: str, title: str) -> nodes.raw:
    markup = (f'<a class="talks-xref reference external" href="{html.escape(href)}" '
              f'title="{html.escape(title)}">{html.escape(label)}</a>')
    return nodes.raw("", markup, format="html")


def _top_section(doctree: nodes.document) -> nodes.section | None:
    return next(iter(doctree.findall(nodes.section)), None)


def _child_sections(section: nodes.Element) -> list[nodes.section]:
    return [c for c in section.children if isinstance(c, nodes.section)]


def _insert_after_title(section: nodes.section, node: nodes.Node) -> None:
    index = section.first_child_matching_class(nodes.title)
    section.insert(0 if index is None else index + 1, node)


def _append_before_subsections(section: nodes.section, node: nodes.Node) -> None:
    index = section.first_child_matching_class(nodes.section)
    if index is None:
        section.append(node)
    else:
        section.insert(index, node)


def export_links(docname: str, formats: Collection[str]) -> nodes.raw | None:
    """One block linking each export of this talk the site will hold, or None without any."""
    from ..formats import FORMATS

    wanted = [f for f in FORMATS if f in formats]
    if not wanted:
        return None
    anchors = " ".join(export_anchor(docname, fmt) for fmt in wanted)
    return nodes.raw("", f'<p class="talks-exports">{anchors}</p>', format="html")


def export_anchor(docname: str, fmt: str) -> str:
    """The link to one export of a talk, as its pages write it (and the site's assembly
    finds it again, to take it out when that export is not in the site)."""
    from ..formats import LABELS, SUFFIXES

    return (f'<a class="talks-xref talks-export reference external" '
            f'href="{html.escape(_up(docname))}exports/{html.escape(docname + SUFFIXES[fmt])}" '
            f'download title="Download this talk as {html.escape(LABELS[fmt])}">'
            f'{html.escape(LABELS[fmt])}</a>')


def _add_export_links(section: nodes.section, docname: str, formats: Collection[str],
                      place: Callable[[nodes.section, nodes.Node], None]) -> None:
    block = export_links(docname, formats)
    if block is not None:
        place(section, block)


def link_deck(doctree: nodes.document, docname: str, exports: Collection[str] = ()) -> None:
    top = _top_section(doctree)
    if top is None:
        return
    target = f"{_up(docname)}handout/{docname}.html"
    _append_before_subsections(top, _link(target, "handout", "Read this talk's handout"))
    _add_export_links(top, docname, exports, _append_before_subsections)
    for k, section in enumerate(_child_sections(top), start=1):
        _append_before_subsections(
            section, _link(f"{target}#slide-{k}", "handout", "Read this part in the handout"))


def link_speaker_notes(doctree: nodes.document, docname: str,
                       exports: Collection[str] = ()) -> None:
    top = _top_section(doctree)
    if top is None:
        return
    deck = f"{_up(docname)}slides/{docname}.html"
    _add_export_links(top, docname, exports, _insert_after_title)
    _insert_after_title(top, _link(f"{deck}#/0", "open the deck", "The slides of this talk"))
    for k, section in enumerate(_child_sections(top), start=1):
        section["ids"].append(f"slide-{k}")
        _insert_after_title(section, _link(f"{deck}#/{k}", f"slide {k + 1}", "Show this slide"))


def match_sections(titles: list[str], sections: Sequence[tuple[str, Section]]) -> dict[int, Section]:
    """Slide number -> section, matching titles in order (each section at most once).

    The fallback for slides whose heading no section shares (``match_slides``)."""
    wanted = [normalise(t) for t in titles]
    matched: dict[int, Section] = {}
    k = 0
    for title, section in sections:
        key = normalise(title)
        if not key:
            continue
        for j in range(k, len(wanted)):
            if wanted[j] == key:
                matched[j + 1] = section
                k = j + 1
                break
    return matched


def match_slides(slides: list[SlideAnchor], sections: list[tuple[str, tuple | None]]
                 ) -> dict[int, int]:
    """Slide number -> index of its section among ``sections`` (title, origin key).

    A slide takes the section whose heading has its origin (the first one not yet
    taken, should a place have made several headings); the slides left match by
    title, in order, between the sections taken by the slides around them.
    """
    by_origin: dict[tuple, list[int]] = {}
    for i, (_, origin) in enumerate(sections):
        if origin is not None:
            by_origin.setdefault(origin, []).append(i)
    matched: dict[int, int] = {}
    for k, slide in enumerate(slides, start=1):
        waiting = by_origin.get(slide.origin) if slide.origin is not None else None
        if waiting:
            matched[k] = waiting.pop(0)
    taken = set(matched.values())
    k = 1
    while k <= len(slides):
        if k in matched:
            k += 1
            continue
        end = k  # slides k .. end-1 have no section yet
        while end <= len(slides) and end not in matched:
            end += 1
        low = matched.get(k - 1, -1)
        high = matched.get(end, len(sections))
        if high <= low:  # origins out of order: look on to the end
            high = len(sections)
        free = [(sections[i][0], i) for i in range(low + 1, high) if i not in taken]
        for j, i in match_sections([s.title for s in slides[k - 1:end - 1]], free).items():
            matched[k - 1 + j] = i
            taken.add(i)
        k = end
    return matched


def _title(section: nodes.section) -> str:
    return section[0].astext() if section.children and isinstance(section[0], nodes.title) else ""


def link_handout(doctree: nodes.document, docname: str, slides: list[SlideAnchor],
                 exports: Collection[str] = ()) -> None:
    top = _top_section(doctree)
    if top is None:
        return
    deck = f"{_up(docname)}slides/{docname}.html"
    sections = [s for s in top.findall(nodes.section) if s is not top]
    found = match_slides(slides, [(_title(s), s.get(ORIGIN)) for s in sections])
    matched = {k: sections[i] for k, i in sorted(found.items())}
    _add_export_links(top, docname, exports, _insert_after_title)
    _insert_after_title(top, _link(f"{deck}#/0", "open the deck", "The slides of this talk"))
    for k, section in matched.items():
        _insert_after_title(section, _link(f"{deck}#/{k}", f"slide {k + 1}", "Show this slide"))
    holder = top
    for k in range(1, len(slides) + 1):
        holder = matched.get(k, holder)
        holder["ids"].append(f"slide-{k}")


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """Mark each section of a handout with the place its heading was written.

    Runs while the generated line of every node is still its own (``locations``
    moves nodes to their origins next, and forgets the origins of the document);
    the mark is pickled with the doctree, so incremental builds keep it.
    """
    if not app.config.talks_site_links or variant_of(app) != "handout":
        return
    doc_path = os.path.abspath(app.env.doc2path(app.env.docname))
    for section in doctree.findall(nodes.section):
        title = section[0] if section.children and isinstance(section[0], nodes.title) else section
        if title.source and os.path.abspath(title.source) != doc_path:
            continue  # a section another file made: its line is not a line of the talk
        origin = locations.origin_at(doc_path, title.line)
        if origin is not None:
            section[ORIGIN] = origin_key(origin)


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if not app.config.talks_site_links:
        return
    info = talk_info(app.env).get(docname)
    if info is None:
        return
    variant = variant_of(app)
    exports = tuple(app.config.talks_linked_exports or ())
    if app.builder.name in DECK_BUILDERS:
        link_deck(doctree, docname, exports)
    elif variant == "speaker-notes":
        link_speaker_notes(doctree, docname, exports)
    elif variant == "handout":
        link_handout(doctree, docname, info.slide_anchors, exports)


def setup(app: Sphinx) -> None:
    app.connect("doctree-read", on_doctree_read, priority=800)  # before locations (900)
    app.connect("doctree-resolved", on_doctree_resolved)
