"""The deck as PowerPoint: the slides variant's expansion as pandoc Markdown, then pandoc.

The same records the reveal.js deck is laid out from (``engine.records``) are
written as pandoc's slide Markdown: every slide boundary a level-2 heading (an
untitled slide a rule), the presenter's notes a ``::: notes`` div (PowerPoint's
notes pane), figures and images as pictures, code as code blocks, TeX math as
equations (the notation macros as ``\\newcommand`` lines, which pandoc expands).
An animation shows its last frame, fragments are all shown, and citations are
written as (Author, Year), as the notebook writes them.

pandoc (3.1.2 or later) runs with ``--sandbox``, so it reads nothing but its
input and the reference presentation: images are inlined as ``data:`` URIs (stand-ins, ``standins``) after
``images.ImageFinder`` confined them, and the reference presentation (lamd's
``potx:``, in ``_lamd.yml`` or the talk's front matter) must pass ``confine`` too.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import TalkConfig
from ..diagnostics import Diagnostic, Severity
from ..engine import records as r
from ..engine.run import ExpandedTalk, Item, expand
from ..paths import confine, display_name
from . import markdown as md
from .citations import cited_keys
from . import tools
from .images import ImageFinder
from .completeness import pptx_content as read_back  # noqa: F401 - the format's reader
from .shared import (ExportJob, Handout, Written, bib_cache, drawn_svg, notation_definitions,
                     raise_first, raw_tex_as_text, talk_bib_files)
from .sanitize import dropped_attribute_warnings, tool_warnings, writer_safe
from .standins import Pictures
from .tree import PandocNode

if TYPE_CHECKING:
    from lxml import etree

PANDOC_SLIDES = "markdown-implicit_figures+tex_math_dollars+latex_macros+fenced_divs"
"""Captions are not shown on a slide (the deck shows none): an image's caption is its
description, read out by screen readers."""

PPTX_IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".bmp", ".tif", ".tiff")

ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*(?:\{[^{}]*\})?[ \t]*#*[ \t]*$|^(#{1,6})[ \t]*$")
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
PICTURE = "talks-picture:"
SVG_PPI = 96
UNTITLED = "* * *"
"""A rule: a slide without a title."""
FOOTNOTE = re.compile(r"^\[\^([^\]\s]+)\]:\s*(.*)$")
HTML_ONLY = re.compile(r"^\s*(<[^<>]+>\s*)+$")
MARKDOWN_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)(\{[^{}]*\})?")


def write(job: ExportJob, out: Path, handout: Handout) -> Written:
    """The runner's entry (``formats.FORMAT_TABLE``)."""
    inputs, errors, warnings = write_pptx(job.talk, out, job.config, job.diagrams, job.notation,
                                          bib_cache=bib_cache(job, "slides"), pictures=job.pictures,
                                          stop_at_errors=True)
    return Written(raise_first(inputs, errors), warnings)


def settings(job: ExportJob) -> dict:
    """What, besides files, changes the PPTX."""
    return {"notation": job.notation, "reference": job.config.pptx_reference}


