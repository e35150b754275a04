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
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import unquote

import yaml

from ..engine import records as r
from ..media import unpublishable
from ..paths import confine, real_roots
from ..engine.run import ExpandedTalk, Item
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
    resource_link: Callable[[str], str | None] | None = None
    """A resource URL the talk's own text names (a Markdown image, an HTML ``src``, a CSS
    ``url()``) -> the URL to write, None to write none; None keeps them as written."""


FIGURE_DIV = "::::: {.talks-figure}"
CAPTION_DIV = "::: {.talks-caption}"


def cells(items: Iterable[Item], style: Style) -> list[Cell]:
    """The talk's body as markdown and code cells, in reading order."""
    out: list[Cell] = []
    prose: list[str] = []

    def flush() -> None:
        text = _tidy("\n".join(prose))
        prose.clear()
        if text:
            out.append(Cell("markdown", text))

    in_bibliography = False
    fence: str | None = None
    for item, _origin in items:
        if isinstance(item, str):
            if in_bibliography or item.strip().startswith(BIBLIOGRAPHY_FENCE):
                # the references directive Sphinx reads: the consumer's own list instead
                in_bibliography = not (in_bibliography and item.strip() == "```")
                if not in_bibliography:
                    prose += ["", style.bibliography(), ""]
                continue
            fence = _fence_after(item, fence)
            if not EDIT_LINE.match(item):
                if not style.raw_html and fence is None and HTML_ONLY.match(item):
                    prose += ["", "```{=html}", item, "```", ""]  # HTML: dropped, never parsed
                    continue
                line = style.cite(item) if style.cite and "@" in item else item
                prose.append(_relinked(line, style))
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
                prose += ["", _relinked(item.html, style), ""]
        elif isinstance(item, r.Portrait):  # no picture: the page shows the name
            prose += ["", portrait_text(item), ""]
        # FigureStart and the deck-only records add nothing to a document
    flush()
    return out


def portrait_text(person: r.Portrait) -> str:
    """A portrait without its picture, as a document writes it: the name, linked."""
    return f"[{person.name}]({person.url})" if person.url.startswith(("http:", "https:")) \
        else person.name


HTML_ONLY = re.compile(r"^\s*(<[^<>]+>\s*)+$")
"""A line of HTML tags alone.  A document's pandoc is handed it as a raw HTML block: read as
Markdown, an HTML element pandoc does not close itself (``<video><source ...></video>``)
swallows the closing fence of the figure around it, and all that follows with it."""
CODE_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")


def _fence_after(line: str, fence: str | None) -> str | None:
    """The code fence open after ``line`` (None outside code)."""
    m = CODE_FENCE.match(line)
    if not m:
        return fence
    if fence is None:
        return m.group(1)
    closes = m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
        and not line.strip()[len(m.group(1)):].strip()
    return None if closes else fence


def texts_of(items: Iterable[Item]) -> Iterator[str]:
    """The prose of the items: lines, headings and captions (where citations stand)."""
    for item, _origin in items:
        if isinstance(item, str):
            yield item
        elif isinstance(item, (r.Figure, r.FigureEnd)):
            yield item.caption
        elif isinstance(item, r.Heading):
            yield item.title


def _relinked(text: str, style: Style) -> str:
    return rewrite_references(text, style.resource_link) if style.resource_link else text


# -- resources named in the talk's own text ----------------------------------------------

MD_IMAGE = re.compile(r'!\[([^\]]*)\]\(\s*(<[^>\n]*>|[^)\s]+)((?:\s+"[^"\n]*")?\s*)\)')
REFERENCE_DEFINITION = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*)(<[^>\n]*>|\S+)", re.M)
"""A reference-style link's or image's target (``[r1]: path.png``), named by ``![alt][r1]``."""
URL_ATTR = re.compile(r"""(?<![\w-])((?:xlink:)?href|src|data|poster|background|action|formaction|"""
                      r"""manifest|codebase|cite|longdesc|lowsrc|dynsrc|icon)(\s*=\s*)"""
                      r"""("[^"]*"|'[^']*'|[^\s>"']+)""", re.I)
SRCSET_ATTR = re.compile(r"""(?<![\w-])((?:image)?srcset)(\s*=\s*)("[^"]*"|'[^']*'|[^\s>"']+)""",
                         re.I)
REFRESH_URL = re.compile(r"""(?<![\w-])(content\s*=\s*["']?[^"'>]*?\burl\s*=\s*)([^"'\s>;]+)""",
                         re.I)
