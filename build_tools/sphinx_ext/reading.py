"""Reading: a talk's lamd source in, the MyST of one variant out.

``source-read`` replaces the text Sphinx read with the engine's expansion,
notes every file the engine read (talk, includes, vocabulary) as a dependency
of the document, and logs the engine's diagnostics at their original file and
line.  What the other stages need later (slide anchors, math macros, the talk's
front matter, its errors) is kept per document in ``env.talks_info``, which is
merged across parallel readers and purged with the document.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import TYPE_CHECKING, Any, cast

from sphinx.util import logging
from sphinx.util.osutil import _last_modified_time

from ..api import (PreparedTalk, config_key, load_prepared, page_emit_options, prepare_talk,
                   prepared_file)
from ..config import OPTIONS, VARIANTS, TalkConfig, build_config, conf_values
from ..diagnostics import Diagnostic, Location, MacroError, Severity, crash_site
from ..myst.anchors import SlideAnchor
from ..views import OneView
from ..status import PUBLISHED_ERRORS, TalkStatus, TalkSummary, VariantStatus, save
from . import locations

if TYPE_CHECKING:
    from collections.abc import Collection
    from docutils import nodes
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

logger = logging.getLogger(__name__)

FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
DECK_BUILDERS = ("revealjs", "dirrevealjs")
KEEP_WARNINGS = 3
"""Warnings kept per talk for ``--strict`` reports; Sphinx prints them all as they happen."""


def variant_of(app: Sphinx) -> str:
    """The variant this build renders (the builder decides when none is configured)."""
    variant = app.config.talks_variant
    if variant:
        return variant
    return "slides" if app.builder.name in DECK_BUILDERS else "handout"


def talk_info(env: BuildEnvironment) -> dict[str, TalkStatus]:
    """Each talk's status, kept in the environment so incremental builds keep it."""
    if not hasattr(env, "talks_info"):
        setattr(env, "talks_info", {})
    return getattr(env, "talks_info")


PLAIN_DOCUMENTS = ("index",)
"""Documents that are the site's own pages, not talks (when they have no front matter)."""


def is_talk(text: str, docname: str = "") -> bool:
    """Every document is a talk, with or without front matter (lamd reads both alike);
    only the site's own index page, written without front matter, is plain MyST."""
    return bool(FRONT_MATTER.match(text)) or docname not in PLAIN_DOCUMENTS


def talk_config(app: Sphinx, path: str) -> TalkConfig:
    """The talk's configuration: conf.py's ``talks_*`` values, then the build's own."""
    namespace = {f"talks_{o.name}": getattr(app.config, f"talks_{o.name}") for o in OPTIONS}
    return build_config(path, conf=conf_values(namespace, app.confdir), image_root=str(app.srcdir),
                        diagrams_dir=app.config.talks_command_line_diagrams or None)


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    if not is_talk(source[0], docname):
        return
    try:
        _read_talk(app, docname, source)
    except Exception as exc:  # noqa: BLE001 - a bug met by one talk must not stop the others
        path = os.path.realpath(app.env.doc2path(docname))
        diag = Diagnostic("E-INTERNAL", Severity.ERROR,
                          f"internal error while reading this talk: {type(exc).__name__}: {exc} "
                          f"(at {crash_site(exc)}); please report it",
                          Location(os.path.relpath(path), 1, 1))
        source[0] = error_page(path, diag)
        _failed(app, docname, diag)


def error_page(path: str, diag: Diagnostic) -> str:
    return f"# {os.path.basename(path)}\n\n```{{error}}\n{diag.message}\n```\n"


def _failed(app: Sphinx, docname: str, diag: Diagnostic) -> None:
    """The talk's status says why it failed; the talk keeps its last good pages."""
    _report(diag, docname)
    talk_info(app.env)[docname] = TalkStatus(errors=[diag.format()])


def _read_talk(app: Sphinx, docname: str, source: list[str]) -> None:
    env = app.env
    variant = variant_of(app)
    if variant not in VARIANTS:
        logger.error("talks_variant must be one of %s, not %r", ", ".join(VARIANTS), variant)
        return
    path = os.path.realpath(env.doc2path(docname))
    config = talk_config(app, path)
    record = _prepared(app, docname, variant, config_key(config))
    if record is None:
        try:
            record = prepare_talk(path, variant, config, page_emit_options())
        except MacroError as exc:
            source[0] = error_page(path, exc.diagnostic)
            _failed(app, docname, exc.diagnostic)
            # the talk is read again when what stopped it changes, or a missing file appears
            note_source_files(env, docname, exc.read)
            talk_info(env)[docname].missing = _shared(exc.absent)
            return
    source[0] = record.text
    locations.remember(env.doc2path(docname), record.origins)
    note_source_files(env, docname, [*record.dependencies, *record.bib_files])
    status = TalkStatus(source=os.path.relpath(path), summary=TalkSummary.from_meta(record.meta),
                        slide_anchors=_slide_anchors(app, docname, path, config)
                        if variant == "handout" else [],
                        math_macros=dict(record.math_macros), prepared=record.digest,
                        missing=_shared(record.absent))
    for diag in record.diagnostics:
        _report(diag, docname)
        if diag.severity >= Severity.ERROR:
            status.errors.append(diag.format())
            if diag.code in PUBLISHED_ERRORS:
                status.refusals.append(diag.format())
        elif diag.severity == Severity.WARNING:
            status.warning_count += 1
            if len(status.warnings) < KEEP_WARNINGS:
                status.warnings.append(diag.format())
        if diag.code == "W-IMAGE-MISSING" and diag.subject:
            status.missing.append(diag.subject)
    talk_info(env)[docname] = status


