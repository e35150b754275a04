"""The site: every talk in every variant, built by Sphinx and swapped into place whole.

``build_site`` is what ``talks build`` runs:

1. a generated Sphinx source folder (``<work>/src``) holds one link per talk,
   an index page and a link to the project's ``diagrams/``; the repository's
   ``conf.py`` drives every build (Sphinx's configuration folder);
2. each variant is one Sphinx build with its own persistent doctrees and
   output under ``<work>/<variant>/``, so rebuilds are incremental; the
   variants run in parallel processes where the machine has cores for them;
3. a fresh copy of the site is assembled next to the old one (files that did
   not change are hard-linked from the old site, not copied), with the
   index page of all talks; a talk that failed keeps its last good pages;
4. the new site replaces the old one by renaming, so an interrupted or
   crashed build never leaves a half-written site.

Exports (notebooks, DOCX, PDF and PPTX), when asked for, are made from the built
pages into ``<work>/exports/`` (so they are incremental and a failed one keeps its
last good file) and copied into ``exports/``: the PPTX is written while Sphinx builds
the variants and checked once the deck is built; the others once all are built.

Each step has a module of its own: ``discovery`` (talks, pages, document names,
course order), ``sources`` (step 1), ``decks`` and ``variants`` (step 2), ``publish``
(steps 3 and 4: the lock, the copy, the swap), ``index_page``, ``exports`` (the
hand-off to ``build_tools.export``) and ``summary`` (what the warnings say).
This module puts them in order.

Nothing here prints; the CLI turns the ``SiteReport`` into output and an exit status.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Collection

from ..api import PreparedStamps
from ..bibliography import read_bib
from ..config import VARIANTS, read_conf
from ..diagnostics import MacroError
from ..engine.talkfile import read_talk
from ..export.run import ExportResult
from ..lamd import bibdir_files, settings_roots
from ..paths import confine
from ..engine.source import repository_roots
from ..sphinx_ext.keptbib import load_kept
from ..sphinx_ext.speedups import remember_entry_points
from ..project import confdir_for, one_view_of_projects, require_project, talk_folders
from ..status import TalkStatus, withholds_page
from ..timings import StageTime, taken, timed
from ..timings import rows as timing_rows
from .decks import prepare_decks
from .discovery import docnames_for, find_pages, find_talks, page_docnames, site_identity, site_talks
from .exports import ahead_of_site, export_built_talks
from .fragments import fragment_pages
from .index_page import export_links, render_index, talk_rows
from .navigation import course_navigation
from .options import SiteOptions
from .pages import page_summary
from .publish import (STATUS, check_writable, copy_exports, copy_tree, has_page, keep_page,
                      lamd_deck_addresses, lock_site, new_site_folder, place_pages, place_text,
                      recover, refuse_tracked_state, share_images, site_status, swap,
                      unlink_absent_exports)
from .shards import Shard, ShardManifest, shard_documents
from .sources import diagrams_not_found, prepare_sources, prune_outputs
from .summary import source_namer, summary
from .unchanged import StillBuilt, build_key, still_built
from .variants import (ORDER, KeptVariants, VariantResult, run_variants, talk_problems,
                       variant_overrides)

__all__ = ["KeptVariants", "SiteOptions", "SiteReport", "build_site"]


@dataclass
class SiteReport:
    out: str
    results: dict[str, VariantResult] = field(default_factory=dict)
    failed: dict[str, list[str]] = field(default_factory=dict)
    """Talk document -> its errors (or, with --strict, warnings)."""
    published: list[str] = field(default_factory=list)
    """Failed talks whose new pages are published all the same: their only errors refused
    a file, shown as a placeholder (``status.PUBLISHED_ERRORS``)."""
    kept: list[tuple[str, str]] = field(default_factory=list)
    """(variant, document) pages kept from the previous site."""
    talks: dict[str, dict] = field(default_factory=dict)
    exports: list[ExportResult] = field(default_factory=list)
    """One ``ExportResult`` per talk exported (empty when no export was asked for)."""
    diagrams_missing: str | None = None
    """One warning when the folder the lamd settings name for diagrams is nowhere: every
    diagram is then missing, and the warning says where the tool looked."""
    timings: list[StageTime] = field(default_factory=list)
    """Where the build's time went, stage by stage (``talks build --timings``)."""

    @property
    def ok(self) -> bool:
        return not self.failed and all(r.ok for r in self.results.values()) \
            and not any(e.failed for e in self.exports)

    def withheld(self) -> dict[str, list[str]]:
        """The failed talks whose new pages were not published (the index marks them)."""
        return {doc: p for doc, p in self.failed.items() if doc not in self.published}

    def summary(self) -> list[str]:
        """The counts of errors and warnings, Sphinx's and the exports' (``summary.summary``)."""
        return summary(self.warnings(), [d for e in self.exports for d in e.diagnostics])

    def warnings(self) -> list[str]:
        seen: dict[str, None] = {}
        for variant in ORDER:
            if variant in self.results:
                for w in self.results[variant].warnings:
                    seen.setdefault(w, None)
        return list(seen)


