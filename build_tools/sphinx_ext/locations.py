"""Locations: report Sphinx's warnings on generated MyST at the original file and line.

A talk's MyST is generated, so a warning "talk.md:240" from MyST or docutils
would point at a line nobody wrote.  The engine gives an origin for every
generated line; with it

* a logging filter on Sphinx's warning handler rewrites the location of
  warnings raised while a talk is parsed (and of warnings buffered by a
  parallel reader, at ``doctree-read``, where they are marked with their
  document so that they count for it when the main process handles them);
* ``doctree-read`` moves every node's ``source``/``line`` to its origin, so
  later warnings (references, images, the writers) are located there too,
  in this build and in incremental builds that reuse the pickled doctree.
"""
from __future__ import annotations

import logging as std_logging
import os
from typing import TYPE_CHECKING
from collections.abc import Sequence

from docutils import nodes
from docutils.utils import get_source_line

from ..engine.output import LazyOrigins, Origin

if TYPE_CHECKING:
    from sphinx.application import Sphinx


Origins = Sequence[Origin | None] | LazyOrigins
"""The origin of each line of a generated document, listed or worked out when asked."""

_ORIGINS: dict[str, Origins] = {}
"""Generated document path -> the origin of each of its lines (this process only)."""


def remember(doc_path: str | os.PathLike[str], origins: Origins) -> None:
    """Keep the origin of each line of a generated document for the warnings to come."""
    _ORIGINS[os.path.abspath(doc_path)] = origins


def origin_at(doc_path: str | None, line: int | None) -> Origin | None:
    if not doc_path or not line:
        return None
    origins = _ORIGINS.get(os.path.abspath(doc_path))
    if not origins or not 0 < line <= len(origins):
        return None
    return origins[line - 1]


def _split(location: str) -> tuple[str, int | None]:
    path, sep, line = location.rpartition(":")
    if sep and line.isdigit():
        return path, int(line)
    return location.rstrip(":"), None


def map_location(app: Sphinx, location: object) -> tuple[object, Origin | None]:
    """The original location for a Sphinx log location, and the origin used."""
    if isinstance(location, tuple) and len(location) == 2 and location[0]:
        try:
            path, line = str(app.env.doc2path(location[0])), location[1]
        except Exception:  # noqa: BLE001 - a location we cannot map stays as it was
            return location, None
    elif isinstance(location, nodes.Node):
        path, line = get_source_line(location)
    elif isinstance(location, str):
        path, line = _split(location)
    else:
        return location, None
    origin = origin_at(path, line)
    if origin is None:
        return location, None
    return f"{os.path.abspath(origin.location.file)}:{origin.location.line}", origin


def _rewrite(app: Sphinx, record: std_logging.LogRecord) -> None:
    location = getattr(record, "location", None)
    if location is None or getattr(record, "talks_mapped", False):
        return
    new, origin = map_location(app, location)
    if origin is None:
        return
    record.location = new
    record.talks_mapped = True
    if origin.chain:
        chain = "".join(f"\n  included from {c}" for c in origin.chain)
        record.msg = str(record.msg) + (chain.replace("%", "%%") if record.args else chain)


class OriginFilter(std_logging.Filter):
    """Runs first on Sphinx's warning handler: generated line -> original line."""

    def __init__(self, app: Sphinx) -> None:
        super().__init__()
        self.app = app

    def filter(self, record: std_logging.LogRecord) -> bool:
        # A fragment included by several talks defines its figure labels in each
        # of them; in a site of many talks that is expected, not a mistake.
        if str(record.msg).startswith("duplicate label"):
            return False
        try:
            _rewrite(self.app, record)
        except Exception:  # noqa: BLE001 - a location we cannot map stays as it was
            pass
        if record.levelno >= std_logging.WARNING:
            _coded(record)
            # a parallel reader's record is handled here after its document was read
            docname = getattr(record, "talks_docname", None) or current_docname(self.app)
            if docname:
                WARNED[docname] = WARNED.get(docname, 0) + 1
        return True


def _coded(record: std_logging.LogRecord) -> None:
    """Every warning printed with a code: Sphinx's type and subtype where it gives them,
    else ``W-SPHINX`` or ``E-SPHINX`` (diagnostics.CATALOGUE)."""
    if not getattr(record, "type", None) and not getattr(record, "talks_replayed", False):
        record.type = "talks"
        record.subtype = "E-SPHINX" if record.levelno >= std_logging.ERROR else "W-SPHINX"


_MAPPED: dict[int, int] = {}
"""Buffering log handler -> how many of its records are already mapped."""

WARNED: dict[str, int] = {}
"""Documents that drew a warning in this process (for ``--strict``), with counts."""


def current_docname(app: Sphinx) -> str | None:
    env = getattr(app, "env", None)
    docname = env.temp_data.get("docname") if env is not None else None
    if not docname and getattr(app, "builder", None) is not None:
        docname = getattr(app.builder, "current_docname", None)
    return docname


def install_filter(app: Sphinx) -> None:
    for handler in std_logging.getLogger("sphinx").handlers:
        if isinstance(handler, std_logging.StreamHandler) and \
                not any(isinstance(f, OriginFilter) for f in handler.filters):
            handler.filters.insert(0, OriginFilter(app))


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    doc_path = os.path.abspath(app.env.doc2path(app.env.docname))
    # a parallel reader buffers its records; map the new ones while the origins are here
    for handler in std_logging.getLogger("sphinx").handlers:
        buffer = getattr(handler, "buffer", None)
        if not buffer:
            continue
        start = _MAPPED.get(id(handler), 0)
        if start > len(buffer):  # the buffer was flushed since
            start = 0
        for record in buffer[start:]:
            record.talks_docname = app.env.docname  # counted for it where it is handled
            try:
                _rewrite(app, record)
            except Exception:  # noqa: BLE001 - a location we cannot map stays as it was
                pass
        _MAPPED[id(handler)] = len(buffer)
    origins = _ORIGINS.get(doc_path)
    if origins is None:
        return
    default = doctree.get("source")
    same: dict[str, bool] = {}
    files: dict[str, str] = {}  # each origin's file, absolute, worked out once
    count = len(origins)
    for node in doctree.findall(nodes.Element):
        line = node.line
        if not line or not 0 < line <= count:
            continue
        source = node.source or default
        if source:
            if source not in same:
                same[source] = os.path.abspath(source) == doc_path
            if not same[source]:
                continue
        origin = origins[line - 1]
        if origin is not None:
            file = origin.location.file
            if file not in files:
                files[file] = os.path.abspath(file)
            node.source = files[file]
            node.line = origin.location.line
    _ORIGINS.pop(doc_path, None)  # the doctree carries the origins from here on


def forget_warnings(app: Sphinx, *_: object) -> None:
    """A new build counts its own warnings, not those of a build before it in this process."""
    WARNED.clear()


def setup(app: Sphinx) -> None:
    install_filter(app)
    # before each build's reading: an application kept between builds (talks serve) has
    # its builder made once
    app.connect("env-before-read-docs", forget_warnings)
    app.connect("doctree-read", on_doctree_read, priority=900)