CSS_URL = re.compile(r"""(url\(\s*)("[^"]*"|'[^']*'|[^)\s]*)(\s*\))""", re.I)
CSS_IMPORT = re.compile(r"""(@import\s+)("[^"]*"|'[^']*')""", re.I)
FILE_URL = re.compile(r"""(?<![\w-])file:[^\s"'<>()]*""", re.I)
"""A ``file:`` URL anywhere else (a script's string, a link): it names only this machine."""


def rewrite_references(text: str, link: Callable[[str], str | None]) -> str:
    """Every resource URL in ``text`` passed through ``link``: Markdown images (left as their
    alt text when ``link`` gives None) and reference targets, HTML URL attributes and ``srcset``, a meta refresh's
    URL, CSS ``url()`` and ``@import``, any other ``file:`` URL (emptied when ``link`` gives
    None)."""
    if not any(mark in text for mark in ("](", "]:", "=", "url(", "@import", "file:", "FILE:")):
        return text

    def quoted(value: str) -> tuple[str, str]:
        return (value[0], value[1:-1]) if value[:1] in "\"'" and len(value) > 1 else ("", value)

    def one(value: str) -> str:
        quote, url = quoted(value)
        new = link(url.strip().strip("<>")) if url.strip() else url
        return f"{quote}{new or ''}{quote}"

    def image(m: re.Match) -> str:
        new = link(m.group(2).strip("<>"))
        return m.group(1) if new is None else f"![{m.group(1)}]({new}{m.group(3)})"

    def srcset(m: re.Match) -> str:
        quote, value = quoted(m.group(3))
        kept = []
        for candidate in value.split(","):
            parts = candidate.split()
            new = link(parts[0]) if parts else None
            if new:
                kept.append(" ".join([new, *parts[1:]]))
        return f"{m.group(1)}{m.group(2)}{quote}{', '.join(kept)}{quote}"

    text = MD_IMAGE.sub(image, text)
    if "]:" in text:  # no target survives unless ``link`` gives one (an empty target shows nothing)
        text = REFERENCE_DEFINITION.sub(
            lambda m: m.group(1) + (link(m.group(2).strip("<>")) or "<>"), text)
    text = SRCSET_ATTR.sub(srcset, text)
    text = URL_ATTR.sub(lambda m: m.group(1) + m.group(2) + one(m.group(3)), text)
    text = REFRESH_URL.sub(lambda m: m.group(1) + (link(m.group(2)) or ""), text)
    text = CSS_URL.sub(lambda m: m.group(1) + one(m.group(2)) + m.group(3), text)
    text = CSS_IMPORT.sub(lambda m: m.group(1) + one(m.group(2)), text)
    return FILE_URL.sub(lambda m: link(m.group(0)) or "", text) if "file:" in text.lower() else text


def is_web(url: str) -> bool:
    """A URL the reader's browser fetches from the web (or carries inline), not a local file."""
    return bool(re.match(r"^(https?:|data:|mailto:|//)", url, re.I))


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

def allowed_roots(expanded: ExpandedTalk, diagrams: str | None) -> tuple[str, ...]:
    """The folders a talk's images may come from: those its expansion may read, and the
    configured diagrams folder."""
    return (*expanded.allowed_roots, *real_roots([diagrams]))


def image_file(path: str, talk_dir: str, diagrams: str | None,
               allowed: Iterable[str] | None = None) -> Path | None:
    """The file an image path names: ``/diagrams/...`` under the diagrams folder, other
    ``/``-rooted paths under it too (lamd's ``\\diagramsDir``), else relative to the talk;
    None when it names none, or one outside the ``allowed`` folders (``paths.confine``) or
    no picture or media (``media.unpublishable``); a caller that gives none checks itself."""
    path = unquote(path.split("#")[0].split("?")[0]) if not re.match(r"^[a-z][a-z0-9+.-]*:", path, re.I) \
        else ""
    if not path:
        return None
    candidates = []
    if path.startswith("/"):
        rest = path.lstrip("/")
        if diagrams:
            candidates += [Path(diagrams) / rest.removeprefix("diagrams/"), Path(diagrams).parent / rest]
    else:
        candidates.append(Path(talk_dir) / path)
    found = next((c for c in candidates if c.is_file()), None)
    if found is None or allowed is None:
        return found
    real = confine(str(found), allowed)
    return Path(real) if real and unpublishable(real) is None else None


