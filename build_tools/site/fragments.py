"""Pages for maintainers: every shared fragment, and the talks that use it.

Editing a fragment changes every talk that includes it, directly or through
other fragments.  The site gets ``fragments/index.html`` (all fragments, most
used first) and one page per fragment naming who includes it and linking to
each talk's variants.  The pages depend only on the sources, so the site
build renders them while Sphinx works.
"""
from __future__ import annotations

import functools
import os
import pickle
import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, TypeGuard
from pathlib import Path

from ..config import VARIANT_LABELS, VARIANTS, TalkConfig
from ..diagnostics import MacroError
from ..engine.talkfile import read_talk
from ..project import PACKAGE_DIR
from ..engine.graph import IncludeGraph, IncludeLines, include_lines, scan
from ..engine.source import file_stamp

if TYPE_CHECKING:
    import jinja2


def page_name(include_name: str) -> str:
    """A flat, stable file name for a fragment's page."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", include_name.strip("/")).strip("-") + ".html"


def fragment_usage(docs: dict[str, str], config: TalkConfig,
                   lines_of: IncludeLines = include_lines) -> tuple[IncludeGraph, dict[str, dict]]:
    """For each fragment file: its include name, the talks using it, the files including it."""
    graph = scan(list(docs.values()), config, lines_of)
    macros = os.path.abspath(config.macros_dir)
    fragments: dict[str, dict] = {}
    for including, edges in graph.edges.items():
        for edge in edges:
            if not edge.path or edge.path.startswith(macros + os.sep):
                continue
            entry = fragments.setdefault(edge.path, {"name": edge.target, "talks": [], "parents": set()})
            entry["parents"].add(including)
    talk_paths = {os.path.abspath(p): doc for doc, p in docs.items()}
    for path in talk_paths:
        for used in graph.closure(path):
            if used in fragments:
                fragments[used]["talks"].append(talk_paths[path])
    return graph, fragments


Render = Callable[[str, str, object], str]
"""(template, the name it knows the value by, the value) -> HTML."""


def render_fragment_pages(docs: dict[str, str], titles: dict[str, str], config: TalkConfig,
                          variants: Collection[str], lines_of: IncludeLines = include_lines,
                          render: Render | None = None) -> dict[str, str]:
    """The fragment pages as {file name: HTML}: one per fragment, and ``index.html``."""
    _, fragments = fragment_usage(docs, config, lines_of)
    render = render or render_template
    names = {path: entry["name"] for path, entry in fragments.items()}
    talk_files = {os.path.abspath(p): doc for doc, p in docs.items()}
    pages: dict[str, str] = {}
    rows = []
    for path, entry in sorted(fragments.items(), key=lambda kv: (-len(kv[1]["talks"]), kv[1]["name"])):
        talks = [{"doc": doc, "title": titles.get(doc, doc),
                  "links": [(VARIANT_LABELS[v], f"../{v}/{doc}.html") for v in VARIANTS if v in variants]}
                 for doc in sorted(set(entry["talks"]))]
        parents = sorted({(names.get(p) or talk_files.get(p) or os.path.basename(p),
                           page_name(names[p]) if p in names else None) for p in entry["parents"]},
                         key=lambda item: item[0])
        row = {"name": entry["name"], "page": page_name(entry["name"]), "talks": talks,
               "parents": parents, "file": os.path.relpath(path)}
        rows.append(row)
        pages[row["page"]] = render("fragment.html", "fragment", row)
    pages["index.html"] = render("fragments.html", "fragments", rows)
    pages["fragments.css"] = (PACKAGE_DIR / "static" / "fragments.css").read_text(encoding="utf-8")
    return pages


def render_template(template: str, name: str, value: object) -> str:
    return _templates().get_template(template).render({name: value})


@functools.cache
def _templates() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("build_tools", "templates"),
                              autoescape=True)


def fragment_pages(project: Path, include_roots: list[str], docs: dict[str, str],
                   variants: Collection[str], kept: Path | None = None) -> dict[str, str]:
    """The pages listing each shared fragment and the talks that use it; with ``kept``, each
    file's include lines are kept there and read again only from a file that changed, and
    each page's HTML beside it, rendered again only when what it shows changed."""
    roots = [str(project / "includes")] if (project / "includes").is_dir() else []
    roots += [os.path.abspath(d) for d in include_roots]
    titles = {}
    for path, doc in docs.items():
        try:
            titles[doc] = read_talk(path).title
        except MacroError:
            titles[doc] = doc
    lines = KeptIncludeLines(kept) if kept is not None else None
    renders = KeptRenders(kept.with_name("fragment-pages.pickle")) if kept is not None else None
    try:
        pages = render_fragment_pages({doc: path for path, doc in docs.items()}, titles,
                                      TalkConfig(include_roots=roots), variants,
                                      lines or include_lines, renders)
    except OSError:  # a talk vanished while building: its row is simply missing next time
        return {}
    for record in (lines, renders):
        if record is not None:
            record.save()
    return pages


