"""Whether an export holds what the variant it was made from shows.

After each export is written it is read back (the PDFs with ``pdftotext`` and
``pdfimages``, the DOCX with pandoc, the PPTX from its slides' XML, the notebook with
nbformat) and compared with the built page of its variant (the handout page, or the
deck): its words, its headings in order, its pictures.  A shortfall beyond the
tolerances below is ``E-EXPORT-INCOMPLETE`` at the talk, naming the format, the
figures and the first heading or paragraph that is missing (docs/exports.md).

Only the content of the page counts: the site's own controls (links to the deck, the
exports and the edit page, heading anchors), math (a PDF draws it, it has no words) and
speaker notes (a slide shows none) are left out of the page's words.
"""
from __future__ import annotations

import html.parser
import posixpath
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

from .tree import PandocNode

if TYPE_CHECKING:
    import zipfile

    from lxml import etree

WORDS_AT_LEAST = 0.98
"""The share of the page's words an export must hold (layout adds and drops a few: figure
numbers, the references' punctuation and order of names)..."""
WORDS_MAY_MISS = 5
"""...or the words it may miss whatever their share: a short talk's few words."""
HEADINGS_AT_LEAST = 1.0
PICTURES_AT_LEAST = 1.0
SHINGLE = 4
"""A paragraph is there when any run of this many of its words is."""
RASTER = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff")
"""Pictures a PDF holds as images; an SVG is drawn as lines and text, which no reader lists."""

WORD = re.compile(r"[^\W\d_]{2,}")


URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S*|\bwww\.\S+")
"""A web address is not words: one document prints it, another links it under its title."""
LINE_END_HYPHEN = re.compile(r"([^\W\d_]+)[-\u00ad]\n\s*([^\W\d_]+)")


def words_of(text: str) -> list[str]:
    """The words of ``text``, folded: ligatures split, case and accents ignored, web addresses
    left out.  A word broken by a hyphen at a line's end counts whole and as its two parts (a
    typesetter's hyphenation, or a compound word that happened to break there)."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", URL.sub(" ", text)))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = LINE_END_HYPHEN.sub(lambda m: f"{m[1]}{m[2]} {m[1]} {m[2]}", text)
    return [w.casefold() for w in WORD.findall(text)]


def picture_name(src: str) -> str:
    """A picture's name as exports keep it: the file's name without folder or suffix."""
    from urllib.parse import unquote

    name = unquote(src.split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1])
    return SITE_COPY.sub("", name.rsplit(".", 1)[0]).casefold()


SITE_COPY = re.compile(r"-[0-9a-f]{10}$")
"""The mark the site's build gives a copy of a picture it renames (``diagram-3d4a458c2c.svg``)."""


def is_raster(src: str) -> bool:
    return src.split("?")[0].lower().endswith(RASTER)


@dataclass
class Content:
    """What a page or an export shows, in reading order."""

    words: list[str] = field(default_factory=list)
    headings: list[list[str]] = field(default_factory=list)
    """Each heading's words."""
    pictures: list[str] = field(default_factory=list)
    """Each picture's source (a file name, or as the reader saw it)."""
    blocks: list[tuple[str, str]] = field(default_factory=list)
    """(``heading`` or ``paragraph``, its text): what a shortfall names."""
    picture_names_known: bool = True
    """False when the reader sees pictures but not their file names (PDF, DOCX, PPTX)."""
    raster_only: bool = False
    """True when only raster pictures can be seen (a PDF)."""
    holds_pictures: bool = True
    """False for a format that holds no pictures at all (plain text): none is missed."""


# -- the built page --------------------------------------------------------------------

SKIPPED_CLASSES = {"headerlink", "talks-xref", "talks-exports", "editsection", "math", "notes",
                   "MathJax", "MathJax_Preview", "talks-missing", "talks-initials", "fade-out",
                   "fade-in-then-out"}
