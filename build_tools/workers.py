"""Worker processes that end with the process that started them."""
from __future__ import annotations

import os


def die_with_parent() -> None:
    """A worker must not outlive a ``talks`` command that was killed: ask Linux to end it too."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown has to do
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)
