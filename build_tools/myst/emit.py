"""Stage 3, emitting MyST: expanded lines in, one MyST document per variant out.

The expander leaves typed records (``engine.records``) where slides start,
where presenter notes begin and end, where animation frames, images, figures
and code blocks sit.  This stage lays them out for the variant:

* slides: one H2 per slide, its notes gathered into one ``{revealjs-notes}``;
* speaker-notes: one H2 per slide, the slide's content, then a notes block;
* handout: headings shifted under the single H1 title and never skipping a level.

One fence-aware pass (``_prepare``) first renders the content records, turns
pandoc citations into sphinxcontrib-bibtex roles, keeps display math apart from
paragraphs and lifts ``\\newcommand`` lines into the MathJax macro table.
Every line keeps the origin it had in the expansion.
"""
from __future__ import annotations

import bisect
import functools
import html
import json
import os
import re
import shlex
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypeAlias

from ..engine import records as r
from ..diagnostics import Diagnostic, Severity
from ..engine.output import LazyOrigins, Origin, origin_of
from ..engine.talkfile import author_list
from ..engine.texnames import NEWCOMMAND_RE
from ..paths import hidden
from .anchors import SlideAnchor
from .paths import guard_line, may_name_a_file

if TYPE_CHECKING:
    from ..engine.source import Frame

Position: TypeAlias = "tuple[Frame, int] | None"
"""Where a line or record came from: its frame and the offset in it (None when made here)."""

Line = tuple[str, Position]
"""A MyST line and the (frame, offset) it came from; ``origin_of`` makes it an Origin."""

Item = tuple["str | r.Block", Position]
"""An expanded line or a structure record, with its origin: what layout works on."""

FENCE_RE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
ATX_RE = re.compile(r"^(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
HEADING_ATTRS_RE = re.compile(r"\s*\{([^{}]*)\}\s*$")
CITE_GROUP_RE = re.compile(r"\[([^\[\]]*?@[^\[\]]*?)\](?!\()")
CITE_KEY = r"[A-Za-z0-9_][A-Za-z0-9_:.\-]*[A-Za-z0-9_]|[A-Za-z0-9_]"
INTEXT_CITE_RE = re.compile(r"(?<![\w\\@`])@(" + CITE_KEY + r")")
GROUP_ITEM_RE = re.compile(r"^\s*(.*?)-?@(" + CITE_KEY + r")\s*(?:,\s*(.*?))?\s*$", re.S)
INLINE_CODE_RE = re.compile(r"(`+)(.+?)\1")
URL_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+|<[^<>\s]+@[^<>\s]+>|\]\([^)]*\)")
PROTECTED_RE = re.compile(INLINE_CODE_RE.pattern + "|" + URL_RE.pattern)
"""What the citation scanner must not look into: inline code, URLs and link targets."""
CITATION_RE = re.compile(CITE_GROUP_RE.pattern + "|" + INTEXT_CITE_RE.pattern)

WEB_TARGET_RE = re.compile(r"(\]\(\s*<?)www\.")
PLAIN_LINE_STOP = re.compile(r"[\]=:}{`~@$^\\]").search
"""Every character one of ``_prepare``'s rewrites or checks starts from (a line starting
with ``|`` or ``+`` aside): a line with none of them is passed on as it is."""

class Pause:
    """Where pandoc's ``. . .`` stood in a slide: what follows it is revealed next."""


PAUSE = Pause()


def _is_pause(text: str) -> bool:
    return text[:1] == "." and text.strip() == ". . ."


STRUCTURE = (r.Heading, r.NotesStart, r.NotesEnd, r.AnimationStart, r.FrameStart, r.FrameEnd,
             r.AnimationEnd)
"""Records that layout places; every other record is rendered where it stands."""


@dataclass
class Document:
    """The MyST for one talk and variant, line by line with origins."""

    variant: str
    title_lines: list[Line]
    body_lines: list[Line]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    math_macros: dict[str, object] = field(default_factory=dict)
    slide_anchors: list[SlideAnchor] = field(default_factory=list)
    """For slides and speaker-notes: the title of each slide after the title slide, and
    the origin of its heading."""
    cited: bool = False
    """Whether any citation became a role."""
    cited_keys: list[str] = field(default_factory=list)
    """The citation keys of those roles, each once, in order."""

    @property
    def slide_titles(self) -> list[str]:
        return [a.title for a in self.slide_anchors]

    @functools.cached_property
    def lines(self) -> list[Line]:
        return self.title_lines + self.body_lines

    @functools.cached_property
    def text(self) -> str:
        return "\n".join([t for t, _ in self.lines]).rstrip("\n") + "\n"

    @property
    def body(self) -> str:
        return "\n".join(t for t, _ in self.body_lines).strip("\n")

    def lazy_origins(self) -> LazyOrigins:
        """The origin of each line of ``text``, each worked out when first asked for."""
        return LazyOrigins([p for _, p in self.lines])

    @property
    def origins(self) -> list[Origin | None]:
        """The origin of each line of ``text``, computed on demand."""
        return [origin_of(p) for _, p in self.lines]


@dataclass
class EmitOptions:
    title_block: bool = True
    initial_heading_level: int = 1
    """The level of the heading just before the body (1: the H1 title)."""
    doc_dir: str | None = None
    """Where the generated document sits in Sphinx's source tree (for relative assets)."""
    image_root: str | None = None
    diagrams: tuple[str, str] | None = None
    """(URL prefix, folder) of the configured diagrams folder (``engine.run.diagrams_mapping``)."""
    allowed_roots: tuple[str, ...] = ()
    """The only folders local files the MyST names may come from (``source.confine``)."""
    bib_keys: frozenset[str] | None = None
    """Known citation keys; None when no bibliography is configured."""
    append_references: bool = True
    local_citations: bool = False
    """Cite with footnote roles and a per-document bibliography (each talk is its own page)."""


class Emitter:
    def __init__(self, variant: str, options: EmitOptions):
        self.variant = variant
        self.options = options
        self.diagnostics: list[Diagnostic] = []
        self.math_macros: dict[str, object] = {}
        self._warned_keys: set[str] = set()
        self.cited = False
        """Whether any citation became a role (then a bibliography is due)."""
        self.cited_keys: dict[str, None] = {}
        self.has_bibliography = False
        self.has_animation = False
        self.cite_role = "footcite" if options.local_citations else "cite"
        """Whether the talk places its own bibliography."""
        self.footnotes: list[Line] = []
        """The text of each pandoc inline footnote ``^[...]``, numbered in order."""

    def warn(self, code: str, message: str, position: Position,
             severity: Severity = Severity.WARNING) -> None:
        origin = origin_of(position)
        self.diagnostics.append(Diagnostic(code, severity, message,
                                           origin.location if origin else None,
                                           origin.chain if origin else ()))


