"""Shards: one site built on several machines, then merged into the site one machine makes.

Every talk builds independently, so ``talks build --shard I/N`` builds only the
talks of shard ``I`` (1-based): the project's document names, sorted, dealt out in
turn (the first to shard 1, the second to shard 2, ...), which keeps the shards even.
The site's pages (``pages/``) go with shard 1.  Each shard is a site of its own in
its own folder, plus a manifest (``_talks-shard.json``) holding what the merge
needs to write the one index: every talk's index row, which talks failed, the
document order.

``talks merge`` puts the shard sites together: every file but the index, the status
file and the search indexes is the same in every shard that has it (a talk's pages
are in one shard only; the theme's files, the per-variant talk list and the fragment
pages are in all, alike); the Sphinx search index of each variant is the union of the
shards' (``merge_search_indexes``); the index and the status file are written from
the manifests, as one build writes them.
"""
from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import VARIANTS
from .index_page import export_links, render_index
from .publish import (STATUS, check_writable, has_page, lamd_address_files, lamd_deck_addresses,
                      swap)

__all__ = ["Shard", "ShardManifest", "MergeError", "MergeReport", "shard_documents",
           "merge_sites", "merge_search_indexes", "MANIFEST", "SOURCES_RECORD", "site_size",
           "PAGES_LIMIT"]

MANIFEST = "_talks-shard.json"
SOURCES_RECORD = "_talks-sources.json"
"""In a shard site built by CI: the commits of the project and of each source it was built
from, and its talks (``talks ci record``); merged into one record, talk by talk."""
SEARCH_INDEX = "searchindex.js"
SEARCH_PREFIX, SEARCH_SUFFIX = "Search.setIndex(", ")"


@dataclass(frozen=True)
class Shard:
    index: int
    """1-based: shard 1 of 3 is the first."""
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``I/N`` with 1 <= I <= N; ValueError says what is wrong."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if not match:
            raise ValueError(f"{text!r} is not I/N (shard I of N, counted from 1, e.g. 1/3)")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1:
            raise ValueError(f"{text!r}: the number of shards must be at least 1")
        if not 1 <= index <= count:
            raise ValueError(f"{text!r}: shards are counted from 1 to {count}")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def folder(self) -> str:
        """The default output folder's name, beside ``_build/site``."""
        return f"site-shard-{self.index}-of-{self.count}"


def shard_documents(docs: dict[str, str], shard: Shard) -> dict[str, str]:
    """The talks (path -> document name) of one shard: sorted names dealt out in turn."""
    names = sorted(docs.values())
    mine = {name for position, name in enumerate(names) if position % shard.count == shard.index - 1}
    return {path: doc for path, doc in docs.items() if doc in mine}


@dataclass
class ShardManifest:
    """What a shard site tells the merge about itself."""

    index: int
    count: int
    documents: list[str]
    """Every talk's document name in the project, in build order (the same in all shards)."""
    variants: list[str]
    """The variants the site's status file holds."""
    talks: dict[str, dict] = field(default_factory=dict)
    """This shard's talks: the index row of each."""
    failed: dict[str, list[str]] = field(default_factory=dict)
    pages: dict[str, dict] = field(default_factory=dict)
    """The site pages this shard rendered (shard 1's), as the index lists them."""
    published: list[str] = field(default_factory=list)
    """Failed talks whose pages were published all the same (``SiteReport.published``)."""

    def write(self, site: Path) -> None:
        (site / MANIFEST).write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, site: Path) -> ShardManifest:
        path = site / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(**data)
        except FileNotFoundError:
            raise MergeError(site, "is not a shard site (no " + MANIFEST + "); build it with "
                             "`talks build --shard I/N`") from None
        except (OSError, ValueError, TypeError) as exc:
            raise MergeError(path, f"unreadable shard manifest: {exc}") from None
        for meta in manifest.talks.values():  # JSON made the course position a list
            if isinstance(meta.get("order"), list):
                meta["order"] = tuple(meta["order"])
        return manifest


class MergeError(Exception):
    """A shard site that cannot be merged; ``where`` is the file or folder at fault."""

    def __init__(self, where: str | os.PathLike, message: str):
        super().__init__(f"{os.path.relpath(where)}: error: {message}")
        self.where = str(where)


@dataclass
class MergeReport:
    out: str
    talks: int = 0
    failed: dict[str, list[str]] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    """Failed talks whose pages are published all the same (``SiteReport.published``)."""


# -- the search index -------------------------------------------------------------------

