"""The warnings of documents a build did not read or write, said again.

Sphinx warns about a document only when it reads or writes it: a second build with
nothing changed would say nothing about a talk whose images are still missing.  Each
warning printed for a document is kept beside the doctrees (what reading it said, and
what writing it said); a later build that skips the reading or the writing of that
document prints what was kept for it, so every build reports the same warnings.
"""
from __future__ import annotations

import json
import logging as std_logging
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sphinx.util import logging
from sphinx.util.build_phase import BuildPhase

from .locations import current_docname

if TYPE_CHECKING:
    from docutils import nodes
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

logger = logging.getLogger(__name__)

KEPT = "talks-warnings.json"
"""Beside the doctrees: document -> phase ("read", "write") -> the warnings it drew."""


@dataclass(frozen=True)
class Said:
    """One printed warning, as Sphinx's logger is given it again."""

    level: int
    text: str
    """The message as printed, its code already at its end."""
    location: str | None


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

    def __init__(self, app: Sphinx) -> None:
        super().__init__()
        self.app = app

    def filter(self, record: std_logging.LogRecord) -> bool:
        if getattr(record, "talks_replayed", False):
            return True
        text = str(record.msg) % record.args if record.args else str(record.msg)
        said = Said(record.levelno, text, getattr(record, "location", None) or None)
        _BUILD.printed.add(said)
        reading = self.app.phase == BuildPhase.READING
        docname = getattr(record, "talks_docname", None) or self.app.env.temp_data.get("docname") \
            or (None if reading else _BUILD.writing) or current_docname(self.app)
        if docname:
            _BUILD.said["read" if reading else "write"].setdefault(docname, []).append(said)
        return True


def _install(app: Sphinx) -> None:
    global _BUILD
    _BUILD = _Build()
    for handler in std_logging.getLogger("sphinx").handlers:
        if isinstance(handler, logging.WarningStreamHandler) and \
                not any(isinstance(f, Recorder) for f in handler.filters):
            handler.addFilter(Recorder(app))


def _before_read(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    _BUILD.read.update(docnames)


def _resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    _BUILD.written.add(docname)
    _BUILD.writing = docname


def _load(path: str) -> dict[str, dict[str, list[Said]]]:
    try:
        with open(path, encoding="utf-8") as fh:
            kept = json.load(fh)
        return {doc: {phase: [Said(**s) for s in said] for phase, said in phases.items()}
                for doc, phases in kept.items()}
    except (OSError, ValueError, TypeError):
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
                if said not in _BUILD.printed:
                    _print(said, doc)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({doc: {phase: [asdict(s) for s in said] for phase, said in phases.items() if said}
                   for doc, phases in kept.items() if any(phases.values())}, fh)


def _print(said: Said, docname: str) -> None:
    extra: dict[str, Any] = {"talks_replayed": True, "talks_mapped": True,
                             "talks_docname": docname}
    logger.log(said.level, said.text, location=said.location, extra=extra)


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", _install)
    app.connect("env-before-read-docs", _before_read)
    app.connect("doctree-resolved", _resolved, priority=100)  # before the handlers that warn
    app.connect("build-finished", say_again, priority=400)  # before the status counts them
