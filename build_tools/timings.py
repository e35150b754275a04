"""Where a build's time goes: seconds per stage, added up in each process.

A stage that runs in many small pieces (expanding each talk, laying out its MyST) adds
each piece with ``timed``; a process hands its sums on with ``taken`` (a Sphinx worker
returns them with its variant's result), and ``talks build --timings`` prints them all
as ``StageTime`` rows.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from collections.abc import Iterator

_SPENT: dict[str, list[float]] = {}
"""Stage -> [seconds, pieces] in this process since the last ``taken``."""


@contextmanager
def timed(stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        spent = _SPENT.setdefault(stage, [0.0, 0])
        spent[0] += time.perf_counter() - start
        spent[1] += 1


def taken() -> dict[str, tuple[float, int]]:
    """This process's sums since the last call: stage -> (seconds, pieces)."""
    sums = {stage: (seconds, int(pieces)) for stage, (seconds, pieces) in _SPENT.items()}
    _SPENT.clear()
    return sums


@dataclass(frozen=True)
class StageTime:
    stage: str
    seconds: float
    where: str = "main"
    """The process that spent it: ``main``, a variant's Sphinx worker, an export worker."""
    pieces: int = 1


def rows(sums: dict[str, tuple[float, int]], where: str) -> list[StageTime]:
    return [StageTime(stage, seconds, where, pieces) for stage, (seconds, pieces) in sums.items()]


def report(times: list[StageTime]) -> list[str]:
    """A table, one stage a line, in the order the stages ran."""
    width = max((len(t.stage) for t in times), default=5)
    lines = [f"{'stage':<{width}}  {'where':<22} {'seconds':>8}  pieces"]
    for t in times:
        lines.append(f"{t.stage:<{width}}  {t.where:<22} {t.seconds:8.2f}  {t.pieces:>6}")
    return lines
