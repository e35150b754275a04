"""Speed-ups for corpus-sized sites.

Four pure lookups, remembered per process (all are deterministic):

* Sphinx (its builders and themes), pybtex and sphinxcontrib-bibtex look plugins up through
  ``importlib.metadata.entry_points``, which reads every installed package's metadata on
  each call: a tenth of a second of each variant's start on a rebuild.  The installed
  entry points are read once, before the variant processes fork, and each lookup
  selects from them.
* Every citation role of sphinxcontrib-bibtex builds a pybtex style, and each
  style looks its plugins up through ``importlib.metadata`` entry points, which
  rescans the installed packages every time (about 6 ms).  A talk with a few
  dozen citations spent most of its reading time there.
* The search index stems every word of every page; the same few thousand words come back
  again and again.  (The stemming itself is PyStemmer's, the Snowball stemmer compiled:
  snowballstemmer hands its work to it when it is installed, and its stems are the same.)
* myst-parser reads every directive's option block with its own tokenizer; a corpus's
  thousands of blocks are a hundred distinct ones (``remember_directive_options``).

Two walks made cheaper.  Every node made or added asks for its ``document``, which docutils
finds by recursing up the parents, ending, for a node not yet in a document, in a
caught AttributeError; a loop up the parents finds the same node.  And some forty
transforms each walk the whole document with docutils' ``findall``, a generator that
recurses once per level, so every node costs a hop through each of its ancestors (a tenth
of a corpus build's CPU went there).  The same walk with a stack of the children lists it
is in visits the same nodes in the same order, and sees changes made to the tree during
the walk exactly as the recursive one does: each level's list is iterated live, and a
node's children are looked up only once the caller has had the node.

Three kinds of work not done at all:

* Sphinx asks each dependency of each document whether it is a file and when it last
  changed, twice over: a corpus's 6,800 dependencies are 750 files (shared fragments, the
  bibliographies).  While it checks, each file is asked once.

* Each transform walks the whole document, and Sphinx registers some for every builder
  that only matter to translations, LaTeX, doctests, glossaries, indexes and Python or
  C/C++ API documentation, none of which a talk has or these builders write; they are
  left out of this site's builds.
* Each build compiled the theme's templates anew, a third of a second that a rebuild of
  one talk notices; their compiled form is kept beside the doctrees (jinja2 checks it
  against the template's text before using it).
"""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from .reading import file_time, one_look_per_file

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def cache_plugin_lookup() -> None:
    import pybtex.plugin

    if getattr(pybtex.plugin.find_plugin, "talks_cached", False):
        return
    cached = functools.lru_cache(maxsize=None)(pybtex.plugin.find_plugin)
    setattr(cached, "talks_cached", True)
    setattr(pybtex.plugin, "find_plugin", cached)
    # modules that imported the function by name keep their own reference
    for name in ("pybtex.style.formatting", "sphinxcontrib.bibtex.foot_roles",
                 "sphinxcontrib.bibtex.roles"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "find_plugin", None) is not None:
            setattr(module, "find_plugin", cached)


ENTRY_POINT_USERS = ("importlib.metadata", "sphinx.registry", "sphinx.theming", "pybtex.plugin",
                     "sphinxcontrib.bibtex.plugin")
"""Modules that call ``entry_points``, most having imported the function by name."""


def remember_entry_points() -> None:
    import importlib
    import importlib.metadata

    if getattr(importlib.metadata.entry_points, "talks_cached", False):
        return
    installed = importlib.metadata.entry_points()

    def entry_points(**params: Any) -> Any:  # as the function it stands in for
        return installed.select(**params) if params else installed

    setattr(entry_points, "talks_cached", True)
    for name in ENTRY_POINT_USERS:
        module = importlib.import_module(name)
        if getattr(module, "entry_points", None) is not None:
            setattr(module, "entry_points", entry_points)


def cache_english_stems() -> None:
    from sphinx.search.en import SearchEnglish

    stem = SearchEnglish.stem
    if getattr(stem, "talks_cached", False):
        return
    stems: dict[str, str] = {}

    def cached_stem(self: SearchEnglish, word: str) -> str:
        try:
            return stems[word]
        except KeyError:
            result = stems[word] = stem(self, word)
            return result

    setattr(cached_stem, "talks_cached", True)
    setattr(SearchEnglish, "stem", cached_stem)