def write_pptx(talk: str, out: Path, config: TalkConfig, diagrams: str | None,
               notation: str | None = None, bib_cache: str | None = None,
               pictures: str | None = None, stop_at_errors: bool = False
               ) -> tuple[list[str], list[Diagnostic], list[Diagnostic]]:
    """Write the deck as ``out`` (.pptx); return (files it was made from, errors, warnings).
    ``stop_at_errors``: a deck whose expansion has errors is not written (the export fails:
    the last good PPTX stays, and pandoc is not run for nothing).
    ``bib_cache`` is where the HTML build keeps its cleaned bibliographies, ``pictures``
    where SVGs drawn as PNG are kept (``shared.drawn_svg``)."""
    tools.pandoc()
    expanded = expand(talk, "slides", config)
    errors = [d for d in expanded.diagnostics if d.severity >= Severity.ERROR]
    if errors and stop_at_errors:
        return [], errors, []
    finder = ImageFinder.for_talk(expanded, config, diagrams, PPTX_IMAGES)
    bibs = talk_bib_files(expanded.talk, config)
    keys = cited_keys(i for i, _ in expanded.items if isinstance(i, str))
    cite = md.ReadableCitations(md.citation_labels(bibs, keys, bib_cache)) if bibs and keys else None
    deck = Deck(finder, cite)
    body = deck.markdown(expanded.items)
    macros = notation_definitions(notation or os.path.join(config.macros_dir, "notation.tex"), body)
    text = "\n\n".join(filter(None, [md.metadata_block(expanded.talk.meta), macros, body])) + "\n"
    args = ["--slide-level=2"]
    reference, warning = _reference(expanded, config)
    if reference:
        args.append(f"--reference-doc={reference}")
    # pictures go into pandoc's document tree as data: URIs of stand-ins (``standins``)
    timeout = config.step_timeout
    said: list[str] = []
    tree, dropped = writer_safe(raw_tex_as_text(json.loads(tools.run_pandoc(
        [f"--from={PANDOC_SLIDES}", "--to=json"], text, timeout=timeout, said=said))))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.pptx")
    packed = Pictures()

    def draw(svg: Path) -> bytes | None:
        return _drawn(svg, timeout, pictures)

    tools.run_pandoc(["--from=json", "--to=pptx", f"--output={tmp}", *args],
                     json.dumps(_with_pictures(tree, deck.pictures, finder, packed, draw)),
                     timeout=timeout, said=said)
    packed.put_in(tmp, with_math_fallback)
    tmp.replace(out)
    inputs = [*expanded.dependencies, *expanded.absent, *bibs, *finder.used, *([reference] if reference else [])]
    return inputs, errors, [*dropped_attribute_warnings(dropped, expanded), *finder.warnings,
                            *([warning] if warning else []), *tool_warnings("pandoc", said, expanded)]


def draw_pictures(job: ExportJob) -> None:
    """Draw the SVG pictures the talk's PPTX shows into the kept pictures (``job.pictures``)
    ahead of the PPTX, which then finds them drawn.  Nothing is said: what cannot be drawn,
    the PPTX reports."""
    if not job.pictures:
        return
    expanded = expand(job.talk, "slides", job.config)
    if any(d.severity >= Severity.ERROR for d in expanded.diagnostics):
        return
    deck = Deck(ImageFinder.for_talk(expanded, job.config, job.diagrams, PPTX_IMAGES), None)
    body = deck.markdown(expanded.items)  # the pictures an animation's last frame hides go
    for number, (_written, path, _caption) in enumerate(deck.pictures):
        if path.suffix.lower() == ".svg" and f"]({PICTURE}{number})" in body:
            _drawn(path, job.config.step_timeout, job.pictures)


