"""One configuration object for every entry point (CLI, Sphinx extension, tests)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_MACROS = PACKAGE_DIR.parent / "macros"

VARIANTS = ("slides", "speaker-notes", "handout")
VARIANT_LABELS = {"slides": "Slides", "speaker-notes": "Speaker notes", "handout": "Handout"}

SYMBOLS = {
    "slides": ("HTML", "SLIDES", "DARKBACKGROUND"),
    "speaker-notes": ("HTML", "SLIDES", "SPEAKERNOTES"),
    "handout": ("HTML", "NOTES", "CODE", "EDIT", "EXERCISES"),
}
"""Build symbols per variant (spec §4.1)."""

CODE_LEVELS = {
    "none": (),
    "sparse": ("CODE",),
    "plot": ("CODE", "PLOTCODE"),
    "diagnostic": ("CODE", "PLOTCODE", "DISPLAYCODE", "HELPERCODE"),
    "full": ("CODE", "PLOTCODE", "DISPLAYCODE", "HELPERCODE", "MAGICCODE"),
}


@dataclass
class TalkConfig:
    include_roots: list[str] = field(default_factory=list)
    """Snippet roots searched by ``\\include``, in order (after the talk's own folders)."""
    macros_dir: str = str(PROJECT_MACROS)
    """The vocabulary, written in the macro language; ``talk-macros.gpp`` is its entry point."""
    diagrams_url: str = "/diagrams"
    """What ``\\diagramsDir`` expands to: a path Sphinx resolves from its source directory."""
    image_root: str | None = None
    """The folder that ``/``-rooted image paths name on disk (Sphinx's source directory)."""
    github_base_url: str = "https://github.com/lawrennd/snippets/edit/main/"
    blog_base_url: str = "http://inverseprobability.com/"
    code_level: str = "sparse"
    """Code shown in the handout: none, sparse, plot, diagnostic or full."""
    clean_comments: bool = True
    """Leave HTML comments unexpanded (False: expand inside them, as gpp does)."""
    strict: bool = False
    symbols: dict[str, str] = field(default_factory=dict)
    """Extra ``NAME=VALUE`` definitions, as lamd's ``--meta-data``."""
    speaker_notes_dark: bool = False
    bib_files: list[str] = field(default_factory=list)
    thanks_links: list[tuple[str, str]] = field(default_factory=list)
    """The closing slide's links as (label, url); empty keeps the vocabulary's default."""
    notes_in_deck: bool = False
    reuse_includes: bool = True
    """Replay an included file's recorded expansion when nothing it read has changed."""

    def variant_symbols(self, variant: str) -> tuple[str, ...]:
        symbols = list(SYMBOLS[variant])
        if variant == "handout":
            symbols = [s for s in symbols if s != "CODE"] + list(CODE_LEVELS.get(self.code_level, ("CODE",)))
        if variant == "speaker-notes" and self.speaker_notes_dark:
            symbols.append("DARKBACKGROUND")
        return tuple(symbols)


def find_project_root(start: str | os.PathLike) -> Path | None:
    """The nearest folder above ``start`` that holds a ``conf.py`` or an ``includes/`` folder."""
    here = Path(start).resolve()
    for folder in [here, *here.parents] if here.is_dir() else here.parents:
        if (folder / "conf.py").is_file() or (folder / "includes").is_dir():
            return folder
    return None


def default_roots(talk: str | os.PathLike) -> list[str]:
    root = find_project_root(talk)
    if root and (root / "includes").is_dir():
        return [str(root / "includes")]
    return []
