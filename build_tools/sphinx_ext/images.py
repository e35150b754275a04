"""Image file names in the site that do not depend on which talks a build read.

Sphinx copies every image into ``_images/`` under its file name, numbering a second
file of the same name (``safe-boda1.png``) in the order it happened to read the
talks.  Built on one machine or sharded over several, the same figure then gets
different names, and the shards of one site disagree on what ``safe-boda.png`` is.
Here each image is named by its stem and its content (``safe-boda-3f2a9c01d4.png``):
the same picture always has the same name, two pictures never share one, and a
picture that several talks show is one file in the site.
"""
from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from sphinx.util._files import FilenameUniqDict

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

_DIGESTS: dict[tuple[str, int, int], str] = {}
"""Content digests by (path, modification time, size): each file is read once a process."""


def content_name(path: str) -> str:
    """``stem-DIGEST.ext``: a name only the same content shares."""
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    digest = _DIGESTS.get(key)
    if digest is None:
        sha = hashlib.sha1(usedforsecurity=False)
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                sha.update(chunk)
        digest = _DIGESTS[key] = sha.hexdigest()[:10]
    stem, ext = os.path.splitext(os.path.basename(path))
    return f"{stem}-{digest}{ext}"


class ContentNamedImages(FilenameUniqDict):
    """Sphinx's image table (source path -> the talks showing it, its name in ``_images``),
    with names made from content rather than numbered in reading order."""

    srcdir = ""
    """Set before each read: the source paths are relative to it."""

    def add_file(self, docname: str, newfile: str | os.PathLike[str]) -> str:
        newfile = str(newfile)
        try:
            name = content_name(os.path.join(self.srcdir, newfile))
        except OSError:  # unreadable: Sphinx reports it; keep its own naming
            return super().add_file(docname, newfile)
        docnames = self[newfile][0] if newfile in self else set()
        docnames.add(docname)
        # a changed picture is renamed for every talk showing it: all of them are reread
        self[newfile] = (docnames, name)
        self._existing.add(name)
        return name


def on_env_before_read_docs(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    images = env.images
    if not isinstance(images, ContentNamedImages):
        images = ContentNamedImages()
        images.update(env.images)
        images._existing = set(env.images._existing)
        env.images = images
    images.srcdir = str(app.srcdir)


def setup(app: Sphinx) -> None:
    app.connect("env-before-read-docs", on_env_before_read_docs)
