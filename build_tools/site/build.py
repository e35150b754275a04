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

Exports (notebooks, DOCX and PDF), when asked for, are made after the Sphinx
builds from the built pages into ``<work>/exports/`` (so they are incremental
and a failed one keeps its last good file) and copied into ``exports/``.

Nothing here prints; the CLI turns the ``SiteReport`` into output and an exit status.
"""
from __future__ import annotations

import errno
import html
import io
import json
import multiprocessing
import os
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..config import (VARIANT_LABELS, VARIANTS, TalkConfig, bibdir_files, confdir_for,
                      find_project_root, read_conf, require_project, talk_folders)
from ..diagnostics import MacroError
from .fragments import write_pages
from .navigation import course_navigation
from .pages import find_pages, is_page, page_summary
from .shards import Shard, ShardManifest, shard_documents
from ..engine.source import confine, repository_roots
from ..engine.talkfile import read_talk
from ..status import TalkStatus, TalkSummary, load as load_status, withholds_page
from ..workers import die_with_parent

__all__ = ["SiteOptions", "SiteReport", "build_site", "find_talks", "docnames_for"]

BUILDERS = {"slides": "revealjs", "speaker-notes": "html", "handout": "html"}
ORDER = ("handout", "speaker-notes", "slides")  # longest first, when they share cores
SKIP_IN_SITE = {".buildinfo", ".buildinfo.bak", "_sources", ".doctrees", "objects.inv", ".stamps"}
STATUS = "_talks-status.json"


@dataclass
class SiteOptions:
    talks: list[str] = field(default_factory=list)
    """Talk files; empty means every talk under the project's ``talks/``."""
    variants: tuple[str, ...] = VARIANTS
    include_roots: list[str] = field(default_factory=list)
    bib_files: list[str] = field(default_factory=list)
    diagrams_dir: str | None = None
    """``--diagrams DIR``: the images folder, above conf.py and folder settings."""
    out: str = "_build/site"
    work: str | None = None
    """Persistent Sphinx state; default ``<out's parent>/.work/<out's name>``."""
    strict: bool = False
    jobs: int | None = None
    project: str | None = None
    """The folder holding ``conf.py``; found from the talks or the current folder."""
    exports: tuple[str, ...] = ()
    """Exports to make besides the HTML (``build_tools.export.FORMATS``); none by default."""
    slide_notes: bool = False
    """Slide PDFs get a page of speaker notes after each slide that has notes."""
    shard: Shard | None = None
    """Build only this shard's talks (``talks merge`` puts the shard sites together)."""
    preview: bool = False
    """The author's preview (``talks serve``): pages show the build's warnings."""


@dataclass
class VariantResult:
    variant: str
    ok: bool
    read: list[str] = field(default_factory=list)
    """Documents Sphinx read (re-read) in this run."""
    warnings: list[str] = field(default_factory=list)
    talks: dict[str, TalkStatus] = field(default_factory=dict)
    crash: str = ""


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
    exports: list = field(default_factory=list)
    """One ``ExportResult`` per talk exported (empty when no export was asked for)."""

    @property
    def ok(self) -> bool:
        return not self.failed and all(r.ok for r in self.results.values()) \
            and not any(e.failed for e in self.exports)

    def withheld(self) -> dict[str, list[str]]:
        """The failed talks whose new pages were not published (the index marks them)."""
        return {doc: p for doc, p in self.failed.items() if doc not in self.published}

    def warnings(self) -> list[str]:
        seen: dict[str, None] = {}
        for variant in ORDER:
            if variant in self.results:
                for w in self.results[variant].warnings:
                    seen.setdefault(w, None)
        return list(seen)


# -- the talks and their document names ------------------------------------------------

NOT_TALKS = {"readme.md", "index.md"}
"""Markdown files in ``talks/`` that describe the folder instead of being talks."""


def is_talk_file(path: Path) -> bool:
    """Every Markdown file in ``talks/`` is a talk, with or without front matter, as in
    ``talks check`` (lamd reads a talk without front matter too); a README is not."""
    return path.is_file() and path.name.lower() not in NOT_TALKS


def find_talks(project: Path) -> list[str]:
    """Every talk of a project: under ``talks/``, and a lamd course's lectures in ``_lamd/``."""
    return [str(p) for folder in talk_folders(project) for p in sorted(folder.glob("*.md"))
            if is_talk_file(p) and not is_page(p)]