# -- entry point ---------------------------------------------------------------

def emit(items: list[Item], variant: str, meta: dict, options: EmitOptions | None = None
         ) -> Document:
    """Lay out expanded lines and records as MyST for ``variant``."""
    options = options or EmitOptions()
    em = Emitter(variant, options)
    lines = _prepare(em, items)
    _close_inline_math(em, lines)
    if variant == "handout":
        body = _handout(em, lines)
        anchors: list[SlideAnchor] = []
    else:
        if em.has_animation:
            lines = _animations(em, lines)
        slides = _split_slides(em, lines)
        # the slide before the first heading has no heading of its own to be found by
        headings = LazyOrigins([None if s.opening else s.origin for s in slides[1:]])
        anchors = [SlideAnchor.at(s.title, headings[i]) for i, s in enumerate(slides[1:])]
        body = _slides(em, slides) if variant == "slides" else _speaker_notes(em, slides)
    if em.footnotes:
        body += _footnote_definitions(em.footnotes)
    if options.append_references and em.cited and not em.has_bibliography:
        body += _references_block(variant, body[-1][1] if body else None, options.local_citations)
    body = _squeeze_blank_lines(_without_unreferenced_footnotes(body))
    title = _title_block(variant, meta) if options.title_block else []
    return Document(variant, title, body, em.diagnostics, em.math_macros, anchors, em.cited,
                    list(em.cited_keys))


# -- the one pass over the expansion ------------------------------------------------------

def _prepare(em: Emitter, items: list[Item]) -> list[tuple]:
    """Render content records and rewrite text lines, tracking code fences once.

    Returns ``(text or structure record, origin, verbatim)``: ``verbatim`` lines
    are code or rendered directives, which later passes leave alone.
    """
    out: list[tuple] = []
    fence = None
    in_code = False
    in_math = False
    in_comment = False  # inside an HTML comment that an earlier line opened
    math_opened: tuple = ()  # the line of ``out`` that opened the display-math block
    groups: list[tuple[r.Block, int, Position]] = []  # open fragments and figure containers
    footbibliography_options = False  # the options of a {bibliography} made {footbibliography}
    append = out.append
    for text, origin in items:
        if type(text) is str and not in_math and not footbibliography_options and not in_comment \
                and not PLAIN_LINE_STOP(text) and text[:1] not in ("|", "+") and "<!--" not in text:
            append((text, origin, in_code and fence is not None))  # nothing below applies
            continue
        if footbibliography_options:
            if type(text) is str and text.startswith(":"):
                continue  # {footbibliography} takes no options
            footbibliography_options = False
        if in_math and _ends_paragraph(text):
            in_math = _close_stray_math(em, out, math_opened)
        if not isinstance(text, str):
            if isinstance(text, STRUCTURE):
                em.has_animation |= isinstance(text, r.AnimationStart)
                out.append((text, origin, False))
            elif isinstance(text, (r.FragmentsStart, r.FigureStart)):
                groups.append((text, len(out), origin))
            elif isinstance(text, (r.FragmentsEnd, r.FigureEnd)):
                if groups:
                    opened, start, at = groups.pop()
                    out[start:] = _group(em, opened, text, out[start:], at)
            else:
                out.extend((line, origin, True) for line in _render(em, text, origin))
            continue
        if not (in_code and fence is not None) and (in_comment or may_name_a_file(text)
                                                    or "<!--" in text):
            text, in_comment = _guard_paths(em, text, origin, in_comment)
            if "](www." in text:
                text = _web_targets(text)
        if fence is None and ("{." in text or ":::" in text or "{=" in text):
            text = _pandoc_fence(text)
        fence, is_fence = _fence_state(text, fence)
        if is_fence:  # directive fences ({image}, {admonition} ...) hold Markdown
            opening = FENCE_RE.match(text)
            in_code = fence is not None and not (opening and opening.group(2).strip().startswith("{"))
            if "{bibliography}" in text or "{footbibliography}" in text:
                em.has_bibliography = True
                if em.options.local_citations and "{bibliography}" in text:
                    # each talk is its own page: its References list what it cites
                    text = text.replace("{bibliography}", "{footbibliography}")
                    footbibliography_options = True
            out.append((text, origin, True))
            continue
        if in_code and fence is not None:
            out.append((text, origin, True))
            continue
        if "newcommand" in text:
            m = NEWCOMMAND_RE.match(text)
            if m:
                name, nargs, body = m.groups()
                em.math_macros[name] = [body, int(nargs)] if nargs else body
                continue
        if "@" in text:
            text = _cite_line(em, text, origin)
        if not in_math and "^[" in text:
            text = _inline_notes(em, text, origin)
        if not in_math and ("^[" in text or text[:1] in ("|", "+")):
            _warn_pandoc_only(em, text, origin)
        if "$$" in text:
            was_open, start = in_math, len(out)
            in_math = _display_math(text, origin, in_math, out)
            if in_math and not was_open:
                math_opened = next(line for line in out[start:] if "$$" in line[0])
            continue
        out.append((text, origin, False))
    return out


def _guard_paths(em: Emitter, text: str, origin: Position, in_comment: bool) -> tuple[str, bool]:
    """Refuse local files outside the repository that the text itself names (paths.py), and
    whether an HTML comment is open after the line. A path in a comment is replaced all the
    same (nothing may reach Sphinx), but it is no error: a comment is not content."""
    def refuse(path: str, shown: str, why: str | None) -> None:
        if why is not None:
            em.warn("E-FILE-NOT-MEDIA", f"{path} is not published: {why}", origin, Severity.ERROR)
        elif hidden(shown):
            em.warn("E-PATH-OUTSIDE", f"{path} resolves to {shown}, in a hidden folder or file, "
                    "which is never read or published; refused", origin, Severity.ERROR)
        else:
            em.warn("E-PATH-OUTSIDE", f"{path} resolves to {shown}, outside the talk's repository "
                    "and its include roots; refused", origin, Severity.ERROR)

    def ignore(path: str, shown: str, why: str | None) -> None:
        pass

    options = em.options
    pieces, in_comment = _comment_pieces(text, in_comment)
    return "".join(guard_line(piece, options.doc_dir, options.image_root, options.allowed_roots,
                              ignore if commented else refuse)
                   for piece, commented in pieces), in_comment


