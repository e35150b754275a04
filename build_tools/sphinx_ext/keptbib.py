"""The parsed bibliographies, kept in one file for every variant instead of in each
variant's saved environment.

sphinxcontrib-bibtex keeps what pybtex parsed from the BibTeX files in Sphinx's
environment.  The corpus's three bibliographies parse to some 2.5 MB, half of each
variant's saved environment: every build loaded it three times, and every build that read
a talk saved it three times over, though it changes only when a bibliography does.

Here the parsed data is written to a file of its own, once per content, and the
environment keeps only where it is and what it was parsed from (``KeptBibData``).
``talks build`` loads the file before its variant processes start (``load_kept``), so
they share that one reading; another process (``sphinx-build``) reads it when it loads
the environment.  A file that is gone, unreadable or parsed from other contents makes
sphinxcontrib-bibtex parse the bibliographies again, as it would with no environment.
"""
from __future__ import annotations

import gc
import glob
import hashlib
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pybtex.database import BibliographyData
from sphinxcontrib.bibtex.bibfile import BibData, BibFile

from ..engine.source import file_stamp

if TYPE_CHECKING:
    from sphinx.application import Sphinx

PREFIX = "bibliography-"

_LOADED: dict[str, BibliographyData] = {}
"""What the data was parsed from (``contents_key``) -> the data, in this process."""

KEPT_AS = "talks_kept_as"
"""The attribute of parsed data that says where it is kept: (file, contents key)."""


class KeptBibData(BibData):
    """sphinxcontrib-bibtex's ``BibData``, saved with the environment as where its parsed
    data is kept."""

    __slots__ = ()

    def __reduce__(self) -> tuple:
        path, key = getattr(self.data, KEPT_AS)
        return (_restore, (path, key, self.encoding, self.bibfiles))


def _restore(path: str, key: str, encoding: str, bibfiles: dict[Path, BibFile]) -> BibData:
    data = _LOADED.get(key) or _read(path, key)
    if data is None:  # sphinxcontrib-bibtex finds no files parsed, and parses them again
        return BibData(encoding, {}, BibliographyData())
    _keep(data, path, key)
    return KeptBibData(encoding, bibfiles, data)


def _keep(data: BibliographyData, path: str, key: str) -> None:
    setattr(data, KEPT_AS, (path, key))
    _LOADED[key] = data


def _read(path: str, key: str | None = None) -> BibliographyData | None:
    """The data in the file at ``path`` when parsed from ``key`` (any, without one)."""
    found = _read_file(path)
    return found[1] if found is not None and key in (None, found[0]) else None


def _read_file(path: str) -> tuple[str, BibliographyData] | None:
    try:
        with open(path, "rb") as file:
            key, data = pickle.load(file)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            TypeError, ValueError):
        return None
    return (key, data) if isinstance(key, str) and isinstance(data, BibliographyData) else None


def file_for(folder: str, bibfiles: dict[Path, BibFile], encoding: str) -> str:
    """The file for data parsed from these bibliographies (one file per set of them)."""
    names = "\0".join([encoding, *(path.name for path in bibfiles)])
    return os.path.join(folder, PREFIX + hashlib.sha256(names.encode()).hexdigest()[:16] + ".pickle")


def contents_key(bibfiles: dict[Path, BibFile], encoding: str) -> str:
    """What the data is parsed from: the files' text, the encoding and pybtex's version."""
    import pybtex

    digest = hashlib.sha256(f"{encoding}\0{getattr(pybtex, '__version__', '')}".encode())
    for path in bibfiles:
        digest.update(b"\0" + path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\0missing\0")
    return digest.hexdigest()[:24]


def keep_apart(app: Sphinx) -> None:
    """Once sphinxcontrib-bibtex has brought its parsed data up to date, have the
    environment keep it in its file."""
    domain: Any = app.env.get_domain("cite")
    bibdata = domain.data.get("bibdata")
    if isinstance(bibdata, KeptBibData) or not isinstance(bibdata, BibData) \
            or not bibdata.bibfiles:
        return
    path = file_for(kept_folder(app), bibdata.bibfiles, bibdata.encoding)
    key = contents_key(bibdata.bibfiles, bibdata.encoding)
    if _read(path, key) is None:  # another variant's process may have written it already
        os.makedirs(os.path.dirname(path), exist_ok=True)
        spare = f"{path}.{os.getpid()}.tmp"
        with open(spare, "wb") as file:
            pickle.dump((key, bibdata.data), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(spare, path)
    _keep(bibdata.data, path, key)
    domain.data["bibdata"] = KeptBibData(*bibdata)


def kept_folder(app: Sphinx) -> str:
    """Beside the prepared decks, which every variant of a ``talks build`` shares; a build
    of its own keeps its file beside its doctrees."""
    return app.config.talks_prepared_dir or os.path.join(str(app.doctreedir), "talks-bib")


def load_kept(folder: str) -> None:
    """Read the parsed bibliographies kept in ``folder`` (``talks build`` does, before its
    variant processes start)."""
    loaded = False
    for path in glob.glob(os.path.join(folder, PREFIX + "*.pickle")):
        stamp = file_stamp(path)
        if _READ_FILES.get(path) == stamp:  # read already (``talks serve``'s next build)
            continue
        found = _read_file(path)
        _READ_FILES[path] = stamp
        if found is not None and found[0] not in _LOADED:
            _keep(found[1], path, found[0])
            loaded = True
    if loaded:  # it lives as long as the process: the collector need not walk it again
        gc.freeze()


_READ_FILES: dict[str, tuple[int, int] | None] = {}
"""The files ``load_kept`` read, as they were then."""


def setup(app: Sphinx) -> None:
    # after sphinxcontrib-bibtex's own handler, which parses the files when they changed
    app.connect("builder-inited", keep_apart, priority=900)
