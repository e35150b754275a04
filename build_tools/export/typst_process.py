"""The Typst compiler, run in a child process so that every compile has a time and memory limit.

Typst compiles in the calling process when used as a library, where nothing can stop a
document that loops for ever or grows without bound.  So each export worker keeps one
child process (``typst_child.py``) holding a warm compiler, hands it each document, and
waits at most the step's time limit: past it, or past ``MEMORY_BYTES``, the child is
killed (the next compile starts another) and the export fails with ``StepTimeout`` or
``ToolFailure``.  The child reads no package (its package folders are empty) and its
network requests go to a proxy that is not there.
"""
from __future__ import annotations

import json
import multiprocessing
import multiprocessing.util
import os
import select
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import tools

MEMORY_BYTES = 4 * 1024**3
"""The most address space a Typst compile may take (a handout of a course lecture takes
a few hundred MB)."""

CHILD = Path(__file__).with_name("typst_child.py")
NO_PROXY_THERE = "http://127.0.0.1:9"
"""The discard port: nothing listens, so any download Typst tries fails at once."""


class CompileError(Exception):
    """Typst could not compile the document; the message is Typst's."""


class TypstProcess:
    """A child process compiling one document after another."""

    def __init__(self) -> None:
        self.packages = tempfile.TemporaryDirectory(prefix="talks-typst-packages-")
        env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
        env.update(HTTP_PROXY=NO_PROXY_THERE, HTTPS_PROXY=NO_PROXY_THERE, ALL_PROXY=NO_PROXY_THERE)
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(CHILD), str(MEMORY_BYTES), self.packages.name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

    def compile(self, source: bytes, root: str, fmt: str = "pdf", ppi: int | None = None,
                timeout: float = 180.0) -> bytes:
        """The compiled document; ``CompileError`` with Typst's message when it cannot be."""
        header = json.dumps({"root": root, "format": fmt, "ppi": ppi}).encode()
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(_framed(header) + _framed(source))
            self.process.stdin.flush()
            kind = self._read(1, timeout)
            size = struct.unpack(">I", self._read(4, timeout))[0]
            payload = self._read(size, timeout)
        except BrokenPipeError:
            self.close()
            raise tools.ToolFailure("Typst stopped (it ran out of the memory it may use?)") from None
        if kind == b"E":
            raise CompileError(payload.decode("utf-8", "replace"))
        return payload

    def _read(self, size: int, timeout: float) -> bytes:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        data = b""
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                self.close()
                raise tools.StepTimeout(f"Typst ran past its time limit of {timeout:g} s and "
                                        "was stopped")
            chunk = os.read(self.process.stdout.fileno(), size - len(data))
            if not chunk:
                self.close()
                raise tools.ToolFailure("Typst stopped before it finished (it ran out of the "
                                        f"{MEMORY_BYTES // 1024**3} GB of memory it may use?)")
            data += chunk
        return data

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.packages.cleanup()


def _framed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


_PROCESS: list[TypstProcess] = []


def compile_typst(source: bytes, root: str, fmt: str = "pdf", ppi: int | None = None,
                  timeout: float = 180.0) -> bytes:
    """Compile with this process's Typst child, started the first time (and again after one
    was stopped)."""
    try:
        import typst  # noqa: F401 - the child needs it; say so here, once, if it is missing
    except ImportError:
        raise tools.MissingTool("handout PDFs need the PyPI package 'typst' (pip install typst)") \
            from None
    if not _PROCESS or not _PROCESS[0].alive():
        if not _PROCESS and multiprocessing.parent_process() is not None:
            # a worker ends its child when it ends: the child never outlives the build, and
            # the time it took is counted in the build's own
            multiprocessing.util.Finalize(None, close_typst, exitpriority=10)
        _PROCESS[:] = [TypstProcess()]
    return _PROCESS[0].compile(source, root, fmt, ppi, timeout)


def close_typst() -> None:
    """End this process's Typst child, if it has one."""
    while _PROCESS:
        _PROCESS.pop().close()
