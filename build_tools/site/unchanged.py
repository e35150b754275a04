"""A variant whose last build still holds is not started.

Starting a variant's Sphinx costs about a third of a second before it looks at anything:
the process, the extensions, the saved environment.  When nothing it would read has
changed, its pages are the ones it wrote last time, and so are its warnings and each
talk's status.  At the end of each build that finished, a variant's worker writes what
that build depended on (``LastBuild``); before the next build starts the worker, the
main process checks it (``still_built``).  The variant is started when anything differs:

* the build's settings, the code, the installed Sphinx and its extensions, the working
  folder, or a file Sphinx reads when it starts (conf.py, the notation, the
  bibliographies): one ``key`` holds them;
* the set of documents;
* any file a document was read from, changed since it was read (as Sphinx itself asks);
  for the deck, a talk whose prepared record (``api.PreparedTalk``) was made again from
  such a file and holds what the page was read from is not a change: an edit to a
  talk's notes leaves its deck as it was;
* a file a talk names that was missing and is there now;
* a page, or a file at the top of the output (the search index), that is not the one the
  build wrote.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..api import PreparedStamps, prepared_format
from ..sphinx_ext.reading import file_time, one_look_per_file, talk_info
from ..status import load as load_status

if TYPE_CHECKING:
    from sphinx.application import Sphinx

    from ..status import TalkStatus

__all__ = ["LAST_BUILD", "LAST_WARNINGS", "LastBuild", "StillBuilt", "build_key", "forget_last_build",
           "record_last_build", "still_built"]

LAST_BUILD = "talks-last-build.pickle"
"""In the variant's work folder, beside ``html/`` and ``doctrees/``."""
LAST_WARNINGS = "talks-last-warnings.pickle"
"""Beside it, what the build warned: read only when the build still holds."""

SPHINX_PACKAGES = ("sphinx", "docutils", "myst_parser", "sphinx_revealjs", "furo",
                   "sphinxcontrib.bibtex", "pybtex")
"""What renders the pages besides this package: an upgrade of any makes them anew."""

Stamp = tuple[int, int] | None


@dataclass
class DocumentRead:
    """One document as the last build had it."""

    read_at: int
    """When Sphinx read it (its own clock: microseconds)."""
    files: list[int]
    """The files it was read from, as indexes into ``LastBuild.files``."""
    prepared: str
    """The digest of the deck's prepared record it was read from, or empty."""
    page: Stamp
    """The page written for it, as it was when the build finished."""


@dataclass
class LastBuild:
    """What a variant's last finished build depended on and said."""

    key: str
    inputs: dict[str, Stamp]
    """What Sphinx read when it started (conf.py, the notation, the bibliographies)."""
    files: list[str]
    documents: dict[str, DocumentRead]
    missing: list[str]
    """Files the talks named that were not there."""
    outputs: dict[str, Stamp]
    """The files at the top of the variant's output (the search index among them), as the
    build left them."""
    warnings: str
    """The digest of what the build warned (kept in ``LAST_WARNINGS``: everything, as a
    build that read nothing says it again)."""


@dataclass(frozen=True)
class StillBuilt:
    """What a variant whose last build still holds reports, as that build did."""

    warnings: list[str]
    talks: dict[str, TalkStatus]


def build_key(variant: str, src: str, confdir: str, work: str, overrides: dict,
              parallel: int) -> str:
    """Everything that makes a variant's pages besides the files Sphinx reads: a build
    with another key is started."""
    versions = {name: _installed(name) for name in SPHINX_PACKAGES}
    return json.dumps([variant, src, confdir, work, overrides, parallel, os.getcwd(),
                       prepared_format(), versions, _link(os.path.join(src, "diagrams"))],
                      sort_keys=True, default=str)


def forget_last_build(base: str) -> None:
    """A build of the variant begins: what the last one left holds no more."""
    try:
        os.unlink(os.path.join(base, LAST_BUILD))
    except OSError:
        pass


