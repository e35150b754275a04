"""The expansion as plain (pandoc-flavoured) Markdown, in cells: shared by the notebook
and the DOCX handout.

Works on the engine's items, not on the MyST emit makes: a notebook or pandoc
wants ``$math$``, ``[@key]`` and ``![caption](path)``, not Sphinx roles and
directives.  Code records stay separate cells; the caller decides whether they
become notebook code cells or fenced blocks.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..engine import records as r
from ..engine.talkfile import author_list

EDIT_LINE = re.compile(r"^\s*(\{\.editsection\}|\[edit\]\([^)]*\))\s*$")
"""The handout's "edit this section" links: they point at the web, not at the reader."""

BIBLIOGRAPHY_FENCE = "```{bibliography}"

IGNORED = (r.NotesStart, r.NotesEnd, r.AnimationStart, r.AnimationEnd, r.FrameStart, r.FrameEnd,
           r.FragmentsStart, r.FragmentsEnd, r.Missing)
"""Records that shape the deck only, or mark what was already reported missing."""


@dataclass(frozen=True)
class Cell:
    kind: str
    """``markdown`` or ``code``."""
    text: str
    language: str = ""


@dataclass
class Style:
    """How a consumer wants the pieces written."""

    image_link: Callable[[str], str | None]
    """An image path as the talk names it -> the link to write; None leaves the image out
    (a figure keeps its caption)."""
    cite: Callable[[str], str] | None = None
    """Rewrite citations in a line of prose; None leaves ``[@key]`` for pandoc."""
    image_attrs: bool = False
    """Keep widths as pandoc attributes (``{width=70%}``); notebooks do not read them."""
    raw_html: bool = True
    """Keep raw HTML records (inline SVG); pandoc's DOCX writer drops them anyway."""
    split_at_headings: bool = True
    bibliography: Callable[[], str] = lambda: "::: {#refs}\n:::"
    """What stands where the talk lists its references (pandoc's ``#refs`` div by default)."""
    figure_divs: bool = False
    """Write every figure that is not one placed image (several blocks, or an image that is
    not there) as a ``.talks-figure`` div ending in a ``.talks-caption`` div, so a typesetter
    numbers it and keeps its caption; otherwise such a caption is an italic line."""


FIGURE_DIV = "::::: {.talks-figure}"
CAPTION_DIV = "::: {.talks-caption}"


def cells(items, style: Style) -> list[Cell]:
    """The talk's body as markdown and code cells, in reading order."""
    out: list[Cell] = []
    prose: list[str] = []

    def flush() -> None:
        text = _tidy("\n".join(prose))
        prose.clear()
        if text:
            out.append(Cell("markdown", text))

    in_bibliography = False
    for item, _origin in items:
        if isinstance(item, str):
            if in_bibliography or item.strip().startswith(BIBLIOGRAPHY_FENCE):
                # the references directive Sphinx reads: the consumer's own list instead
                in_bibliography = not (in_bibliography and item.strip() == "```")
                if not in_bibliography:
                    prose += ["", style.bibliography(), ""]
                continue
            if not EDIT_LINE.match(item):
                prose.append(style.cite(item) if style.cite and "@" in item else item)
        elif isinstance(item, r.Code):
            flush()
            if item.text.strip():
                out.append(Cell("code", item.text.strip("\n"), item.language))
        elif isinstance(item, r.Heading):
            if style.split_at_headings:
                flush()
            prose += ["", f"{'#' * max(1, item.level)} {item.title}", ""]
        elif isinstance(item, r.Figure):
            prose += ["", *_figure(item.image, item.caption, style), ""]
        elif isinstance(item, r.Image):
            if style.image_link(item.path) is not None:
                prose += ["", _image(item, "", style), ""]
        elif isinstance(item, r.FigureStart):
            if style.figure_divs:
                prose += ["", FIGURE_DIV, ""]
        elif isinstance(item, r.FigureEnd):
            if style.figure_divs:
                prose += ["", *_caption_div(item.caption, style), ":::::", ""]
            elif item.caption.strip():
                prose += ["", f"*{_one_line(_cited(item.caption, style))}*", ""]
        elif isinstance(item, r.Html):
            if style.raw_html:
                prose += ["", item.html, ""]
        # FigureStart and the deck-only records add nothing to a document
    flush()
    return out


def _figure(image: r.Image, caption: str, style: Style) -> list[str]:
    caption = _one_line(_cited(caption, style))
    if style.image_link(image.path) is None:
        if style.figure_divs:
            return [FIGURE_DIV, "", *_caption_div(caption, style), ":::::"]
        return [f"*{caption}*"] if caption else []
    if style.image_attrs:  # pandoc makes a captioned figure of an image alone in its paragraph
        return [_image(image, caption, style)]
    return [_image(image, "", style), "", f"*{caption}*"] if caption else [_image(image, "", style)]


def _caption_div(caption: str, style: Style) -> list[str]:
    caption = _one_line(_cited(caption, style))
    return [CAPTION_DIV, caption, ":::", ""] if caption else []


def _image(image: r.Image, alt: str, style: Style) -> str:
    link = (style.image_link(image.path) or image.path).replace(" ", "%20")
    attrs = f"{{width={image.width}}}" if style.image_attrs and image.width else ""
    return f"![{alt}]({link}){attrs}"


