"""What a site build is asked to do (``talks build``'s options)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import VARIANTS
from .shards import Shard

__all__ = ["SiteOptions"]


@dataclass
class SiteOptions:
    talks: list[str] = field(default_factory=list)
    """Talk files; empty means every talk under the project's ``talks/``."""
    variants: tuple[str, ...] = VARIANTS
    include_roots: list[str] = field(default_factory=list)
    bib_files: list[str] = field(default_factory=list)
    diagrams_dir: str | None = None
    """``--diagrams DIR``: the images folder, above conf.py and folder settings."""
    out: str = "_build/site"
    work: str | None = None
    """Persistent Sphinx state; default ``<out's parent>/.work/<out's name>``."""
    strict: bool = False
    jobs: int | None = None
    project: str | None = None
    """The folder holding ``conf.py``; found from the talks or the current folder."""
    exports: tuple[str, ...] = ()
    """Exports to make besides the HTML (``build_tools.export.FORMATS``); none by default."""
    slide_notes: bool = False
    """Slide PDFs get a page of speaker notes after each slide that has notes."""
    shard: Shard | None = None
    """Build only this shard's talks (``talks merge`` puts the shard sites together)."""
    preview: bool = False
    """The author's preview (``talks serve``): pages show the build's warnings, and the
    site a build replaced is left beside the new one, its folders used again for the next
    build's site (``publish.new_site_folder``) rather than removed and made anew."""

    def folders(self) -> tuple[Path, Path]:
        """(the site, the work folder), absolute: what a build writes."""
        out = Path(self.out).resolve()
        return out, Path(self.work).resolve() if self.work else out.parent / ".work" / out.name
