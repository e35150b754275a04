"""The outside programs exports need, found once, or one clear message naming the package."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING
from ..diagnostics import Location
from ..paths import display_name

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from playwright.sync_api import Playwright


class MissingTool(Exception):
    """An export needs a program that is not installed; the message says which package."""


class ToolFailure(Exception):
    """A program an export runs could not make its file; the message says why."""


class StepTimeout(ToolFailure):
    """An outside step ran past its time limit (``TalkConfig.step_timeout``) and was stopped."""


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@cache
def chromium() -> str:
    """The Chromium executable (``TALKS_CHROMIUM`` overrides the search)."""
    override = os.environ.get("TALKS_CHROMIUM")
    if override:
        found = shutil.which(override)
        if found:
            return found
        raise MissingTool(f"TALKS_CHROMIUM names {override}, which is not an executable")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise MissingTool("PDF exports need Chromium: install the Debian package 'chromium' "
                      "(apt-get install chromium)")


PANDOC_AT_LEAST = (3, 1, 2)
"""Official pandoc builds carry their data files (DOCX under ``--sandbox`` needs them), and
from 3.1.2 on write Typst; ``pypandoc-binary`` ships one (docs/exports.md)."""


@cache
def pandoc() -> str:
    """The pandoc executable: the one pypandoc picks (its own copy from ``pypandoc-binary``,
    or a newer one on PATH; ``PYPANDOC_PANDOC`` names another)."""
    try:
        import pypandoc
    except ImportError:
        raise MissingTool("exports through pandoc need the PyPI package 'pypandoc-binary' "
                          "(pip install pypandoc-binary)") from None
    try:
        path = pypandoc.get_pandoc_path()
        version = pypandoc.get_pandoc_version()
    except OSError:
        raise MissingTool("exports through pandoc need pandoc: install the PyPI package 'pypandoc-binary' "
                          "(pip install pypandoc-binary), which ships it") from None
    if version_tuple(version) < PANDOC_AT_LEAST:
        raise MissingTool(f"exports through pandoc need pandoc {'.'.join(map(str, PANDOC_AT_LEAST))} or "
                          f"later (found {version} at {path}): install the PyPI package "
                          "'pypandoc-binary', or name a newer pandoc in PYPANDOC_PANDOC")
    return path


PANDOC_RUNTIME = ("+RTS", "-A64m", "-M3g", "-RTS")
"""A larger allocation area for pandoc's garbage collector (a tenth less time on a
handout, and less memory at its peak), and a ceiling on its heap: a document built to
exhaust the machine stops pandoc instead."""


@cache
def pandoc_runtime() -> tuple[str, ...]:
    """``PANDOC_RUNTIME`` when this pandoc takes runtime options (official builds do; one
    built without them would refuse to start), else nothing."""
    try:
        done = subprocess.run([pandoc(), *PANDOC_RUNTIME, "--version"], capture_output=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return PANDOC_RUNTIME if done.returncode == 0 else ()


def version_tuple(text: str) -> tuple[int, ...]:
    numbers = []
    for part in str(text).split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers)


def playwright() -> Callable[[], AbstractContextManager[Playwright]]:
    """Playwright's synchronous API (it drives the Debian Chromium; no browser is downloaded)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise MissingTool("PDF exports need the PyPI package 'playwright' (pip install playwright)") \
            from None
    return sync_playwright


def run_pandoc(args: list[str], text: str, *, timeout: float, cwd: str | None = None,
               said: list[str] | None = None) -> str:
    """pandoc, in its sandbox, on ``text``: what it writes on standard output.  It is stopped
    after ``timeout`` seconds (``StepTimeout``); its warnings go to ``said``, one each."""
    command = [pandoc(), *pandoc_runtime(), "--sandbox", *args]
    try:
        done = subprocess.run(command, input=text, text=True, capture_output=True, cwd=cwd,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise StepTimeout(f"pandoc ran past its time limit of {timeout:g} s and was stopped") \
            from None
    if done.returncode != 0:
        raise ToolFailure(f"pandoc: {done.stderr.strip()[-2000:]}")
    if said is not None:
        said += pandoc_warnings(done.stderr)
    return done.stdout


def pandoc_warnings(stderr: str) -> list[str]:
    """pandoc's messages, one each (a message goes on over the lines after its ``[WARNING]``)."""
    return [w.strip() for w in re.split(r"^\[(?:WARNING|INFO)\] ", stderr, flags=re.M) if w.strip()]


def at_start(path: str) -> Location:
    """The first line of a file, where a problem with the whole talk is reported."""
    return Location(display_name(path), 1, 1)