def _shared(paths: Collection[str]) -> list[str]:
    """Paths as one object each however many talks name them: the environment keeps each
    once (the talks of a site look for the same files in the same places)."""
    return [sys.intern(p) for p in paths]


class SourceFile(str):
    """A file a talk is made from, as Sphinx's list of a document's dependencies holds it.

    Sphinx keeps each as a ``pathlib`` path, which it parses again each time the environment
    is loaded: a corpus's thirty files per talk made that a third of every rebuild's
    environment load, in each variant.  A string unpickles as it was; Sphinx asks a
    dependency only whether it is a file and for its modification time (``os.stat``)."""

    __slots__ = ()

    def is_file(self) -> bool:
        return file_time(self) is not None


_LOOKED_AT: OneView[str, int | None] = OneView()
"""Within ``one_look_per_file``: each file's modification time, None when it is no file."""


def one_look_per_file() -> contextlib.AbstractContextManager[None]:
    """Within, ``file_time`` asks the disk about each file once: the disk as it was at the
    first look serves the rest of the check."""
    return _LOOKED_AT.held()


def file_time(path: str) -> int | None:
    """``path``'s modification time as Sphinx measures it, None when it is no file."""
    return _LOOKED_AT.answer(path, _file_time)


def _file_time(path: str) -> int | None:
    try:
        return _last_modified_time(path) if os.path.isfile(path) else None
    except OSError:
        return None


def note_source_files(env: BuildEnvironment, docname: str, files: Collection[str]) -> None:
    """What ``env.note_dependency`` does, with the files kept as ``SourceFile``."""
    srcdir = str(env.srcdir)
    noted = cast("set[Any]", env.dependencies.setdefault(docname, set()))
    noted.update(SourceFile(os.path.join(srcdir, f)) for f in files)


def _prepared(app: Sphinx, docname: str, variant: str, key: str | None) -> PreparedTalk | None:
    """The record ``talks build`` prepared for this talk and variant, when still true to its
    files (and, given ``key``, made with this configuration)."""
    folder = app.config.talks_prepared_dir
    if not folder:
        return None
    record = load_prepared(prepared_file(folder, docname, variant))
    return record if record is not None and (key is None or record.config_key == key) else None


def _slide_anchors(app: Sphinx, docname: str, path: str, config: TalkConfig) -> list[SlideAnchor]:
    """The deck's slides with the origins of their headings, for the handout's links.

    ``talks build`` prepares the deck before Sphinx starts, so the handout reads them
    from there; a plain Sphinx build of the handout has to lay out the deck itself.
    """
    deck = _prepared(app, docname, "slides", None)
    if deck is not None:
        return list(deck.slide_anchors)
    return prepare_talk(path, "slides", config).slide_anchors


def _report(diag: Diagnostic, docname: str) -> None:
    """Log one engine diagnostic through Sphinx, at its original file and line."""
    loc = diag.location
    where = f"{loc.file}:{loc.line}" if loc else docname
    message = diag.message
    if diag.hint:
        message += f"\n  hint: {diag.hint}"
    message += "".join(f"\n  included from {c}" for c in diag.chain)
    kwargs: dict[str, Any] = {"location": where, "type": "talks", "subtype": diag.code}
    if diag.severity >= Severity.ERROR:
        logger.error(message, **kwargs)
    elif diag.severity == Severity.WARNING:
        logger.warning(message, **kwargs)
    else:
        logger.info(message, location=where)


# -- environment bookkeeping ------------------------------------------------------------

def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """Forget dependencies on files that do not exist (images the engine could not
    check, such as raw ``<img>`` tags): Sphinx would count a talk with one as changed
    on every build.  ``on_get_outdated`` rereads the talk when the file appears."""
    env = app.env
    docname = env.docname
    deps = env.dependencies.get(docname)
    if not deps:
        return
    gone = {d for d in deps if not os.path.isfile(os.path.join(str(app.srcdir), d))}
    if not gone:
        return
    env.dependencies[docname] = deps - gone
    status = talk_info(env).get(docname)
    if status is not None:
        status.missing += [os.path.normpath(os.path.join(str(app.srcdir), d)) for d in gone]


def on_purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    talk_info(env).pop(docname, None)


def on_merge_info(app: Sphinx, env: BuildEnvironment, docnames: Collection[str],
                  other: BuildEnvironment) -> None:
    mine = talk_info(env)
    for docname, info in talk_info(other).items():
        if docname in docnames:
            mine[docname] = info


def on_get_outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
                    removed: set[str]) -> list[str]:
    """Talks a missing file has appeared for since they were read, an image or an include
    (each place looked at once: a corpus's talks miss the same thousand diagrams eight
    thousand times)."""
    talks = talk_info(env)
    appeared = {p for p in {p for status in talks.values() for p in status.missing}
                if os.path.exists(p)}
    return [doc for doc, status in talks.items()
            if doc not in changed and not appeared.isdisjoint(status.missing)]


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    """Every talk's status, read by ``talks build`` (beside the doctrees, not in the output)."""
    if exception is not None:
        return
    talks = talk_info(app.env)
    for doc, status in talks.items():
        status.sphinx_warnings = locations.WARNED.get(doc, 0)
    save(str(app.doctreedir), VariantStatus(variant_of(app), talks))


def setup(app: Sphinx) -> None:
    # ``talks build --diagrams DIR``: above the folder settings, unlike conf.py's value
    app.add_config_value("talks_command_line_diagrams", "", "env", types=[str])
    app.connect("source-read", on_source_read)
    app.connect("doctree-read", on_doctree_read, priority=950)
    app.connect("env-purge-doc", on_purge_doc)
    app.connect("env-merge-info", on_merge_info)
    app.connect("env-get-outdated", on_get_outdated)
    app.connect("build-finished", on_build_finished)