def assemble(out: Path, work: Path, results: dict[str, VariantResult], variants: Collection[str],
             talks_meta: dict[str, dict], strict: bool,
             extra_pages: Callable[[Path], None] | None = None,
             export_formats: tuple[str, ...] = (),
             pages: dict[str, dict] | None = None,
             before_swap: Callable[[Path, SiteReport, dict], None] | None = None,
             title: str = "Talks", keep_old: bool = False) -> SiteReport:
    report = SiteReport(str(out), results)
    check_writable(out)
    tmp = new_site_folder(out, reuse_old=keep_old)
    old_status = site_status(out)
    status: dict[str, dict[str, bool]] = {}
    withheld: set[str] = set()
    image_sources = []
    for variant in VARIANTS:
        built = work / variant / "html"
        previous = out / variant if (out / variant).is_dir() else None
        result = results.get(variant)
        if result is None or (result.ok and not built.is_dir()):  # not asked for: keep the old
            if previous is not None and variant in old_status:
                copy_tree(previous, tmp / variant, previous, depth=0)
                image_sources.append(out)  # its pages show the old site's shared images
                status[variant] = old_status[variant]
            continue
        if built.is_dir():
            copy_tree(built, tmp / variant, previous, depth=0)
            image_sources.append(built)
        status[variant] = {}
        for doc in talks_meta:
            talk = result.talks.get(doc, TalkStatus())
            problems = talk_problems(talk, strict) if result.ok else [result.crash]
            good = not problems or (result.ok and not withholds_page(talk, problems))
            if not good:
                withheld.add(doc)
            if problems:
                report.failed.setdefault(doc, [])
                report.failed[doc] += [p for p in problems if p not in report.failed[doc]]
                was_good = old_status.get(variant, {}).get(doc, False)
                if not good and was_good and previous is not None \
                        and keep_page(previous, tmp / variant, doc):
                    report.kept.append((variant, doc))
                    good = True
            status[variant][doc] = good
    share_images(image_sources, tmp, out if out.is_dir() else None)
    report.published = [doc for doc in report.failed if doc not in withheld]
    if extra_pages is not None:
        extra_pages(tmp)
    copy_exports(work / "exports", tmp / "exports", out / "exports", talks_meta, export_formats)
    unlink_absent_exports(tmp, talks_meta, export_formats)
    place_text(tmp / STATUS, json.dumps(status, indent=1), out / STATUS)
    listed = {doc: meta for doc, meta in talks_meta.items() if has_page(tmp, doc)}
    lamd_deck_addresses(tmp, listed, out)
    shown_pages = {doc: meta for doc, meta in (pages or {}).items() if has_page(tmp, doc)}
    place_text(tmp / "index.html", render_index(listed, tuple(status), report.withheld(),
                                                export_links(tmp, listed), shown_pages, title),
               out / "index.html")
    if before_swap is not None:
        before_swap(tmp, report, status)
    swap(tmp, out, keep_old)
    report.talks = talks_meta
    return report


# -- the whole build ---------------------------------------------------------------------

def _project(options: SiteOptions) -> Path:
    """The project being built: given, else found from the first talk or the current folder.

    Raises ``NoProject`` (never falls back to this tool's own talks)."""
    if options.project:
        return Path(options.project).resolve()
    return require_project(options.talks[0] if options.talks else os.getcwd())


def _bib_files(talks: list[str], extra: list[str], include_roots: list[str]) -> list[str]:
    """Every bibliography the talks name; one outside the repository is left out (each talk's
    build reports it), since sphinxcontrib-bibtex would read it."""
    granted = [*include_roots, *(os.path.dirname(os.path.abspath(b)) for b in extra)]
    files = [bib for folder in dict.fromkeys(os.path.dirname(os.path.abspath(t)) for t in talks)
             for bib in bibdir_files(folder, settings_roots(folder, granted))]
    # lamd's bibdir, then the command line's (README)
    files += [os.path.abspath(b) for b in extra]
    for talk in talks:
        try:
            named = read_talk(talk).meta.get("bibliography")
        except MacroError:  # an unreadable talk: its own build reports it
            continue
        allowed = repository_roots(talk, include_roots, None, [os.path.dirname(f) for f in files])
        for name in [named] if isinstance(named, str) else named if isinstance(named, list) else []:
            path = os.path.join(os.path.dirname(os.path.abspath(talk)), str(name))
            if os.path.isfile(path) and confine(path, allowed):
                files.append(path)
    return list(dict.fromkeys(files))