class Deck:
    """One talk's slides variant as pandoc slide Markdown."""

    def __init__(self, finder: ImageFinder, cite: md.ReadableCitations | None):
        self.finder, self.cite = finder, cite
        self.lines: list[str] = []
        self.content: list[tuple[bool, str]] = []
        """The slide being read; its notes are kept apart and follow it in one div (a notes
        div in the middle of a slide would end the slide there)."""
        self.said: list[str] = []
        self.notes = 0
        """How deep inside presenter notes (notes may hold notes)."""
        self.fence: str | None = None
        self.in_bibliography = False
        self.frames: list[list[tuple[bool, str]]] | None = None
        """The frames of the animation being read, as (picture, line); only its last is shown."""
        self.pictures: list[tuple[str, Path, str]] = []
        """(path as written, file, caption) of the pictures placed, ``talks-picture:N`` in the
        Markdown."""
        self.title = ""
        """The title of the slide being read."""
        self.table: list[str] | None = None
        """The lines of an HTML table being read."""
        self.references_listed = False

    def markdown(self, items: list[Item]) -> str:
        for item, _origin in items:
            if isinstance(item, str):
                self._text(item)
            else:
                self._record(item)
        if self.cite and self.cite.cited and not self.references_listed:
            self._slide("References")  # the deck lists what it cites at its end
            self._emit("", self.cite.references(), "")
        self._end_slide()
        return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", "\n".join(self.lines)).strip()

    def _emit(self, *lines: str, picture: bool = False) -> None:
        if self.notes:
            if not picture:  # the notes pane holds text
                self.said.extend(lines)
        else:
            (self.frames[-1] if self.frames else self.content).extend((picture, x) for x in lines)

    def _end_slide(self) -> None:
        pictures = [line for picture, line in self.content if picture]
        text = [line for picture, line in self.content if not picture]
        if len([line for line in pictures if line.strip()]) > 1:
            # pandoc places one picture on a slide and drops the rest of a column with
            # more: each further picture goes on a slide of its own, under the same title
            first, *more = [line for line in pictures if line.strip()]
            self.content = [(False, line) for line in text] + [(True, first)]
            title = self.title
            self._end_slide()
            for line in more:
                self.lines += ["", f"## {f'{title} ' if title.strip() else ''}(continued)", "",
                               line, ""]
            return
        if self.lines[-2:-1] == [UNTITLED] and not pictures and not any(x.strip() for x in text):
            text = ["&nbsp;"]  # pandoc leaves out an empty untitled slide; the deck has it
        if pictures and any(line.strip() for line in text):
            # side by side: pandoc puts a picture that text follows on a slide of its own
            self.lines += ["", ":::::: columns", "::: column", *text, "", ":::", "::: column",
                           *pictures, "", ":::", "::::::", ""]
        else:
            self.lines += text if not pictures else [line for _, line in self.content]
        if any(line.strip() for line in self.said):
            self.lines += ["", "::::::::: notes", *self.said, "", ":::::::::", ""]
        self.content, self.said = [], []

    def _text(self, line: str) -> None:
        if self.in_bibliography or line.strip().startswith(md.BIBLIOGRAPHY_FENCE):
            self.in_bibliography = not (self.in_bibliography and line.strip() == "```")
            if not self.in_bibliography and self.cite:  # the references cited so far
                self._emit("", self.cite.references(), "")
                self.references_listed = True
            return None
        m = FENCE.match(line)
        if m and (self.fence is None or m.group(1)[0] == self.fence[0]):
            self.fence = m.group(1) if self.fence is None else None
            return self._emit(line)
        if self.fence is not None:
            return self._emit(line)
        if self.table is not None or line.lstrip().lower().startswith("<table"):
            return self._table_line(line)
        heading = ATX.match(line) if line.startswith("#") else None
        if heading and len(heading.group(1) or heading.group(3)) <= 2:
            return self._slide(heading.group(2) or "")
        if md.EDIT_LINE.match(line) or HTML_ONLY.match(line):
            return None  # the deck's HTML layout (columns, embedded video) means nothing here
        note = FOOTNOTE.match(line)
        if note and not self.notes:
            # the deck lists a footnote on the slide that defines it, wherever it is cited
            # (in the notes, say); pandoc drops a definition the slide does not cite
            line = f"\\[{note[1]}\\] {note[2]}"
        if "![" in line:
            line = MARKDOWN_IMAGE.sub(lambda m: self._inline_picture(m.group(1), m.group(2)), line)
        self._emit(self.cite(line) if self.cite and "@" in line else line)

    def _table_line(self, line: str) -> None:
        """A line of a table the talk writes in HTML: the table, once it ends, as a pipe
        table (the deck's HTML layout is dropped, but a table's rows and cells are content:
        read as lines, they ran together as one line)."""
        self.table = [*(self.table or []), line]
        if "</table" not in line.lower():
            return
        rows = html_table_rows("\n".join(self.table))
        self.table = None
        width = max((len(row) for row in rows), default=0)
        if not width:
            return
        cells = [[cell.replace("|", "\\|") for cell in row] + [""] * (width - len(row)) for row in rows]
        self._emit("", *(f"| {' | '.join(row)} |" for row in cells[:1]),
                   f"|{'---|' * width}", *(f"| {' | '.join(row)} |" for row in cells[1:]), "")

    def _slide(self, title: str) -> None:
        if self.notes:  # a heading inside notes is a line of the notes
            if title:
                self._emit("", f"**{title}**", "")
            return
        self._end_slide()
        self.title = title
        self.lines += ["", f"## {title}" if title.strip() else UNTITLED, ""]

    def _record(self, item: r.Block) -> None:
        if isinstance(item, r.Heading):
            self._slide(item.title)
        elif isinstance(item, r.NotesStart):
            self.notes += 1
            self._emit("")
        elif isinstance(item, r.NotesEnd):
            self._emit("")
            self.notes = max(0, self.notes - 1)
        elif isinstance(item, r.AnimationStart):
            self.frames = [[]]
        elif isinstance(item, r.FrameStart):
            if self.frames is not None and self.frames[-1]:
                self.frames.append([])
        elif isinstance(item, r.AnimationEnd):
            last = self.frames[-1] if self.frames else []
            self.frames = None
            if self.notes:
                self.said.extend(line for _, line in last)
            else:
                self.content.extend(last)
        elif isinstance(item, r.Figure):
            self._picture(item.image, item.caption)
        elif isinstance(item, r.Image):
            self._picture(item, "")
        elif isinstance(item, r.Portrait):
            self._emit("", md.portrait_text(item), "")
        elif isinstance(item, r.Code) and item.text.strip():
            fence = "`" * max([3, *(len(m) + 1 for m in re.findall(r"`{3,}", item.text))])
            self._emit("", f"{fence}{item.language}", item.text.strip("\n"), fence, "")
        # raw HTML, fragments, figure containers and what was reported missing: nothing

    def _picture(self, image: r.Image, caption: str) -> None:
        picture = self._inline_picture(caption, image.path)
        if picture:
            self._emit("", picture, "", picture=True)

    def _inline_picture(self, caption: str, path: str) -> str:
        """The image as Markdown naming its place in ``pictures``; "" when it cannot be
        placed (the finder said why).  Its alternative text is empty: pandoc would print it
        under the picture as a caption, which the deck has not; the caption (or the file's
        name) describes the picture instead (``standins.Pictures``)."""
        found = self.finder.locate(path)
        if found is None:
            return ""
        self.pictures.append((path, found, " ".join(caption.split())))
        return f"![]({PICTURE}{len(self.pictures) - 1})"


