"""Vocabulary building blocks that the macro language cannot express.

The vocabulary in ``macros/`` is written in the macro language; where a macro
needs to count, look at a file, or mark structure for the emit stage, it calls
one of these primitives (all named ``\\__something``).  Structure leaves the
engine as typed records (``records``), never as text: the emit stage lays
them out per variant as slides, notes blocks, headings, images and figures.
"""
from __future__ import annotations

import difflib
import html
import os
import re

from . import records as r
from ..diagnostics import Severity
from .expander import Call, Expander, Primitive
from .output import Out
from ..paths import confine, display_name
from .source import file_stamp, in_math

def _wrap(ex: Expander, before: str, inner: Out, after: str) -> Out:
    out = ex.generated(before)
    out.extend(inner)
    out.add(after, ex._generated())
    return out


def _enclose(ex: Expander, start: r.Block, inner: Out, end: r.Block) -> Out:
    """``inner`` between two records, each on a line of its own."""
    out = ex.block(start, after="\n")
    out.extend(inner)
    out.extend(ex.block(end, before="\n"))
    return out


def _one_line(out: Out) -> str:
    return " ".join(out.text().split())


def heading(ex: Expander, call: Call, level: Out, title: Out | None = None, attrs: Out | None = None) -> Out:
    """``\\__heading{level}{title}{attrs}``: a slide boundary or a handout heading."""
    lvl = level.text().strip()
    lvl = lvl if lvl in ("1", "2", "3", "4", "5", "6") else "2"
    return ex.block(r.Heading(int(lvl), _one_line(title) if title else "",
                              _one_line(attrs) if attrs else ""))


def notes(ex: Expander, call: Call, text: Out | None = None) -> Out | None:
    """``\\__notes{text}``: text for the presenter (speaker view or notes block)."""
    if text is None or not text.text().strip():
        return None
    before, after = ex.call_neighbours()
    return _enclose(ex, r.NotesStart(inline=before), text, r.NotesEnd(inline=after))


def sandboxed_notes(ex: Expander, call: Call) -> Out | None:
    """SPEAKER-NOTES' ``\\notes``: shown, but expanded in a throw-away copy of the state.

    The presenter document must keep the deck's guards and accumulators
    (docs/macro-language.md, "Speaker-notes state"), so whatever the notes define or include is forgotten afterwards.
    """
    if not call.regions:
        return None
    saved = ex.state
    ex.state = saved.copy()
    sandbox = ex.begin_sandbox()
    try:
        text = ex.expand_region(call.src, *call.regions[0], call.frame)
    finally:
        ex.state = saved
        ex.end_sandbox(sandbox)
    return notes(ex, call, text)


def block(ex: Expander, call: Call, text: Out | None = None) -> Out | None:
    """``\\__block{text}``: a multi-line argument starts and ends on block boundaries."""
    if text is None:
        return None
    if not text.has_newline() or _written_in_math(text):
        return text
    return _wrap(ex, "\n\n", text, "\n\n")


def _written_in_math(text: Out) -> bool:
    """Whether an argument starts inside ``$$ ... $$`` where its talk wrote it
    (``\\slides{\\\\ &}`` in an align): a blank line there would end the math."""
    origin = text.origins[0] if text.origins and not text.blocks else None
    if origin is None or len(origin) != 2:
        return False
    frame, offset = origin
    return in_math(frame.source.text, offset)


def fragments(ex: Expander, call: Call, text: Out | None = None) -> Out | None:
    """``\\__fragments{text}``: reveal.js fragments around a block (usually a list)."""
    if text is None or not text.text().strip():
        return None
    return _enclose(ex, r.FragmentsStart(), text, r.FragmentsEnd())


def code(ex: Expander, call: Call, lang: Out | None = None, text: Out | None = None) -> Out | None:
    """``\\__code{language}{text}``: a fenced code block, fence longer than any inside."""
    if text is None:
        return None
    body = text.text().strip("\n")
    if not body.strip():
        return None
    return ex.block(r.Code(lang.text().strip() if lang else "", body))


def _image_path(ex: Expander, path: str) -> str | None:
    """The file an image path names on disk, or None when it cannot be checked."""
    if re.match(r"[a-z]+:", path) or path.startswith("//"):
        return None
    diagrams = ex.options.get("diagrams")
    if diagrams and path.startswith(diagrams[0]):
        return os.path.join(diagrams[1], path[len(diagrams[0]):])
    if path.startswith("/"):
        root = ex.options.get("image_root")
        return os.path.join(root, path.lstrip("/")) if root else None
    doc_dir = ex.options.get("doc_dir")
    ex.note("option", "doc_dir", doc_dir)
    return os.path.join(doc_dir, path) if doc_dir else None


