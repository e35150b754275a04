"""One Sphinx build per variant, in worker processes, reporting progress to the parent."""
from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import pickle
import queue as queue_module
import shutil
import signal
import time
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar
from collections.abc import Callable, Iterable, Iterator

from ..config import TalkConfig
from ..engine.vocabulary import load_vocabulary
from ..project import PACKAGE_DIR
from ..sphinx_ext import import_modules
from ..sphinx_ext.reading import talk_info
from ..sphinx_ext.speedups import remember_entry_points
from ..status import TalkStatus, load as load_status
from ..timings import StageTime, rows, taken, timed
from .. import workers
from .unchanged import StillBuilt, build_key, forget_last_build, record_last_build
from ..workers import cpu_count, die_with_parent, process_context

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

Meanwhile = TypeVar("Meanwhile")

__all__ = ["BUILDERS", "ORDER", "KeptVariants", "VariantResult", "build_kept", "build_variant",
           "run_variants", "talk_problems", "variant_overrides", "preload"]

BUILDERS = {"slides": "revealjs", "speaker-notes": "html", "handout": "html"}


ORDER = ("handout", "speaker-notes", "slides")  # longest first, when they share cores


@dataclass
class VariantResult:
    variant: str
    ok: bool
    read: list[str] = field(default_factory=list)
    """Documents Sphinx read (re-read) in this run."""
    warnings: list[str] = field(default_factory=list)
    talks: dict[str, TalkStatus] = field(default_factory=dict)
    crash: str = ""
    timings: list[StageTime] = field(default_factory=list)
    """Where the variant's worker spent its time: Sphinx's start, reading (the talks'
    expansion and MyST within it), writing."""
    fresh: bool = False
    """A new Sphinx application was made for this build (not one kept from the last)."""
    said_again: tuple[int, int] = (0, 0)
    """``warnings[start:end]`` are the warnings said again for the documents this build did
    not read or write (``sphinx_ext/replay.py``): the others are this build's own."""
    unchanged: bool = False
    """Not started: its last build still holds, and said what this result says
    (``unchanged.still_built``)."""


Progress = tuple[str, str, object]
"""What a worker tells the parent: (kind, variant, value), as ``run_variants``'s ``progress`` takes it."""

_QUEUE: Queue[Progress] | None = None


def _init_worker(queue: Queue[Progress] | None) -> None:
    global _QUEUE
    _QUEUE = queue
    die_with_parent()  # at once, before any task: ``ensure_started`` may fail


