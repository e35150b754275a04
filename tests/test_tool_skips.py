"""A missing tool skips a test on a developer's machine and fails it under CI (CI=true);
absent shared data skips it in both."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CASES = '''
import pytest
from conftest import absent_data, require_module, require_tool


def test_needs_a_tool():
    require_tool("no-such-tool-anywhere", "no-such-package")


def test_needs_a_module():
    require_module("no_such_module_anywhere")


def test_needs_shared_data():
    absent_data("a corpus nobody has")


def test_skips_on_its_own():
    pytest.importorskip("no_such_module_anywhere")


def test_runs():
    assert True
'''


def run_cases(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_cases.py").write_text(CASES, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfs", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_cases.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_outside_ci_a_missing_tool_skips(tmp_path):
    result = run_cases(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 4 skipped" in result.stdout
    assert "no-such-tool-anywhere is not installed (Debian package no-such-package)" in result.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_under_ci_a_missing_tool_fails_and_absent_data_skips(tmp_path, ci):
    result = run_cases(tmp_path, ci)
    assert result.returncode == 1, result.stdout
    assert "2 failed, 1 passed, 2 skipped" in result.stdout
    assert "FAILED test_cases.py::test_needs_a_tool" in result.stdout
    assert "FAILED test_cases.py::test_needs_a_module" in result.stdout
    # a skip that bypasses the helpers is listed, and fails the run by itself
    summary = result.stdout.split("skipped under CI for something other than absent shared data")[1]
    assert "test_skips_on_its_own" in summary and "test_needs_shared_data" not in summary