def docnames_for(talks: list[str]) -> dict[str, str]:
    """Document name per talk: its path under the talks' common folder, without
    leading underscores in folder names (``_ml/intro.md`` -> ``ml/intro``)."""
    paths = [os.path.abspath(t) for t in talks]
    base = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else ""
    names: dict[str, str] = {}
    used: set[str] = set()
    for path in paths:
        rel = os.path.splitext(os.path.relpath(path, base))[0].split(os.sep)
        rel = [part.lstrip("_") or part for part in rel[:-1]] + [rel[-1]]
        name = "/".join(rel)
        if name in ("index", "search", "genindex") or name in used:
            n = 2
            while f"{name}-{n}" in used:
                n += 1
            name = f"{name}-{n}"
        used.add(name)
        names[path] = name
    return names


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _link(target: str, link: Path) -> None:
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)


def prepare_sources(src: Path, project: Path, talks: dict[str, str],
                    pages: dict[str, str] | None = None, diagrams_dir: str | None = None,
                    listed: dict[str, str] | None = None) -> list[str]:
    """The generated source folder: a link per talk and page, the diagrams, an index page
    listing ``listed`` (default: the talks; a shard lists every talk of the project).

    Returns the documents that are gone since the last build (deleted or renamed)."""
    src.mkdir(parents=True, exist_ok=True)
    linked = {**talks, **(pages or {})}
    wanted = {src / f"{doc}.md" for doc in linked.values()}
    removed = []
    for path in list(src.rglob("*.md")):
        if path.is_symlink() and path not in wanted:
            path.unlink()
            removed.append(path.relative_to(src).with_suffix("").as_posix())
    for talk, doc in linked.items():
        _link(os.path.realpath(talk), src / f"{doc}.md")
    diagrams = _diagrams_folder(project, list(listed or talks), diagrams_dir)
    if diagrams is not None:
        _link(str(diagrams), src / "diagrams")
    elif (src / "diagrams").is_symlink():
        (src / "diagrams").unlink()
    lines = ["# Talks", "", '<p><a href="../index.html">All talks and their variants</a></p>', ""]
    for talk, doc in sorted((listed or talks).items(), key=lambda kv: kv[1]):
        try:
            title = str(read_talk(talk).meta.get("title") or doc)
        except MacroError:  # unreadable: Sphinx reports it when it reads the talk
            title = doc
        # a plain link, not {doc}: a shard lists talks it does not build, and its list
        # must be the page a build of every talk makes
        title = html.escape(title.replace("`", "'").replace("<", "(").replace(">", ")"))
        lines.append(f'- <a class="reference internal" href="{html.escape(doc)}.html">{title}</a>')
    _write_if_changed(src / "index.md", "\n".join(lines) + "\n")
    return removed


def _prune_outputs(work: Path, removed: list[str]) -> None:
    """Sphinx leaves the pages of removed documents behind: take them out of every variant."""
    for variant in VARIANTS:
        for doc in removed:
            page = work / variant / "html" / f"{doc}.html"
            if page.is_file():
                page.unlink()


def _diagrams_folder(project: Path, talks: list[str], given: str | None = None) -> Path | None:
    """What ``/diagrams`` names, linked into Sphinx's source folder so that Sphinx copies
    the images it is given: ``--diagrams``, else the first talk's configured folder
    (``diagramsdir``, ``talks_diagrams_dir``), else the talks' project's ``diagrams/``."""
    if given:
        return Path(given).resolve()
    from ..config import build_config

    for talk in talks:
        configured = build_config(talk).diagrams_dir
        if configured and os.path.isdir(configured):
            return Path(configured).resolve()
    for talk in talks:
        root = find_project_root(talk)
        if root is not None and (root / "diagrams").is_dir():
            return (root / "diagrams").resolve()
    return (project / "diagrams").resolve() if (project / "diagrams").is_dir() else None


# -- one variant: one Sphinx build (in a worker process) -------------------------------

_QUEUE = None


def _init_worker(queue) -> None:
    global _QUEUE
    _QUEUE = queue
    die_with_parent()


class SiteBusy(OSError):
    """Another ``talks build`` is writing the same site."""


