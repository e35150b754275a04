"""The outside programs exports need, found once, or one clear message naming the package."""
from __future__ import annotations

import os
import shutil
from functools import lru_cache


class MissingTool(Exception):
    """An export needs a program that is not installed; the message says which package."""


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
def pandoc() -> str:
    """The pandoc executable pypandoc will run."""
    try:
        import pypandoc
    except ImportError:
        raise MissingTool("DOCX exports need the PyPI package 'pypandoc' (pip install pypandoc)") \
            from None
    try:
        return pypandoc.get_pandoc_path()
    except OSError:
        raise MissingTool("DOCX exports need pandoc: install the Debian package 'pandoc' "
                          "(apt-get install pandoc)") from None


def playwright():
    """Playwright's synchronous API (it drives the Debian Chromium; no browser is downloaded)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise MissingTool("PDF exports need the PyPI package 'playwright' (pip install playwright)") \
            from None
    return sync_playwright