"""The site's controls, math, speaker notes, placeholders of what was reported missing (a
missing portrait's initials stand for a picture: its name is the words), and
the steps of a slide its last step hides (a printed slide and a PowerPoint slide show
the last step)."""
SKIPPED_TAGS = {"script", "style", "nav", "noscript", "template", "head", "button"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
BLOCKS = {"p", "li", "dt", "dd", "figcaption", "blockquote", "pre", "td", "th", "caption", "div",
          "section", "figure", "table", "tr"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _PageReader(html.parser.HTMLParser):
    """The content of a built page: inside ``root`` (the handout's article, the deck's
    slides), without what ``SKIPPED_*`` name."""

    def __init__(self, root: tuple[str, str, str], folder: Path):
        super().__init__(convert_charrefs=True)
        self.root, self.folder = root, folder
        self.depth = 0
        """Open elements inside the root (0: outside it)."""
        self.skip_at: int | None = None
        self.content = Content()
        self.text: list[str] = []
        self.heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if not self.depth:
            tag_name, attr, value = self.root
            if tag == tag_name and value in (values.get(attr) or "").split():
                self.depth = 1
            return
        if tag not in VOID:
            self.depth += 1
        if self.skip_at is not None:
            return
        classes = set((values.get("class") or "").split())
        if tag in SKIPPED_TAGS or classes & SKIPPED_CLASSES:
            if tag not in VOID:
                self.skip_at = self.depth
            return
        if tag in HEADINGS or tag in BLOCKS:
            self._end_block()
        if tag in HEADINGS:
            self.heading = []
        elif tag in ("img", "object") and self._shown(values.get("src" if tag == "img" else "data")):
            self.content.pictures.append(values.get("src" if tag == "img" else "data") or "")
        elif tag == "br":
            self.text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if not self.depth or tag in VOID:
            return
        if self.skip_at is not None and self.depth == self.skip_at:
            self.skip_at = None
        elif self.skip_at is None and (tag in HEADINGS or tag in BLOCKS):
            self._end_block()
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and self.skip_at is None:
            self.text.append(data)
            if self.heading is not None:
                self.heading.append(data)

    def _shown(self, src: str | None) -> bool:
        """A picture the site holds: a relative address of a file there.  The exports place
        only the project's own files, never one from elsewhere (docs/exports.md), and a
        picture the page names but the site lacks shows nothing."""
        from urllib.parse import unquote

        if not src or re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|//|/)", src):
            return False
        return (self.folder / unquote(src.split("?")[0].split("#")[0])).is_file()

    def _end_block(self) -> None:
        text = " ".join("".join(self.text).split())
        self.text.clear()
        if self.heading is not None:
            words = words_of(text)
            if words:
                self.content.headings.append(words)
                self.content.blocks.append(("heading", text))
            self.heading = None
        elif text:
            self.content.blocks.append(("paragraph", text))
        self.content.words += words_of(text)

    def close(self) -> None:
        super().close()
        self._end_block()


HANDOUT_ROOT = ("article", "role", "main")
DECK_ROOT = ("div", "class", "slides")


def page_content(page: Path, root: tuple[str, str, str]) -> Content:
    reader = _PageReader(root, page.parent)
    reader.feed(page.read_text(encoding="utf-8", errors="replace"))
    reader.close()
    return reader.content


def handout_content(page: Path) -> Content:
    return page_content(page, HANDOUT_ROOT)


def deck_content(page: Path) -> Content:
    return page_content(page, DECK_ROOT)


# -- the comparison ----------------------------------------------------------------------

@dataclass
class Shortfall:
    """How much of its source an export holds, and the first thing it lacks."""

    words: float
    headings: float
    pictures: float
    first_missing: str = ""
    missing_pictures: list[str] = field(default_factory=list)
    words_missing: int = 0

    @property
    def complete(self) -> bool:
        return (self.words >= WORDS_AT_LEAST or self.words_missing <= WORDS_MAY_MISS) \
            and self.headings >= HEADINGS_AT_LEAST and self.pictures >= PICTURES_AT_LEAST

    def figures(self) -> str:
        return f"{self.words:.0%} of the words, {self.headings:.0%} of the headings, " \
               f"{self.pictures:.0%} of the pictures"


def compare(source: Content, export: Content, left_out: frozenset[str] | set[str] = frozenset()
            ) -> Shortfall:
    """How much of ``source`` (the page) ``export`` holds.  ``left_out`` names the pictures
    the export reported it could not place (a warning at the line that named each): they
    are not counted against it."""
    if left_out:
        excused = {picture_name(p) for p in left_out}
        source = Content(source.words, source.headings,
                         [p for p in source.pictures if picture_name(p) not in excused],
                         source.blocks)
    have = Counter(export.words)
    want = Counter(source.words)
    held = sum(min(n, have[w]) for w, n in want.items())
    words = held / max(1, sum(want.values()))
    stream = f" {' '.join(export.words)} "
    found, at = 0, 0
    for heading in source.headings:
        place = stream.find(f" {' '.join(heading)} ", at)
        if place >= 0:
            found, at = found + 1, place + 1
    headings = found / len(source.headings) if source.headings else 1.0
    pictures, missing = _pictures(source, export)
    return Shortfall(words, headings, pictures, _first_missing(source, stream), missing,
                     sum(want.values()) - held)


def _pictures(source: Content, export: Content) -> tuple[float, list[str]]:
    wanted = [p for p in source.pictures if is_raster(p)] if export.raster_only else source.pictures
    if not wanted or not export.holds_pictures:
        return 1.0, []
    if export.picture_names_known:
        have = Counter(picture_name(p) for p in export.pictures)
        missing = []
        for src in wanted:
            name = picture_name(src)
            if have[name]:
                have[name] -= 1
            else:
                missing.append(src.rsplit("/", 1)[-1])
        return 1 - len(missing) / len(wanted), missing
    return min(1.0, len(export.pictures) / len(wanted)), []


def _first_missing(source: Content, stream: str) -> str:
    """The first heading, or paragraph of ``SHINGLE`` words or more, none of whose runs of
    ``SHINGLE`` words the export holds."""
    for kind, text in source.blocks:
        words = words_of(text)
        if kind == "heading":
            if words and f" {' '.join(words)} " not in stream:
                return f"the heading '{text}'"
        elif len(words) >= SHINGLE and not any(
                f" {' '.join(words[i:i + SHINGLE])} " in stream
                for i in range(len(words) - SHINGLE + 1)):
            return f"the paragraph '{_short(text)}'"
    return ""


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "..."


# -- the exports, read back --------------------------------------------------------------

READ_TIMEOUT = 120
"""Seconds a reader (pdftotext, pdfimages, pandoc) may take on one export."""


class CannotRead(Exception):
    """A reader is missing, or could not read the export; the message says which."""


def _output(args: list[str]) -> str:
    import subprocess

    try:
        done = subprocess.run(args, capture_output=True, timeout=READ_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise CannotRead(f"checking PDF exports needs {args[0]}: install the Debian package "
                         "'poppler-utils'") from None
    except subprocess.TimeoutExpired:
        raise CannotRead(f"{args[0]} took more than {READ_TIMEOUT} s") from None
    if done.returncode != 0:
        raise CannotRead(f"{args[0]}: {done.stderr.decode('utf-8', 'replace').strip()[-500:]}")
    return done.stdout.decode("utf-8", "replace")


def pdf_content(path: Path) -> Content:
    """A PDF's words (``pdftotext``) and its raster pictures (``pdfimages -list``, one row per
    picture placed; the masks of transparent pictures are not pictures)."""
    text = _output(["pdftotext", "-q", "-enc", "UTF-8", str(path), "-"])
    rows = _output(["pdfimages", "-list", str(path)]).splitlines()[2:]
    pictures = [f"page {row.split()[0]}" for row in rows
                if len(row.split()) > 2 and row.split()[2] == "image"]
    return Content(words_of(text), pictures=pictures, picture_names_known=False, raster_only=True)


def docx_content(path: Path) -> Content:
    """A DOCX as pandoc reads it (in its sandbox): words, headings, pictures."""
    import json

    from . import tools

    tree = json.loads(tools.run_pandoc(["--from=docx", "--to=json", str(path)], "",
                                       timeout=READ_TIMEOUT))
    found = Content(picture_names_known=False)
    meta = tree.get("meta", {})
    title = words_of(_walk_tree(meta.get("title", {}), Content()))
    if title:  # the title block is the document's first heading
        found.headings.append(title)
    found.words += title
    for key in ("subtitle", "author", "date", "abstract"):
        found.words += words_of(_walk_tree(meta.get(key, {}), Content()))
    _walk_tree(tree["blocks"], found)
    return found


def _walk_tree(node: PandocNode, found: Content) -> str:
    """The text of a pandoc tree (math left out, as on the page), collecting its headings
    and pictures into ``found``."""
    if isinstance(node, list):
        return " ".join(_walk_tree(x, found) for x in node)
    if not isinstance(node, dict):
        return ""
    kind = node.get("t")
    if kind == "Str":
        return node["c"]
    if kind in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if kind in ("Math", "RawInline", "RawBlock"):
        return ""
    if kind == "Image":
        found.pictures.append(node["c"][2][0])
    text = _walk_tree(node.get("c"), found)
    if kind == "Header":
        found.headings.append(words_of(text))
    if kind in ("Header", "Para", "Plain", "CodeBlock", "Code"):
        found.words += words_of(text if kind not in ("CodeBlock", "Code") else node["c"][-1])
        return ""
    return text


def pptx_content(path: Path) -> Content:
    """A PPTX as PowerPoint shows it, read from its slides' XML (what python-pptx reads, at a
    fraction of its cost): each slide's title (a heading), text, tables and pictures, and its
    notes, slide by slide in the presentation's order."""
    import zipfile

    from lxml import etree

    found = Content(picture_names_known=False)
    try:
        with zipfile.ZipFile(path) as package:
            for slide_part in _slide_parts(package):
                slide = etree.fromstring(package.read(slide_part))
                tree = slide.find(f"{{{PRESENTATION}}}cSld/{{{PRESENTATION}}}spTree")
                if tree is None:
                    continue
                title = _placeholder(tree, lambda ph: int(ph.get("idx", "0")) == 0)
                if title is not None and title.tag == f"{{{PRESENTATION}}}sp":
                    found.headings.append(words_of(_frame_text(title)))
                _slide_xml(tree, found)
                notes_part = _related(package, slide_part, NOTES_SLIDE)
                if notes_part is not None:
                    notes = etree.fromstring(package.read(notes_part)).find(
                        f"{{{PRESENTATION}}}cSld/{{{PRESENTATION}}}spTree")
                    body = None if notes is None else \
                        _placeholder(notes, lambda ph: ph.get("type", "obj") == "body")
                    if body is not None:
                        found.words += words_of(_frame_text(body))
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise CannotRead(f"cannot read the PPTX: {exc}") from None
    return found


PRESENTATION = "http://schemas.openxmlformats.org/presentationml/2006/main"
DRAWING = "http://schemas.openxmlformats.org/drawingml/2006/main"
COMPATIBILITY = "http://schemas.openxmlformats.org/markup-compatibility/2006"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NOTES_SLIDE = f"{OFFICE_RELATIONSHIPS}/notesSlide"
SHAPES = {f"{{{PRESENTATION}}}{tag}" for tag in ("sp", "grpSp", "graphicFrame", "cxnSp", "pic",
                                                 "contentPart")}
"""What a slide's shape tree holds as shapes (its other children are properties)."""


def _slide_parts(package: zipfile.ZipFile) -> list[str]:
    """The slides' parts, in the presentation's order (its list of slide ids)."""
    from lxml import etree

    listed = etree.fromstring(package.read("ppt/presentation.xml")).find(
        f"{{{PRESENTATION}}}sldIdLst")
    targets = _relations(package, "ppt/presentation.xml")
    return [targets[slide.get(f"{{{OFFICE_RELATIONSHIPS}}}id", "")][1]
            for slide in (listed if listed is not None else [])]


def _relations(package: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships inside the package: id -> (type, the part it names)."""
    from lxml import etree

    folder, name = posixpath.split(part)
    try:
        listed = etree.fromstring(package.read(posixpath.join(folder, "_rels", f"{name}.rels")))
    except KeyError:
        return {}
    return {rel.get("Id", ""): (rel.get("Type", ""),
                                posixpath.normpath(posixpath.join(folder, rel.get("Target", ""))))
            for rel in listed.iter(f"{{{RELATIONSHIPS}}}Relationship")
            if rel.get("TargetMode") != "External"}


def _related(package: zipfile.ZipFile, part: str, kind: str) -> str | None:
    """The part ``part`` relates to as ``kind`` (a slide's notes), if any."""
    return next((target for rel_type, target in _relations(package, part).values()
                 if rel_type == kind), None)


def _placeholder(tree: etree._Element, wanted: Callable[[etree._Element], bool]
                 ) -> etree._Element | None:
    """The first shape of the tree that is a placeholder (its ``p:ph``) ``wanted`` takes."""
    for shape in tree:
        if shape.tag not in SHAPES or not len(shape):
            continue
        ph = shape[0].find(f"{{{PRESENTATION}}}nvPr/{{{PRESENTATION}}}ph")
        if ph is not None and wanted(ph):
            return shape
    return None


def _frame_text(shape: etree._Element) -> str:
    """A shape's text: its paragraphs one a line, a line break as a vertical tab."""
    body = shape.find(f"{{{PRESENTATION}}}txBody")
    if body is None:
        return ""
    return "\n".join("".join("\v" if part.tag == f"{{{DRAWING}}}br" else _run_text(part)
                             for part in paragraph
                             if part.tag in (f"{{{DRAWING}}}r", f"{{{DRAWING}}}br", f"{{{DRAWING}}}fld"))
                     for paragraph in body.iterchildren(f"{{{DRAWING}}}p"))


def _run_text(run: etree._Element) -> str:
    text = run.find(f"{{{DRAWING}}}t")
    return "" if text is None else text.text or ""


def _slide_xml(tree: etree._Element, found: Content) -> None:
    """A slide's text (paragraph by paragraph, tables' cells too) and pictures, as a reader
    without Office 2010's math sees them: of ``mc:AlternateContent`` only the fallback (a
    text box with an equation has one, ``pptx.with_math_fallback``; without, nothing)."""
    for node in tree.iter(f"{{{DRAWING}}}p", f"{{{PRESENTATION}}}pic"):
        if any(a.tag == f"{{{COMPATIBILITY}}}Choice" for a in node.iterancestors()):
            continue
        if node.tag == f"{{{PRESENTATION}}}pic":
            found.pictures.append("picture")
        else:
            found.words += words_of("".join(
                " " if part.tag == f"{{{DRAWING}}}br" else part.text or ""
                for part in node.iter(f"{{{DRAWING}}}t", f"{{{DRAWING}}}br")))  # a line break parts words


MARKDOWN_PICTURE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)"
                              r"|<(?:img\b[^>]*?\bsrc|object\b[^>]*?\bdata)\s*=\s*[\"']([^\"']+)")
MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
MARKDOWN_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)


def notebook_content(path: Path) -> Content:
    """A notebook as nbformat reads it: its markdown cells' words, headings and pictures, and
    its code."""
    import nbformat

    found = Content()
    for cell in nbformat.read(str(path), as_version=4).cells:
        text = cell.source
        if cell.cell_type == "markdown":
            found.pictures += [m.group(1) or m.group(2) for m in MARKDOWN_PICTURE.finditer(text)]
            found.headings += [words_of(h) for h in MARKDOWN_HEADING.findall(text)]
            text = MARKDOWN_MATH.sub(" ", text)
        found.words += words_of(text)
    return found
