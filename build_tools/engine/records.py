"""Typed records the expander leaves in its output for the emit stage.

Text a macro expands to stays text; structure (where a slide starts, what the
presenter says, an image, a code block) travels as one of these records,
each placed in the output stream with the origin of the call that made it.
Emit lays them out per variant; nothing downstream parses text to find them.
"""
from __future__ import annotations

from dataclasses import dataclass


class Block:
    """A record standing on a line of its own in the expanded output."""

    __slots__ = ()


record = dataclass(frozen=True, slots=True)
"""Records are values: immutable, so a recorded include can be replayed as it is."""


@record
class Heading(Block):
    """A slide boundary: a new slide in the deck, a section heading in the handout."""

    level: int
    title: str
    attrs: str = ""
    """Pandoc attributes as written (``.scrollable data-background=...``)."""


@record
class NotesStart(Block):
    """What follows, up to the matching ``NotesEnd``, is said by the presenter."""


@record
class NotesEnd(Block):
    """Closes ``NotesStart``."""


@record
class AnimationStart(Block):
    name: str


@record
class FrameStart(Block):
    """One frame of the animation opened last."""


@record
class FrameEnd(Block):
    """Closes ``FrameStart``."""


@record
class AnimationEnd(Block):
    """Closes ``AnimationStart``."""


@record
class FragmentsStart(Block):
    """The blocks up to ``FragmentsEnd`` appear one at a time in the deck."""


@record
class FragmentsEnd(Block):
    """Closes ``FragmentsStart``."""


@record
class Image(Block):
    path: str
    width: str = ""
    classes: str = ""
    align: str = ""


@record
class Figure(Block):
    """A numbered figure of one image, with its caption (Markdown) and label."""

    image: Image
    caption: str
    label: str = ""


@record
class FigureStart(Block):
    """A figure of anything but a single image: contents follow, up to ``FigureEnd``."""

    label: str = ""


@record
class FigureEnd(Block):
    caption: str = ""


@record
class Code(Block):
    """A code block a code-family macro made (a notebook's code cell)."""

    language: str
    text: str


@record
class Html(Block):
    """Raw HTML on one line (an inlined SVG diagram)."""

    html: str


@record
class Missing(Block):
    """Where an include, image or diagram could not be found (already reported)."""

    what: str
    target: str