def _web_targets(text: str) -> str:
    """``[text](www.x.org)`` links to ``https://www.x.org``, as a reader expects: MyST would look
    for a page of that name. Inline code is left alone."""
    pieces, pos = [], 0
    for m in INLINE_CODE_RE.finditer(text):
        pieces += [WEB_TARGET_RE.sub(r"\1https://www.", text[pos:m.start()]), m.group(0)]
        pos = m.end()
    pieces.append(WEB_TARGET_RE.sub(r"\1https://www.", text[pos:]))
    return "".join(pieces)


def _comment_pieces(text: str, in_comment: bool) -> tuple[list[tuple[str, bool]], bool]:
    """The line cut where HTML comments open and close, (piece, whether it is commented) each,
    and whether a comment is still open at its end."""
    pieces: list[tuple[str, bool]] = []
    pos = 0
    code = [m.span() for m in INLINE_CODE_RE.finditer(text)] if "`" in text else []
    while pos < len(text):
        mark = "-->" if in_comment else "<!--"
        found = text.find(mark, pos)
        while found >= 0 and not in_comment and any(a <= found < b for a, b in code):
            found = text.find(mark, found + 1)  # `<!--` written in code opens nothing
        end = len(text) if found < 0 else found + (len(mark) if in_comment else 0)
        if end > pos:
            pieces.append((text[pos:end], in_comment))
        if found < 0:
            break
        pos = end
        in_comment = not in_comment
    return pieces, in_comment


def _render(em: Emitter, block: r.Block, origin: Position) -> list[str]:
    """The MyST lines of a content record, blank lines around."""
    if isinstance(block, r.Image):
        return ["", *_image_directive("image", block, []), ""]
    if isinstance(block, r.Figure):
        caption = _cite_line(em, block.caption, origin) if "@" in block.caption else block.caption
        options = [f":name: {block.label}"] if block.label else []
        image = block.image if block.image.alt else replace(block.image, alt=_plain(block.caption))
        return ["", *_image_directive("figure", image, options, caption.split("\n")), ""]
    if isinstance(block, r.Code):
        body = block.text.split("\n")
        f = _fence_for("`", [(t, None) for t in body])
        return ["", f + block.language, *body, f, ""]
    if isinstance(block, r.Html):
        return ["", block.html, ""]
    if isinstance(block, r.Portrait):
        return ["", _portrait(block), ""]
    if isinstance(block, r.Missing):
        if em.variant == "slides":  # the audience sees a neutral frame; the warning is in the log
            return ["", f'<div class="talks-missing" title="{html.escape(block.target)}"></div>', ""]
        # a warning box for the author's preview; published pages show a neutral frame
        # (sphinx_ext/placeholders.py)
        return ["", f"```{{talks-missing}} {block.what}", f":target: {block.target}", "",
                f"Missing {block.what}: `{block.target}`", "```", ""]
    return []


CSS_WIDTH_RE = re.compile(r"\d+(\.\d+)?(%|px|em|rem|vw)?")
LINK_SCHEME_RE = re.compile(r"[A-Za-z][\w+.-]*:")


def _portrait(person: r.Portrait) -> str:
    """A person whose picture is missing: their initials in a circle (of a colour their name
    gives, so two people differ) and their name below, both linked to their page, at the
    width the portrait would have had (docs/vocabulary.md, "People")."""
    name = html.escape(person.name)
    url = person.url
    if LINK_SCHEME_RE.match(url) and not url.lower().startswith(("http:", "https:", "mailto:")):
        url = ""  # a talk names the link: no javascript: or data: in a page
    width = f' style="width: {person.width}"' if CSS_WIDTH_RE.fullmatch(person.width) else ""
    hue = zlib.crc32(person.name.encode("utf-8")) % 360
    circle = (f'<span class="talks-initials" style="background-color: hsl({hue}, 30%, 42%)" '
              f'role="img" aria-label="{name}">{html.escape(_initials(person.name))}</span>')
    caption = name
    if url:
        link = html.escape(url, quote=True)
        circle = f'<a href="{link}" tabindex="-1">{circle}</a>'
        caption = f'<a href="{link}">{name}</a>'
    return f'<figure class="talks-portrait"{width}>{circle}<figcaption>{caption}</figcaption></figure>'


def _initials(name: str) -> str:
    """``Ernest Mwebaze`` -> ``EM``, ``Neil D. Lawrence`` -> ``NL``, ``Teo`` -> ``T``."""
    words = [w for w in re.split(r"[\s-]+", name) if w[:1].isalpha()]
    if not words:
        return "?"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


PLAIN_MARKUP_RE = re.compile(r"\{[\w:-]+\}`[^`]*`|[*_`]|\[\^[^\]]*\]|!?\[([^\]]*)\]\([^)]*\)"
                             r"|\s*\[[^\]\[]*@[^\]\[]*\]|<([a-z]+:[^<>\s]+)>")


def _plain(markdown: str) -> str:
    """A caption as alt text: its words, without markup, roles, citations or footnote marks
    (a screen reader would read ``[@Taigman:deepface14]`` out), a link's address as written."""
    text = PLAIN_MARKUP_RE.sub(lambda m: _plain(m.group(1)) if m.group(1) else m.group(2) or "",
                               markdown)
    return " ".join(text.split())


def _image_directive(name: str, image: r.Image, options: list[str],
                     body: Sequence[str] = ()) -> list[str]:
    lines = [*options]
    if image.width:
        lines.append(f":width: {image.width}")
    if image.classes:
        lines.append(f":class: {image.classes}")
    if image.align:
        lines.append(f":align: {image.align}")
    if image.alt:
        lines.append(f":alt: {image.alt}")
    if image.target:
        lines.append(f":target: {image.target}")
    if body:
        lines += ["", *body]
    f = _fence_for("`", [(t, None) for t in body])
    return [f"{f}{{{name}}} {image.path}", *lines, f]