def build_site(options: SiteOptions, progress: Callable[[str, str, object], None] | None = None,
               kept: KeptVariants | None = None) -> SiteReport:
    """Build the site; with ``kept`` (``talks serve``), by workers that keep each variant's
    Sphinx application from one build to the next."""
    with one_view_of_projects():
        project = _project(options)
        talks = [os.path.abspath(t) for t in options.talks] or find_talks(project)
        out, work = options.folders()
        check_writable(out)
        refuse_tracked_state(work)
        with lock_site(work):
            return _build_locked(options, project, talks, out, work, progress, kept)


def _build_locked(options: SiteOptions, project: Path, talks: list[str], out: Path, work: Path,
                  progress: Callable[[str, str, object], None] | None,
                  kept: KeptVariants | None) -> SiteReport:
    taken()  # a long-running process (talks serve) counts each build on its own
    with timed("discovery and settings"):
        recover(out)
        published = site_status(out)  # what the site holds from the builds before
        # document names come from every talk of the project, so they never depend on the
        # talks named on the command line
        project_talks = find_talks(project) if options.talks else talks
        every_doc = docnames_for(site_talks(project, talks, project_talks))
        pages = page_docnames(find_pages(project, talk_folders(project)), set(every_doc.values())) \
            if set(every_doc) >= set(project_talks) else {}
        docs = _held_and_named(every_doc, options.talks, published)
        listed = docs
        if options.shard is not None:  # names, list and fragments stay the whole project's
            docs, listed = shard_documents(every_doc, options.shard), every_doc
            pages = pages if options.shard.index == 1 else {}
    with timed("Sphinx sources"):
        src = work / "src"
        removed = prepare_sources(src, project, docs, pages, options.diagrams_dir, listed=listed)
        prune_outputs(work, removed)
    with timed("settings for Sphinx"):
        overrides = _sphinx_overrides(options, project, talks)
    # a PPTX needs only the deck: its pictures drawn now, on the core the bibliographies
    # leave free; written beside the variants; checked once the deck is built
    with timed("exports begun"):
        ahead = ahead_of_site(options, project, work, docs)
    with timed("bibliographies"):
        # pybtex looks its plugins up for each entry it reads: from here on, in the
        # installed packages as read once (as for every process forked from this one)
        remember_entry_points()
        _read_bibliographies(overrides.get("talks_bib_files") or _conf_bib_files(project),
                             confdir_for(project), work)
    with timed("navigation"):
        overrides["talks_navigation"] = course_navigation(listed)  # the whole site's
    variants = [v for v in ORDER if v in options.variants]
    # the site holds these and the variants it published before, which it keeps
    shown = [v for v in VARIANTS if v in variants or v in published]
    elsewhere: list[StageTime] = []
    decks: dict[str, PreparedStamps] = {}
    if {"slides", "handout"} & set(variants):
        overrides["talks_prepared_dir"] = str(work / "prepared")
        with timed("decks"):
            decks, deck_timings = prepare_decks(docs, src, confdir_for(project), overrides,
                                                work / "prepared", options.jobs)
            elsewhere += deck_timings

    def overrides_of(variant: str) -> dict:
        return variant_overrides(overrides, variant, pages)

    def unchanged(variant: str, parallel: int) -> StillBuilt | None:
        documents = {*docs.values(), "index", *(pages.values() if variant == "handout" else ())}
        key = build_key(variant, str(src), str(confdir_for(project)), str(work),
                        overrides_of(variant), parallel)
        return still_built(variant, str(work / variant), key, documents, decks)
    with timed("exports begun"):
        if ahead:
            ahead.begin()
    with timed("Sphinx variants, all at once"):
        try:
            results, fragments = run_variants(
                variants, src, confdir_for(project), work, overrides_of, options.jobs,
                progress, meanwhile=lambda: _timed_fragment_pages(project, options.include_roots,
                                                                  listed, shown, work),
                on_built=ahead.built if ahead else None, kept=kept, unchanged=unchanged)
        finally:  # stopped or not, no export worker waits for a deck any longer
            if ahead:
                ahead.exports.decks_built()
    with timed("warnings named"):
        name_sources = source_namer(src, docs)
        for result in results.values():
            result.warnings = [name_sources(w) for w in result.warnings]
    for result in results.values():
        elsewhere += result.timings
    rows = talk_rows(docs, results)
    with timed("exports"):
        exported = export_built_talks(options, project, work, docs, results,
                                      ahead.exports if ahead else None) if options.exports else []
    page_rows = {doc: page_summary(path) for path, doc in pages.items()}
    finish = None
    if options.shard is not None:
        finish = _manifest_writer(options.shard, list(listed.values()), rows, page_rows,
                                  overrides.get("html_title", "Talks"))
    with timed("publish"):
        report = assemble(out, work, results, variants, rows, options.strict,
                          lambda site: place_pages(site / "fragments", fragments,
                                                   out / "fragments"),
                          export_formats=options.exports, pages=page_rows, before_swap=finish,
                          title=overrides.get("html_title", "Talks"), keep_old=options.preview)
    report.exports = exported
    report.diagrams_missing = diagrams_not_found(project, list(listed), options.diagrams_dir)
    report.timings = [*timing_rows(taken(), "main"), *elsewhere, *_export_timings(exported)]
    return report


