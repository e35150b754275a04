"""Running exports: what is out of date, in parallel processes, keeping the last good files.

An export is out of date when it is missing, when it was made with other
settings, or when any file it was made from (the talk, every fragment and
macro file the expansion read, the bibliography, the built HTML page) is
newer than it.  What each export was made from is kept next to the exports
(``.stamps/``), so deciding needs no expansion.  Talks are shared out over
worker processes one at a time, the largest first; each worker starts one browser,
the first time a talk needs it, and keeps it for every later talk it exports.  What
needs only the deck (the PPTX) may be begun while the other variants are still being
built (``ExportsAhead``), in a staging folder, and put in place once the build is done.
"""
from __future__ import annotations

import functools
import importlib
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

from ..paths import display_name
from ..diagnostics import Diagnostic, Location, MacroError, Severity, has_errors
from ..formats import SUFFIXES, export_format
from ..workers import ChunkOutcome, StartedChunks, cpu_count, map_chunks, process_context
from . import tools
from .shared import ExportFailure, ExportJob, Handout, Written, bib_cache, close_browser
from .typst_process import close_typst

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

    from .completeness import Shortfall

T = TypeVar("T")

STAMPS = ".stamps"


@dataclass
class ExportResult:
    talk: str
    doc: str
    written: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    """Formats written but lacking part of their source (set aside, the last good file kept)."""
    skipped: list[str] = field(default_factory=list)
    """Formats not attempted: a program they need is missing."""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0
    seconds_by_format: dict[str, float] = field(default_factory=dict)
    """How long each export written took (a DOCX: starting it and waiting for it, not the
    PDFs made meanwhile); the benchmark shows where the time goes."""

    @property
    def failed(self) -> bool:
        return has_errors(self.diagnostics)


def export_path(out_dir: str | Path, doc: str, fmt: str) -> Path:
    return Path(out_dir) / f"{doc}{SUFFIXES[fmt]}"


def incomplete_path(out_dir: str | Path, doc: str, fmt: str) -> Path:
    """Where an export found incomplete is set aside, to be looked at, never published."""
    return Path(out_dir) / f"{doc}.incomplete{SUFFIXES[fmt]}"


def _stamp_path(job: ExportJob, fmt: str) -> Path:
    return Path(job.out_dir) / STAMPS / f"{job.doc}{SUFFIXES[fmt]}.json"


def _module(fmt: str) -> ModuleType:
    """The module that writes ``fmt`` and reads it back (its record's ``module``)."""
    return importlib.import_module(f"{__package__}.{export_format(fmt).module}")


def _settings(job: ExportJob, fmt: str) -> dict:
    """What, besides files, changes an export: asking for other settings remakes it."""
    return _module(fmt).settings(job)


def _printed_from(fmt: str) -> str | None:
    """The built variant a printed export is made from (its page is one of its inputs)."""
    record = export_format(fmt)
    return record.source if record.printed else None


def is_up_to_date(job: ExportJob, fmt: str) -> bool:
    out, stamp = export_path(job.out_dir, job.doc, fmt), _stamp_path(job, fmt)
    try:
        made = out.stat().st_mtime_ns
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if recorded.get("settings") != _settings(job, fmt):
        return False
    page = _printed_from(fmt)
    inputs = [*recorded.get("inputs", []), *([job.pages[page]] if page else [])]
    if any(os.path.exists(path) for path in recorded.get("absent", [])):
        return False  # a file the talk looked for has appeared
    try:
        return all(os.stat(path).st_mtime_ns <= made for path in inputs)
    except OSError:  # an input is gone: the export may name something that no longer exists
        return False


def _record(job: ExportJob, fmt: str, inputs: list[str], warnings: list[Diagnostic]) -> None:
    """Keep what the export was made from: the files it read, and the places it looked for a
    file in vain (``ExpandedTalk.absent``)."""
    stamp = _stamp_path(job, fmt)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    found = {path: os.path.exists(path) for path in sorted(set(inputs))}
    stamp.write_text(json.dumps({"inputs": [p for p, there in found.items() if there],
                                 "absent": [p for p, there in found.items() if not there],
                                 "settings": _settings(job, fmt),
                                 "warnings": [w.as_record() for w in warnings]}),
                     encoding="utf-8")