def climbs_out(path: str) -> bool:
    """Whether a /-rooted path climbs above its root with ``..`` (checked without a root on disk)."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else 1
        if depth < 0:
            return True
    return False


def refuse_outside(ex: Expander, what: str, path: str, on_disk: str | None) -> bool:
    """Report a file outside the talk's repository and roots; True when it was refused.

    Sphinx copies any image path it is given, so such a path must never reach it.
    """
    allowed = ex.options.get("allowed_roots")
    if on_disk is None:
        outside = path.startswith("/") and climbs_out(path)
    else:
        outside = allowed is not None and confine(on_disk, allowed) is None
    if outside:
        # the path as named (a symbolic link is named, never where it points)
        shown = display_name(os.path.normpath(on_disk)) if on_disk and "\x00" not in on_disk else path
        ex.report("E-PATH-OUTSIDE", Severity.ERROR,
                  f"{what} {path} resolves to {shown}, outside the talk's repository and its "
                  "include roots; refused", hint="add its folder with -I DIR to allow it")
    return outside


def check_image(ex: Expander, path: str, person: str = "") -> bool:
    """Report a missing or refused image; True when the image exists or cannot be checked.

    A missing portrait (``person`` names whom it shows) is reported once per talk: a
    course shows the same people on many slides, and the fix is one picture."""
    on_disk = _image_path(ex, path)
    if refuse_outside(ex, "image", path, on_disk):
        return False
    if on_disk is None:
        return True
    exists = os.path.exists(on_disk)
    ex.note("file", on_disk, file_stamp(on_disk))
    if exists:
        return True
    if person and ex.bump("counter", "portrait " + on_disk) > 1:
        return False
    folder = os.path.dirname(on_disk)
    hint = f"looked for {display_name(on_disk)}"
    if os.path.isdir(folder):
        close = difflib.get_close_matches(os.path.basename(on_disk), os.listdir(folder), n=3, cutoff=0.6)
        if close:
            hint = "did you mean " + " or ".join(close) + "? " + hint
    what = f"portrait of {person}" if person else "image"
    instead = "; their initials are shown instead" if person else ""
    ex.report("W-IMAGE-MISSING", Severity.WARNING,
              f"{what} not found: {path} (searched {display_name(folder)}){instead}",
              hint=hint, subject=on_disk)
    return False


def placeholder(ex: Expander, what: str, path: str) -> Out:
    return ex.block(r.Missing(what, path))


def image(ex: Expander, call: Call, path: Out | None = None, ext: Out | None = None, width: Out | None = None,
          classes: Out | None = None, align: Out | None = None, alt: Out | None = None,
          link: Out | None = None) -> Out | None:
    """``\\__image{file}{ext}{width}{class}{align}{alt}{link}``: an image directive.

    The extension is appended unless the file already has it (one corpus call
    writes ``...Slow.jpg``; lamd would ask for ``.jpg.jpg``).
    """
    if path is not None and path.blocks:  # e.g. \includegif{\includegif{...}}: keep the inner image
        ex.report("W-IMAGE", Severity.WARNING,
                  f"the file argument of \\{call.name} is itself an image; the inner one is used")
        return path
    target = path.text().strip() if path else ""
    if not target or "\n" in target:
        ex.report("W-IMAGE", Severity.WARNING, f"\\{call.name} names no file")
        return None
    suffix = ext.text().strip() if ext else ""
    if suffix and not target.lower().endswith("." + suffix.lower()):
        target = f"{target}.{suffix}"
    target = re.sub(r"(?<!:)/{2,}", "/", target)
    found = r.Image(target, width.text().strip() if width else "",
                    " ".join(classes.text().split()) if classes else "",
                    align.text().strip() if align else "",
                    " ".join(alt.text().split()) if alt else "",
                    link.text().strip() if link else "")
    person = found.alt if PORTRAIT_CLASS in found.classes.split() else ""
    if not check_image(ex, target, person):
        if person:  # who it is matters more than the frame of a picture
            return ex.block(r.Portrait(person, found.target, found.width))
        return placeholder(ex, "image", target)
    return ex.block(found)


PORTRAIT_CLASS = "circle-head"
"""The class ``\\circleHead`` gives a person's portrait (macros/people.gpp)."""


