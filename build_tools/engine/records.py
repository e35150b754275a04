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


# Records are values (frozen): a recorded include can be replayed as it is.


@dataclass(frozen=True, slots=True)
class Heading(Block):
    """A slide boundary: a new slide in the deck, a section heading in the handout."""

    level: int
    title: str
    attrs: str = ""
    """Pandoc attributes as written (``.scrollable data-background=...``)."""


@dataclass(frozen=True, slots=True)
class NotesStart(Block):
    """What follows, up to the matching ``NotesEnd``, is said by the presenter."""

    inline: bool = False
    """Written on a line after other text: the notes go on the sentence before."""


@dataclass(frozen=True, slots=True)
class NotesEnd(Block):
    """Closes ``NotesStart``."""

    inline: bool = False
    """Followed by other text on its line: the sentence goes on after the notes."""


@dataclass(frozen=True, slots=True)
class AnimationStart(Block):
    name: str


@dataclass(frozen=True, slots=True)
class FrameStart(Block):
    """One frame of the animation opened last."""


@dataclass(frozen=True, slots=True)
class FrameEnd(Block):
    """Closes ``FrameStart``."""


@dataclass(frozen=True, slots=True)
class AnimationEnd(Block):
    """Closes ``AnimationStart``."""


@dataclass(frozen=True, slots=True)
class FragmentsStart(Block):
    """The blocks up to ``FragmentsEnd`` appear one at a time in the deck."""


@dataclass(frozen=True, slots=True)
class FragmentsEnd(Block):
    """Closes ``FragmentsStart``."""


@dataclass(frozen=True, slots=True)
class Image(Block):
    path: str
    width: str = ""
    classes: str = ""
    align: str = ""
    alt: str = ""
    """What the image shows, for readers who cannot see it (a portrait's name)."""
    target: str = ""
    """Where the image links to, if anywhere."""


@dataclass(frozen=True, slots=True)
class Figure(Block):
    """A numbered figure of one image, with its caption (Markdown) and label."""

    image: Image
    caption: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class FigureStart(Block):
    """A figure of anything but a single image: contents follow, up to ``FigureEnd``."""

    label: str = ""


@dataclass(frozen=True, slots=True)
class FigureEnd(Block):
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Code(Block):
    """A code block a code-family macro made (a notebook's code cell)."""

    language: str
    text: str


@dataclass(frozen=True, slots=True)
class Html(Block):
    """Raw HTML on one line (an inlined SVG diagram)."""

    html: str


@dataclass(frozen=True, slots=True)
class Portrait(Block):
    """A person's portrait whose picture was not found (already reported): their initials
    in a circle and their name, each linked to their page."""

    name: str
    url: str = ""
    width: str = ""


@dataclass(frozen=True, slots=True)
class Missing(Block):
    """Where an include, image or diagram could not be found (already reported)."""

    what: str
    target: str