def _held_and_named(every_doc: dict[str, str], named: list[str],
                   status: dict[str, dict[str, bool]]) -> dict[str, str]:
    """The talks a build puts in the site: with talks named, those and the ones the site
    already holds (Sphinx rereads a held talk only if its sources changed, so it is never left
    stale); with none, every talk.  Naming a talk thus costs what that talk costs."""
    if not named:
        return every_doc
    wanted = {os.path.abspath(t) for t in named}
    held = {doc for docs in status.values() for doc in docs}
    return {path: doc for path, doc in every_doc.items() if path in wanted or doc in held}


def _timed_fragment_pages(project: Path, include_roots: list[str], docs: dict[str, str],
                          variants: Collection[str], work: Path) -> dict[str, str]:
    with timed("fragment pages"):
        return fragment_pages(project, include_roots, docs, variants,
                              work / "fragment-includes.pickle")


def _export_timings(exported: list[ExportResult]) -> list[StageTime]:
    """Each format's time, summed over talks and export workers."""
    sums: dict[str, tuple[float, int]] = {}
    for result in exported:
        for fmt, seconds in result.seconds_by_format.items():
            total, count = sums.get(f"export {fmt}", (0.0, 0))
            sums[f"export {fmt}"] = (total + seconds, count + 1)
    return timing_rows(sums, "export workers")


def _manifest_writer(shard: Shard, documents: list[str], rows: dict[str, dict],
                     page_rows: dict[str, dict], title: str) -> Callable[[Path, SiteReport, dict], None]:
    """What a shard site tells ``talks merge``, written into the site before it is swapped in."""
    def write(site: Path, report: SiteReport, status: dict) -> None:
        ShardManifest(shard.index, shard.count, documents, list(status), rows, report.failed,
                      page_rows, report.published, title).write(site)
    return write


def _sphinx_overrides(options: SiteOptions, project: Path, talks: list[str]) -> dict:
    """The conf.py values every variant's build takes from the command line."""
    overrides = {"root_doc": "index", "exclude_patterns": ["diagrams"],
                 "talks_include_roots": [os.path.abspath(d) for d in options.include_roots],
                 "talks_linked_exports": list(options.exports),
                 "talks_preview": options.preview,
                 "talks_command_line_diagrams": os.path.abspath(options.diagrams_dir)
                 if options.diagrams_dir else ""}
    overrides.update(_site_identity(project))
    bibs = _bib_files(talks, options.bib_files, options.include_roots)
    if bibs:  # conf.py's own first: in the documented order (README, Configuration)
        overrides["talks_bib_files"] = list(dict.fromkeys(_conf_bib_files(project) + bibs))
    return overrides


def _read_bibliographies(files: list[str], confdir: Path, work: Path) -> None:
    """Each bibliography cleaned once, here, before the deck and variant processes fork: they
    find it in memory (``read_bib`` remembers it) instead of each cleaning it again, which
    for a course's few large files is seconds per variant.  So is what the last build
    parsed from them (``keptbib``), which each variant's environment names."""
    for name in files:
        path = os.path.abspath(os.path.join(confdir, name))
        if os.path.isfile(path):
            read_bib(path, str(work / "bibliographies"))
    load_kept(str(work / "prepared"))


def _site_identity(project: Path) -> dict:
    """A project built with the default conf.py (a lamd course) takes its site's title and
    author from its Jekyll ``_config.yml``: the pages' title and sidebar, and the footer's
    copyright line, which shows no bare "Copyright ©" without a name."""
    if (project / "conf.py").is_file():
        return {}
    title, author = site_identity(project)
    identity: dict = {"project": title, "html_title": title} if title else {}
    if author:
        identity.update(author=author, copyright=author)
    identity["html_show_copyright"] = bool(author)
    return identity


def _conf_bib_files(project: Path) -> list[str]:
    """conf.py's ``talks_bib_files``; a project without conf.py: ``talks/references.bib``."""
    if (project / "conf.py").is_file():
        return list(read_conf(project).get("bib_files", []))
    default = project / "talks" / "references.bib"
    return [str(default)] if default.is_file() else []