def _cited(text: str, style: Style) -> str:
    return style.cite(text) if style.cite and "@" in text else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tidy(text: str) -> str:
    """No runs of blank lines, none at either end."""
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text).strip()


def title_block(meta: dict) -> str:
    """lamd's notebook heading: title, authors, venue and date, abstract."""
    lines = [f"# {str(meta.get('title') or 'Untitled talk').strip()}"]
    authors = [f"[{a['name']}]({a['url']})" if a["url"] else a["name"] for a in author_list(meta)]
    if authors:
        lines.append(f"### {', '.join(authors)}")
    when = ", ".join(str(meta[k]).strip() for k in ("venue", "date") if meta.get(k))
    if when:
        lines.append(f"### {when}")
    abstract = meta.get("abstract")
    if isinstance(abstract, str) and abstract.strip():
        lines += ["", f"**Abstract**: {' '.join(abstract.split())}"]
    return "\n".join(lines)


# -- images on disk ----------------------------------------------------------------------

def image_file(path: str, talk_dir: str, diagrams: str | None) -> Path | None:
    """The file an image path names: ``/diagrams/...`` under the diagrams folder, other
    ``/``-rooted paths under it too (lamd's ``\\diagramsDir``), else relative to the talk."""
    if re.match(r"^[a-z]+://", path):
        return None
    candidates = []
    if path.startswith("/"):
        rest = path.lstrip("/")
        if diagrams:
            candidates += [Path(diagrams) / rest.removeprefix("diagrams/"), Path(diagrams).parent / rest]
    else:
        candidates.append(Path(talk_dir) / path)
    return next((c.resolve() for c in candidates if c.is_file()), None)


# -- citations as readable text -----------------------------------------------------------

CITE_GROUP = re.compile(r"\[([^\[\]]*?@[^\[\]]*?)\](?!\()")
CITE_KEY = r"[\w][\w:.#$%&\-+?<>~/]*[\w]|[\w]"
INTEXT = re.compile(r"(?<![\w\\@`/])@(" + CITE_KEY + r")")
GROUP_ITEM = re.compile(r"^\s*(.*?)-?@(" + CITE_KEY + r")\s*(?:,\s*(.*?))?\s*$", re.S)


def citation_labels(bib_files: list[str], keys=None) -> dict[str, tuple[str, str, str]]:
    """Key -> (authors as cited, year, title) for every usable entry of the BibTeX files
    (read entry by entry, as the HTML build reads them: one defect loses one entry); only
    for ``keys`` when given (parsing every entry of a large shared file takes seconds)."""
    files = tuple((f, os.stat(f).st_mtime_ns) for f in bib_files if os.path.isfile(f))
    return _labels(files, None if keys is None else frozenset(keys))


def cited_keys(text: str) -> set[str]:
    """Every key a text may cite (``@key``), for ``citation_labels``."""
    return set(re.findall(r"@(" + CITE_KEY + ")", text))


@functools.lru_cache(maxsize=8)
def _labels(files: tuple[tuple[str, int], ...], keys: frozenset[str] | None = None
            ) -> dict[str, tuple[str, str, str]]:
    """The labels of these versions of the files (every talk of a build shares them)."""
    from ..bibliography import cited_names, cited_year, latex_text, usable_entries, with_crossref

    data = usable_entries([f for f, _ in files], keys=keys)
    labels: dict[str, tuple[str, str, str]] = {}
    for key, entry in data.entries.items():
        entry = with_crossref(entry, data.entries)
        labels[key] = (cited_names(entry), cited_year(entry),
                       latex_text(entry.fields.get("title", "")))
    return labels


class ReadableCitations:
    """``[@a; @b]`` -> ``(A, 2001; B, 2002)`` and ``@a`` -> ``A (2001)``; unknown keys stay.

    Call it on a line; ``references()`` lists what was cited so far.
    """

    def __init__(self, labels: dict[str, tuple[str, str, str]]):
        self.labels = labels
        self.cited: dict[str, None] = {}
        self._cite = _citer(labels, self.cited)

    def __call__(self, line: str) -> str:
        return self._cite(line)

    def references(self) -> str:
        return "\n".join(f"- {who} ({year}). {title}".rstrip(". ") + "."
                         for who, year, title in (self.labels[k] for k in self.cited))


def _citer(labels: dict[str, tuple[str, str, str]], cited: dict[str, None]) -> Callable[[str], str]:

    def group(m: re.Match) -> str:
        parts = [p for part in m.group(1).split(";") for p in re.split(r",\s*(?=-?@)", part)]
        shown = []
        for part in parts:
            item = GROUP_ITEM.match(part)
            if not item or item.group(2) not in labels:
                return m.group(0)
            who, year, _title = labels[item.group(2)]
            cited[item.group(2)] = None
            pre, post = item.group(1).strip(), (item.group(3) or "").strip()
            shown.append(" ".join(filter(None, [pre, f"{who}, {year}" + (f", {post}" if post else "")])))
        return "(" + "; ".join(shown) + ")"

    def intext(m: re.Match) -> str:
        key = m.group(1)
        if key not in labels:
            return m.group(0)
        cited[key] = None
        return f"{labels[key][0]} ({labels[key][1]})"

    def cite(line: str) -> str:
        return INTEXT.sub(intext, CITE_GROUP.sub(group, line))

    return cite
