"""Expanding one talk for one variant: the engine's entry point.

Reads the talk, loads the variant's vocabulary, expands the body and returns
an ``ExpandedTalk``: lines of text and typed records, each with its origin.
The engine knows nothing of MyST, Sphinx or the site.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..config import TalkConfig
from ..diagnostics import Diagnostic, MacroError
from .advice import NameAdvisor
from .texnames import mathjax_names, notation_names
from .expander import META, Expander, ExpansionState
from .memo import Memo
from .records import Block
from .includes import include_resolver
from .source import Frame, new_snapshot
from .talkfile import Talk, read_talk
from .vocabulary import define_people, define_variables, load_vocabulary, project_people

Item = tuple["str | Block", "tuple[Frame, int] | None"]
"""One expanded line (or record) and the (frame, offset) it came from."""


@dataclass
class ExpandedTalk:
    talk: Talk
    variant: str
    items: list[Item]
    diagnostics: list[Diagnostic]
    dependencies: list[str] = field(default_factory=list)
    """Every file read: the talk, its includes, the vocabulary."""
    absent: list[str] = field(default_factory=list)
    """Every place a file appearing would change the expansion (an include missing, or found
    further down the search order)."""
    includes: list[tuple[str, str, int]] = field(default_factory=list)
    """(including file, included file, line) in reading order."""
    allowed_roots: tuple[str, ...] = ()
    """The only folders files the talk names may come from (``source.confine``)."""


_MEMO = Memo()
"""Recordings of included files, shared by every talk this process expands."""

_ADVISORS: dict[int, NameAdvisor] = {}


def expand(path: str, variant: str, config: TalkConfig,
           advisor: Callable[[list[str]], NameAdvisor] | None = None, *,
           fresh_view: bool = True) -> ExpandedTalk:
    """Expand the talk at ``path`` for ``variant``.

    ``advisor`` is a factory given every known name; the advisor it makes
    suggests the closest name for an unknown macro (``NameAdvisor`` unless given).
    ``fresh_view`` checks every cached file against the disk again; a batch that
    took one view of the disk for all its talks (``source.new_snapshot``) says False.
    Raises ``MacroError`` only for a talk that cannot be read at all.
    """
    if fresh_view:
        new_snapshot()
    talk = read_talk(path)
    vocabulary, vocab_files, vocab_diagnostics = load_vocabulary(variant, config)
    state = ExpansionState(dict(vocabulary))
    define_variables(state.macros, talk, config)
    resolver, setting_diagnostics = include_resolver(path, config)
    talk_dir = os.path.dirname(talk.source.path)
    people = project_people(resolver, talk_dir)
    if people is not None:
        setting_diagnostics = [*setting_diagnostics, *define_people(state, people, variant)]
    ex = Expander(state, resolver, variant=variant, clean_comments=config.clean_comments,
                  stop_at_error=config.stop_at_error,
                  options={"image_root": config.image_root, "doc_dir": talk_dir,
                           "talk_dir": talk_dir, "allowed_roots": resolver.allowed,
                           "diagrams": diagrams_mapping(config)})
    ex.advisor = _advisor(advisor or NameAdvisor, vocabulary)
    ex.math_names = mathjax_names() | notation_names(os.path.join(config.macros_dir, "notation.tex"))
    if config.reuse_includes:
        ex.memo = _MEMO
        ex.memo_context = (variant, config.clean_comments, config.stop_at_error,
                           tuple(resolver.roots), resolver.macros_dir, config.image_root,
                           config.diagrams_dir, id(vocabulary))
    try:
        out = ex.expand_document(talk.source, talk.body_offset, talk.source.display)
    except MacroError as exc:  # stopped at the first error: what it read up to there counts
        exc.read, exc.absent = tuple(_read(talk, ex, vocab_files, people)), tuple(dict.fromkeys(ex.absent))
        raise
    diagnostics = [*talk.diagnostics, *setting_diagnostics, *vocab_diagnostics, *ex.diagnostics]
    return ExpandedTalk(talk, variant, out.lines(), diagnostics,
                        dependencies=_read(talk, ex, vocab_files, people),
                        absent=list(dict.fromkeys(ex.absent)), includes=ex.includes,
                        allowed_roots=resolver.allowed)


def _read(talk: Talk, ex: Expander, vocab_files: list[str], people: str | None) -> list[str]:
    """Every file the expansion read, once each."""
    return list(dict.fromkeys([talk.source.path, *ex.dependencies, *vocab_files,
                               *([people] if people else [])]))


def diagrams_mapping(config: TalkConfig) -> tuple[str, str] | None:
    """(URL prefix, folder on disk) when the diagrams folder is configured: image paths
    under ``\\diagramsDir`` are looked for there rather than under the image root."""
    if not config.diagrams_dir:
        return None
    return config.diagrams_url.rstrip("/") + "/", config.diagrams_dir


def _advisor(factory: Callable[[list[str]], NameAdvisor], vocabulary: dict) -> NameAdvisor:
    """One did-you-mean helper per vocabulary, so its cache lasts across talks."""
    key = id(vocabulary)
    if key not in _ADVISORS:
        _ADVISORS[key] = factory([*vocabulary, *META])
    return _ADVISORS[key]