def _with_pictures(node: PandocNode, pictures: list[tuple[str, Path, str]], finder: ImageFinder,
                   packed: Pictures, draw: Callable[[Path], bytes | None]) -> PandocNode:
    """pandoc's tree with each ``talks-picture:N`` the file inlined (pandoc reads no file;
    ``packed`` gives the stand-in it is handed, ``draw`` an SVG as PNG); a picture that
    cannot be drawn is left out."""
    if isinstance(node, list):
        # a picture that cannot be drawn goes; any other null (a table's short caption) stays
        out = [(x, _with_pictures(x, pictures, finder, packed, draw)) for x in node]
        return [new for old, new in out if new is not None or old is None]
    if not isinstance(node, dict):
        return node
    if node.get("t") == "Image" and node["c"][2][0].startswith(PICTURE):
        attr, alt, (src, title) = node["c"]
        written, path, caption = pictures[int(src[len(PICTURE):])]
        placed = _picture(path, draw)
        if placed is None:
            return finder.refuse(written, "it cannot be drawn (an SVG that links files outside "
                                          "its folder, or a damaged file)")
        content, name, width = placed
        uri = packed.data_url(content, name, caption or path.name)
        attr = [attr[0], attr[1], [*attr[2], *([("width", width)] if width else [])]]
        return {"t": "Image", "c": [attr, alt, [uri, title]]}
    return {k: _with_pictures(v, pictures, finder, packed, draw) for k, v in node.items()}


def _picture(path: Path, draw: Callable[[Path], bytes | None]) -> tuple[bytes, str, str] | None:
    """(content, file name, width or "") of a picture.  An SVG goes as a PNG drawn at
    ``SVG_PPI``: PowerPoint shows no SVG given alone (pandoc #10951); its width keeps its
    size."""
    if path.suffix.lower() != ".svg":
        return path.read_bytes(), path.name, ""
    png = draw(path)
    if png is None:
        return None
    width = int.from_bytes(png[16:20], "big")  # the PNG header's width, in pixels
    return png, path.with_suffix(".png").name, f"{width / SVG_PPI:.2f}in"


def _drawn(svg: Path, timeout: float, folder: str | None) -> bytes | None:
    """The SVG drawn as a PNG, once per content (talks share their diagrams); None when it
    cannot be drawn."""
    from .typst_process import CompileError

    try:
        return drawn_svg(svg, SVG_PPI, timeout, folder)
    except CompileError:
        return None