def lock_site(work: Path):
    """Hold an exclusive lock on ``work`` for one build; refuse at once when another holds it.

    Returns the open lock file; closing it (or the process ending) releases the lock.
    """
    import fcntl

    work.mkdir(parents=True, exist_ok=True)
    handle = open(work / "build.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SiteBusy(errno.EBUSY, "another talks build is writing this site; "
                       "wait for it to finish", str(work)) from None
    return handle


def check_writable(out: Path) -> None:
    """Fail before anything is built or moved when the site cannot be replaced."""
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    for folder in [parent, *([out] if out.exists() else [])]:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "the site folder cannot be written; "
                                  "the last good site is left as it is", str(folder))


def _progress(kind: str, variant: str, value) -> None:
    if _QUEUE is not None:
        _QUEUE.put((kind, variant, value))


def build_variant(variant: str, src: str, confdir: str, work: str, overrides: dict,
                  parallel: int = 1) -> VariantResult:
    """Run Sphinx for one variant; never raises (a crash is reported in the result)."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    base = Path(work) / variant
    outdir, doctrees = base / "html", base / "doctrees"
    marker = base / "building"
    base.mkdir(parents=True, exist_ok=True)
    force_all = marker.exists()  # the last build of this variant stopped half-way
    _seed_static(outdir)
    marker.write_text("", encoding="utf-8")
    warnings = io.StringIO()
    result = VariantResult(variant, ok=False)
    try:
        with patch_docutils(confdir), docutils_namespace():
            app = Sphinx(src, confdir, str(outdir), str(doctrees), BUILDERS[variant],
                         confoverrides={**overrides, "talks_variant": variant},
                         status=None, warning=warnings, freshenv=False, parallel=parallel)

            def before_read(app, env, docnames):
                result.read.extend(sorted(docnames))
                _progress("total", variant, 2 * len(docnames))

            app.connect("env-before-read-docs", before_read)
            app.connect("source-read", lambda app, doc, source: _progress("step", variant, doc))
            app.connect("html-page-context",
                        lambda app, page, *a: _progress("step", variant, page))
            app.build(force_all=force_all)
        result.ok = True
    except BaseException as exc:  # noqa: BLE001 - a crash in one variant must not stop the others
        import traceback

        result.crash = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        if not isinstance(exc, Exception):
            raise
    else:
        marker.unlink()
    result.warnings = _warning_lines(warnings.getvalue())
    status = load_status(str(doctrees))
    if status is not None:
        result.talks = status.talks
    return result


def _seed_static(outdir: Path) -> None:
    """Put the extension's CSS, JavaScript and MathJax entry point in ``_static`` before the
    first build writes a page: Sphinx adds ``?v=<checksum>`` to an asset's link only when
    the file is already there, and the extension copies them when the build ends, so a
    fresh build's pages would otherwise differ from a later build's (and a shard's site,
    built fresh, from a one-machine site built in any order)."""
    import importlib.util

    from ..config import PACKAGE_DIR

    static = outdir / "_static"
    if not (static / "talks").is_dir():
        shutil.copytree(PACKAGE_DIR / "static", static / "talks")
    # where sphinx_ext/assets.py finds MathJax (the site stage does not import Sphinx's side)
    spec = importlib.util.find_spec("mathjax")
    folders = list(spec.submodule_search_locations or []) if spec else []
    source = Path(folders[0]) / "static" / "mathjax" / "es5" / "tex-svg.js" if folders else None
    entry = static / "mathjax" / "tex-svg.js"
    if source is not None and source.is_file() and not entry.is_file():
        entry.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, entry)


def _warning_lines(text: str) -> list[str]:
    """Sphinx's warnings, one entry each (with their continuation lines), paths made short."""
    cwd = os.getcwd() + os.sep
    entries: list[str] = []
    for line in text.replace("\x1b[91m", "").replace("\x1b[31m", "").replace("\x1b[39;49;00m", "") \
            .splitlines():
        if not line.strip():
            continue
        line = line.replace(cwd, "")
        if line.startswith("  ") and entries:
            entries[-1] += "\n" + line
        else:
            entries.append(line)
    return entries


# -- assembling the site ---------------------------------------------------------------

def _same(a: Path, b: Path) -> bool:
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    return sa.st_size == sb.st_size and sa.st_mtime_ns == sb.st_mtime_ns


