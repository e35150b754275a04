"""Run a command in a fresh process and measure it, for the benchmarks.

Peak memory is the largest total resident memory of the process and every process
it started, sampled together while they run: a build's workers live at the same
time, so their memories add up (the largest single process understates the need).
Sampling every ``INTERVAL`` seconds can miss a shorter peak; forked workers share
pages they have not written, which each one's resident memory counts again.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 0.02

RUN_COMMAND = """
from build_tools.cli import main
start = time.perf_counter()
try:
    main(sys.argv[1:], standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code or 0
wall = time.perf_counter() - start
"""
"""Runs ``talks ARGS`` in the script it is part of, leaving ``wall`` and ``code`` set."""

# Reports the command's own wall time and exit status (the interpreter's start excluded).
RUNNER = ("import json, sys, time\n" + RUN_COMMAND
          + 'print("BENCH " + json.dumps({"wall": wall, "code": code}), file=sys.stderr)\n')


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    wall: float
    """Seconds from start to end, the interpreter's start included."""
    peak_kb: int
    """The largest sum of the resident memory of the process tree at one sample."""
    most_processes: int
    """The most processes of the tree alive at one sample."""


def tree_rss(process: psutil.Process) -> tuple[int, int]:
    """(total resident bytes, processes) of ``process`` and all its descendants now."""
    total = count = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    for member in members:
        try:
            total += member.memory_info().rss
            count += 1
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            pass
    return total, count


def run_sampled(cmd: list[str], **popen) -> Measured:
    """Run ``cmd`` to its end, sampling its process tree's memory the while."""
    start = time.perf_counter()
    process = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, count = tree_rss(process)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], count)
            done.wait(INTERVAL)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    return Measured(process.returncode, stdout, stderr, wall, peak[0] // 1024, peak[1])


def run_talks(args: list[str]) -> tuple[dict | None, Measured]:
    """``talks ARGS`` measured: {wall, code, peak_kb, processes}, or None when the command
    did not report its end (it crashed or was killed); and the measured process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    measured = run_sampled([sys.executable, "-c", RUNNER, *args], cwd=ROOT, env=env)
    line = next((ln for ln in measured.stderr.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        return None, measured
    result = json.loads(line[6:])
    result.update(peak_kb=measured.peak_kb, processes=measured.most_processes)
    return result, measured