def _group(em: Emitter, opened: r.Block, closed: r.Block, inner: list[tuple],
           origin: Position) -> list[tuple]:
    """Fragments or a figure container around lines already prepared."""
    if isinstance(opened, r.FragmentsStart):
        f = _fence_for("`", [(t, None) for t, _, _ in inner if type(t) is str])
        head, tail = [f + "{revealjs-fragments}"], [f]
    else:
        f = _fence_for(":", [(t, None) for t, _, _ in inner if type(t) is str])
        label = opened.label if isinstance(opened, r.FigureStart) else ""
        caption = getattr(closed, "caption", "")
        if caption and "@" in caption:
            caption = _cite_line(em, caption, origin)
        if caption and em.variant != "slides":  # numbered with the single-image figures
            head = [f + "{talks-figure}"] + ([f":name: {label}"] if label else [])
            tail = ["", " ".join(caption.split()), f]
        else:
            head = ([f"({label})="] if label else []) + [f + "{container} figure"]
            tail = (["", caption] if caption else []) + [f]
    return [("", origin, True), *((t, origin, True) for t in head), *inner,
            *((t, origin, True) for t in tail), ("", origin, True)]


# -- shared helpers --------------------------------------------------------------

def _fence_state(line: str, open_fence: str | None) -> tuple[str | None, bool]:
    """Track code fences: returns (the open fence after this line, whether the line is a fence)."""
    if "```" not in line and "~~~" not in line:  # most lines: nothing to match
        return open_fence, False
    m = FENCE_RE.match(line)
    if open_fence is None:
        if m and not ("`" in m.group(2) and m.group(1)[0] == "`"):
            return m.group(1), True
        return None, False
    if m and m.group(1)[0] == open_fence[0] and len(m.group(1)) >= len(open_fence) \
            and not m.group(2).strip():
        return None, True
    return open_fence, False


def _squeeze_blank_lines(lines: list[Line]) -> list[Line]:
    """Runs of blank lines as one empty line; none at the start or the end."""
    out: list[Line] = []
    append = out.append
    blank = True  # as if after a blank line: leading blanks go
    for line in lines:
        text = line[0]
        if text and not text.isspace():
            append(line)
            blank = False
        elif not blank:
            append(("", line[1]))
            blank = True
    if blank and out:
        out.pop()
    return out


def _block(lines: list[Line], origin: Position) -> list[Line]:
    return [("", origin), *lines, ("", origin)]


def _attrs(text: str) -> tuple[list[str], dict[str, str], str]:
    """Pandoc attributes ``.class #id key="value"`` as (classes, pairs, id)."""
    classes, pairs, ident = [], {}, ""
    try:
        tokens = shlex.split(text.strip().strip("{}"))
    except ValueError:
        tokens = text.strip().strip("{}").split()
    for tok in tokens:
        if tok.startswith("."):
            classes.append(tok[1:])
        elif tok.startswith("#"):
            ident = tok[1:]
        elif "=" in tok:
            key, _, value = tok.partition("=")
            pairs[key] = value.strip('"')
    return classes, pairs, ident


# -- slides and speaker-notes: splitting into slides -------------------------------

@dataclass
class Slide:
    title: str
    untitled: bool
    attrs: str
    origin: tuple | None
    content: list[Line] = field(default_factory=list)
    notes: list[list[Line]] = field(default_factory=list)
    opening: bool = False
    """The content before the first heading: it continues no slide."""
    paused: bool = False
    """Whether its content holds a pause."""


def _split_slides(em: Emitter, lines: list[tuple]) -> list[Slide]:
    """Cut the expansion at every slide boundary; notes go to their slide."""
    slides = [Slide("", True, "", None)]
    depth = 0
    notes: list[Line] = []
    glue = False  # the next text goes on the last line of the notes: one sentence in the source
    ended_inline = False  # the last notes ended with more text on their line, nothing since
    after_block = False  # the last line written is a record's (a picture's fence), not prose
    for text, origin, verbatim in lines:
        if type(text) is not str:
            if isinstance(text, r.NotesStart):
                if depth == 0:
                    resumed = ended_inline and text.inline and slides[-1].notes
                    notes = slides[-1].notes.pop() if resumed else []
                    glue = bool(resumed)
                else:
                    glue = text.inline
                depth += 1
            elif isinstance(text, r.NotesEnd):
                if depth == 1:
                    slides[-1].notes.append(notes)
                    ended_inline = text.inline
                elif depth > 1:
                    glue = text.inline
                depth = max(0, depth - 1)
            elif isinstance(text, r.Heading):
                if depth:
                    if text.title:
                        notes.extend(_block([(f"**{text.title}**", origin)], origin))
                else:
                    slides.append(Slide(text.title, not text.title, text.attrs, origin))
            continue
        if glue or ended_inline:
            if not text.strip():
                continue  # a notes block's own blank lines: the source had none here
            if depth and glue:
                if after_block:  # a caption after a picture: its own paragraph, not the fence's
                    notes += [("", origin), (text, origin)]
                else:
                    _go_on(notes, text, origin)
                glue = after_block = False
                continue
            glue = ended_inline = False
        if text[:1] == "." and not verbatim and _is_pause(text):  # only the deck has pauses
            if depth == 0 and em.variant == "slides":
                slides[-1].content.append((PAUSE, origin))  # type: ignore[arg-type]
                slides[-1].paused = True
            continue
        if depth == 0 and not verbatim and text[:1] == "#":
            m = ATX_RE.match(text)
            if m and len(m.group(1)) <= 2:
                title, attrs = _heading_text(m.group(2) or "")
                slides.append(Slide(title, not title, attrs, origin))
                continue
            if m:  # ### and deeper stay inside the slide
                title, _ = _heading_text(m.group(2) or "")
                text = f"<h3>{_heading_math(title)}</h3>" if em.variant == "slides" else text
        (notes if depth else slides[-1].content).append((text, origin))
        if text:
            after_block = verbatim
    return _lift_opening(slides) if em.options.title_block else slides


HEADING_MATH_RE = re.compile(r"(?<![\\$])\$(?![\s$])([^$]+?)(?<![\s\\])\$")


def _heading_math(title: str) -> str:
    """A deck's ``###`` heading is raw HTML (a MyST heading would start a slide): its inline
    math is written as Sphinx writes inline math, for MathJax to set, not left as ``$...$``."""
    if "$" not in title:
        return title
    return HEADING_MATH_RE.sub(lambda m: '<span class="math notranslate nohighlight">\\('
                               + html.escape(m.group(1), quote=False) + '\\)</span>', title)


