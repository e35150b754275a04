"""Cross-links in the site: each slide to its handout section, each section to its slide.

The site keeps the variants side by side (``slides/``, ``speaker-notes/``,
``handout/``) with the same document names, so a link is a relative path plus
an anchor.  Slides are numbered as reveal.js counts them with ``hash: true``:
the title slide is ``#/0`` and the k-th ``##`` slide is ``#/k``.

* The deck links slide k to ``handout/<doc>.html#slide-k``.
* The handout matches its section titles, in order, to the slide titles
  (the engine gives them for the slides variant) and gives the matching
  section the id ``slide-k`` plus a link to the slide.  A slide that matches no
  section takes the id to the section of the nearest earlier slide that did,
  so every ``#slide-k`` lands somewhere sensible.
* The speaker notes have one ``##`` section per slide, in deck order.
* The handout, the speaker notes and the deck's title slide link the talk's
  exports (``exports/<doc>.ipynb``...) for the formats this build makes
  (``talks_linked_exports``, set by ``talks build``).  Exports are made after
  Sphinx, so the links name the files the site will hold, not files seen here.
"""
from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from docutils import nodes

from .reading import DECK_BUILDERS, talk_info, variant_of

if TYPE_CHECKING:
    from sphinx.application import Sphinx

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


def export_links(docname: str, formats) -> nodes.raw | None:
    """One block linking each export of this talk the site will hold, or None without any."""
    from ..export import FORMATS, LABELS, SUFFIXES

    wanted = [f for f in FORMATS if f in formats]
    if not wanted:
        return None
    anchors = " ".join(
        f'<a class="talks-xref talks-export reference external" '
        f'href="{html.escape(_up(docname))}exports/{html.escape(docname + SUFFIXES[fmt])}" '
        f'download title="Download this talk as {html.escape(LABELS[fmt])}">'
        f'{html.escape(LABELS[fmt])}</a>' for fmt in wanted)
    return nodes.raw("", f'<p class="talks-exports">{anchors}</p>', format="html")


def _add_export_links(section: nodes.section, docname: str, formats, place) -> None:
    block = export_links(docname, formats)
    if block is not None:
        place(section, block)


def link_deck(doctree: nodes.document, docname: str, exports=()) -> None:
    top = _top_section(doctree)
    if top is None:
        return
    target = f"{_up(docname)}handout/{docname}.html"
    _append_before_subsections(top, _link(target, "handout", "Read this talk's handout"))
    _add_export_links(top, docname, exports, _append_before_subsections)
    for k, section in enumerate(_child_sections(top), start=1):
        _append_before_subsections(
            section, _link(f"{target}#slide-{k}", "handout", "Read this part in the handout"))


def link_speaker_notes(doctree: nodes.document, docname: str, exports=()) -> None:
    top = _top_section(doctree)
    if top is None:
        return
    deck = f"{_up(docname)}slides/{docname}.html"
    _add_export_links(top, docname, exports, _insert_after_title)
    _insert_after_title(top, _link(f"{deck}#/0", "open the deck", "The slides of this talk"))
    for k, section in enumerate(_child_sections(top), start=1):
        section["ids"].append(f"slide-{k}")
        _insert_after_title(section, _link(f"{deck}#/{k}", f"slide {k + 1}", "Show this slide"))


def match_sections(titles: list[str], sections: list[tuple[str, object]]) -> dict[int, object]:
    """Slide number -> section, matching titles in order (each section at most once)."""
    wanted = [normalise(t) for t in titles]
    matched: dict[int, object] = {}
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


def link_handout(doctree: nodes.document, docname: str, slide_titles: list[str],
                 exports=()) -> None:
    top = _top_section(doctree)
    if top is None:
        return
    deck = f"{_up(docname)}slides/{docname}.html"
    sections = [(s[0].astext() if s.children and isinstance(s[0], nodes.title) else "", s)
                for s in top.findall(nodes.section) if s is not top]
    matched = match_sections(slide_titles, sections)
    _add_export_links(top, docname, exports, _insert_after_title)
    _insert_after_title(top, _link(f"{deck}#/0", "open the deck", "The slides of this talk"))
    for k, section in matched.items():
        _insert_after_title(section, _link(f"{deck}#/{k}", f"slide {k + 1}", "Show this slide"))
    holder = top
    for k in range(1, len(slide_titles) + 1):
        holder = matched.get(k, holder)
        holder["ids"].append(f"slide-{k}")


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
        link_handout(doctree, docname, info.slide_titles, exports)


def setup(app: Sphinx) -> None:
    app.connect("doctree-resolved", on_doctree_resolved)