def _place(src: Path, dest: Path, old: Path | None) -> None:
    """Copy ``src`` to ``dest``, or hard-link the old site's identical copy."""
    if old is not None and _same(src, old):
        try:
            os.link(old, dest)
            return
        except OSError:
            pass
    shutil.copy2(src, dest)


def _copy_tree(src: Path, dest: Path, old: Path | None) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(src):
        if entry.name in SKIP_IN_SITE:
            continue
        target = dest / entry.name
        previous = old / entry.name if old is not None else None
        if entry.is_dir():
            _copy_tree(Path(entry.path), target, previous if previous and previous.is_dir() else None)
        else:
            _place(Path(entry.path), target, previous if previous and previous.is_file() else None)


def _keep_page(old_root: Path, new_root: Path, doc: str) -> bool:
    """Put a talk's page from the old site back (with any image it needs that is gone)."""
    old_page = old_root / f"{doc}.html"
    if not old_page.is_file():
        return False
    new_page = new_root / f"{doc}.html"
    new_page.parent.mkdir(parents=True, exist_ok=True)
    if new_page.exists():
        new_page.unlink()
    _place(old_page, new_page, old_page)
    text = old_page.read_text(encoding="utf-8", errors="replace")
    for image in set(re.findall(r'_images/([^"\'?#)\s]+)', text)):
        if not (new_root / "_images" / image).exists() and (old_root / "_images" / image).is_file():
            (new_root / "_images").mkdir(exist_ok=True)
            _place(old_root / "_images" / image, new_root / "_images" / image,
                   old_root / "_images" / image)
    return True


def _talk_failed(status: TalkStatus, strict: bool) -> list[str]:
    problems = list(status.errors)
    if strict:
        problems += status.warnings
        hidden = status.warning_count - len(status.warnings)
        if hidden > 0:
            problems.append(f"... and {hidden} more warning(s)")
        if status.sphinx_warnings:
            problems.append(f"{status.sphinx_warnings} Sphinx warning(s) (see above)")
    return problems


def _has_page(site: Path, doc: str) -> bool:
    """A document is listed once some variant of the site holds its page."""
    return any((site / variant / f"{doc}.html").is_file() for variant in VARIANTS)


def index_order(talks: dict[str, dict]) -> list[tuple[str, dict]]:
    """A course's lectures in course order (``lectures.csv``, or ``week``/``session``);
    a plain folder of talks newest first."""
    if any(meta.get("order") is not None for meta in talks.values()):
        return sorted(talks.items(), key=lambda kv: (kv[1].get("order") is None,
                                                     kv[1].get("order") or (), kv[0]))
    return sorted(talks.items(), key=lambda kv: (str(kv[1].get("date", "")), kv[0]), reverse=True)


def render_index(talks: dict[str, dict], variants: tuple[str, ...], failed: dict,
                 exports: dict[str, list[tuple[str, str]]] | None = None,
                 pages: dict[str, dict] | None = None) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("build_tools", "templates"),
                             autoescape=True)
    return env.get_template("index.html").render(
        talks=[{"doc": doc, **meta, "failed": doc in failed, "exports": (exports or {}).get(doc, [])}
               for doc, meta in index_order(talks)],
        variants=[v for v in VARIANTS if v in variants],
        labels=VARIANT_LABELS,
        pages=[{"doc": doc, **meta} for doc, meta in sorted((pages or {}).items())],
        search="handout/search.html" if "handout" in variants else None)


def _export_links(site: Path, talks_meta: dict[str, dict]) -> dict[str, list[tuple[str, str]]]:
    """Doc -> (label, link) of every export of it the site holds."""
    from ..export import FORMATS, LABELS, SUFFIXES

    links: dict[str, list[tuple[str, str]]] = {}
    for doc in talks_meta:
        for fmt in FORMATS:
            rel = f"exports/{doc}{SUFFIXES[fmt]}"
            if (site / rel).is_file():
                links.setdefault(doc, []).append((LABELS[fmt], rel))
    return links


