"""Answers worked out once while a caller holds one view of the disk.

A build asks the same questions of the file system many times over (which project a folder
belongs to, when a file changed); within one build the answers may be taken as they were
first found, and the next build (``talks serve``'s) asks again.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class OneView(Generic[K, V]):
    """Answers remembered only within ``with view.held():`` (a hold inside another shares
    the outer one's); outside, every question is worked out anew."""

    def __init__(self) -> None:
        self._answers: dict[K, V] | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        outer = self._answers
        if outer is None:
            self._answers = {}
        try:
            yield
        finally:
            self._answers = outer

    def answer(self, key: K, work: Callable[[K], V]) -> V:
        if self._answers is None:
            return work(key)
        if key not in self._answers:
            self._answers[key] = work(key)
        return self._answers[key]
