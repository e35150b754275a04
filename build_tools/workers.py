"""Worker processes that end with the process that started them."""
from __future__ import annotations

import os
import signal

PR_SET_PDEATHSIG = 1


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
    parent = os.getppid()
    if prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    return True