def unique_label(ex: Expander, label: str) -> str:
    """Figure labels are unique per document: later duplicates get -2, -3, ..."""
    count = ex.bump("label", label)
    if count == 1:
        return label
    ex.report("W-LABEL", Severity.WARNING,
              f"figure label '{label}' is used more than once; this one becomes '{label}-{count}'")
    return f"{label}-{count}"


def figure(ex: Expander, call: Call, contents: Out | None = None, caption: Out | None = None,
           label: Out | None = None) -> Out | None:
    """HANDOUT's ``\\figure``: a numbered figure, or a captioned container."""
    cap = caption.text().strip() if caption else ""
    name = label.text().strip() if label else ""
    name = unique_label(ex, name) if name else ""
    image = _single_image(contents)
    if image is not None:
        return ex.block(r.Figure(image, cap, name))
    return _enclose(ex, r.FigureStart(name), contents.trimmed() if contents else Out(), r.FigureEnd(cap))


def _single_image(contents: Out | None) -> r.Image | None:
    """The image when ``contents`` is one image and nothing but blank text."""
    if contents is None or contents.blocks != 1:
        return None
    image = None
    for part in contents.parts:
        if type(part) is str:
            if part.strip():
                return None
        elif isinstance(part, r.Image):
            image = part
    return image


def inline_svg(ex: Expander, call: Call, path: Out | None = None) -> Out | None:
    """``\\__svg{file}``: the SVG source inlined (lamd's ``\\inputdiagram`` intent)."""
    target = path.text().strip() if path else ""
    if not target:
        return None
    if not target.lower().endswith(".svg"):
        target += ".svg"
    on_disk = _image_path(ex, target)
    if refuse_outside(ex, "diagram", target, on_disk):
        return placeholder(ex, "diagram", target)
    if on_disk is not None:
        ex.note("file", on_disk, file_stamp(on_disk))
    if on_disk is None or not os.path.exists(on_disk):
        if on_disk is not None:
            ex.report("W-IMAGE-MISSING", Severity.WARNING, f"diagram not found: {target}",
                      subject=on_disk)
        return placeholder(ex, "diagram", target)
    with open(on_disk, encoding="utf-8", errors="replace") as fh:
        svg = fh.read()
    svg = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>", "", svg).strip()
    # one line, so CommonMark keeps it as a single raw HTML block
    svg = re.sub(r">\s*\n\s*<", "><", svg).replace("\n", " ")
    return ex.block(r.Html(f'<div class="inline-diagram">{svg}</div>'))


def animation_start(ex: Expander, call: Call, name: Out | None = None) -> Out:
    return ex.block(r.AnimationStart(_one_line(name) if name else ""))


def animation_frame(ex: Expander, call: Call, contents: Out | None = None) -> Out:
    return _enclose(ex, r.FrameStart(), contents or Out(), r.FrameEnd())


def animation_end(ex: Expander, call: Call) -> Out:
    return ex.block(r.AnimationEnd())


def fragment(ex: Expander, call: Call, text: Out | None = None, kind: Out | None = None) -> Out | None:
    """``\\__fragment{text}{type}``: text revealed in turn, as a span where it is inline and as
    an HTML block where it holds paragraphs or HTML blocks (a span cannot hold those; the
    Markdown inside a block, between blank lines, is read as Markdown, as the columns' is)."""
    if text is None or not text.text().strip():
        return None
    classes = ["fragment", *(kind.text().split() if kind else [])]
    body = text.text().strip()
    if text.blocks or "\n\n" in body or body.startswith("<"):
        return _wrap(ex, f'\n\n<div class="{html.escape(" ".join(classes))}">\n\n', text,
                     "\n\n</div>\n\n")
    return _wrap(ex, "[", text, "]{" + " ".join("." + c for c in classes) + "}")


def counter(ex: Expander, call: Call, name: Out | None = None) -> Out:
    """``\\__count{name}``: 1, 2, 3 ... per name and document."""
    return ex.generated(str(ex.bump("counter", name.text().strip() if name else "")))


PRIMITIVES = {p.name: p for p in [
    Primitive("__heading", heading),
    Primitive("__notes", notes),
    Primitive("__displaynotes", sandboxed_notes, raw=True),
    Primitive("__block", block),
    Primitive("__fragments", fragments),
    Primitive("__code", code),
    Primitive("__image", image),
    Primitive("__figure", figure),
    Primitive("__svg", inline_svg),
    Primitive("__animation", animation_start),
    Primitive("__frame", animation_frame),
    Primitive("__endanimation", animation_end),
    Primitive("__count", counter),
    Primitive("__fragment", fragment),
]}
