"""The site's front page: every talk with its variants and exports, and the pages."""
from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import jinja2

from ..config import VARIANT_LABELS, VARIANTS
from ..diagnostics import MacroError
from ..engine.talkfile import read_talk
from ..formats import FORMATS, LABELS, SUFFIXES
from ..status import TalkSummary
from .discovery import course_position, lamd_addresses
from .variants import VariantResult

__all__ = ["talk_rows", "index_order", "render_index", "export_links"]


def index_order(talks: dict[str, dict]) -> list[tuple[str, dict]]:
    """Talks by subject folder (a talks repository's ``_ml/``, ``_gp/``...), and in each a
    course's lectures in course order (``lectures.csv``, or ``week``/``session``), other
    talks newest first."""
    groups: dict[str, dict[str, dict]] = {}
    for doc, meta in talks.items():
        groups.setdefault(meta.get("group", ""), {})[doc] = meta
    return [row for group in sorted(groups) for row in _in_order(groups[group])]


def _in_order(talks: dict[str, dict]) -> list[tuple[str, dict]]:
    if any(meta.get("order") is not None for meta in talks.values()):
        return sorted(talks.items(), key=lambda kv: (kv[1].get("order") is None,
                                                     kv[1].get("order") or (), kv[0]))
    return sorted(talks.items(), key=lambda kv: (str(kv[1].get("date", "")), kv[0]), reverse=True)


def render_index(talks: dict[str, dict], variants: tuple[str, ...], failed: dict,
                 exports: dict[str, list[tuple[str, str]]] | None = None,
                 pages: dict[str, dict] | None = None) -> str:
    env = jinja2.Environment(loader=jinja2.PackageLoader("build_tools", "templates"),
                             autoescape=True)
    return env.get_template("index.html").render(
        talks=[{"doc": doc, **meta, "failed": doc in failed, "exports": (exports or {}).get(doc, [])}
               for doc, meta in index_order(talks)],
        grouped=len({meta.get("group", "") for meta in talks.values()}) > 1,
        variants=[v for v in VARIANTS if v in variants],
        labels=VARIANT_LABELS,
        pages=[{"doc": doc, **meta} for doc, meta in sorted((pages or {}).items())],
        search="handout/search.html" if "handout" in variants else None)


def export_links(site: Path, talks_meta: dict[str, dict]) -> dict[str, list[tuple[str, str]]]:
    """Doc -> (label, link) of every export of it the site holds."""
    links: dict[str, list[tuple[str, str]]] = {}
    for doc in talks_meta:
        for fmt in FORMATS:
            rel = f"exports/{doc}{SUFFIXES[fmt]}"
            if (site / rel).is_file():
                links.setdefault(doc, []).append((LABELS[fmt], rel))
    return links


def talk_rows(docs: dict[str, str], results: dict[str, VariantResult]) -> dict[str, dict]:
    """What the index shows of each talk, and where it comes: its subject folder (the folder
    part of its document name) and its place in its course."""
    meta: dict[str, dict] = {}
    for path, doc in docs.items():
        found = next((r.talks[doc].summary for r in results.values()
                      if doc in r.talks and r.talks[doc].summary), None)
        if found is None:
            try:
                found = TalkSummary.from_meta(read_talk(path).meta)
            except MacroError:  # an unreadable talk still gets a row
                found = TalkSummary(title=doc)
        meta[doc] = {**asdict(found), "title": found.title or doc, "source": os.path.relpath(path),
                     "order": course_position(path), "group": doc.rpartition("/")[0],
                     "lamd": lamd_addresses(path, doc)}
    return meta