def _copy_exports(made: Path, dest: Path, old: Path, docs, formats: tuple[str, ...]) -> None:
    """Put in the site only this build's formats of this build's talks.

    ``made`` keeps every export ever made (so a later build can reuse them), but
    one of a format not asked for this time, or of a talk no longer built, may be
    stale: the pages link exactly ``formats``, and the index links what is here.
    A format asked for whose export failed keeps its last good file, as the page does.
    """
    from ..export import SUFFIXES

    for doc in docs:
        for fmt in formats:
            name = f"{doc}{SUFFIXES[fmt]}"
            if not (made / name).is_file():
                continue
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            _place(made / name, dest / name, old / name if (old / name).is_file() else None)
            files = f"{doc}_files"  # a notebook's figures
            if fmt == "ipynb" and (made / files).is_dir():
                _copy_tree(made / files, dest / files, old / files if (old / files).is_dir() else None)


def _swap(tmp: Path, out: Path) -> None:
    old = out.with_name(out.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _recover(out: Path) -> None:
    """A build stopped between the two renames: put the previous site back."""
    old = out.with_name(out.name + ".old")
    if not out.exists() and old.is_dir():
        os.replace(old, out)


def assemble(out: Path, work: Path, results: dict[str, VariantResult], variants,
             talks_meta: dict[str, dict], strict: bool,
             extra_pages: Callable[[Path], None] | None = None,
             export_formats: tuple[str, ...] = (),
             pages: dict[str, dict] | None = None,
             before_swap: Callable[[Path, SiteReport, dict], None] | None = None) -> SiteReport:
    report = SiteReport(str(out), results)
    check_writable(out)
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    old_status = {}
    if (out / STATUS).is_file():
        old_status = json.loads((out / STATUS).read_text(encoding="utf-8"))
    status: dict[str, dict[str, bool]] = {}
    withheld: set[str] = set()
    for variant in VARIANTS:
        built = work / variant / "html"
        previous = out / variant if (out / variant).is_dir() else None
        result = results.get(variant)
        if result is None or not built.is_dir():  # not asked for this time: keep the old pages
            if previous is not None and variant in old_status:
                _copy_tree(previous, tmp / variant, previous)
                status[variant] = old_status[variant]
            continue
        _copy_tree(built, tmp / variant, previous)
        status[variant] = {}
        for doc in talks_meta:
            talk = result.talks.get(doc, TalkStatus())
            problems = _talk_failed(talk, strict) if result.ok else [result.crash]
            good = not problems or (result.ok and not withholds_page(talk, problems))
            if not good:
                withheld.add(doc)
            if problems:
                report.failed.setdefault(doc, [])
                report.failed[doc] += [p for p in problems if p not in report.failed[doc]]
                was_good = old_status.get(variant, {}).get(doc, False)
                if not good and was_good and previous is not None \
                        and _keep_page(previous, tmp / variant, doc):
                    report.kept.append((variant, doc))
                    good = True
            status[variant][doc] = good
    report.published = [doc for doc in report.failed if doc not in withheld]
    if extra_pages is not None:
        extra_pages(tmp)
    _copy_exports(work / "exports", tmp / "exports", out / "exports", talks_meta, export_formats)
    (tmp / STATUS).write_text(json.dumps(status, indent=1), encoding="utf-8")
    listed = {doc: meta for doc, meta in talks_meta.items() if _has_page(tmp, doc)}
    shown_pages = {doc: meta for doc, meta in (pages or {}).items() if _has_page(tmp, doc)}
    (tmp / "index.html").write_text(render_index(listed, tuple(status), report.withheld(),
                                                 _export_links(tmp, listed), shown_pages),
                                    encoding="utf-8")
    if before_swap is not None:
        before_swap(tmp, report, status)
    _swap(tmp, out)
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
    files = [bib for folder in dict.fromkeys(os.path.dirname(os.path.abspath(t)) for t in talks)
             for bib in bibdir_files(folder)]  # lamd's bibdir, then the command line's (README)
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


def build_site(options: SiteOptions, progress: Callable[[str, str, object], None] | None = None
               ) -> SiteReport:
    project = _project(options)
    talks = [os.path.abspath(t) for t in options.talks] or find_talks(project)
    out = Path(options.out).resolve()
    work = Path(options.work).resolve() if options.work else out.parent / ".work" / out.name
    check_writable(out)
    with lock_site(work):
        return _build_locked(options, project, talks, out, work, progress)


def _build_locked(options: SiteOptions, project: Path, talks: list[str], out: Path, work: Path,
                  progress) -> SiteReport:
    _recover(out)
    # every talk of the project is in the source folder, so a partial build keeps the
    # others' pages, links and search entries, and document names never depend on the
    # talks named on the command line; Sphinx rereads only what changed (the named
    # talks, and any other whose sources changed, which would otherwise be left stale)
    every_doc = docnames_for(_site_talks(project, talks))
    pages = page_docnames(find_pages(project, talk_folders(project)), set(every_doc.values())) \
        if set(every_doc) >= set(find_talks(project)) else {}
    docs = every_doc
    if options.shard is not None:  # names, list and fragments stay the whole project's
        docs = shard_documents(every_doc, options.shard)
        pages = pages if options.shard.index == 1 else {}
    src = work / "src"
    removed = prepare_sources(src, project, docs, pages, options.diagrams_dir, listed=every_doc)
    _prune_outputs(work, removed)

    _preload(options.variants)

    conf_bibs = _bib_files(talks, options.bib_files, options.include_roots)
    overrides = {"root_doc": "index", "exclude_patterns": ["diagrams"],
                 "talks_include_roots": [os.path.abspath(d) for d in options.include_roots],
                 "talks_linked_exports": list(options.exports),
                 "talks_preview": options.preview,
                 "talks_navigation": course_navigation(every_doc),
                 "talks_command_line_diagrams": os.path.abspath(options.diagrams_dir)
                 if options.diagrams_dir else ""}
    if conf_bibs:  # conf.py's own first: in the documented order (README, Configuration)
        overrides["talks_bib_files"] = list(dict.fromkeys(_conf_bib_files(project) + conf_bibs))
    variants = [v for v in ORDER if v in options.variants]
    if {"slides", "handout"} & set(variants):
        overrides["talks_prepared_dir"] = str(work / "prepared")
        prepare_decks(docs, src, confdir_for(project), overrides, work / "prepared", options.jobs)
    cpus = _cpus()
    # all variants at once when there are cores to share: they finish together
    jobs = max(1, min(options.jobs or (len(variants) if cpus > 1 else 1), len(variants)))
    parallel = 1  # sphinx-revealjs is not safe for parallel reading: every read is serial
    results: dict[str, VariantResult] = {}
    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    queue = ctx.Queue() if progress else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(queue,)) as pool:
        futures = {pool.submit(build_variant, v, str(src), str(confdir_for(project)), str(work),
                               _variant_overrides(overrides, v, pages), parallel): v
                   for v in variants}
        fragment_pages = _fragment_pages(project, options, every_doc, variants)  # while Sphinx works
        pending = set(futures)
        while pending:
            if queue is not None:
                _drain(queue, progress)
            done = [f for f in pending if f.done()]
            for future in done:
                pending.discard(future)
                variant = futures[future]
                try:
                    results[variant] = future.result()
                except Exception as exc:  # the worker process itself died
                    results[variant] = VariantResult(variant, ok=False, crash=repr(exc))
                if progress:
                    progress("done", variant, results[variant].ok)
            if pending:
                _wait(pending, queue)
        if queue is not None:
            _drain(queue, progress)
    name_sources = _source_namer(src, docs)
    for result in results.values():
        result.warnings = [name_sources(w) for w in result.warnings]
    talks_meta = _talks_meta(docs, results)
    exported = _run_exports(options, project, work, docs, results) if options.exports else []
    page_rows = {doc: page_summary(path) for path, doc in pages.items()}
    finish = None
    if options.shard is not None:
        def finish(site: Path, report: SiteReport, status: dict) -> None:
            ShardManifest(options.shard.index, options.shard.count, list(every_doc.values()),
                          list(status), talks_meta, report.failed, page_rows,
                          report.published).write(site)
    report = assemble(out, work, results, variants, talks_meta, options.strict,
                      lambda site: write_pages(site / "fragments", fragment_pages),
                      export_formats=options.exports, pages=page_rows, before_swap=finish)
    report.exports = exported
    return report