def metadata_block(meta: dict, *, abstract: bool = False, references: bool = False) -> str:
    """pandoc's metadata block for a talk: its title, subtitle, authors, venue and date; the
    abstract and the References heading where the document shows them."""
    fields: dict[str, str | list[str]] = {"title": str(meta.get("title") or "Untitled talk")}
    if meta.get("subtitle"):
        fields["subtitle"] = str(meta["subtitle"])
    authors = [a["name"] for a in author_list(meta)]
    if authors:
        fields["author"] = authors
    when = ", ".join(str(meta[k]) for k in ("venue", "date") if meta.get(k))
    if when:
        fields["date"] = when
    if abstract and isinstance(meta.get("abstract"), str) and meta["abstract"].strip():
        fields["abstract"] = " ".join(meta["abstract"].split())
    if references:
        fields["reference-section-title"] = "References"
    return "---\n" + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) + "---"


# -- citations as readable text -----------------------------------------------------------

CITE_GROUP = re.compile(r"\[([^\[\]]*?@[^\[\]]*?)\](?!\()")
CITE_KEY = r"[\w][\w:.#$%&\-+?<>~/]*[\w]|[\w]"
INTEXT = re.compile(r"(?<![\w\\@`/])@(" + CITE_KEY + r")")
GROUP_ITEM = re.compile(r"^\s*(.*?)-?@(" + CITE_KEY + r")\s*(?:,\s*(.*?))?\s*$", re.S)


def citation_labels(bib_files: list[str], keys: set[str] | None = None,
                    cache_dir: str | None = None) -> dict[str, tuple[str, str, str, str]]:
    """Key -> (authors as cited, year, title, the whole reference) for every usable entry of the BibTeX files
    among ``keys`` (lower case; None: every entry), read entry by entry, as the HTML build
    reads them: one defect loses one entry."""
    files = tuple((f, os.stat(f).st_mtime_ns) for f in bib_files if os.path.isfile(f))
    return _labels(files, frozenset(keys) if keys is not None else None, cache_dir)


@functools.lru_cache(maxsize=8)
def _labels(files: tuple[tuple[str, int], ...], keys: frozenset[str] | None,
            cache_dir: str | None) -> dict[str, tuple[str, str, str, str]]:
    """The labels of these versions of the files."""
    import pybtex.errors
    from pybtex.database.input.bibtex import Parser

    from ..bibliography import (cited_names, cited_year, latex_text, reference_pieces,
                                usable_entries, with_crossref)
    from .citations import cited_chunks

    if keys is None:
        data = usable_entries([f for f, _ in files], cache_dir)
    else:
        parser = Parser()
        for chunk in cited_chunks([f for f, _ in files], set(keys), cache_dir):
            with pybtex.errors.capture():
                try:
                    parser.parse_string(chunk.text)
                except Exception:  # noqa: BLE001 - checked when cleaned; never stop here
                    continue
        data = parser.data
    labels: dict[str, tuple[str, str, str, str]] = {}
    for key, entry in data.entries.items():
        entry = with_crossref(entry, data.entries)
        labels[key] = (cited_names(entry), cited_year(entry),
                       latex_text(entry.fields.get("title", "")),
                       "".join(piece.text for piece in reference_pieces(entry)))
    return labels


class ReadableCitations:
    """``[@a; @b]`` -> ``(A, 2001; B, 2002)`` and ``@a`` -> ``A (2001)``; unknown keys stay.

    Call it on a line; ``references()`` lists what was cited so far.
    """

    def __init__(self, labels: dict[str, tuple[str, str, str, str]]):
        self.labels = labels
        self.cited: dict[str, None] = {}
        self._cite = _citer(labels, self.cited)

    def __call__(self, line: str) -> str:
        return self._cite(line)

    def references(self) -> str:
        """The cited entries in full, as the handout's references list them."""
        return "\n".join(f"- {reference}" for *_, reference in (self.labels[k] for k in self.cited))


def _citer(labels: dict[str, tuple[str, str, str, str]], cited: dict[str, None]) -> Callable[[str], str]:

    def group(m: re.Match) -> str:
        parts = [p for part in m.group(1).split(";") for p in re.split(r",\s*(?=-?@)", part)]
        shown = []
        for part in parts:
            item = GROUP_ITEM.match(part)
            if not item or item.group(2) not in labels:
                return m.group(0)
            who, year, _title, _reference = labels[item.group(2)]
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