def read_search_index(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if not (text.startswith(SEARCH_PREFIX) and text.endswith(SEARCH_SUFFIX)):
        raise MergeError(path, "not a Sphinx search index")
    return json.loads(text[len(SEARCH_PREFIX):-len(SEARCH_SUFFIX)])


def write_search_index(path: Path, frozen: dict) -> None:
    """As Sphinx writes it (``sphinx.search.js_index``): compact JSON, keys sorted."""
    path.write_text(SEARCH_PREFIX + json.dumps(frozen, separators=(",", ":"), sort_keys=True)
                    + SEARCH_SUFFIX, encoding="utf-8")


def _unfreeze_terms(mapping: dict, names: list[str]) -> dict[str, set[str]]:
    return {term: {names[docs]} if isinstance(docs, int) else {names[i] for i in docs}
            for term, docs in mapping.items()}


def _freeze_terms(mapping: dict[str, set[str]], position: dict[str, int]) -> dict:
    """As Sphinx's ``IndexBuilder.get_terms``: one document as a number, several as a list."""
    return {term: position[next(iter(docs))] if len(docs) == 1 else sorted(position[d] for d in docs)
            for term, docs in mapping.items()}


def merge_search_indexes(indexes: list[dict], where: Path) -> dict:
    """One search index over every shard's documents, frozen as Sphinx freezes one
    (``IndexBuilder.freeze``): documents sorted by name, terms naming their numbers.

    A document in several shards (the per-variant talk list) must be indexed alike."""
    titles: dict[str, str] = {}
    filenames: dict[str, str] = {}
    terms: dict[str, set[str]] = {}
    title_terms: dict[str, set[str]] = {}
    all_titles: dict[str, list] = {}
    index_entries: dict[str, list] = {}
    objects: dict[str, list] = {}
    object_types: dict[str, int] = {}
    object_names: dict[str, list] = {}
    versions = {json.dumps(i.get("envversion"), sort_keys=True) for i in indexes}
    if len(versions) > 1:
        raise MergeError(where, "the shards were built by different Sphinx versions")
    for frozen in indexes:
        names = list(frozen["docnames"])
        for name, title, filename in zip(names, frozen["titles"], frozen["filenames"], strict=True):
            if name in titles and (titles[name], filenames[name]) != (title, filename):
                raise MergeError(where, f"document '{name}' differs between shards")
            titles[name], filenames[name] = title, filename
        for target, source in ((terms, frozen["terms"]), (title_terms, frozen["titleterms"])):
            for term, docs in _unfreeze_terms(source, names).items():
                target.setdefault(term, set()).update(docs)
        for title, entries in frozen["alltitles"].items():
            for number, anchor in entries:
                entry = (title, anchor)
                if entry not in all_titles.setdefault(names[number], []):
                    all_titles[names[number]].append(entry)
        for entry, uses in frozen.get("indexentries", {}).items():
            for number, anchor, main in uses:
                use = (names[number], anchor, main)
                if use not in index_entries.setdefault(entry, []):
                    index_entries[entry].append(use)
        # objects: none in talks (no domain directives); kept by type name, should one appear
        kinds = {int(k): v for k, v in frozen.get("objtypes", {}).items()}
        for number, kind in sorted(kinds.items()):
            if kind not in object_types:
                object_types[kind] = len(object_types)
                object_names[kind] = frozen["objnames"][str(number)]
        for prefix, entries in frozen.get("objects", {}).items():
            for number, kind, priority, anchor, name in entries:
                row = (names[number], kinds[kind], priority, anchor, name)
                if row not in objects.setdefault(prefix, []):
                    objects[prefix].append(row)
    docnames = sorted(titles)
    position = {name: i for i, name in enumerate(docnames)}
    merged_titles: dict[str, list] = {}
    for name in docnames:
        for title, anchor in all_titles.get(name, []):
            merged_titles.setdefault(title, []).append([position[name], anchor])
    return {
        "docnames": docnames,
        "filenames": [filenames[n] for n in docnames],
        "titles": [titles[n] for n in docnames],
        "terms": _freeze_terms(terms, position),
        "titleterms": _freeze_terms(title_terms, position),
        "alltitles": merged_titles,
        "indexentries": {entry: [[position[n], anchor, main] for n, anchor, main in
                                 sorted(uses, key=lambda use: position[use[0]])]
                         for entry, uses in index_entries.items()},
        "objects": {prefix: [[position[n], object_types[kind], priority, anchor, name]
                             for n, kind, priority, anchor, name in
                             sorted(rows, key=lambda row: (row[4], position[row[0]]))]
                    for prefix, rows in objects.items()},
        "objtypes": {str(number): kind for kind, number in object_types.items()},
        "objnames": {str(object_types[kind]): names for kind, names in object_names.items()},
        "envversion": indexes[0]["envversion"] if indexes else {},
    }


# -- the merge ----------------------------------------------------------------------------

REWRITTEN = {MANIFEST, SOURCES_RECORD, "index.html", "_talks-status.json"}
"""Top-level files the merge writes itself, from the manifests."""


def check_shards(manifests: list[tuple[Path, ShardManifest]]) -> None:
    """Every shard of one split of one project, each once."""
    first_site, first = manifests[0]
    seen: dict[int, Path] = {}
    for site, manifest in manifests:
        if manifest.count != first.count:
            raise MergeError(site, f"is shard {manifest.index}/{manifest.count}, but "
                             f"{os.path.relpath(first_site)} is one of {first.count}")
        if manifest.documents != first.documents or manifest.variants != first.variants:
            raise MergeError(site, f"was built from other talks or variants than "
                             f"{os.path.relpath(first_site)}; rebuild the shards from one commit")
        if manifest.index in seen:
            raise MergeError(site, f"is shard {manifest.index}/{manifest.count} again "
                             f"(also {os.path.relpath(seen[manifest.index])})")
        seen[manifest.index] = site
    missing = [str(i) for i in range(1, first.count + 1) if i not in seen]
    if missing:
        raise MergeError(first_site, f"shard(s) {', '.join(missing)} of {first.count} "
                         "missing; a merged site needs every shard")


def _merge_files(site: Path, tmp: Path, origin: dict[str, Path], rewritten: set[str]) -> None:
    """Copy one shard's files in; a file another shard already gave must be the same."""
    for folder, _, files in os.walk(site):
        for name in files:
            source = Path(folder) / name
            rel = source.relative_to(site).as_posix()
            if rel in REWRITTEN or rel in rewritten or name == SEARCH_INDEX:
                continue
            target = tmp / rel
            if rel in origin:
                if not filecmp.cmp(origin[rel], source, shallow=False):
                    raise MergeError(source, f"differs from {os.path.relpath(origin[rel])}; two "
                                     "talks in different shards give different files this name "
                                     "(an image file name used twice?)")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)  # the shard sites are throwaway copies: share, not copy
            except OSError:
                shutil.copy2(source, target)
            origin[rel] = source


