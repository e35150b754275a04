"""The warnings of documents a build did not read or write, said again.

Sphinx warns about a document only when it reads or writes it: a second build with
nothing changed would say nothing about a talk whose images are still missing.  Each
warning printed for a document is kept beside the doctrees (what reading it said, and
what writing it said); a later build that skips the reading or the writing of that
document prints what was kept for it, so every build reports the same warnings.

A warning is kept as the line Sphinx printed, and said again by writing that line to the
same stream: a rebuild of one talk says again thousands of its site's warnings, and
sending each through Sphinx's logging once more cost more than the rebuild itself.
"""
from __future__ import annotations

import logging as std_logging
import os
import pickle
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sphinx.util import logging
from sphinx.util.build_phase import BuildPhase

from . import locations

if TYPE_CHECKING:
    from docutils import nodes
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

KEPT = "talks-warnings.pickle"
"""Beside the doctrees: document -> phase ("read", "write") -> the warnings it drew."""

SAY_AGAIN_PRIORITY = 400
"""When the build is finished: before the status counts the warnings; a handler just before
and one just after see where the lines said again begin and end."""


@dataclass(frozen=True)
class Said:
    """One printed warning."""

    level: int
    text: str
    """The message, its code already at its end."""
    location: str | None
    printed: str = field(default="", compare=False)
    """The line as Sphinx printed it."""


class _Build:
    """What this build printed for each document, and which documents it read and wrote."""

    def __init__(self) -> None:
        self.said: dict[str, dict[str, list[Said]]] = {"read": {}, "write": {}}
        self.read: set[str] = set()
        self.written: set[str] = set()
        self.printed: set[Said] = set()
        self.writing = ""
        """The document being written: Sphinx's ``current_docname`` is still the one
        before while a document is resolved."""


_BUILD = _Build()


class Recorder(std_logging.Filter):
    """Last on Sphinx's warning handler: keeps each warning it prints, by document."""

    def __init__(self, app: Sphinx, handler: std_logging.Handler) -> None:
        super().__init__()
        self.app = app
        self.handler = handler

    def filter(self, record: std_logging.LogRecord) -> bool:
        text = str(record.msg) % record.args if record.args else str(record.msg)
        said = Said(record.levelno, text, getattr(record, "location", None) or None,
                    self.handler.format(record))
        _BUILD.printed.add(said)
        reading = self.app.phase == BuildPhase.READING
        docname = getattr(record, "talks_docname", None) or self.app.env.temp_data.get("docname") \
            or (None if reading else _BUILD.writing) or locations.current_docname(self.app)
        if docname:
            _BUILD.said["read" if reading else "write"].setdefault(docname, []).append(said)
        return True


def _install(app: Sphinx) -> None:
    global _BUILD
    _BUILD = _Build()
    for handler in std_logging.getLogger("sphinx").handlers:
        if isinstance(handler, logging.WarningStreamHandler) and \
                not any(isinstance(f, Recorder) for f in handler.filters):
            handler.addFilter(Recorder(app, handler))


def _before_read(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    _BUILD.read.update(docnames)


def _resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    _BUILD.written.add(docname)
    _BUILD.writing = docname


def _load(path: str) -> dict[str, dict[str, list[Said]]]:
    try:
        with open(path, "rb") as fh:
            kept = pickle.load(fh)
        return {doc: {phase: [Said(*s) for s in said] for phase, said in phases.items()}
                for doc, phases in kept.items()}
    except (OSError, ValueError, TypeError, EOFError, pickle.PickleError):
        return {}


def say_again(app: Sphinx, exception: Exception | None) -> None:
    """Print what was kept for the documents this build skipped, and keep this build's;
    then start afresh, for the next build of an application ``talks serve`` keeps."""
    global _BUILD
    try:
        if exception is None:
            _keep_and_say_again(app)
    finally:
        _BUILD = _Build()


def _keep_and_say_again(app: Sphinx) -> None:
    path = os.path.join(str(app.doctreedir), KEPT)
    kept = _load(path)
    handler = _printing_handler()
    done = {"read": _BUILD.read, "write": _BUILD.written}
    for doc in set(kept) - set(app.env.all_docs):
        del kept[doc]
    for doc in sorted(app.env.all_docs):
        phases = kept.setdefault(doc, {})
        for phase, finished in done.items():
            if doc in finished:
                phases[phase] = _BUILD.said[phase].get(doc, [])
                continue
            for said in phases.get(phase, []):
                if said not in _BUILD.printed and handler is not None:
                    _print(said, doc, handler)
    with open(path + ".tmp", "wb") as fh:
        pickle.dump({doc: {phase: [(s.level, s.text, s.location, s.printed) for s in said]
                           for phase, said in phases.items() if said}
                     for doc, phases in kept.items() if any(phases.values())},
                    fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".tmp", path)


def _printing_handler() -> logging.WarningStreamHandler | None:
    return next((h for h in std_logging.getLogger("sphinx").handlers
                 if isinstance(h, logging.WarningStreamHandler)), None)


def _print(said: Said, docname: str, handler: logging.WarningStreamHandler) -> None:
    """The kept line, written where Sphinx wrote it, and counted for its document as
    ``locations`` counts the warnings it sees."""
    if said.level >= std_logging.WARNING:
        locations.WARNED[docname] = locations.WARNED.get(docname, 0) + 1
    handler.stream.write(said.printed + handler.terminator)


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", _install)
    app.connect("env-before-read-docs", _before_read)
    app.connect("doctree-resolved", _resolved, priority=100)  # before the handlers that warn
    app.connect("build-finished", say_again, priority=SAY_AGAIN_PRIORITY)