def _go_on(notes: list[Line], text: str, origin: Position) -> None:
    """``text`` on the last line of ``notes``, as the sentence it continues."""
    while notes and not notes[-1][0].strip():
        notes.pop()
    if notes:
        notes[-1] = (notes[-1][0] + text, notes[-1][1])
    else:
        notes.append((text, origin))


HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)


def _lift_opening(slides: list[Slide]) -> list[Slide]:
    """Content before the first heading is a slide of its own after the title slide
    (pandoc makes the title slide from the front matter alone); comments alone stay
    on the title slide, so no blank slide as lamd's decks have."""
    title = slides[0]
    shown = HTML_COMMENT_RE.sub("", "\n".join(text for text, _ in title.content
                                              if type(text) is str)).strip()
    if not shown:
        return slides
    origin = next((o for text, o in title.content if text.strip()), title.origin)
    opening = Slide("", True, "", origin, title.content, title.notes, opening=True)
    title.content, title.notes = [], []
    return [title, opening, *slides[1:]]


def _heading_text(text: str) -> tuple[str, str]:
    m = HEADING_ATTRS_RE.search(text)
    if m and ("#" in m.group(1) or "." in m.group(1) or "=" in m.group(1)):
        return text[: m.start()].strip(), m.group(1)
    return text.strip(), ""


def _section_options(em: Emitter, slide: Slide) -> list[str]:
    """``{revealjs-section}`` options from a slide's pandoc attributes (docs/macro-language.md, "Slide attributes")."""
    if not slide.attrs:
        return []
    classes, pairs, _ = _attrs(slide.attrs)
    options = []
    for cls in classes:
        if cls == "scrollable":
            options.append(":data-state: scrollable")
        elif cls.startswith("slide:"):
            continue
        else:
            em.warn("W-SLIDE-ATTR", f"slide class '.{cls}' has no meaning here; ignored", slide.origin)
    for key, value in pairs.items():
        if key == "data-background" and not value.startswith("#") and "(" not in value:
            if _asset_exists(em, value):
                options.append(f":data-background-image: {value}")
            else:
                em.warn("W-IMAGE-MISSING", f"slide background image not found: {value}; left out",
                        slide.origin)
        elif key.startswith("data-"):
            options.append(f":{key}: {value}")
    return options


def _asset_exists(em: Emitter, path: str) -> bool:
    if re.match(r"[a-z]+:", path):
        return True
    diagrams = em.options.diagrams
    if diagrams and path.startswith(diagrams[0]):
        return os.path.exists(os.path.join(diagrams[1], path[len(diagrams[0]):]))
    if path.startswith("/"):
        root = em.options.image_root
        return root is None or os.path.exists(os.path.join(root, path.lstrip("/")))
    base = em.options.doc_dir
    return base is None or os.path.exists(os.path.join(base, path))


def _notes_text(notes: list[list[Line]]) -> list[Line]:
    out: list[Line] = []
    for chunk in notes:
        chunk = _squeeze_blank_lines(chunk)
        if chunk:
            if out:
                out.append(("", chunk[0][1]))
            out.extend(chunk)
    return out


def _slides(em: Emitter, slides: list[Slide]) -> list[Line]:
    out: list[Line] = []
    for i, slide in enumerate(slides):
        if i:
            heading = f"## {slide.title}" if slide.title else "##"
            out.extend(_block([(heading, slide.origin)], slide.origin))
            options = _section_options(em, slide)
            if options:
                out.extend(_block([("```{revealjs-section}", slide.origin),
                                   *((o, slide.origin) for o in options),
                                   ("```", slide.origin)], slide.origin))
        out.extend(_paused(slide.content) if slide.paused else slide.content)
        notes = _notes_text(slide.notes)
        if notes:
            f = _fence_for("`", notes)
            out.extend(_block([(f + "{revealjs-notes}", notes[0][1]), *notes,
                               (f, notes[-1][1])], notes[0][1]))
    return out


FENCE_RUN_RE = {"`": re.compile(r"[ \t]*(`+)"), ":": re.compile(r"[ \t]*(:+)")}


def _paused(content: list[Line]) -> list[Line]:
    """A slide's content with what follows each pause as one fragment, shown in turn."""
    out: list[Line] = []
    parts: list[tuple[tuple | None, list[Line]]] = [(None, [])]
    for text, origin in content:
        if text is PAUSE:
            parts.append((origin, []))
        else:
            parts[-1][1].append((text, origin))
    out.extend(parts[0][1])
    for opened, lines in parts[1:]:
        f = _fence_for(":", lines)
        out.extend(_block([(f + "{container} fragment", opened), *lines, (f, opened)], opened))
    return out


def _fence_for(char: str, lines: list[Line]) -> str:
    """A fence of ``char`` longer than any run of it that starts one of ``lines``."""
    longest = 2
    match = FENCE_RUN_RE[char].match
    for text, _ in lines:
        if char in text:
            m = match(text)
            if m:
                longest = max(longest, len(m.group(1)))
    return char * (longest + 1)


def _speaker_notes(em: Emitter, slides: list[Slide]) -> list[Line]:
    out: list[Line] = []
    for number, slide in enumerate(slides, start=1):
        if number > 1:
            title = slide.title or f"Slide {number}" + ("" if slide.opening else " (continued)")
            out.extend(_block([(f"## {title}", slide.origin)], slide.origin))
        out.extend(slide.content)
        notes = _notes_text(slide.notes)
        if notes:
            f = _fence_for(":", notes)
            out.extend(_block([(f + "{admonition} Speaker notes", notes[0][1]),
                               (":class: speaker-notes", notes[0][1]), *notes,
                               (f, notes[-1][1])], notes[0][1]))
    return out


# -- animations ------------------------------------------------------------------------

def _animations(em: Emitter, lines: list[tuple]) -> list[tuple]:
    """Frame sequences: stacked fragments in the deck, the last frame for the presenter."""
    stack: list[dict] = []
    out: list[tuple] = []

    def sink() -> list[tuple]:
        if not stack:
            return out
        anim = stack[-1]
        return anim["frames"][-1] if anim["in_frame"] else anim["loose"]

    for item in lines:
        text, origin = item[0], item[1]
        if isinstance(text, r.AnimationStart):
            stack.append({"name": text.name, "frames": [], "in_frame": 0, "loose": [],
                          "origin": origin})
        elif isinstance(text, r.FrameStart) and stack:
            if stack[-1]["in_frame"]:
                stack[-1]["in_frame"] += 1  # a frame inside a frame: just nesting
                sink().append(("", origin, False))
            else:
                stack[-1]["frames"].append([])
                stack[-1]["in_frame"] = 1
        elif isinstance(text, r.FrameEnd) and stack:
            stack[-1]["in_frame"] = max(0, stack[-1]["in_frame"] - 1)
        elif isinstance(text, r.AnimationEnd) and stack:
            anim = stack.pop()
            sink().extend(_render_animation(em, anim))
        elif isinstance(text, (r.FrameStart, r.FrameEnd, r.AnimationEnd)):
            continue
        else:
            sink().append(item)
    while stack:  # a sequence never closed: render what it has
        anim = stack.pop()
        em.warn("W-ANIMATION", "\\startanimation without \\endanimation", anim["origin"])
        sink().extend(_render_animation(em, anim))
    return out