def html_table_rows(text: str) -> list[list[str]]:
    """The text of each cell of each row of an HTML table (its pictures are the deck's
    records, placed beside it)."""
    import html.parser

    class Rows(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.rows: list[list[str]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                if not self.rows:
                    self.rows.append([])
                self.cell = []
            elif tag == "br" and self.cell is not None:
                self.cell.append(" ")

        def handle_endtag(self, tag: str) -> None:
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append(" ".join("".join(self.cell).split()))
                self.cell = None

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    reader = Rows()
    reader.feed(text)
    reader.close()
    return [row for row in reader.rows if row]


MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
A14 = "http://schemas.microsoft.com/office/drawing/2010/main"
OMML = "http://schemas.openxmlformats.org/officeDocument/2006/math"


def with_math_fallback(part: str, xml: bytes) -> bytes:
    """A slide whose text holds an equation is written by pandoc as Office 2010 math alone
    (``mc:AlternateContent`` with no ``mc:Fallback``): a reader without it (LibreOffice,
    older PowerPoint) shows nothing of that text box, its words included.  Each gets a
    fallback: the same text box, each equation as its text.  An equation pandoc writes
    outside any (in a table's cell) becomes its text."""
    if b"a14:m" not in xml:
        return xml
    from copy import deepcopy

    from lxml import etree

    root_tag = xml.find(b">", xml.find(b"<p:sld"))
    if root_tag > 0 and b"xmlns:a14=" not in xml[:root_tag]:
        # pandoc writes an equation in a table cell as a14:m with no namespace for it: a
        # package PowerPoint and python-pptx refuse.  Declared here, it becomes text below
        xml = xml[:root_tag] + f' xmlns:a14="{A14}"'.encode() + xml[root_tag:]
    root = etree.fromstring(xml)
    for math in list(root.iter(f"{{{A14}}}m")):
        if not any(a.tag == f"{{{MC}}}AlternateContent" for a in math.iterancestors()):
            _as_text(math)
    for alternate in root.iter(f"{{{MC}}}AlternateContent"):
        choice = alternate.find(f"{{{MC}}}Choice")
        if choice is None or alternate.find(f"{{{MC}}}Fallback") is not None:
            continue
        fallback = etree.SubElement(alternate, f"{{{MC}}}Fallback")
        for child in choice:
            fallback.append(deepcopy(child))
        for math in list(fallback.iter(f"{{{A14}}}m")):
            _as_text(math)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _as_text(math: etree._Element) -> None:
    """The equation replaced, in its paragraph, by a text run of its text (its ``m:t`` parts,
    in order)."""
    from lxml import etree

    parent = math.getparent()
    if parent is None:
        return
    run = etree.Element(f"{{{A}}}r")
    etree.SubElement(run, f"{{{A}}}rPr", lang="en-GB")
    etree.SubElement(run, f"{{{A}}}t").text = "".join(
        text.text or "" for text in math.iter(f"{{{OMML}}}t"))
    parent.replace(math, run)


def _reference(expanded: ExpandedTalk, config: TalkConfig) -> tuple[str | None, Diagnostic | None]:
    """The reference presentation the talk's front matter or its folder's settings name
    (``potx:``), when it is inside the talk's repository and its roots."""
    meta = expanded.talk.meta.get("potx")
    talk = expanded.talk.source.path
    if isinstance(meta, str) and meta.strip():
        named, where = os.path.join(os.path.dirname(talk), meta.strip()), "the talk's front matter"
    elif config.pptx_reference:
        named, where = config.pptx_reference, config.source_of("pptx_reference")
    else:
        return None, None
    outside = False
    for candidate in _reference_places(named, talk, config):
        real = confine(candidate, expanded.allowed_roots)
        if real and os.path.isfile(real):
            return real, None
        outside = outside or (real is None and os.path.isfile(candidate))
    why = "it is outside the talk's repository and its roots" if outside else \
        "it is not there, nor in the project's includes/, the include roots or the macros folder"
    return None, Diagnostic("W-EXPORT-REFERENCE", Severity.WARNING,
                            f"the reference presentation {display_name(named)} ({where}) is not "
                            f"used: {why}", tools.at_start(talk),
                            hint="the deck uses pandoc's default layouts")


def _reference_places(named: str, talk: str, config: TalkConfig) -> list[str]:
    """Where a reference presentation is looked for, as lamd looks: where the setting names
    it, then by its file name in the project's ``includes/`` and the include roots (lamd's
    own ``includes/`` holds the templates its courses name), then the macros folder."""
    from ..project import find_project_root

    project = find_project_root(talk)
    folders = [*([str(project / "includes")] if project else []), *config.include_roots,
               config.macros_dir]
    name = os.path.basename(named)
    return list(dict.fromkeys([named, *(os.path.join(folder, name) for folder in folders)]))