def record_last_build(app: Sphinx, base: str, key: str, inputs: dict[str, Stamp],
                      warnings: list[str]) -> None:
    """Write what the build that just finished depended on (in its worker, once Sphinx is
    done)."""
    env = app.env
    srcdir, outdir = str(app.srcdir), str(app.outdir)
    files: dict[str, int] = {}
    documents = {}
    talks = talk_info(env)
    for doc, read_at in env.all_docs.items():
        read = [env.doc2path(doc), *(os.path.join(srcdir, d) for d in env.dependencies.get(doc, ()))]
        status = talks.get(doc)
        documents[doc] = DocumentRead(
            read_at, [files.setdefault(str(f), len(files)) for f in read],
            getattr(status, "prepared", "") if status is not None else "",
            _stamp(os.path.join(outdir, f"{doc}.html")))
    missing = sorted({p for status in talks.values() for p in status.missing})
    outputs = {entry.path: _stamp(entry.path) for entry in os.scandir(outdir) if entry.is_file()}
    said = pickle.dumps(warnings, protocol=pickle.HIGHEST_PROTOCOL)
    _write(os.path.join(base, LAST_WARNINGS), said)
    record = LastBuild(key, inputs, list(files), documents, missing, outputs,
                       hashlib.sha256(said).hexdigest())
    _write(os.path.join(base, LAST_BUILD), pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))


def _write(path: str, data: bytes) -> None:
    with open(path + ".tmp", "wb") as fh:
        fh.write(data)
    os.replace(path + ".tmp", path)


def still_built(variant: str, base: str, key: str, documents: set[str],
                decks: dict[str, PreparedStamps]) -> StillBuilt | None:
    """What the last build reported, when it still holds (see the module's notes), else
    None.  ``documents`` are those Sphinx will find; ``decks`` each talk's prepared deck,
    as current."""
    last = _load(os.path.join(base, LAST_BUILD))
    if last is None or last.key != key or set(last.documents) != documents \
            or os.path.exists(os.path.join(base, "building")) \
            or any(_stamp(path) != stamp for path, stamp in last.inputs.items()) \
            or any(_stamp(path) != stamp for path, stamp in last.outputs.items()):
        return None
    with one_look_per_file():
        if not all(_holds(doc, read, last.files, decks if variant == "slides" else {})
                   for doc, read in last.documents.items()):
            return None
        if any(file_time(path) is not None for path in last.missing):
            return None
    pages = os.path.join(base, "html")
    if any(_stamp(os.path.join(pages, f"{doc}.html")) != read.page
           for doc, read in last.documents.items()):
        return None
    warnings = _said(os.path.join(base, LAST_WARNINGS), last.warnings)
    status = load_status(os.path.join(base, "doctrees"))
    if warnings is None or status is None or set(status.talks) - documents:
        return None
    return StillBuilt(warnings, status.talks)


def _holds(doc: str, read: DocumentRead, files: list[str], decks: dict[str, PreparedStamps]) -> bool:
    """Whether the document would be read as it was: none of its files changed since, or
    (the deck) its prepared record was made again from them and holds the same."""
    changed = [files[i] for i in read.files if _changed(files[i], read.read_at)]
    if not changed:
        return True
    deck = decks.get(doc)
    return deck is not None and bool(read.prepared) and deck.digest == read.prepared \
        and all(path in deck.stamps for path in changed)


def _changed(path: str, read_at: int) -> bool:
    """As Sphinx asks: gone, or modified after the document was read."""
    modified = file_time(path)
    return modified is None or modified > read_at


def _load(path: str) -> LastBuild | None:
    try:
        with open(path, "rb") as fh:
            record = pickle.load(fh)
    except (OSError, pickle.PickleError, EOFError, ValueError, TypeError, AttributeError,
            ImportError):
        return None
    return record if isinstance(record, LastBuild) else None


def _said(path: str, digest: str) -> list[str] | None:
    """The warnings kept at ``path``, when they are those the record names."""
    try:
        with open(path, "rb") as fh:
            said = fh.read()
        warnings = pickle.loads(said)
    except (OSError, pickle.PickleError, EOFError, ValueError, TypeError, AttributeError,
            ImportError):
        return None
    if hashlib.sha256(said).hexdigest() != digest or not isinstance(warnings, list):
        return None
    return warnings


def _stamp(path: str) -> Stamp:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _installed(package: str) -> tuple[str, Stamp] | None:
    """Where a package is installed, and the stamp of its first file: an upgrade rewrites
    it (found without importing the package, which a build that starts nothing never does)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    return (origin, _stamp(origin)) if origin else None


def _link(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None
