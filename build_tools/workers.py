"""Worker processes that end with the process that started them."""
from __future__ import annotations

import os
import signal

PR_SET_PDEATHSIG = 1

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
    the pool's own shutdown has to do) or it refused.  A worker whose parent died before
    the request took effect ends at once.
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