def merge_sites(sites: list[Path], out: Path) -> MergeReport:
    """Combine shard sites into ``out``, replaced whole once the merged site is complete."""
    if not sites:
        raise MergeError(".", "no shard sites to merge")
    manifests = [(site, ShardManifest.read(site)) for site in sites]
    check_shards(manifests)
    check_writable(out)
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    origin: dict[str, Path] = {}
    forwards = lamd_address_files({doc: meta for _, m in manifests for doc, meta in m.talks.items()})
    for site, _ in manifests:  # lamd's addresses are written below, from every shard's talks
        _merge_files(site, tmp, origin, forwards)
    for variant in VARIANTS:
        found = [site / variant / SEARCH_INDEX for site, _ in manifests
                 if (site / variant / SEARCH_INDEX).is_file()]
        if found:
            merged = merge_search_indexes([read_search_index(p) for p in found], found[0])
            write_search_index(tmp / variant / SEARCH_INDEX, merged)
    documents = manifests[0][1].documents
    talks = {doc: meta for doc in documents for _, m in manifests
             for name, meta in m.talks.items() if name == doc}
    failed = {doc: problems for doc in documents for _, m in manifests
              for name, problems in m.failed.items() if name == doc}
    pages = {doc: meta for _, m in manifests for doc, meta in m.pages.items()}
    variants = manifests[0][1].variants
    status = {variant: {doc: good for doc in documents for site, _ in manifests
                        for name, good in _shard_status(site).get(variant, {}).items() if name == doc}
              for variant in variants}
    (tmp / STATUS).write_text(json.dumps(status, indent=1), encoding="utf-8")
    listed = {doc: meta for doc, meta in talks.items() if has_page(tmp, doc)}
    lamd_deck_addresses(tmp, listed)
    shown_pages = {doc: meta for doc, meta in pages.items() if has_page(tmp, doc)}
    published = {doc for _, m in manifests for doc in m.published}
    withheld = {doc: problems for doc, problems in failed.items() if doc not in published}
    (tmp / "index.html").write_text(render_index(listed, tuple(status), withheld,
                                                 export_links(tmp, listed), shown_pages),
                                    encoding="utf-8")
    _merge_source_records([site for site, _ in manifests], tmp)
    swap(tmp, out)
    return MergeReport(str(out), len(talks), failed, sorted(published & set(failed)))


def _merge_source_records(sites: list[Path], tmp: Path) -> None:
    """One record of the commits each talk was built from, from the shards' records."""
    talks: dict[str, dict] = {}
    for site in sites:
        try:
            record = json.loads((site / SOURCES_RECORD).read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            raise MergeError(site / SOURCES_RECORD, f"unreadable: {exc}") from None
        for doc in record.get("talks", []):
            talks[doc] = record.get("commits", {})
    if talks:
        (tmp / SOURCES_RECORD).write_text(json.dumps({"talks": dict(sorted(talks.items()))},
                                                     indent=1), encoding="utf-8")


PAGES_LIMIT = 1_000_000_000
"""GitHub Pages publishes sites of at most 1 GB."""


def site_size(site: Path) -> tuple[int, int]:
    """Bytes and files in a site (a file linked twice counted once, as Pages stores it)."""
    seen: set[tuple[int, int]] = set()
    total = files = 0
    for folder, _, names in os.walk(site):
        for name in names:
            stat = os.lstat(os.path.join(folder, name))
            files += 1
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_size
    return total, files


def _shard_status(site: Path) -> dict:
    path = site / STATUS
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MergeError(path, f"unreadable status file: {exc}") from None
