"""What the Sphinx side learns about each talk, handed to the site builder.

One ``TalkStatus`` per talk and variant is kept in Sphinx's environment while
it builds and saved beside the doctrees when the build finishes; the site
builder (another process) loads the same records to assemble the index and
decide which talks failed.
"""
from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field

from .myst.anchors import SlideAnchor


@dataclass
class TalkSummary:
    """The front matter the site index shows, as plain strings."""

    title: str = ""
    subtitle: str = ""
    date: str = ""
    venue: str = ""
    authors: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_meta(cls, meta: dict) -> TalkSummary:
        from .engine.talkfile import author_list

        text = {key: str(meta.get(key) or "").strip() for key in ("title", "subtitle", "date", "venue")}
        return cls(**text, authors=author_list(meta))


@dataclass
class TalkStatus:
    source: str = ""
    summary: TalkSummary | None = None
    slide_anchors: list[SlideAnchor] = field(default_factory=list)
    """The deck's slides after the title slide, each with the origin of its heading: the
    handout's links to them (kept by the handout alone, which writes them)."""
    math_macros: dict[str, object] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    """Formatted error diagnostics."""
    refusals: list[str] = field(default_factory=list)
    """Those of ``errors`` that refused a file the talk names (``PUBLISHED_ERRORS``): the
    page shows a placeholder there and is complete otherwise."""
    warnings: list[str] = field(default_factory=list)
    """The first few formatted warnings (``warning_count`` counts them all)."""
    warning_count: int = 0
    missing: list[str] = field(default_factory=list)
    """Files the talk names, or places its includes were looked for, where no file is: the
    talk is read again when one appears."""
    sphinx_warnings: int = 0
    prepared: str = ""
    """The digest of the prepared record the page was read from (``api.PreparedTalk``);
    empty when the build expanded the talk itself."""


PUBLISHED_ERRORS = frozenset({"E-PATH-OUTSIDE", "E-FILE-NOT-MEDIA"})
"""Errors that leave a publishable page: the refused file is a placeholder, as a missing
image is.  The build still fails (exit 1), but the page is published, not withheld."""


def withholds_page(status: TalkStatus, problems: list[str]) -> bool:
    """Whether a talk's problems keep its new page from being published: any problem
    but a refusal does."""
    refusals = getattr(status, "refusals", [])  # a status saved before the field existed
    return any(problem not in refusals for problem in problems)


@dataclass
class VariantStatus:
    variant: str
    talks: dict[str, TalkStatus]


STATUS_FILE = "talks-status.pickle"


def save(folder: str, status: VariantStatus) -> None:
    path = os.path.join(folder, STATUS_FILE)
    with open(path + ".tmp", "wb") as fh:
        pickle.dump(status, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".tmp", path)


def load(folder: str) -> VariantStatus | None:
    try:
        with open(os.path.join(folder, STATUS_FILE), "rb") as fh:
            status = pickle.load(fh)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        return None
    return status if isinstance(status, VariantStatus) else None
