"""The handout's search index, brought up to date in one pass over its words.

Sphinx keeps the index of a site in ``searchindex.js``.  A build that writes some pages
loads the whole file into a set of documents per word, removes the pages it will write
from every set, adds them again as it writes them, removes once more what the site no
longer holds, and turns every set back into a list.  For a corpus's 230 handouts that is
four walks over 9,000 words, the largest part of a one-talk rebuild's writing.

``IncrementalIndex`` keeps the loaded words as the file had them and takes note only of
which documents are gone; the lists are made once, when the index is written, from the
file's lists and the words of the pages written now.  A build that wrote no page and
dropped none writes back the file it loaded.  The file it writes is the one Sphinx's own
index writes (``tests/test_sphinx_build.py`` compares them).  An index file that is not
the one the last build wrote (gone, damaged) makes every page written again, so that the
index holds them all.
"""
from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

from sphinx.search import IndexBuilder

from ..engine.source import file_stamp

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

Terms = dict[str, "int | list[int]"]


class IncrementalIndex(IndexBuilder):
    """Sphinx's ``IndexBuilder``, loading and pruning without a set per word."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded_terms: tuple[Terms, Terms] = ({}, {})
        self._loaded_docs: list[str] = []
        self._still_held: set[str] = set()
        self._unchanged: str | None = None

    def load(self, stream: Any, format: Any) -> None:
        """What ``IndexBuilder.load`` takes from the file, the words kept as they are."""
        if isinstance(format, str):
            format = self.formats[format]
        text = stream.read()
        frozen = format.loads(text)
        if not isinstance(frozen, dict) or frozen.get("envversion") != self._env_version:
            raise ValueError("old format")
        try:  # a damaged file is no index: Sphinx then warns, and ``reread_all`` made it whole
            docs = list(frozen["docnames"])
            self._filenames = dict(zip(docs, frozen["filenames"], strict=True))
            self._titles = dict(zip(docs, frozen["titles"], strict=True))
            self._all_titles = {doc: [] for doc in self._titles}
            for title, places in frozen["alltitles"].items():
                for doc, anchor in places:
                    self._all_titles[docs[doc]].append((title, anchor))
            terms = (dict(frozen["terms"]), dict(frozen["titleterms"]))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ValueError(f"damaged index: {exc!r}") from None
        self._mapping, self._title_mapping = {}, {}
        self._loaded_terms = terms
        self._loaded_docs = list(docs)
        self._still_held = set(docs)
        self._unchanged = text

    def prune(self, docnames: Iterable[str]) -> None:
        keep = set(docnames)
        super().prune(keep)  # titles and the words of pages written now
        if not self._still_held <= keep:
            self._unchanged = None
        self._still_held &= keep

    def feed(self, *args: Any, **kwargs: Any) -> None:
        self._unchanged = None
        super().feed(*args, **kwargs)

    def dump(self, stream: Any, format: Any) -> None:
        """A build that wrote no page and dropped none writes the index it loaded."""
        if self._unchanged is None:
            super().dump(stream, format)
        else:
            stream.write(self._unchanged)

    def get_terms(self, fn2index: dict[str, int]) -> tuple[Terms, Terms]:
        """As ``IndexBuilder.get_terms`` gives them, with the loaded words as if they had
        been sets all along: a word of one document is its number, of several (or of none
        any more) the sorted list."""
        held = self._still_held
        loaded = self._loaded_docs
        names = [doc if doc in held else None for doc in loaded]
        found: tuple[Terms, Terms] = ({}, {})
        for terms, frozen, written in zip(found, self._loaded_terms,
                                          (self._mapping, self._title_mapping), strict=True):
            for word, places in frozen.items():
                docs = {names[places]} if isinstance(places, int) else {names[i] for i in places}
                docs.discard(None)
                docs.update(written.get(word, ()))
                _put(terms, word, docs, fn2index)
            for word, fed in written.items():
                if word not in frozen:
                    _put(terms, word, fed, fn2index)
        return found


def _put(terms: Terms, word: str, docs: Collection[str | None], fn2index: dict[str, int]) -> None:
    if len(docs) == 1:
        (doc,) = docs
        if doc in fn2index:
            terms[word] = fn2index[doc]
    else:
        terms[word] = sorted(fn2index[doc] for doc in docs if doc in fn2index)


STAMP = "talks-searchindex.stamp"
"""Beside the doctrees: the stamp of the index file the last build wrote."""


def reread_all(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
               removed: set[str]) -> list[str]:
    """Every page, when the index file is not the one the last build wrote (gone, damaged,
    replaced): Sphinx would otherwise add only the pages it writes to an empty index."""
    if not getattr(app.builder, "search", False) or not env.all_docs:
        return []
    index = _index_file(app)
    try:
        with open(os.path.join(str(app.doctreedir), STAMP), encoding="utf-8") as file:
            written = json.load(file)
    except (OSError, ValueError):
        written = None
    return [] if written == list(file_stamp(index) or ()) else sorted(env.found_docs)


def note_written_index(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or getattr(app.builder, "indexer", None) is None:
        return
    index = _index_file(app)
    with open(os.path.join(str(app.doctreedir), STAMP), "w", encoding="utf-8") as file:
        json.dump(list(file_stamp(index) or ()), file)


def _index_file(app: Sphinx) -> str:
    return os.path.join(str(app.builder.outdir), getattr(app.builder, "searchindex_filename"))


def use_incremental_index(app: Sphinx) -> None:
    """Sphinx's HTML builder makes its index from ``sphinx.search.IndexBuilder`` when it
    starts writing."""
    import sphinx.search

    sphinx.search.IndexBuilder = IncrementalIndex  # type: ignore[misc]


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", use_incremental_index)
    app.connect("env-get-outdated", reread_all)
    app.connect("build-finished", note_written_index)
