"""Pages for maintainers: every shared fragment, and the talks that use it.

Editing a fragment changes every talk that includes it, directly or through
other fragments.  The site gets ``fragments/index.html`` (all fragments, most
used first) and one page per fragment naming who includes it and linking to
each talk's variants.  The pages depend only on the sources, so the site
build renders them while Sphinx works.
"""
from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path

from ..config import VARIANT_LABELS, VARIANTS, TalkConfig
from ..diagnostics import MacroError
from ..engine.talkfile import read_talk
from ..project import PACKAGE_DIR
from ..engine.graph import IncludeGraph, scan


def page_name(include_name: str) -> str:
    """A flat, stable file name for a fragment's page."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", include_name.strip("/")).strip("-") + ".html"


def fragment_usage(docs: dict[str, str], config: TalkConfig) -> tuple[IncludeGraph, dict[str, dict]]:
    """For each fragment file: its include name, the talks using it, the files including it."""
    graph = scan(list(docs.values()), config)
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


def render_fragment_pages(docs: dict[str, str], titles: dict[str, str], config: TalkConfig,
                          variants: Collection[str]) -> dict[str, str]:
    """The fragment pages as {file name: HTML}: one per fragment, and ``index.html``."""
    import jinja2

    _, fragments = fragment_usage(docs, config)
    env = jinja2.Environment(loader=jinja2.PackageLoader("build_tools", "templates"), autoescape=True)
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
        pages[row["page"]] = env.get_template("fragment.html").render(fragment=row)
    pages["index.html"] = env.get_template("fragments.html").render(fragments=rows)
    pages["fragments.css"] = (PACKAGE_DIR / "static" / "fragments.css").read_text(encoding="utf-8")
    return pages


def fragment_pages(project: Path, include_roots: list[str], docs: dict[str, str],
                   variants: Collection[str]) -> dict[str, str]:
    """The pages listing each shared fragment and the talks that use it."""
    roots = [str(project / "includes")] if (project / "includes").is_dir() else []
    roots += [os.path.abspath(d) for d in include_roots]
    titles = {}
    for path, doc in docs.items():
        try:
            titles[doc] = read_talk(path).title
        except MacroError:
            titles[doc] = doc
    try:
        return render_fragment_pages({doc: path for path, doc in docs.items()}, titles,
                                     TalkConfig(include_roots=roots), variants)
    except OSError:  # a talk vanished while building: its row is simply missing next time
        return {}