def _render_animation(em: Emitter, anim: dict) -> list[tuple]:
    origin = anim["origin"]
    frames = anim["frames"]
    out: list[tuple] = list(anim["loose"])

    def line(text: str) -> tuple:
        return (text, origin, True)

    def framed(frame: list[tuple]) -> list[tuple]:
        return [line(""), *frame, line("")]

    if em.variant == "speaker-notes":
        if anim["name"]:
            out.extend(framed([line(f"**Animation: {anim['name']}**")]))
        if frames:
            out.extend(framed(frames[-1]))
        return out
    if len(frames) <= 1:
        for frame in frames:
            out.extend(framed(frame))
        return out
    out.extend([line(""), line('<div class="r-stack">')])
    last = len(frames) - 1
    for k, frame in enumerate(frames):
        if k == 0:
            cls, index = "fragment fade-out", 0
        elif k == last:
            cls, index = "fragment fade-in", last - 1
        else:
            cls, index = "fragment fade-in-then-out", k - 1
        out.append(line(f'<div class="{cls}" data-fragment-index="{index}">'))
        out.extend(framed(frame))
        out.append(line("</div>"))
    out.extend([line("</div>"), line("")])
    return out


# -- handout -------------------------------------------------------------------------

def _handout(em: Emitter, lines: list[tuple]) -> list[Line]:
    """Headings shifted below the title, never skipping a level."""
    out: list[Line] = []
    last = em.options.initial_heading_level
    for text, origin, verbatim in lines:
        if type(text) is not str:
            if not isinstance(text, r.Heading):  # notes and frames have no place here
                continue
            level, title = text.level, text.title
        elif verbatim or text[:1] != "#" or not (m := ATX_RE.match(text)):
            if verbatim or not _is_pause(text):  # the handout reads on through a pause
                out.append((text, origin))
            continue
        else:
            title, attrs = _heading_text(m.group(2) or "")
            level = len(m.group(1)) + 1
            _, _, ident = _attrs(attrs) if attrs else ([], {}, "")
            if ident:
                out.append((f"({ident})=", origin))
        level = max(2, min(level, last + 1, 6))
        last = level
        out.append(("#" * level + (f" {title}" if title else ""), origin))
    return out


# -- citations -----------------------------------------------------------------------

def _cite_line(em: Emitter, text: str, origin: Position) -> str:
    """Pandoc citations in one line as roles; inline code, URLs and link targets are left alone."""
    if "@" not in text:
        return text
    if "`" not in text and "://" not in text and "<" not in text and "](" not in text:
        return _cite_text(em, text, origin)  # nothing to protect: no need to look for it
    pieces, pos = [], 0
    for m in PROTECTED_RE.finditer(text):
        pieces += [_cite_text(em, text[pos:m.start()], origin), m.group(0)]
        pos = m.end()
    pieces.append(_cite_text(em, text[pos:], origin))
    return "".join(pieces)


def _cite_text(em: Emitter, text: str, origin: Position) -> str:
    if "@" not in text:
        return text

    def cite(key: str, written: str) -> str:
        if not _known(em, key, origin):
            return written
        em.cited = True
        em.cited_keys[key] = None
        return "{" + em.cite_role + ":t}`" + key + "`"

    def intext(m: re.Match[str]) -> str:
        return cite(m.group(1), m.group(0))

    def group(m: re.Match[str]) -> str:
        # pandoc separates keys with ';'; some authors write ',' (a locator never starts with '@')
        parts = [p for part in m.group(1).split(";") for p in re.split(r",\s*(?=-?@)", part)]
        matched = [GROUP_ITEM_RE.match(part) for part in parts]
        items = [i for i in matched if i is not None]
        if len(items) < len(matched):  # brackets that are not a citation: look inside them
            return "[" + INTEXT_CITE_RE.sub(intext, m.group(1)) + "]"
        keys = [i.group(2) for i in items]
        if not all(_known(em, k, origin) for k in keys):
            return m.group(0)
        pre, post = items[0].group(1).strip(), (items[-1].group(3) or "").strip()
        role = "{" + em.cite_role + ":p}`" + (("{" + pre + "}") if pre else "") + ",".join(keys)
        role += ("{" + post + "}") if post else ""
        em.cited = True
        em.cited_keys.update(dict.fromkeys(keys))
        return role + "`"

    def either(m: re.Match[str]) -> str:
        return group(m) if m.group(1) is not None else cite(m.group(2), m.group(0))

    return CITATION_RE.sub(either, text).replace("\\@", "@")


def _known(em: Emitter, key: str, origin: Position) -> bool:
    keys = em.options.bib_keys
    if keys is None or key in keys:
        return True
    if key not in em._warned_keys:
        em._warned_keys.add(key)
        em.warn("W-CITE-KEY", f"citation key '{key}' is not in the bibliography; shown as text",
                origin)
    return False


def _references_block(variant: str, origin: Position, local: bool) -> list[Line]:
    heading = "## References"
    lines = [("", origin), (heading, origin), ("", origin)]
    if variant == "slides":
        lines += [("```{revealjs-section}", origin), (":data-state: scrollable", origin),
                  ("```", origin), ("", origin)]
    if local:
        return lines + [("```{footbibliography}", origin), ("```", origin)]
    lines += [("```{bibliography}", origin), (":filter: docname in docnames", origin),
              ("```", origin)]
    return lines


# -- display math ----------------------------------------------------------------------