def prepare_decks(docs: dict[str, str], src: Path, confdir: Path, overrides: dict, folder: Path,
                  jobs: int | None = None) -> None:
    """Expand each talk's deck once, before Sphinx starts, with the settings its build will have.

    The deck's build reads the record instead of expanding the talk, and the handout's
    build takes its links' slide anchors from it.  A record still true to its files is kept.
    """
    from ..api import config_key, prepared_file, prepared_is_current
    from ..config import build_config, conf_values, read_conf

    conf = {**read_conf(confdir), **conf_values(overrides, confdir)}
    diagrams = overrides.get("talks_command_line_diagrams") or None
    work = []
    for talk, doc in docs.items():
        path = os.path.realpath(talk)
        config = build_config(path, conf=conf, image_root=str(src), diagrams_dir=diagrams)
        file = prepared_file(str(folder), doc, "slides")
        if not prepared_is_current(file, config_key(config)):
            work.append((path, config, file))
    workers = min(jobs or _cpus(), _cpus())
    if len(work) < 8 or workers < 2:  # a few talks: not worth starting processes
        for job in work:
            _prepare_deck(job)
        return
    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with ctx.Pool(workers, initializer=die_with_parent) as pool:
        # contiguous runs: talks of one folder share fragments, so each worker reuses more
        pool.map(_prepare_deck, work, chunksize=-(-len(work) // workers))


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _prepare_deck(job: tuple[str, object, str]) -> None:
    from ..api import page_emit_options, prepare_talk, save_prepared
    from ..diagnostics import MacroError

    path, config, file = job
    try:
        save_prepared(prepare_talk(path, "slides", config, page_emit_options()), file)
    except MacroError:  # the deck's build reports it, at its place
        pass
    except OSError:  # no record: the deck's build expands the talk itself
        pass


def _source_namer(src: Path, docs: dict[str, str]) -> Callable[[str], str]:
    """A function that makes a warning name the talk's own file, never the generated
    source folder's link to it (worked out once for all the warnings of a build)."""
    prefixes = [str(src) + os.sep, os.path.relpath(src) + os.sep]
    talks = {}
    for talk, doc in docs.items():
        for prefix in prefixes:
            talks[f"{prefix}{doc}.md"] = os.path.relpath(talk)
    shown = re.compile("(?:" + "|".join(re.escape(p) for p in prefixes) + r")[^\s:]+?\.md")

    def name(warning: str) -> str:
        if not any(prefix in warning for prefix in prefixes):
            return warning
        warning = shown.sub(lambda m: talks.get(m.group(0), m.group(0)), warning)
        for prefix in prefixes:
            warning = warning.replace(prefix, "")
        return warning

    return name


def summary(warnings: list[str], most: int = 5) -> list[str]:
    """Counts of warnings by code, and the files with most warnings."""
    import collections

    codes: collections.Counter = collections.Counter()
    files: collections.Counter = collections.Counter()
    for warning in warnings:
        first = warning.split("\n", 1)[0]
        code = re.search(r"\[(?:talks\.)?([\w.-]+)\]\s*$", warning)
        codes[code.group(1) if code else "other"] += 1
        where = re.match(r"([^:\s]+\.\w+):\d+", first)
        if where:
            files[where.group(1)] += 1
    if not codes:
        return []
    lines = [f"{sum(codes.values())} warning(s): "
             + ", ".join(f"{code} {n}" for code, n in codes.most_common())]
    if files:
        lines.append("most warnings: " + ", ".join(f"{f} ({n})" for f, n in files.most_common(most)))
    return lines


def _site_talks(project: Path, talks: list[str]) -> list[str]:
    """The talks the site holds: the project's with the named ones; talks from outside the
    project (a folder given by path) make a site of their own."""
    inside = all(Path(t).resolve().is_relative_to(project.resolve()) for t in talks)
    return list(dict.fromkeys([*find_talks(project), *talks])) if inside else talks


def page_docnames(pages: list[str], taken: set[str]) -> dict[str, str]:
    """Document name per page: ``pages/<name>``, apart from every talk's."""
    names = {}
    for path in pages:
        name = f"pages/{Path(path).stem}"
        while name in taken:
            name += "-page"
        taken.add(name)
        names[os.path.abspath(path)] = name
    return names


def _variant_overrides(overrides: dict, variant: str, pages: dict[str, str]) -> dict:
    """Pages are rendered once, in the handout's theme: the other variants leave them out."""
    if variant == "handout" or not pages:
        return overrides
    return {**overrides, "exclude_patterns": [*overrides["exclude_patterns"],
                                              *(f"{doc}.md" for doc in pages.values())]}


def _run_exports(options: SiteOptions, project: Path, work: Path, docs: dict[str, str],
                 results: dict[str, VariantResult]) -> list:
    """Export every talk the build did not fail; a failed talk keeps its last good exports."""
    from ..config import build_config, read_site_setting
    from ..export.run import ExportJob, run_exports

    diagrams = _diagrams_folder(project, list(docs), options.diagrams_dir)
    notation = read_site_setting(str(project), "talks_notation")
    export_jobs = []
    for talk, doc in docs.items():
        if any(not r.ok or withholds_page(r.talks.get(doc, TalkStatus()), _talk_failed(
                r.talks.get(doc, TalkStatus()), options.strict)) for r in results.values()):
            continue
        config = build_config(talk, project=str(project), include_roots=options.include_roots,
                              bib_files=options.bib_files, diagrams_dir=options.diagrams_dir)
        pages = {v: str(work / v / "html" / f"{doc}.html") for v in VARIANTS}
        export_jobs.append(ExportJob(talk, doc, tuple(options.exports), str(work / "exports"), config,
                                     pages, str(diagrams) if diagrams else None, notation,
                                     options.slide_notes))
    return run_exports(export_jobs, options.jobs or None)


def _fragment_pages(project: Path, options: SiteOptions, docs: dict[str, str], variants
                    ) -> dict[str, str]:
    """The pages listing each shared fragment and the talks that use it."""
    from .fragments import render_fragment_pages

    roots = [str(project / "includes")] if (project / "includes").is_dir() else []
    roots += [os.path.abspath(d) for d in options.include_roots]
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


def _preload(variants) -> None:
    """Import Sphinx and its extensions, and load the macro vocabulary, before the
    variant processes fork: each of them then starts with all of it in memory."""
    import furo  # noqa: F401
    import myst_parser.parsers.sphinx_  # noqa: F401
    import sphinx.application  # noqa: F401
    import sphinx.builders.html  # noqa: F401
    import sphinx_revealjs  # noqa: F401
    import sphinxcontrib.bibtex  # noqa: F401

    from ..engine.vocabulary import load_vocabulary

    for variant in variants:
        try:
            load_vocabulary(variant, TalkConfig())
        except Exception:  # noqa: BLE001 - the build itself reports a broken vocabulary
            pass


def _conf_bib_files(project: Path) -> list[str]:
    """conf.py's ``talks_bib_files``; a project without conf.py: ``talks/references.bib``."""
    if (project / "conf.py").is_file():
        return list(read_conf(project).get("bib_files", []))
    default = project / "talks" / "references.bib"
    return [str(default)] if default.is_file() else []


def _wait(pending, queue) -> None:
    from concurrent.futures import FIRST_COMPLETED, wait

    wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)


def _drain(queue, progress) -> None:
    import queue as queue_module

    while True:
        try:
            kind, variant, value = queue.get_nowait()
        except queue_module.Empty:
            return
        except (EOFError, OSError):
            return
        progress(kind, variant, value)


def _talks_meta(docs: dict[str, str], results: dict[str, VariantResult]) -> dict[str, dict]:
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
                     "order": course_position(path)}
    return meta


def course_position(path: str) -> tuple | None:
    """Where a lecture comes in its course: its row in the folder's ``lectures.csv``, else
    its front matter's ``week`` and ``session``; None for a talk in no course."""
    position = _lecture_rows(os.path.dirname(os.path.abspath(path))).get(
        os.path.splitext(os.path.basename(path))[0])
    if position is not None:
        return (position,)
    try:
        meta = read_talk(path).meta
    except MacroError:
        return None
    numbers = [_number(meta.get(key)) for key in ("week", "session")]
    return tuple(n if n is not None else 0 for n in numbers) if any(
        n is not None for n in numbers) else None


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _lecture_rows(folder: str) -> dict[str, int]:
    """``lectures.csv`` (lamd's course order: a ``lectureId`` column, one lecture a row)."""
    import csv

    path = os.path.join(folder, "lectures.csv")
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError:
        return {}
    if not rows:
        return {}
    header = [h.strip() for h in rows[0]]
    column = header.index("lectureId") if "lectureId" in header else 0
    return {row[column].strip(): n for n, row in enumerate(rows[1:])
            if len(row) > column and row[column].strip()}
