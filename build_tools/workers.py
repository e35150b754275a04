"""Worker processes: they end with the process that started them, and a worker that dies
(or never starts) costs only its own share of the work, reported as a value."""
from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

PR_SET_PDEATHSIG = 1
Item = TypeVar("Item")
Result = TypeVar("Result")


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
    # the process that started this one, as it was when it forked: by now it may be gone
    started_by = multiprocessing.parent_process()
    parent = started_by.pid if started_by is not None and started_by.pid else os.getppid()
    if prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    return True


def start_worker() -> None:
    """What every pool worker runs first (a name of its own, so a test can break it)."""
    die_with_parent()


def cpu_count() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def process_context():
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
    outcomes: list[ChunkOutcome[Item, Result]] = [ChunkOutcome(chunk) for chunk in chunks]
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=process_context(),
                             initializer=start_worker) as pool:
        futures = [pool.submit(work, chunk) for chunk in chunks]
        for outcome, future in zip(outcomes, futures):
            try:
                outcome.result = future.result()
            except Exception as exc:  # noqa: BLE001 - reported per chunk, never raised
                outcome.failure = _failure_text(exc)
    return outcomes


def _failure_text(exc: BaseException) -> str:
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        return "its worker process died or could not start"
    return f"its worker process failed: {type(exc).__name__}: {exc}"