ATTRIBUTE_FENCE_RE = re.compile(r"^([ \t]*(?:`{3,}|~{3,}))[ \t]*\{\.([\w+-]+)[^}]*\}[ \t]*$")
RAW_FENCE_RE = re.compile(r"^([ \t]*(?:`{3,}|~{3,}))[ \t]*\{=([\w-]+)\}[ \t]*$")
INLINE_NOTE_RE = re.compile(r"\^\[")
LINE_BLOCK_RE = re.compile(r"^\|[ \t].*[^|\s][ \t]*$")
GRID_TABLE_RE = re.compile(r"^\+(?:[-=:]+\+)+[ \t]*$")
PANDOC_ONLY = (
    (INLINE_NOTE_RE, "a pandoc inline footnote ^[... is not closed on its line: it is shown "
                     "as written; close it, or write [^name] and a '[^name]: ...' line"),
    (LINE_BLOCK_RE, "a pandoc line block ('| text') is shown as written"),
    (GRID_TABLE_RE, "a pandoc grid table is shown as written; write a pipe table instead"),
)


def _inline_notes(em: Emitter, text: str, origin: Position) -> str:
    """Pandoc's inline footnotes ``^[text]`` as MyST footnotes ``[^note-N]`` (defined at the
    end, where MyST gathers footnotes anyway); one left open on its line stays, and is warned."""
    pieces, pos = [], 0
    while (start := text.find("^[", pos)) >= 0:
        end = _closing_bracket(text, start + 1)
        if end < 0:
            break
        em.footnotes.append((text[start + 2:end], origin))
        pieces += [text[pos:start], f"[^note-{len(em.footnotes)}]"]
        pos = end + 1
    return "".join(pieces) + text[pos:]


def _closing_bracket(text: str, opening: int) -> int:
    """The ``]`` that closes the ``[`` at ``opening`` on this line, or -1."""
    depth = 0
    for i in range(opening, len(text)):
        if text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
            if depth == 0:
                return i
    return -1


FOOTNOTE_DEFINITION_RE = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:")
FOOTNOTE_REFERENCE_RE = re.compile(r"\[\^([^\]\s]+)\](?!:)")


def _without_unreferenced_footnotes(lines: list[Line]) -> list[Line]:
    """The lines without the footnotes nothing in them refers to: a deck leaves out the
    notes that cite a footnote whose definition stands outside them.  pandoc leaves an
    unused footnote out; MyST would say "Footnote [#] is not referenced" about a footnote
    the handout shows."""
    if not any("[^" in text for text, _ in lines):
        return lines
    prose = _outside_code(lines)
    referenced = {key for i in prose for key in FOOTNOTE_REFERENCE_RE.findall(lines[i][0])}
    out: list[Line] = []
    dropping = False
    for i, line in enumerate(lines):
        text = line[0]
        if i in prose:
            found = FOOTNOTE_DEFINITION_RE.match(text)
            if found:
                dropping = found.group(1) not in referenced
            elif text.strip() and not text.startswith((" ", "\t")):  # it goes on indented
                dropping = False
        if not dropping:
            out.append(line)
    return out


def _outside_code(lines: list[Line]) -> set[int]:
    """The indexes of the lines outside fenced code."""
    outside: set[int] = set()
    fence: str | None = None
    for i, (text, _) in enumerate(lines):
        fence, is_fence = _fence_state(text, fence)
        if fence is None and not is_fence:
            outside.add(i)
    return outside


def _footnote_definitions(notes: list[Line]) -> list[Line]:
    lines: list[Line] = []
    for number, (text, origin) in enumerate(notes, start=1):
        lines += [("", origin), (f"[^note-{number}]: {text}", origin)]
    return lines


def _warn_pandoc_only(em: Emitter, text: str, origin: Position) -> None:
    """Pandoc syntax MyST does not read: say so where it stands (docs/pandoc-syntax.md)."""
    for pattern, message in PANDOC_ONLY:
        if pattern.search(text):
            em.warn("W-PANDOC-SYNTAX", message, origin)


PANDOC_DIV_RE = re.compile(r"^([ \t]*:{3,})[ \t]*(?:\{([^}]*)\}|([\w-]+))[ \t]*:*[ \t]*$")


def _pandoc_fence(text: str) -> str:
    """Pandoc's fences in MyST: ```` ```{.python} ```` is ```` ```python ````, a raw
    ```` ```{=html} ```` block is ```` ```{raw} html ````, and a ``::: {.class}`` /
    ``::: class`` div is a ``{container}`` with those classes (a MyST directive such
    as ``:::{note}`` is left alone)."""
    m = ATTRIBUTE_FENCE_RE.match(text)
    if m:
        return f"{m.group(1)}{m.group(2)}"
    m = RAW_FENCE_RE.match(text)
    if m:
        return f"{m.group(1)}{{raw}} {m.group(2)}"
    m = PANDOC_DIV_RE.match(text)
    if m is None:
        return text
    if m.group(3):
        return f"{m.group(1)}{{container}} {m.group(3)}"
    tokens = m.group(2).split()
    if not tokens or not all(t[0] in ".#" or "=" in t for t in tokens):
        return text
    classes = " ".join(t[1:] for t in tokens if t.startswith("."))
    return f"{m.group(1)}{{container}} {classes}".rstrip()


def _ends_paragraph(item: str | r.Block) -> bool:
    """A blank line, a heading or a slide boundary: where pandoc ends display math too."""
    if type(item) is not str:
        return isinstance(item, STRUCTURE) or isinstance(item, r.Heading)
    stripped = item.strip()
    return not stripped or stripped.startswith("#")


SINGLE_DOLLAR_RE = re.compile(r"(?<![\\$])\$(?!\$)")


def _close_inline_math(em: Emitter, lines: list[tuple]) -> None:
    """Close inline math a paragraph opens with ``$`` and never closes, where LaTeX follows
    it (``$\\mathbf{w}, are ...``): readers would see its source, or its prose set as math.
    It is closed after the words that read as math (``$\\mathbf{w}$, are ...``) and reported
    at its line. A lone ``$5`` is money."""
    paragraph: list[int] = []
    for i in range(len(lines) + 1):
        text, _, verbatim = lines[i] if i < len(lines) else ("", None, False)
        if type(text) is str and not verbatim and text.strip() and "$$" not in text:
            paragraph.append(i)
            continue
        if paragraph:
            _close_paragraph_math(em, lines, paragraph)
            paragraph = []


