"""Putting a built site in place: one build at a time, a fresh copy beside the old site
(unchanged files hard-linked), a failed talk's last good page kept, then one rename."""
from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
from pathlib import Path

from ..config import VARIANTS
from ..formats import SUFFIXES

__all__ = ["STATUS", "SiteBusy", "lock_site", "check_writable", "copy_tree", "keep_page",
           "has_page", "copy_exports", "unlink_absent_exports", "swap", "recover"]

SKIP_IN_SITE = {".buildinfo", ".buildinfo.bak", "_sources", ".doctrees", "objects.inv", ".stamps"}


STATUS = "_talks-status.json"


class SiteBusy(OSError):
    """Another ``talks build`` is writing the same site."""


def lock_site(work: Path):
    """Hold an exclusive lock on ``work`` for one build; refuse at once when another holds it.

    Returns the open lock file; closing it (or the process ending) releases the lock.
    """
    work.mkdir(parents=True, exist_ok=True)
    handle = open(work / "build.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SiteBusy(errno.EBUSY, "another talks build is writing this site; "
                       "wait for it to finish", str(work)) from None
    return handle


def check_writable(out: Path) -> None:
    """Fail before anything is built or moved when the site cannot be replaced."""
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    for folder in [parent, *([out] if out.exists() else [])]:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "the site folder cannot be written; "
                                  "the last good site is left as it is", str(folder))


def _same(a: Path, b: Path) -> bool:
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    return sa.st_size == sb.st_size and sa.st_mtime_ns == sb.st_mtime_ns


def _place(src: Path, dest: Path, old: Path | None) -> None:
    """Copy ``src`` to ``dest``, or hard-link the old site's identical copy."""
    if old is not None and _same(src, old):
        try:
            os.link(old, dest)
            return
        except OSError:
            pass
    shutil.copy2(src, dest)


def copy_tree(src: Path, dest: Path, old: Path | None) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(src):
        if entry.name in SKIP_IN_SITE:
            continue
        target = dest / entry.name
        previous = old / entry.name if old is not None else None
        if entry.is_dir():
            copy_tree(Path(entry.path), target, previous if previous and previous.is_dir() else None)
        else:
            _place(Path(entry.path), target, previous if previous and previous.is_file() else None)


def keep_page(old_root: Path, new_root: Path, doc: str) -> bool:
    """Put a talk's page from the old site back (with any image it needs that is gone)."""
    old_page = old_root / f"{doc}.html"
    if not old_page.is_file():
        return False
    new_page = new_root / f"{doc}.html"
    new_page.parent.mkdir(parents=True, exist_ok=True)
    if new_page.exists():
        new_page.unlink()
    _place(old_page, new_page, old_page)
    text = old_page.read_text(encoding="utf-8", errors="replace")
    for image in set(re.findall(r'_images/([^"\'?#)\s]+)', text)):
        if not (new_root / "_images" / image).exists() and (old_root / "_images" / image).is_file():
            (new_root / "_images").mkdir(exist_ok=True)
            _place(old_root / "_images" / image, new_root / "_images" / image,
                   old_root / "_images" / image)
    return True


def has_page(site: Path, doc: str) -> bool:
    """A document is listed once some variant of the site holds its page."""
    return any((site / variant / f"{doc}.html").is_file() for variant in VARIANTS)


def copy_exports(made: Path, dest: Path, old: Path, docs, formats: tuple[str, ...]) -> None:
    """Put in the site only this build's formats of this build's talks.

    ``made`` keeps every export ever made (so a later build can reuse them), but
    one of a format not asked for this time, or of a talk no longer built, may be
    stale: the pages link exactly ``formats``, and the index links what is here.
    A format asked for whose export failed keeps its last good file, as the page does.
    """
    for doc in docs:
        for fmt in formats:
            name = f"{doc}{SUFFIXES[fmt]}"
            if not (made / name).is_file():
                continue
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            _place(made / name, dest / name, old / name if (old / name).is_file() else None)
            files = f"{doc}_files"  # a notebook's figures
            if fmt == "ipynb" and (made / files).is_dir():
                copy_tree(made / files, dest / files, old / files if (old / files).is_dir() else None)


def unlink_absent_exports(site: Path, docs, formats: tuple[str, ...]) -> None:
    """Take out of each talk's pages the link to every export the site does not hold (the
    talk failed, or that export failed or was incomplete and there is no last good file):
    a page never links a file that is not there."""
    from ..sphinx_ext.links import export_anchor

    for doc in docs:
        absent = [fmt for fmt in formats if not (site / "exports" / f"{doc}{SUFFIXES[fmt]}").is_file()]
        if not absent:
            continue
        for variant in VARIANTS:
            page = site / variant / f"{doc}.html"
            if not page.is_file():
                continue
            text = page.read_text(encoding="utf-8")
            kept = text
            for fmt in absent:
                kept = kept.replace(f" {export_anchor(doc, fmt)}", "").replace(export_anchor(doc, fmt), "")
            if kept != text:
                page.unlink()  # it may be a link to the old site's copy: write a file of its own
                page.write_text(kept, encoding="utf-8")


def swap(tmp: Path, out: Path) -> None:
    old = out.with_name(out.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def recover(out: Path) -> None:
    """A build stopped between the two renames: put the previous site back."""
    old = out.with_name(out.name + ".old")
    if not out.exists() and old.is_dir():
        os.replace(old, out)