def cheaper_walks() -> None:
    from docutils import nodes

    if getattr(getattr(nodes.Node, "_fast_findall", None), "talks_stack", False):
        return

    # a node's children are looked at once it was yielded, and its siblings through the
    # parent's own list, as docutils' recursive walk does; a leaf needs no iterator
    def fast_findall(self: nodes.Node, cls: type) -> Iterator[nodes.Node]:
        if isinstance(self, cls):
            yield self
        top = iter(self.children)
        above: list[Iterator[nodes.Node]] = []
        while True:
            for child in top:
                if isinstance(child, cls):
                    yield child
                if child.children:
                    above.append(top)
                    top = iter(child.children)
                    break
            else:
                if not above:
                    return
                top = above.pop()

    def superfast_findall(self: nodes.Node) -> Iterator[nodes.Node]:
        yield self
        top = iter(self.children)
        above: list[Iterator[nodes.Node]] = []
        while True:
            for child in top:
                yield child
                if child.children:
                    above.append(top)
                    top = iter(child.children)
                    break
            else:
                if not above:
                    return
                top = above.pop()

    def document_above(self: nodes.Node) -> nodes.document | None:
        node: nodes.Node | None = self
        while node is not None:
            found = getattr(node, "_document", None)
            if found:
                return cast("nodes.document", found)
            node = node.parent
        return None

    for walk in (fast_findall, superfast_findall):
        setattr(walk, "talks_stack", True)
    setattr(nodes.Node, "_fast_findall", fast_findall)
    setattr(nodes.Node, "_superfast_findall", superfast_findall)
    setter = cast(property, nodes.Node.__dict__["document"]).fset
    setattr(nodes.Node, "document", property(document_above, setter))


UNUSED_TRANSFORMS = frozenset({
    "sphinx.transforms.i18n.PreserveTranslatableMessages",
    "sphinx.transforms.i18n.TranslationProgressTotaliser",
    "sphinx.transforms.i18n.RemoveTranslatableInline",
    "sphinx.builders.latex.transforms.FootnoteDocnameUpdater",
    "sphinx.transforms.DoctestTransform",
    "sphinx.transforms.MoveModuleTargets",
    "sphinx.transforms.AutoIndexUpgrader",
    "sphinx.transforms.GlossarySorter",
    "sphinx.transforms.ReorderConsecutiveTargetAndIndexNodes",
    "sphinx.domains.c.AliasTransform",
    "sphinx.domains.cpp.AliasTransform",
    # lamd shows a Python session's doctest flags as written; Sphinx would cut them
    "sphinx.transforms.post_transforms.code.TrimDoctestFlagsTransform",
})


def leave_out_unused_transforms(app: Sphinx) -> None:
    registry = app.registry
    registry.transforms = [t for t in registry.transforms if _name(t) not in UNUSED_TRANSFORMS]
    registry.post_transforms = [t for t in registry.post_transforms
                                if _name(t) not in UNUSED_TRANSFORMS]


def remember_compiled_templates(app: Sphinx) -> None:
    from jinja2 import FileSystemBytecodeCache

    environment = getattr(app.builder.templates, "environment", None)
    if environment is not None and environment.bytecode_cache is None:
        folder = Path(app.doctreedir) / "templates"
        folder.mkdir(parents=True, exist_ok=True)
        environment.bytecode_cache = FileSystemBytecodeCache(str(folder))


def check_each_file_once() -> None:
    """Sphinx's check of which documents changed asks the disk about each file once."""
    import sphinx.environment as environment

    check = environment.BuildEnvironment.get_outdated_files
    if getattr(check, "talks_once", False):
        return
    last_modified = environment._last_modified_time

    def modified(source: str | os.PathLike[str]) -> int:
        found = file_time(os.fspath(source))
        return last_modified(source) if found is None else found  # no file: as Sphinx does

    @functools.wraps(check)
    def get_outdated_files(self: Any, config_changed: bool) -> Any:
        with one_look_per_file():
            return check(self, config_changed)

    setattr(get_outdated_files, "talks_once", True)
    setattr(environment.BuildEnvironment, "get_outdated_files", get_outdated_files)
    setattr(environment, "_last_modified_time", modified)


OPTION_BLOCKS_KEPT = 4096
"""Distinct directive option blocks remembered per process (a corpus has about a hundred)."""


def remember_directive_options() -> None:
    """myst-parser reads each directive's option block (``:width: 70%``) with a tokenizer of
    its own, a seventh of a millisecond each; a corpus's speaker notes have 3,300 blocks and
    83 distinct ones (``:class: speaker-notes`` half of them).  Each distinct block is read
    once; its tokens are only read by the caller.  A block the tokenizer refuses raises
    each time, as before."""
    from myst_parser.parsers import directives

    tokens = getattr(directives, "options_to_tokens", None)
    if tokens is None or getattr(tokens, "talks_cached", False):
        return
    read: dict[str, Any] = {}

    def remembered(block: str, *offsets: Any, **named: Any) -> Any:
        if offsets or named:  # error positions moved: not the call this remembers
            return tokens(block, *offsets, **named)
        try:
            return read[block]
        except KeyError:
            if len(read) >= OPTION_BLOCKS_KEPT:
                read.clear()
            result = read[block] = tokens(block)
            return result

    setattr(remembered, "talks_cached", True)
    setattr(directives, "options_to_tokens", remembered)


def _name(transform: type) -> str:
    return f"{transform.__module__}.{transform.__qualname__}"


def setup(app: Sphinx) -> None:
    remember_entry_points()
    cache_plugin_lookup()
    cache_english_stems()
    cheaper_walks()
    remember_directive_options()
    check_each_file_once()
    app.connect("builder-inited", leave_out_unused_transforms)
    app.connect("builder-inited", remember_compiled_templates)
