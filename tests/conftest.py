import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"

ABSENT_DATA = "shared data absent:"
"""How a skip for missing ``../shared`` material begins: the only skip CI lets pass."""


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing_tool(reason: str) -> None:
    """Skip for a missing tool or package; under CI (``CI=true``) fail instead: CI installs
    every tool, so a test that cannot run there has found a broken setup, not a choice."""
    if under_ci():
        pytest.fail(f"{reason}; under CI every tool must be installed", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_tool(name: str, package: str | None = None, *alternatives: str) -> str:
    """The path of the command ``name`` (or the first of ``alternatives`` there is)."""
    for command in (name, *alternatives):
        path = shutil.which(command)
        if path:
            return path
    missing_tool(f"{name} is not installed (Debian package {package or name})")


def require_module(name: str, package: str | None = None):
    """The module ``name``, imported: ``pytest.importorskip`` that fails under CI."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing_tool(f"cannot import {name}: {exc} (pip package {package or name.split('.')[0]})")


def absent_data(what: str) -> None:
    """Skip, under CI too: shared material is data a checkout may lack, not a tool."""
    pytest.skip(f"{ABSENT_DATA} {what} (../shared beside the repository)", allow_module_level=True)


def corpus_or_skip() -> Path:
    if not (CORPUS / "talks").is_dir():
        absent_data("the corpus")
    return CORPUS


def seeds_or_skip() -> Path:
    if not SEEDS.is_dir():
        absent_data("the seed talks")
    return SEEDS


def chromium_or_skip() -> str:
    return require_tool("chromium", "chromium", "chromium-browser")


# -- under CI a skip for anything but absent shared data fails the run ------------------
# The helpers above fail by themselves; this catches a skip that does not use them.

_SKIPS: list[str] = []


def _note_skip(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if ABSENT_DATA not in reason:
            _SKIPS.append(f"{report.nodeid}: {reason}")


def pytest_runtest_logreport(report):
    _note_skip(report)


def pytest_collectreport(report):
    _note_skip(report)


def pytest_sessionfinish(session, exitstatus):
    if under_ci() and _SKIPS and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if under_ci() and _SKIPS:
        terminalreporter.section("skipped under CI for something other than absent shared data")
        for line in _SKIPS:
            terminalreporter.line(line)


@pytest.fixture
def seed_talk(tmp_path):
    """The user's talk exactly as supplied, in a copy of this project's layout."""
    source = Path(__file__).parent / "fixtures" / "information-session.md"
    talk = tmp_path / "talks" / "information-session.md"
    talk.parent.mkdir(parents=True)
    shutil.copy(source, talk)
    shutil.copytree(ROOT / "includes", tmp_path / "includes")
    shutil.copytree(ROOT / "diagrams", tmp_path / "diagrams")
    return talk


@pytest.fixture(autouse=True)
def isolated_user(tmp_path_factory, monkeypatch):
    """No test reads the real user's path mapping: a temporary HOME, no TALKS_PATH_MAP."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("TALKS_PATH_MAP", raising=False)
    return home
