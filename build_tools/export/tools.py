"""The outside programs exports need, found once, or one clear message naming the package."""
from __future__ import annotations

import os
import shutil
from functools import lru_cache


class MissingTool(Exception):
    """An export needs a program that is not installed; the message says which package."""


class ToolFailure(Exception):
    """A program an export runs could not make its file; the message says why."""


PANDOC_TYPST = (3, 1, 2)
"""The first pandoc that writes Typst (and, as an official build, PPTX under ``--sandbox``)."""


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@lru_cache(maxsize=None)
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


@lru_cache(maxsize=None)
def pandoc(minimum: tuple[int, ...] = ()) -> str:
    """The pandoc executable pypandoc will run (at least version ``minimum``)."""
    try:
        import pypandoc
    except ImportError:
        raise MissingTool("DOCX exports need the PyPI package 'pypandoc' (pip install pypandoc)") \
            from None
    try:
        path = pypandoc.get_pandoc_path()
    except OSError:
        raise MissingTool("DOCX exports need pandoc: install the Debian package 'pandoc' "
                          "(apt-get install pandoc)") from None
    if minimum:
        version = pypandoc.get_pandoc_version()
        found = tuple(int(p) for p in version.split(".") if p.isdigit())
        if found < minimum:
            wanted = ".".join(map(str, minimum))
            raise MissingTool(f"typeset handouts and PPTX need pandoc {wanted} or later (found "
                              f"{version}): install the PyPI package 'pypandoc-binary'")
    return path


def playwright():
    """Playwright's synchronous API (it drives the Debian Chromium; no browser is downloaded)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise MissingTool("PDF exports need the PyPI package 'playwright' (pip install playwright)") \
            from None
    return sync_playwright