def _close_paragraph_math(em: Emitter, lines: list[tuple], paragraph: list[int]) -> None:
    for _ in range(len(paragraph) * 4):  # each turn closes one; a bound, not an expectation
        found = _unclosed_dollar([lines[i][0] for i in paragraph])
        if found is None:
            return
        row, column = found
        text, origin, verbatim = lines[paragraph[row]]
        end = _math_end(text, column + 1)
        lines[paragraph[row]] = (f"{text[:end]}${text[end:]}", origin, verbatim)
        em.warn("W-MATH-UNCLOSED", "inline math opened with $ is not closed in its paragraph; "
                f"it is closed after {text[column + 1:end]}", origin)


def _unclosed_dollar(paragraph: list[str]) -> tuple[int, int] | None:
    """(line, column) of the first ``$`` that opens math MyST finds no end for, with LaTeX
    after it. MyST's rule: math opens at a ``$`` with no space after it and closes at the next
    ``$``, unless a space comes before that one: then the first is text."""
    if not any("$" in text for text in paragraph):
        return None
    text = "\n".join(paragraph)
    if "`" in text:
        text = INLINE_CODE_RE.sub(lambda m: " " * len(m.group(0)), text)
    starts = [0]
    for line in paragraph[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    dollars = [m.start() for m in SINGLE_DOLLAR_RE.finditer(text)]
    i = 0
    while i < len(dollars):
        start = dollars[i]
        if start + 1 < len(text) and not text[start + 1].isspace():
            if i + 1 < len(dollars) and not text[dollars[i + 1] - 1].isspace():
                i += 2
                continue
            rest = text[start + 1:text.find("\n", start) if "\n" in text[start:] else len(text)]
            if LATEX_RE.search(rest):
                row = bisect.bisect_right(starts, start) - 1
                return row, start - starts[row]
        i += 1
    return None


WORD_RE = re.compile(r"\s*([^\s$]+)")
MATH_WORD_RE = re.compile(r"[\\^_{}=+<>|*/]|^\W*(\d+|[A-Za-z]|-)\W*$")
"""A word that reads as math: a command, a script, an operator, a number, a one-letter name."""
TRAILING_PUNCTUATION = ".,;:!?"


def _math_end(text: str, start: int) -> int:
    """Where math opened before ``start`` and never closed most likely ends: after the words
    that read as math (the first always counts), braces balanced, without the punctuation
    after the last (``\\mathbf{w},`` ends after the brace)."""
    end = start
    depth = 0
    while (m := WORD_RE.match(text, end)) is not None:  # a "$" ends the words
        word = m.group(1)
        if end > start and depth == 0 and not MATH_WORD_RE.search(word):
            break
        depth = max(0, depth + word.count("{") - word.count("}"))
        end = m.end()
    while end > start + 1 and text[end - 1] in TRAILING_PUNCTUATION:
        end -= 1
    return end


LATEX_RE = re.compile(r"\\[A-Za-z]|[\^_]\{?\w")
"""What tells math from prose: a command, a superscript or a subscript."""


def _close_stray_math(em: Emitter, out: list[tuple], opened: tuple) -> bool:
    """A ``$$`` never closed before the paragraph ends would swallow the slides after it:
    where what follows it is LaTeX, close it there, so the reader sees math rather than its
    source; otherwise (``Costs $$ in dollars``), or where a figure or fragments closed since
    (their lines now follow it, and closing would cut them), escape it: it shows as written.
    Either way, say where it opened.

    ``opened`` is the line itself, not its place: a group closed since may have put lines
    before it."""
    text, origin, verbatim = opened
    index = next((i for i in range(len(out) - 1, -1, -1) if out[i] is opened), None)
    after = [text.split("$$", 1)[-1], *(line[0] for line in out[index + 1:] if type(line[0]) is str)] \
        if index is not None else []
    if index is not None and not any(line[2] for line in out[index + 1:]) \
            and LATEX_RE.search("\n".join(after)):
        out.append(("$$", origin, False))
        fate = "it is closed there"
    else:
        if index is not None:
            out[index] = (text.replace("$$", "\\$\\$"), origin, verbatim)
        fate = "the $$ is shown as written"
    em.warn("W-MATH-UNCLOSED", "display math opened with $$ is not closed before the paragraph "
            f"ends; {fate}", origin)
    return False


def _display_math(text: str, origin: Position, in_math: bool, out: list[tuple]) -> bool:
    """Give every ``$$`` block a blank line before and after (myst's dollarmath needs them).

    Returns whether a display block is still open after this line.
    """
    stripped = text.strip()
    if not in_math and stripped.startswith(("*", "-", ">", "|")):  # a list, quote or table: leave it
        out.append((text, origin, False))
        return in_math
    if not in_math and stripped.startswith("$$") and out and type(out[-1][0]) is str \
            and out[-1][0].strip():
        out.append(("", origin, False))
    closes = in_math and stripped.count("$$") % 2 == 1
    end = text.rfind("$$") + 2
    if closes and text[end:].strip():  # "$$where ...": the sentence after the block goes on below
        out += [(text[:end], origin, False), ("", origin, False), (text[end:].lstrip(), origin, False)]
        return False
    out.append((text, origin, False))
    if stripped.count("$$") % 2:
        in_math = not in_math
    if not in_math and stripped.endswith("$$"):
        out.append(("", origin, False))
    return in_math


# -- the title block -------------------------------------------------------------------

def _authors(meta: dict) -> list[str]:
    return [f"[{a['name']}]({a['url']})" if a["url"] else a["name"] for a in author_list(meta)]


def _title_block(variant: str, meta: dict) -> list[Line]:
    title = str(meta.get("title") or "Untitled talk").strip()
    lines = [f"# {title}", ""]
    if variant == "slides":
        conf = {}
        transition = str(meta.get("transition", "")).strip().lower()
        if transition:
            conf["transition"] = transition
        if conf:
            lines += ["```{revealjs-slide}", f":conf: {json.dumps(conf)}", "```", ""]
    subtitle = meta.get("subtitle") or meta.get("sutitle")
    if subtitle:
        lines += ["{.talk-subtitle}", str(subtitle).strip(), ""]
    authors = _authors(meta)
    if authors:
        lines += ["{.talk-authors}", ", ".join(authors), ""]
    when = " · ".join(str(meta[k]).strip() for k in ("venue", "date") if meta.get(k))
    if when:
        lines += ["{.talk-venue}", when, ""]
    if variant == "handout" and isinstance(meta.get("abstract"), str) and meta["abstract"].strip():
        lines += ["{.talk-abstract}", " ".join(meta["abstract"].split()), ""]
    return [(t, None) for t in lines]