def _init_kept_worker() -> None:
    """A kept worker waits between builds: Ctrl-C is for the server, which ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(None)


def _progress(kind: str, variant: str, value: object) -> None:
    if _QUEUE is not None:
        _QUEUE.put((kind, variant, value))


def build_variant(variant: str, src: str, confdir: str, work: str, overrides: dict,
                  parallel: int = 1) -> VariantResult:
    """Run Sphinx for one variant; never raises (a crash is reported in the result)."""
    session = _Session(variant, src, confdir, work, overrides, parallel)
    try:
        return session.build()
    finally:
        session.close()


class _Session:
    """One variant's Sphinx application, made on the first build and kept open for more.

    The application is made inside docutils' patched namespace (where Sphinx registers
    its directives and roles), which stays entered as long as the application lives.
    A build that raised leaves the application unusable: ``build`` then closes it.

    A kept session (``keep_environment``) holds its environment in memory: Sphinx does not
    save it after each build, and no saved environment is left on disk meanwhile (it
    would be stale); ``close(save=True)`` saves it when the application is let go.
    """

    def __init__(self, variant: str, src: str, confdir: str, work: str, overrides: dict,
                 parallel: int, keep_environment: bool = False) -> None:
        self.variant, self.src, self.confdir, self.work = variant, src, confdir, work
        self.overrides, self.parallel = overrides, parallel
        self.keep_environment = keep_environment
        self.unsaved = False
        """The environment in memory is newer than any saved on disk."""
        self.key = _session_key(variant, src, confdir, work, overrides, parallel)
        self.app: Sphinx | None = None
        self.contexts = contextlib.ExitStack()
        self.warnings = io.StringIO()
        self.inputs: dict[str, tuple[int, int] | None] = {}
        """What the application read when it was made (conf.py, bibliographies, the
        notation), with their stamps: a change to any of them needs a new application."""
        self.result = VariantResult(variant, ok=False)
        self.clock = _PhaseClock()
        self.replay: tuple[int, int] | None = None
        """Where, in this build's warnings, those said again begin and end (-1: not yet)."""

    def current(self) -> bool:
        """Whether the kept application was made from the files as they are now."""
        return self.app is not None and all(_stamp(p) == s for p, s in self.inputs.items())

    def build(self) -> VariantResult:
        base = Path(self.work) / self.variant
        marker = base / "building"
        base.mkdir(parents=True, exist_ok=True)
        force_all = marker.exists()  # the last build of this variant stopped half-way
        _seed_static(base / "html")
        marker.write_text("", encoding="utf-8")
        forget_last_build(str(base))
        self.warnings.seek(0)
        self.warnings.truncate()
        self.replay = None
        result = self.result = VariantResult(self.variant, ok=False)
        self.clock = _PhaseClock()
        taken()  # what this process spent before is not this variant's
        try:
            if self.app is None:
                self._open(base)
                result.fresh = True
            assert self.app is not None
            # the images of the pages this build writes, as a new application has: a kept
            # one would otherwise compare every image any earlier build wrote with its copy
            self.app.builder.images.clear()
            if not self.keep_environment:
                self.app.build(force_all=force_all)
            else:
                with _environment_not_saved(Path(self.app.doctreedir)) as stand_in:
                    self.app.build(force_all=force_all)
                self.unsaved = self.unsaved or stand_in.skipped
            self.clock.mark("Sphinx write")
            result.ok = True
        except BaseException as exc:
            import traceback

            result.crash = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.close()
            if not isinstance(exc, Exception):
                raise
        else:
            marker.unlink()
        result.warnings, result.said_again = self._warnings()
        where = f"{self.variant} worker"
        result.timings = [StageTime(stage, seconds, where) for stage, seconds in self.clock.phases] \
            + rows(taken(), where)
        result.talks = self._statuses(base)
        if result.ok and not self.keep_environment:
            self._record(base)
        return result

    def _record(self, base: Path) -> None:
        """What the next build checks before it starts this variant (``unchanged``)."""
        assert self.app is not None
        key = build_key(self.variant, self.src, self.confdir, self.work, self.overrides,
                        self.parallel)
        try:
            record_last_build(self.app, str(base), key, self.inputs, self.result.warnings)
        except OSError:  # no record: the next build starts the variant
            forget_last_build(str(base))

    def _statuses(self, base: Path) -> dict[str, TalkStatus]:
        """Each talk's status: as the build just saved it (the application holds it), or,
        when the build stopped, as the last build that finished saved it."""
        if self.app is not None:
            return dict(talk_info(self.app.env))
        status = load_status(str(base / "doctrees"))
        return status.talks if status is not None else {}

    def _open(self, base: Path) -> None:
        from sphinx.application import Sphinx
        from sphinx.util.docutils import docutils_namespace, patch_docutils

        self.contexts.enter_context(patch_docutils(self.confdir))
        self.contexts.enter_context(docutils_namespace())
        app = Sphinx(self.src, self.confdir, str(base / "html"), str(base / "doctrees"),
                     BUILDERS[self.variant],
                     confoverrides={**self.overrides, "talks_variant": self.variant},
                     status=None, warning=self.warnings, freshenv=False, parallel=self.parallel)
        app.connect("env-before-read-docs", self._before_read)
        app.connect("env-updated", lambda app, env: self.clock.mark("Sphinx read"))
        app.connect("source-read", lambda app, doc, source: _progress("step", self.variant, doc))
        app.connect("html-page-context",
                    lambda app, page, *a: _progress("step", self.variant, page))
        from ..sphinx_ext.replay import SAY_AGAIN_PRIORITY

        # the lines said again for the documents this build skips are written together
        app.connect("build-finished", lambda app, exc: self._replay_begins(),
                    priority=SAY_AGAIN_PRIORITY - 1)
        app.connect("build-finished", lambda app, exc: self._replay_ends(),
                    priority=SAY_AGAIN_PRIORITY + 1)
        read = [os.path.join(self.confdir, "conf.py"), str(app.config.talks_notation or ""),
                *(os.path.join(self.confdir, b) for b in app.config.talks_bib_files or [])]
        self.inputs = {path: _stamp(path) for path in read if path}
        self.app = app

    def _replay_begins(self) -> None:
        self.replay = (self.warnings.tell(), -1)

    def _replay_ends(self) -> None:
        if self.replay is not None:
            self.replay = (self.replay[0], self.warnings.tell())

    def _warnings(self) -> tuple[list[str], tuple[int, int]]:
        """The build's warnings, and where among them those said again are."""
        text = self.warnings.getvalue()
        start, end = self.replay or (len(text), len(text))
        end = len(text) if end < 0 else end
        before, again = _warning_lines(text[:start]), _warning_lines(text[start:end])
        return before + again + _warning_lines(text[end:]), (len(before), len(before) + len(again))

    def _before_read(self, app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
        self.clock.mark("Sphinx start")
        # the environment Sphinx has just loaded lives as long as the application: the
        # collections of this build need not walk it (a kept application, which builds again
        # and again, is frozen after its builds instead: ``build_kept``)
        if not self.keep_environment:
            gc.freeze()
        self.result.read.extend(sorted(docnames))
        _progress("total", self.variant, 2 * len(docnames))

    def close(self, save: bool = False) -> None:
        """Let the application go; with ``save``, first save the environment it kept in
        memory, as Sphinx would have after its last build."""
        if save and self.app is not None and self.unsaved:
            _save_environment(self.app)
            self.unsaved = False
        self.app = None
        self.contexts.close()


class _EnvironmentNotSaved:
    """Stands for the ``pickle`` module in Sphinx's builder while a kept application builds:
    Sphinx saves its whole environment (megabytes for a course) after every build that read
    a document, which an application that lives on, its environment in memory, does not
    need.  Every other pickle (each document's doctree) is written as Sphinx writes it."""

    def __init__(self) -> None:
        self.skipped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(pickle, name)

    def dump(self, obj: object, file: IO[bytes], *args: Any, **kwargs: Any) -> None:
        from sphinx.environment import BuildEnvironment

        if isinstance(obj, BuildEnvironment):
            self.skipped = True
            return
        pickle.dump(obj, file, *args, **kwargs)


@contextlib.contextmanager
def _environment_not_saved(doctrees: Path) -> Iterator[_EnvironmentNotSaved]:
    """Sphinx's builds in this block save no environment; the file Sphinx opened for it is
    removed, so a later application (``talks build``, a new worker) finds none and reads
    every document again rather than trust a stale or empty one."""
    import sphinx.builders
    from sphinx.application import ENV_PICKLE_FILENAME

    stand_in = _EnvironmentNotSaved()
    setattr(sphinx.builders, "pickle", stand_in)
    try:
        yield stand_in
    finally:
        setattr(sphinx.builders, "pickle", pickle)
        if stand_in.skipped:
            (doctrees / ENV_PICKLE_FILENAME).unlink(missing_ok=True)


def _save_environment(app: Sphinx) -> None:
    """The application's environment saved where, and as, Sphinx saves it after a build
    (written beside and renamed, so no half-written file is ever read)."""
    from sphinx.application import ENV_PICKLE_FILENAME

    path = Path(app.doctreedir) / ENV_PICKLE_FILENAME
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as fh:
        pickle.dump(app.env, fh, pickle.HIGHEST_PROTOCOL)
    os.replace(part, path)


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _session_key(variant: str, src: str, confdir: str, work: str, overrides: dict,
                 parallel: int) -> str:
    return json.dumps([variant, src, confdir, work, overrides, parallel], sort_keys=True,
                      default=str)


_KEPT: _Session | None = None
"""In a kept variant worker (``KeptVariants``): its variant's application, between builds."""


def build_kept(variant: str, src: str, confdir: str, work: str, overrides: dict,
               parallel: int = 1) -> VariantResult:
    """Build one variant with the application this worker kept from its last build, when
    it was made for the same build and files; otherwise, or when building with it fails,
    with a new one (which reads the saved environment, or everything when the failed
    build removed it).  Never raises, as ``build_variant``."""
    global _KEPT
    workers.ensure_started()
    key = _session_key(variant, src, confdir, work, overrides, parallel)
    if _KEPT is not None and (_KEPT.key != key or not _KEPT.current()):
        _KEPT.close(save=True)  # the new application starts from its environment
        _KEPT = None
    if _KEPT is not None:
        result = _KEPT.build()
        if result.ok:
            return result
        _KEPT = None  # ``build`` closed it; say nothing of that crash unless a new one fails too
    _KEPT = _Session(variant, src, confdir, work, overrides, parallel, keep_environment=True)
    result = _KEPT.build()
    if not result.ok:
        _KEPT = None
    else:
        # what the application holds now (Sphinx, its extensions, the environment) lives on:
        # the collector need not walk it again in every later build; at most what this build
        # read is kept when later builds replace it
        gc.freeze()
    return result


def release_kept() -> None:
    """In a kept worker, when the server ends: save the environment its application kept
    in memory (the next ``talks serve`` of the project then reads only what changed since)
    and let the application go."""
    global _KEPT
    if _KEPT is not None:
        _KEPT.close(save=True)
        _KEPT = None


class _PhaseClock:
    """The seconds between one mark and the next."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.phases: list[tuple[str, float]] = []

    def mark(self, phase: str) -> list[str]:
        """(The empty list: as an ``env-updated`` handler, no document to write besides.)"""
        now = time.perf_counter()
        self.phases.append((phase, now - self.last))
        self.last = now
        return []


def _seed_static(outdir: Path) -> None:
    """Put the extension's CSS, JavaScript and MathJax entry point in ``_static`` before the
    first build writes a page: Sphinx adds ``?v=<checksum>`` to an asset's link only when
    the file is already there, and the extension copies them when the build ends, so a
    fresh build's pages would otherwise differ from a later build's (and a shard's site,
    built fresh, from a one-machine site built in any order)."""
    import importlib.util

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


def talk_problems(status: TalkStatus, strict: bool) -> list[str]:
    problems = list(status.errors)
    if strict:
        problems += status.warnings
        hidden = status.warning_count - len(status.warnings)
        if hidden > 0:
            problems.append(f"... and {hidden} more warning(s)")
        if status.sphinx_warnings:
            problems.append(f"{status.sphinx_warnings} Sphinx warning(s) (see above)")
    return problems


def run_variants(variants: list[str], src: Path, confdir: Path, work: Path,
                 overrides: Callable[[str], dict], jobs: int | None,
                 progress: Callable[[str, str, object], None] | None,
                 meanwhile: Callable[[], Meanwhile],
                 on_built: Callable[[str, VariantResult], None] | None = None,
                 kept: KeptVariants | None = None,
                 unchanged: Callable[[str, int], StillBuilt | None] | None = None,
                 ) -> tuple[dict[str, VariantResult], Meanwhile]:
    """Build each variant in its own process, all at once where there are cores for them.

    ``meanwhile`` runs in this process while Sphinx works; its value is returned beside the
    results.  ``on_built`` is told of each variant as soon as it is built (the others may
    still be building).  A variant whose process died is a crashed result, never an exception.
    With ``kept``, each variant is built by its long-lived worker there (``talks serve``).
    ``unchanged`` (variant, Sphinx's parallel jobs) says what a variant whose last build
    still holds reported: it is not started.
    """
    results: dict[str, VariantResult] = {}
    if kept is not None:
        with timed("Sphinx loaded"):
            preload(variants)
        submitted = {v: kept.submit(v, str(src), str(confdir), str(work), overrides(v))
                     for v in variants}
        extra = meanwhile()
        for variant, future in submitted.items():
            results[variant] = kept.outcome(variant, future)
            if on_built is not None:
                on_built(variant, results[variant])
        return results, extra
    parallel = 1  # sphinx-revealjs is not safe for parallel reading: every read is serial
    if unchanged is not None:
        with timed("variants checked"):
            results.update(_not_started(variants, lambda v: unchanged(v, parallel)))
    for variant, result in results.items():
        if on_built is not None:
            on_built(variant, result)
        if progress:
            progress("done", variant, True)
    started = [v for v in variants if v not in results]
    if not started:
        return results, meanwhile()
    with timed("Sphinx loaded"):  # only now: a build that starts no variant needs none of it
        preload(started)
    extra = _start(started, src, confdir, work, overrides, jobs, progress, meanwhile, on_built,
                   parallel, results)
    return {v: results[v] for v in variants}, extra


def _not_started(variants: list[str], unchanged: Callable[[str], StillBuilt | None]
                 ) -> dict[str, VariantResult]:
    """The variants whose last build still holds, with what it reported."""
    results = {}
    for variant in variants:
        held = unchanged(variant)
        if held is not None:
            results[variant] = VariantResult(variant, ok=True, warnings=held.warnings,
                                             talks=held.talks, unchanged=True,
                                             said_again=(0, len(held.warnings)))
    return results


def _start(variants: list[str], src: Path, confdir: Path, work: Path,
           overrides: Callable[[str], dict], jobs: int | None,
           progress: Callable[[str, str, object], None] | None,
           meanwhile: Callable[[], Meanwhile],
           on_built: Callable[[str, VariantResult], None] | None, parallel: int,
           results: dict[str, VariantResult]) -> Meanwhile:
    """Each variant in a worker process of its own, its result put in ``results``."""
    cpus = cpu_count()
    # all variants at once when there are cores to share: they finish together
    processes = max(1, min(jobs or (len(variants) if cpus > 1 else 1), len(variants)))
    queue = process_context().Queue() if progress else None
    with ProcessPoolExecutor(max_workers=processes, mp_context=process_context(),
                             initializer=_init_worker, initargs=(queue,)) as pool:
        futures = {pool.submit(_build_in_worker, v, str(src), str(confdir), str(work),
                               overrides(v), parallel): v for v in variants}
        extra = meanwhile()
        pending = set(futures)
        while pending:
            if queue is not None and progress is not None:
                _drain(queue, progress)
            for future in [f for f in pending if f.done()]:
                pending.discard(future)
                variant = futures[future]
                results[variant] = _outcome(future, variant)
                if on_built is not None:
                    on_built(variant, results[variant])
                if progress:
                    progress("done", variant, results[variant].ok)
            if pending:
                _wait(pending, queue)
        if queue is not None and progress is not None:
            _drain(queue, progress)
    return extra


SAVING_LIMIT = 60.0
"""Seconds the kept workers have, all together, to save their environments when the
server ends (a course's take well under one)."""


class KeptVariants:
    """A long-lived worker process per variant, each keeping its Sphinx application from
    one build to the next (``build_kept``): a rebuild then costs the reading and writing of
    what changed, not Sphinx's start (its extensions, the saved environment, the templates).

    A worker that dies is replaced, and the build it held is run once more in the new one
    (a fresh application); a second death is the variant's crash, as in ``run_variants``.
    """

    def __init__(self) -> None:
        self.pools: dict[str, ProcessPoolExecutor] = {}
        self.asked: dict[str, tuple[str, str, str, dict]] = {}

    def submit(self, variant: str, src: str, confdir: str, work: str,
               overrides: dict) -> Future[VariantResult]:
        self.asked[variant] = (src, confdir, work, overrides)
        try:
            return self._pool(variant).submit(build_kept, variant, src, confdir, work, overrides)
        except BrokenExecutor:  # its worker died while it waited for this build
            self.discard(variant)
            return self._pool(variant).submit(build_kept, variant, src, confdir, work, overrides)

    def outcome(self, variant: str, future: Future[VariantResult]) -> VariantResult:
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - the worker died: once more, in a new one
            self.discard(variant)
        again = self.submit(variant, *self.asked[variant])
        result = _outcome(again, variant)
        if again.exception() is not None:
            self.discard(variant)
        return result

    def _pool(self, variant: str) -> ProcessPoolExecutor:
        if variant not in self.pools:
            self.pools[variant] = ProcessPoolExecutor(
                max_workers=1, mp_context=process_context(), initializer=_init_kept_worker)
        return self.pools[variant]

    def discard(self, variant: str) -> None:
        pool = self.pools.pop(variant, None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self, saving_limit: float = SAVING_LIMIT) -> None:
        """End the workers, each once it saved its environment (``release_kept``) or the
        limit passed (a worker stopped then leaves no environment on disk: the next build
        reads every document)."""
        saving = []
        for pool in self.pools.values():
            try:
                saving.append(pool.submit(release_kept))
            except BrokenExecutor:
                pass
        wait(saving, timeout=saving_limit)
        for variant in list(self.pools):
            self.discard(variant)


def _build_in_worker(variant: str, src: str, confdir: str, work: str, overrides: dict,
                     parallel: int) -> VariantResult:
    workers.ensure_started()
    return build_variant(variant, src, confdir, work, overrides, parallel)


def _outcome(future: Future[VariantResult], variant: str) -> VariantResult:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - the worker process itself died or never started
        return VariantResult(variant, ok=False,
                             crash=workers.failure_text(exc))


def variant_overrides(overrides: dict, variant: str, pages: dict[str, str]) -> dict:
    """Pages are rendered once, in the handout's theme: the other variants leave them out."""
    if variant == "handout" or not pages:
        return overrides
    return {**overrides, "exclude_patterns": [*overrides["exclude_patterns"],
                                              *(f"{doc}.md" for doc in pages.values())]}


def preload(variants: Iterable[str]) -> None:
    """Import Sphinx and its extensions, and load the macro vocabulary, before the
    variant processes fork: each of them then starts with all of it in memory."""
    import importlib

    import furo  # noqa: F401
    import myst_parser.parsers.sphinx_  # noqa: F401
    import sphinx.application
    import sphinx.builders.html
    import sphinx_revealjs  # noqa: F401
    import sphinxcontrib.bibtex  # noqa: F401

    # what every Sphinx application loads when it starts (its domains, builders, transforms,
    # this package's extension): imported once here, instead of in each variant's process
    for name in sphinx.application.builtin_extensions:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional part Sphinx itself would skip
            pass
    import_modules()

    remember_entry_points()
    for variant in variants:
        try:
            load_vocabulary(variant, TalkConfig())
        except Exception:  # noqa: BLE001 - the build itself reports a broken vocabulary
            pass


def _wait(pending: set[Future[VariantResult]], queue: Queue[Progress] | None) -> None:
    wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)


def _drain(queue: Queue[Progress], progress: Callable[[str, str, object], None]) -> None:
    while True:
        try:
            kind, variant, value = queue.get_nowait()
        except queue_module.Empty:
            return
        except (EOFError, OSError):
            return
        progress(kind, variant, value)
