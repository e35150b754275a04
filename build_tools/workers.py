"""Worker processes: they end with the process that started them, and a worker that dies
(or never starts) costs only its own share of the work, reported as a value."""
from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from dataclasses import dataclass
from typing import Generic, TypeVar
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
Item = TypeVar("Item")
Result = TypeVar("Result")

_forked_from: int | None = None
"""The process that forked this one, noted by the parent just before each fork, so that
a worker knows its parent even if the parent is gone by the time the worker asks."""


def _note_fork() -> None:
    global _forked_from
    _forked_from = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_note_fork)


def die_with_parent() -> bool:
    """A worker must not outlive a ``talks`` command that was killed: ask Linux to end it too.

    True when the kernel took the request; False where there is no ``prctl`` (not Linux:
    the pool's own shutdown has to do) or it refused.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    parent = _forked_from if _forked_from not in (None, os.getpid()) else os.getppid()
    if prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    return True


GC_THRESHOLDS = (50_000, 20, 100)
"""Python's collector walks the young objects after every 700 new ones, and every object
again as the heap grows.  A build makes millions of objects that live until its end
(doctrees, Sphinx's environment, the expanded talks), so that walking was about a quarter
of a corpus build's CPU; collecting this much less often costs no measurable peak memory
(docs/speed.md)."""


def collect_rarely() -> None:
    """This process (a ``talks`` command, each worker it forks) collects garbage at
    ``GC_THRESHOLDS``, and never again walks what exists now (the modules, the vocabulary,
    whatever a worker inherited)."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def start_worker() -> None:
    """What a worker sets up before its first share of work (a name of its own, so a test
    can break it); its pool's initializer has already asked to end with the parent."""
    die_with_parent()
    collect_rarely()


class WorkerCannotStart(Exception):
    """``start_worker`` failed in a worker: said once per share of work, with its cause."""


_STARTED = False


def ensure_started() -> None:
    """Run ``start_worker`` once in this worker, before its first share of work.

    Run in the task rather than as the pool's initializer: an initializer's failure only
    breaks the pool (and prints a traceback); here it is an exception the caller receives.
    """
    global _STARTED
    if not _STARTED:
        try:
            start_worker()
        except Exception as exc:  # noqa: BLE001 - reported to the caller, with its cause
            raise WorkerCannotStart(f"{type(exc).__name__}: {exc}") from None
        _STARTED = True


def cpu_count() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def process_context() -> BaseContext:
    """Fork where there is fork: workers start with everything the parent loaded."""
    return multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")


@dataclass
class ChunkOutcome(Generic[Item, Result]):
    items: list[Item]
    result: Result | None = None
    failure: str = ""
    """Why the worker holding these items gave no result (it died, or could not start)."""


def map_chunks(work: Callable[[list[Item]], Result], chunks: list[list[Item]],
               workers: int) -> list[ChunkOutcome[Item, Result]]:
    """``work`` over each chunk in up to ``workers`` processes, outcomes in chunk order.

    A worker that dies or cannot start gives a ``failure`` for each chunk it held, and
    the other chunks still run; no ``BrokenProcessPool`` reaches the caller.
    """
    return StartedChunks(work, chunks, workers).outcomes()


class StartedChunks(Generic[Item, Result]):
    """``map_chunks`` started, its outcomes waited for later: the caller does other work
    meanwhile.  ``outcomes()`` must be called (it ends the processes)."""

    def __init__(self, work: Callable[[list[Item]], Result], chunks: list[list[Item]],
                 workers: int) -> None:
        self.chunks = [ChunkOutcome[Item, Result](chunk) for chunk in chunks]
        # the initializer cannot fail: a worker waiting for its first task still ends with us
        self.pool = ProcessPoolExecutor(max_workers=max(1, workers), mp_context=process_context(),
                                        initializer=die_with_parent)
        self.futures = [self.pool.submit(_run_chunk, work, chunk) for chunk in chunks]

    def outcomes(self) -> list[ChunkOutcome[Item, Result]]:
        """Each chunk's outcome, in chunk order, once all are done."""
        try:
            for outcome, future in zip(self.chunks, self.futures, strict=True):
                try:
                    outcome.result = future.result()
                except Exception as exc:  # noqa: BLE001 - reported per chunk, never raised
                    outcome.failure = failure_text(exc)
        finally:
            self.pool.shutdown()
        return self.chunks


def _run_chunk(work: Callable[[list[Item]], Result], chunk: list[Item]) -> Result:
    ensure_started()
    return work(chunk)


def failure_text(exc: BaseException) -> str:
    """Why a worker gave no result, for a message at each unit of work it held."""
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, WorkerCannotStart):
        return f"its worker process could not start ({exc})"
    if isinstance(exc, BrokenProcessPool):
        return "its worker process died"
    return f"its worker process failed: {type(exc).__name__}: {exc}"
