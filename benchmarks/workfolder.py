"""What the benchmarks that build in a folder of their own share: that folder, and the HTML
reader they read pages with."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def work_folder(keep: str | None, prefix: str) -> Iterator[Path]:
    """``keep`` (made when missing, left in place), or a new temporary folder removed after."""
    work = Path(keep).resolve() if keep else Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    try:
        yield work
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def without_html_reader(nothing_done: str) -> bool:
    """Whether beautifulsoup4 (installed with the Sphinx theme) is missing; says so."""
    try:
        import bs4  # noqa: F401
    except ImportError:
        print(f"beautifulsoup4 is not installed; {nothing_done}")
        return True
    return False
