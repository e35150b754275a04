"""Run one ``talks`` command in a fresh interpreter and measure it, for the benchmarks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Reports the command's wall time, exit status, and the peak memory of it and its workers.
RUNNER = """
import json, resource, sys, time
from build_tools.cli import main
start = time.perf_counter()
try:
    main(sys.argv[1:], standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code or 0
wall = time.perf_counter() - start
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print("BENCH " + json.dumps({"wall": wall, "peak_kb": peak, "code": code}), file=sys.stderr)
"""


def run_talks(args: list[str]) -> tuple[dict | None, subprocess.CompletedProcess]:
    """(wall, peak_kb, code) of ``talks ARGS``, or None when it did not finish; and the process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", RUNNER, *args], cwd=ROOT, text=True,
                          capture_output=True, env=env)
    line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("BENCH ")), None)
    return (json.loads(line[6:]) if line else None), proc