KeptLines = tuple["tuple[int, int] | None", "list[tuple[str, int]]"]
"""A file's stamp and its include lines."""


class KeptIncludeLines:
    """Each file's ``\\include`` lines, kept in a file between builds with the file's stamp:
    the pages need the include lines of every talk and fragment of the project (some 1,700
    files for the corpus), and reading them all again took most of the pages' time."""

    def __init__(self, record: Path) -> None:
        self.record = record
        self.kept: dict[str, KeptLines] = {}
        self.used: dict[str, KeptLines] = {}
        try:
            with open(record, "rb") as file:
                kept = pickle.load(file)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                TypeError, ValueError):
            return
        if isinstance(kept, dict):
            self.kept = kept

    def __call__(self, path: str) -> list[tuple[str, int]]:
        stamp = file_stamp(path)
        found = self.kept.get(path)
        if stamp is None or not _kept_lines(found) or found[0] != stamp:
            found = (stamp, include_lines(path))
        self.used[path] = found
        return found[1]

    def save(self) -> None:
        """Keep what this build used (files no talk reaches any more are dropped)."""
        if self.used != self.kept:
            _write_record(self.record, self.used)


def _kept_lines(found: object) -> TypeGuard[KeptLines]:
    """Whether a record's entry is a stamp and include lines (a damaged record is read anew)."""
    return isinstance(found, tuple) and len(found) == 2 and isinstance(found[1], list) \
        and all(isinstance(line, tuple) and len(line) == 2 and isinstance(line[0], str)
                and isinstance(line[1], int) for line in found[1])


class KeptRenders:
    """Each page's HTML, kept between builds with what it was rendered from: of a corpus's
    six hundred fragment pages, a rebuild changes a handful, and rendering them all again
    took half of the pages' time.  The record holds the templates' stamps; a change to
    either template renders every page again."""

    TEMPLATES = ("fragment.html", "fragments.html")

    def __init__(self, record: Path) -> None:
        self.record = record
        self.templates = [file_stamp(str(PACKAGE_DIR / "templates" / t)) for t in self.TEMPLATES]
        self.kept: dict[bytes, str] = {}
        self.used: dict[bytes, str] = {}
        try:
            with open(record, "rb") as file:
                templates, kept = pickle.load(file)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                TypeError, ValueError):
            return
        if templates == self.templates and isinstance(kept, dict) \
                and all(isinstance(k, bytes) and isinstance(v, str) for k, v in kept.items()):
            self.kept = kept

    def __call__(self, template: str, name: str, value: object) -> str:
        key = pickle.dumps((template, name, value), protocol=pickle.HIGHEST_PROTOCOL)
        html = self.kept.get(key)
        if html is None:
            html = render_template(template, name, value)
        self.used[key] = html
        return html

    def save(self) -> None:
        """Keep what this build rendered (pages no longer made are dropped)."""
        if self.used != self.kept:
            _write_record(self.record, (self.templates, self.used))


def _write_record(record: Path, kept: object) -> None:
    """A record written whole beside the old, then put in its place."""
    record.parent.mkdir(parents=True, exist_ok=True)
    spare = record.with_name(record.name + ".tmp")
    with open(spare, "wb") as file:
        pickle.dump(kept, file, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(spare, record)