def _recorded_warnings(job: ExportJob, fmt: str) -> list[Diagnostic]:
    """What making an export that is still up to date said: a build that keeps it says it
    again, so every build reports the same warnings."""
    try:
        recorded = json.loads(_stamp_path(job, fmt).read_text(encoding="utf-8"))
        return [Diagnostic.from_record(w) for w in recorded.get("warnings", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _problem(job: ExportJob, fmt: str, message: str, code: str = "E-EXPORT",
             severity: Severity = Severity.ERROR) -> Diagnostic:
    return Diagnostic(code, severity, f"cannot export as {fmt}: {message}",
                      tools.at_start(job.talk), subject=job.talk,
                      hint="the last good export, if any, is kept")


# -- one talk ---------------------------------------------------------------------------

def _export_one(job: ExportJob, fmt: str, handout: Handout) -> Written | Callable[[], Written]:
    """Make one export with its format's module: a ``Written`` (the files it was made from,
    its warnings), or, for a format written in the background (the DOCX), the function
    that waits for it, called after the others.  ``handout()`` is the talk's handout tree,
    read once for every document."""
    if export_format(fmt).source == "slides":
        _within_slide_budget(job, fmt)
    return _module(fmt).write(job, export_path(job.out_dir, job.doc, fmt), handout)


def _within_slide_budget(job: ExportJob, fmt: str) -> None:
    """Refuse a deck longer than the budget (``TalkConfig.max_slides``) before any tool
    starts on a format made slide by slide."""
    slides = _deck_slides(job)
    if slides is not None and slides > job.config.max_slides:
        raise ExportFailure(f"the deck has {slides} slides, more than the {job.config.max_slides} "
                            f"a {fmt} is made of (talks_max_slides)")


def _deck_slides(job: ExportJob) -> int | None:
    """How many slides the deck has: its built page's; while the deck is still being built
    (the page there may be an older build's), its record prepared for this build's."""
    if _DECKS_BUILT:
        from ..api import load_prepared

        record = load_prepared(job.deck) if job.deck else None
        return None if record is None else 1 + len(record.slide_anchors)
    page = job.pages.get("slides")
    if not page or not os.path.isfile(page):
        return None
    with open(page, encoding="utf-8", errors="replace") as fh:
        return fh.read().count("<section")


def _refused(job: ExportJob, fmt: str, url: str) -> Diagnostic:
    return Diagnostic("W-EXPORT-REFUSED", Severity.WARNING,
                      f"the printed exports asked for {url}, which is not a file of the built "
                      "site; refused (nothing was fetched)", _where_named(job, url),
                      subject=job.talk,
                      hint="exports show only the site's own files: put the file in the project")


def _where_named(job: ExportJob, url: str) -> Location:
    """Where the talk names ``url`` (as written, or as the browser wrote it back): the first
    line naming it in the talk, else in a fragment it includes (as far as this talk's other
    exports recorded them); the talk's first line when none does (an SVG may name it)."""
    forms = [form for form in dict.fromkeys([url, url.rstrip("/"), url.removeprefix("file://")])
             if form]
    for path in _talk_sources(job):
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                for number, line in enumerate(fh, 1):
                    column = next((line.find(f) for f in forms if f in line), -1)
                    if column >= 0:
                        return Location(display_name(path), number, column + 1)
        except OSError:
            continue
    return tools.at_start(job.talk)


def _talk_sources(job: ExportJob) -> list[str]:
    """The talk, then the Markdown files its notebook or DOCX export was made from."""
    sources = [job.talk]
    for fmt in ("ipynb", "docx"):
        try:
            recorded = json.loads(_stamp_path(job, fmt).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        sources += [f for f in recorded.get("inputs", []) if f.endswith(".md")]
    return list(dict.fromkeys(sources))


def export_talks(jobs: list[ExportJob]) -> list[ExportResult]:
    """Export a chunk of talks in this process, with one browser and one Typst child at most
    (a worker process keeps them for its next chunk).  In a worker begun before the decks
    were built, every talk is written first and checked once they are."""
    results = []
    missing_tools: dict[str, str] = {}
    checks: list[Callable[[], None]] | None = [] if _DECKS_BUILT else None
    try:
        for job in jobs:
            results.append(_export_talk(job, missing_tools, checks))
        if checks:
            _DECKS_BUILT[0].wait()
            for check in checks:
                check()
    finally:
        if multiprocessing.parent_process() is None:
            close_browser()
            close_typst()
    return results


def _export_talk(job: ExportJob, missing_tools: dict[str, str],
                 checks: list[Callable[[], None]] | None = None) -> ExportResult:
    """Every format of one talk asked for and out of date.  pandoc writes the DOCX while
    the browser prints: it is finished last.  With ``checks``, what checks each export
    against its page (and puts it in place or sets it aside) is left there, to be called
    once the pages are built."""
    from .shared import handout_tree

    result = ExportResult(job.talk, job.doc)
    start = time.perf_counter()
    pending = []
    handout = functools.cache(lambda: handout_tree(job.talk, job.config, job.notation,
                                                   bib_cache(job)))
    settle = checks.append if checks is not None else lambda check: check()
    for fmt in job.formats:
        if is_up_to_date(job, fmt):
            result.up_to_date.append(fmt)
            _add_once(result, _recorded_warnings(job, fmt))
            continue
        family = _family(fmt)
        if family in missing_tools:
            result.skipped.append(fmt)
            continue
        _keep_last_good(job, fmt)
        began = time.perf_counter()
        made = _attempt(job, fmt, functools.partial(_export_one, job, fmt, handout), result,
                        missing_tools)
        if callable(made):  # its time: starting it, then waiting for it (not the others')
            pending.append((fmt, made, time.perf_counter() - began))
        elif made is not None:
            settle(_made(job, fmt, made, time.perf_counter() - began, result))
    for fmt, finish, started in pending:
        began = time.perf_counter()
        made = _attempt(job, fmt, finish, result, missing_tools)
        if made is not None:
            settle(_made(job, fmt, made, started + time.perf_counter() - began, result))
    result.seconds = time.perf_counter() - start
    settle(functools.partial(_forget_previous, job))
    return result


def _forget_previous(job: ExportJob) -> None:
    for fmt in job.formats:
        _previous(job, fmt).unlink(missing_ok=True)


def _family(fmt: str) -> str:
    """What a missing program takes away: the browser every printed format needs, else the
    format alone."""
    return "browser" if export_format(fmt).printed else fmt


def _attempt(job: ExportJob, fmt: str, step: Callable[[], T], result: ExportResult,
             missing_tools: dict[str, str]) -> T | None:
    """``step()``, or None with the failure said in ``result``."""
    try:
        return step()
    except tools.MissingTool as exc:
        missing_tools[_family(fmt)] = str(exc)
        result.skipped.append(fmt)
        result.diagnostics.append(Diagnostic("W-EXPORT-TOOL", Severity.WARNING, str(exc)))
    except (ExportFailure, tools.ToolFailure) as exc:
        result.diagnostics.append(_problem(job, fmt, str(exc)))
    except MacroError as exc:
        result.diagnostics.append(_problem(job, fmt, exc.diagnostic.format()))
    except Exception as exc:  # noqa: BLE001 - one talk's failure must not stop the others
        result.diagnostics.append(_problem(job, fmt, f"{type(exc).__name__}: {exc}"))
    return None


def _made(job: ExportJob, fmt: str, made: Written, seconds: float, result: ExportResult
          ) -> Callable[[], None]:
    """Say what writing the export said; return what checks it and keeps or sets it aside."""
    warnings = [*made.warnings, *(_refused(job, fmt, url) for url in made.refused)]
    _add_once(result, warnings)
    result.seconds_by_format[fmt] = seconds
    return functools.partial(_checked, job, fmt, made.inputs, warnings, result)


def _checked(job: ExportJob, fmt: str, inputs: list[str], warnings: list[Diagnostic],
             result: ExportResult) -> None:
    shortfall = _check(job, fmt, result, {w.subject for w in warnings
                                          if w.code == "W-EXPORT-FIGURE" and w.subject})
    if shortfall is not None and not shortfall.complete:
        _set_aside(job, fmt)
        result.incomplete.append(fmt)
        result.diagnostics.append(_incomplete(job, fmt, shortfall))
        return
    _record(job, fmt, inputs, warnings)
    result.written.append(fmt)


def _add_once(result: ExportResult, warnings: list[Diagnostic]) -> None:
    """Each warning once a talk, however many of its formats meet it."""
    result.diagnostics.extend(w for w in warnings if w not in result.diagnostics)


# -- is it complete? -------------------------------------------------------------------------

def _check(job: ExportJob, fmt: str, result: ExportResult, left_out: set[str]) -> Shortfall | None:
    """How much of its variant's page the export holds; None when there is no page to compare
    with, or the export cannot be read back (a warning says why, once a talk)."""
    from . import completeness as c

    source_variant = export_format(fmt).source
    page = job.pages.get(source_variant)
    if not page or not os.path.isfile(page):
        return None
    try:
        source = (c.deck_content if source_variant == "slides" else c.handout_content)(Path(page))
        return c.compare(source, _module(fmt).read_back(export_path(job.out_dir, job.doc, fmt)),
                         left_out)
    except Exception as exc:  # noqa: BLE001 - a reader's failure must not lose the export
        warning = Diagnostic("W-EXPORT-TOOL", Severity.WARNING,
                             f"cannot check the {fmt} export is complete: {exc}",
                             tools.at_start(job.talk), subject=job.talk)
        if warning not in result.diagnostics:
            result.diagnostics.append(warning)
        return None


def _incomplete(job: ExportJob, fmt: str, shortfall: Shortfall) -> Diagnostic:
    missing = shortfall.first_missing
    where = _where_named(job, missing.split("'", 1)[1].rstrip("'.")[:60]) if "'" in missing \
        else tools.at_start(job.talk)
    pictures = f" (not there: {', '.join(shortfall.missing_pictures[:5])})" \
        if shortfall.missing_pictures else ""
    return Diagnostic(
        "E-EXPORT-INCOMPLETE", Severity.ERROR,
        f"the {fmt} export is incomplete: it holds {shortfall.figures()} of the "
        f"{export_format(fmt).source} page{pictures}"
        + (f"; the first missing is {missing}" if missing else ""), where, subject=job.talk,
        hint=f"it is set aside as {incomplete_path(job.out_dir, job.doc, fmt).name}, not "
             "published; the last good export, if any, is kept")


def _previous(job: ExportJob, fmt: str) -> Path:
    out = export_path(job.out_dir, job.doc, fmt)
    return out.with_name(out.name + ".previous")


def _keep_last_good(job: ExportJob, fmt: str) -> None:
    """A link to the export there now, put back if the new one is incomplete."""
    out, previous = export_path(job.out_dir, job.doc, fmt), _previous(job, fmt)
    previous.unlink(missing_ok=True)
    if out.is_file():
        try:
            os.link(out, previous)
        except OSError:  # a file system without hard links
            shutil.copy2(out, previous)


def _set_aside(job: ExportJob, fmt: str) -> None:
    out, previous = export_path(job.out_dir, job.doc, fmt), _previous(job, fmt)
    os.replace(out, incomplete_path(job.out_dir, job.doc, fmt))
    if previous.is_file():
        os.replace(previous, out)
    _stamp_path(job, fmt).unlink(missing_ok=True)  # made again next time


# -- many talks in parallel ---------------------------------------------------------------

def run_exports(jobs: list[ExportJob], workers: int | None = None,
                ahead: ExportsAhead | None = None) -> list[ExportResult]:
    """Export every job, in up to ``workers`` processes (default: the cores); the results
    in the order of the jobs.  What ``ahead`` made of these talks is put in place, not made
    again; what it made of other talks (a variant failed them since) is dropped."""
    made = ahead.take(jobs) if ahead is not None else {}
    done = {doc: formats for doc, (formats, _result) in made.items()}
    rest = [replace(job, formats=tuple(f for f in job.formats if f not in done.get(job.doc, ())))
            for job in jobs]
    results = {result.doc: result for result in _run(rest, workers)}
    joined = []
    for job in jobs:
        parts = [r for r in (made.get(job.doc, ((), None))[1], results.get(job.doc)) if r is not None]
        if parts:
            joined.append(functools.reduce(_joined, parts))
    return _dedupe_tools(joined)


def _run(jobs: list[ExportJob], workers: int | None) -> list[ExportResult]:
    jobs = [j for j in jobs if j.formats]
    if not jobs:
        return []
    workers = max(1, min(workers or cpu_count(), len(jobs)))
    if workers == 1:
        return export_talks(jobs)
    return _gathered(map_chunks(export_talks, _chunks(jobs), workers))


def _gathered(outcomes: list[ChunkOutcome[ExportJob, list[ExportResult]]]) -> list[ExportResult]:
    """The results of the workers' chunks, a lost talk as an error at the talk."""
    results: list[ExportResult] = []
    for outcome in outcomes:
        results += outcome.result if outcome.result is not None else \
            [_lost(job, outcome.failure) for job in outcome.items]
    return results


def _joined(first: ExportResult, later: ExportResult) -> ExportResult:
    """One talk's result from the formats made ahead and the others."""
    return ExportResult(
        first.talk, first.doc, written=[*first.written, *later.written],
        up_to_date=[*first.up_to_date, *later.up_to_date],
        incomplete=[*first.incomplete, *later.incomplete], skipped=[*first.skipped, *later.skipped],
        diagnostics=[*first.diagnostics, *(d for d in later.diagnostics if d not in first.diagnostics)],
        seconds=first.seconds + later.seconds,
        seconds_by_format={**first.seconds_by_format, **later.seconds_by_format})


# -- ahead of the site ----------------------------------------------------------------------

STAGED = ".staged"
"""The folder of the exports' work folder where exports made ahead wait to be put in place."""


def made_ahead(fmt: str) -> bool:
    """Whether ``fmt`` is made as soon as the deck is built, while the other variants are:
    it is written from the deck's records and checked against the deck's page alone (the
    PPTX).  A printed export waits (it says where a refused address was written through
    the talk's other exports, made later), as does everything made from the handout."""
    record = export_format(fmt)
    return record.source == "slides" and not record.printed


_DECKS_BUILT: list[Event] = []
"""In a worker begun before the decks were built: what the build sets once they are.  The
export is written meanwhile; its check against the deck's page waits for it."""


class ExportsAhead:
    """Exports begun while the site is still being built: each talk's formats ``made_ahead``,
    written as Sphinx builds the variants and checked once the deck is built.  They are
    written into a staging folder, never over the last good files, so that a talk a variant
    then fails keeps its last good exports: ``run_exports`` puts in place those of the talks
    the build publishes, and drops the rest."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self.started: list[tuple[list[ExportJob], StartedChunks]] = []
        self.gates: list[Event] = []
        self.drawing: StartedChunks | None = None

    def draw_first(self, jobs: list[ExportJob]) -> None:
        """Begin drawing, in a process of its own, the pictures of the formats made ahead
        that are out of date: while this process has work of its own (the bibliographies,
        before Sphinx starts), a core is free, and the exports find them drawn."""
        drawn = [replace(job, formats=tuple(f for f in job.formats if made_ahead(f)
                                            and hasattr(_module(f), "draw_pictures")
                                            and not is_up_to_date(job, f))) for job in jobs]
        drawn = [job for job in drawn if job.formats and job.pictures]
        if drawn:
            try:
                self.drawing = StartedChunks(draw_pictures, [drawn], 1)
            except (OSError, RuntimeError):  # no process to spare: the exports draw them
                return

    def start(self, jobs: list[ExportJob], before_decks: bool = False) -> None:
        """Begin the formats of ``jobs`` made ahead that are out of date; ``before_decks``:
        the decks are still being built, and each check waits for ``decks_built``."""
        staged = []
        for job in jobs:
            formats = tuple(f for f in job.formats if made_ahead(f) and not is_up_to_date(job, f))
            if formats:
                staged.append(replace(job, formats=formats, out_dir=str(Path(job.out_dir) / STAGED)))
        if not staged:
            return
        shutil.rmtree(staged[0].out_dir, ignore_errors=True)  # what an interrupted build left
        workers = max(1, min(self.workers or cpu_count(), len(staged)))
        gate = process_context().Event() if before_decks else None
        _DECKS_BUILT[:] = [gate] if gate is not None else []  # the workers fork with it
        chunks = _shares(staged, workers) if before_decks else _chunks(staged)
        try:
            self.started.append((staged, StartedChunks(export_talks, chunks, workers)))
        except (OSError, RuntimeError):  # no process to spare: they are made after the site
            return
        finally:
            _DECKS_BUILT.clear()  # this process never waits for it
        if gate is not None:
            self.gates.append(gate)

    def decks_built(self) -> None:
        """Let the workers check what they wrote against the decks' pages: they are built (or
        the build stopped; what it did not publish is dropped)."""
        for gate in self.gates:
            gate.set()

    def take(self, jobs: list[ExportJob]) -> dict[str, tuple[tuple[str, ...], ExportResult]]:
        """Wait for what was begun; put in place the exports of ``jobs`` (document -> the
        formats made ahead, their result).  A talk whose worker was lost is not among them:
        its formats are made again."""
        self.decks_built()  # nothing more is built: no worker may wait for ever
        wanted = {job.doc: job for job in jobs}
        taken = {}
        for staged, started in self.started:
            for result in _gathered(started.outcomes()):
                job = wanted.get(result.doc)
                stage = next(s for s in staged if s.doc == result.doc)
                if job is not None and not any(d.code == "E-WORKER" for d in result.diagnostics):
                    _put_in_place(stage, job, result)
                    taken[job.doc] = (stage.formats, result)
            shutil.rmtree(staged[0].out_dir, ignore_errors=True)
        self.started = []
        if self.drawing is not None:
            self.drawing.outcomes()
            self.drawing = None
        return taken


def draw_pictures(jobs: list[ExportJob]) -> None:
    """Each job's pictures drawn ahead by its formats' modules; a failure says nothing (the
    export, drawing it again, says why)."""
    for job in jobs:
        for fmt in job.formats:
            try:
                _module(fmt).draw_pictures(job)
            except Exception:  # noqa: BLE001 - only a head start: the export reports
                continue


def _put_in_place(stage: ExportJob, job: ExportJob, result: ExportResult) -> None:
    """Move what was made in the staging folder where ``job`` keeps it, as the runner would
    have left it: a written export and its stamp in place; an incomplete one set aside, the
    last good file kept and the stamp gone (made again next time)."""
    for fmt in result.written:
        for made, place in ((export_path(stage.out_dir, stage.doc, fmt), export_path(job.out_dir, job.doc, fmt)),
                            (_stamp_path(stage, fmt), _stamp_path(job, fmt))):
            place.parent.mkdir(parents=True, exist_ok=True)
            os.replace(made, place)
    for fmt in result.incomplete:
        place = incomplete_path(job.out_dir, job.doc, fmt)
        place.parent.mkdir(parents=True, exist_ok=True)
        os.replace(incomplete_path(stage.out_dir, stage.doc, fmt), place)
        _stamp_path(job, fmt).unlink(missing_ok=True)


def _lost(job: ExportJob, failure: str) -> ExportResult:
    """A talk whose worker gave no result: an error at the talk, its last good files kept."""
    result = ExportResult(job.talk, job.doc)
    result.diagnostics.append(Diagnostic(
        "E-WORKER", Severity.ERROR, f"cannot export {', '.join(job.formats)}: {failure}",
        tools.at_start(job.talk), subject=job.talk,
        hint="the last good export, if any, is kept; build again to retry"))
    return result


def _chunks(jobs: list[ExportJob]) -> list[list[ExportJob]]:
    """One talk per task, the largest first: a worker keeps its browser from task to task,
    so small tasks cost nothing, and the last to finish are the quick ones (both cores stay
    busy to the end)."""
    return [[job] for job in sorted(jobs, key=_weight, reverse=True)]


def _shares(jobs: list[ExportJob], workers: int) -> list[list[ExportJob]]:
    """The talks shared out among ``workers``, one chunk each, the largest first to the
    least loaded: a worker begun before the decks writes its whole share, then checks it
    once the decks are built (one talk a task, it would wait for them after its first)."""
    shares: list[list[ExportJob]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for job in sorted(jobs, key=_weight, reverse=True):
        least = loads.index(min(loads))
        shares[least].append(job)
        loads[least] += _weight(job)
    return [share for share in shares if share]


def _weight(job: ExportJob) -> int:
    """How much there is to export, roughly: the size of the talk's built pages, or before
    any is built, of its deck's record (``ExportJob.deck``)."""
    built = [page for page in job.pages.values() if os.path.isfile(page)]
    if built:
        return sum(os.path.getsize(page) for page in built)
    return os.path.getsize(job.deck) if job.deck and os.path.isfile(job.deck) else 0


def _dedupe_tools(results: list[ExportResult]) -> list[ExportResult]:
    """A missing program is said once, not once per worker."""
    seen: set[str] = set()
    for result in results:
        kept = []
        for diag in result.diagnostics:
            if diag.code == "W-EXPORT-TOOL":
                if diag.message in seen:
                    continue
                seen.add(diag.message)
            kept.append(diag)
        result.diagnostics = kept
    return results
