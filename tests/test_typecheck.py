"""The type checker and the linter pass over the whole package.  The type checker fails on
an import of a name that does not exist, in a function as at module level (the break that
stopped every export of two or more talks); the linter on what its rules name."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import require_module

ROOT = Path(__file__).resolve().parent.parent


def mypy(*args: str, cache: Path) -> subprocess.CompletedProcess:
    require_module("mypy")
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_package_type_checks(tmp_path):
    result = mypy(cache=tmp_path / "cache")  # the files and settings of pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_of_a_missing_name_inside_a_function_fails(tmp_path):
    broken = tmp_path / "broken_worker.py"
    broken.write_text("def start():\n"
                      "    from build_tools.workers import _die_with_parent\n"
                      "    _die_with_parent()\n", encoding="utf-8")
    result = mypy("--config-file", str(ROOT / "pyproject.toml"), str(broken),
                  cache=tmp_path / "cache")
    assert result.returncode == 1
    assert 'Module "build_tools.workers" has no attribute "_die_with_parent"' in result.stdout


def ruff(*args: str) -> subprocess.CompletedProcess:
    require_module("ruff")
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_the_linter_passes_over_the_code_tests_and_benchmarks():
    result = ruff("check", "--no-cache", "build_tools", "tests", "benchmarks", ".ci")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_fails_on_what_its_rules_name(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import os\n\n\ndef f(items=[]):\n    try:\n        return items\n"
                      "    except Exception:\n        return None\n", encoding="utf-8")
    result = ruff("check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(broken))
    assert result.returncode == 1
    for code in ("F401", "B006", "BLE001"):  # unused import, mutable default, blind except
        assert code in result.stdout, result.stdout
