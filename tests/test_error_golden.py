"""Golden files for error messages: exactly what ``talks check`` prints for bad input.

Each case in ``tests/golden/errors/`` is a small talk, ``NAME.md``, named after the
problem it demonstrates; the fragments, images and bibliography the cases use live
in ``_demo/`` beside them.  ``NAME.expected`` holds the expected result: a first
line ``# exit: N`` with the exit status, then everything the command prints
(standard output, then standard error) when run from ``tests/golden/errors`` as

    python -m build_tools.cli check [ARGS] NAME.md

where ARGS, if any, are read from ``NAME.args`` (for example ``-I _demo/extra``).
Paths in messages are relative to that folder, so the files are the same on any
machine.

After a deliberate change to a message, rewrite the expected files with

    TALKS_UPDATE_GOLDEN=1 python -m pytest tests/test_error_golden.py

and review ``git diff tests/golden`` before committing.  A new case is a new
``NAME.md`` (plus ``NAME.args`` if it needs options); the same command writes its
``NAME.expected``.  Input that makes the command print a traceback is a bug to
fix, not a golden: update mode refuses to record it.
"""
from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "errors"
UPDATE = os.environ.get("TALKS_UPDATE_GOLDEN") == "1"
EXIT_RE = re.compile(r"# exit: (\d+)\n")
SUMMARY_RE = re.compile(r"^(\d+) error\(s\), \d+ warning\(s\), \d+ notice\(s\)$", re.M)

CASES = sorted(p.stem for p in GOLDEN.glob("*.md"))


def run_check(name: str) -> tuple[int, str]:
    """Run ``check`` on one case the way an author would; returns (exit status, output)."""
    args_file = GOLDEN / f"{name}.args"
    extra = shlex.split(args_file.read_text(encoding="utf-8")) if args_file.exists() else []
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    result = subprocess.run([sys.executable, "-m", "build_tools.cli", "check", *extra, f"{name}.md"],
                            cwd=GOLDEN, env=env, capture_output=True, timeout=300)
    output = result.stdout.decode("utf-8") + result.stderr.decode("utf-8")
    # a folder outside the one check runs in is named by its absolute path; this machine's
    # part of it is not the golden text's
    return result.returncode, output.replace(str(REPO) + os.sep, "<repo>/")


def read_expected(path: Path) -> tuple[int, str]:
    text = path.read_text(encoding="utf-8")
    m = EXIT_RE.match(text)
    assert m, f"{path.name} must start with a line '# exit: N'"
    return int(m.group(1)), text[m.end():]


def test_there_are_cases_and_no_orphans():
    assert len(CASES) >= 18
    orphans = sorted(p.name for p in GOLDEN.glob("*.expected") if p.stem not in CASES)
    orphans += sorted(p.name for p in GOLDEN.glob("*.args") if p.stem not in CASES)
    assert not orphans, f"expected files without a case: {orphans}"


@pytest.mark.parametrize("name", CASES)
def test_check_output_matches_golden(name):
    status, output = run_check(name)
    assert "Traceback" not in output, f"check crashed on {name}.md:\n{output}"
    summary = SUMMARY_RE.search(output)
    assert summary, f"no summary line in the output for {name}.md:\n{output}"
    assert status == (1 if int(summary.group(1)) else 0), \
        f"exit status {status} does not agree with '{summary.group(0)}'"

    expected_file = GOLDEN / f"{name}.expected"
    if UPDATE:
        with open(expected_file, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(f"# exit: {status}\n{output}")
        return
    assert expected_file.exists(), \
        f"{expected_file.name} is missing; create it with TALKS_UPDATE_GOLDEN=1"
    expected_status, expected = read_expected(expected_file)
    if output != expected:
        diff = difflib.unified_diff(expected.splitlines(keepends=True), output.splitlines(keepends=True),
                                    f"{name}.expected", f"talks check {name}.md")
        pytest.fail("output differs from the golden file "
                    "(TALKS_UPDATE_GOLDEN=1 rewrites it):\n" + "".join(diff), pytrace=False)
    assert status == expected_status, f"exit status {status}, expected {expected_status}"
