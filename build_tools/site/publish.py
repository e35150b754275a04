"""Putting a built site in place: one build at a time, a fresh copy beside the old site
(unchanged files hard-linked), a failed talk's last good page kept, then one rename."""
from __future__ import annotations

import errno
import fcntl
import html
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import weakref
from collections.abc import Iterable
from pathlib import Path

from ..config import VARIANTS
from ..formats import SUFFIXES

__all__ = ["STATUS", "SiteBusy", "TrackedState", "refuse_tracked_state", "site_status",
           "lamd_deck_addresses", "lamd_address_files",
           "lock_site", "check_writable", "copy_tree", "keep_page", "share_images", "IMAGES",
           "has_page", "copy_exports", "unlink_absent_exports", "new_site_folder", "place_text",
           "place_pages", "swap", "recover"]

SKIP_IN_SITE = {".buildinfo", ".buildinfo.bak", "_sources", ".doctrees", "objects.inv", ".stamps"}


STATUS = "_talks-status.json"


def site_status(out: Path) -> dict[str, dict[str, bool]]:
    """What the site at ``out`` was published with: variant -> document -> whether its page
    is good (empty when there is no site)."""
    try:
        return dict(json.loads((out / STATUS).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


class SiteBusy(OSError):
    """Another ``talks build`` is writing the same site."""


def lock_site(work: Path) -> io.TextIOWrapper:
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
    _HELD.add(handle)
    return handle


class TrackedState(OSError):
    """The work folder holds files the project's repository tracks."""


GIT_TIMEOUT = 30
"""Seconds ``git ls-files`` may take before the build goes on without its answer."""


def refuse_tracked_state(work: Path) -> None:
    """Refuse a work folder that holds files the repository tracks, before anything in it is
    read.  A build loads its work folder (its records, Sphinx's environment and doctrees) as
    its own state, with ``pickle``: a file a commit put there could run code when loaded.
    What a build wrote itself is never tracked (``_build`` is not committed)."""
    tracked = _tracked_files(work)
    if tracked:
        raise TrackedState(
            errno.EPERM, f"the work folder holds {len(tracked)} file(s) the repository tracks "
            f"(the first: {tracked[0]}); a build never reads a work folder that a commit can write "
            f"into: take them out of the repository (git rm -r --cached {_shown(work)}) or "
            "build with --out in a folder outside it", str(work))


def _tracked_files(work: Path) -> list[str]:
    """The files under ``work`` that the git repository around it tracks (none when it lies
    in no repository, or git is not installed)."""
    top = next((folder for folder in [work, *work.parents] if (folder / ".git").exists()), None)
    if top is None or not work.exists():
        return []
    try:
        done = subprocess.run(["git", "-C", str(top), "ls-files", "-z", "--", str(work.relative_to(top))],
                              capture_output=True, timeout=GIT_TIMEOUT,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [name for name in done.stdout.decode(errors="replace").split("\0") if name] \
        if done.returncode == 0 else []


def _shown(folder: Path) -> str:
    try:
        return os.path.relpath(folder)
    except ValueError:
        return str(folder)


_HELD: weakref.WeakSet[io.TextIOWrapper] = weakref.WeakSet()
"""The lock files this process opened: a process forked while one is held (a worker that
outlives the build, as ``talks serve`` keeps them) must not hold the lock with it."""


def _release_in_child() -> None:
    for handle in list(_HELD):
        handle.close()  # the parent's copy still holds the lock


os.register_at_fork(after_in_child=_release_in_child)


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


def copy_tree(src: Path, dest: Path, old: Path | None, depth: int | None = None) -> None:
    """Copy ``src`` into the site, hard-linking what the old site has alike.  With ``depth``
    (a variant's folder is 0), ``src`` is a variant's pages: its ``_images/`` is left for
    ``share_images`` and each page is pointed at the site's one ``_images/``."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(src):
        if entry.name in SKIP_IN_SITE or (depth == 0 and entry.name == IMAGES):
            continue
        target = dest / entry.name
        previous = old / entry.name if old is not None else None
        if entry.is_dir():
            copy_tree(Path(entry.path), target, previous if previous and previous.is_dir() else None,
                      None if depth is None else depth + 1)
        elif depth is not None and entry.name.endswith(".html"):
            _place_page(Path(entry.path), target, previous if previous and previous.is_file()
                        else None, depth)
        else:
            _place(Path(entry.path), target, previous if previous and previous.is_file() else None)


IMAGES = "_images"
"""Each variant's images folder; in the site, one folder beside the variants that all share."""


def _shared_references(page: bytes, depth: int) -> bytes:
    """A page's ``_images/`` references pointed one folder up, at the site's shared folder
    (a page already pointed there is left as it is)."""
    up = b"../" * depth
    return re.sub(rb"([\"'(=])" + re.escape(up) + rb"_images/", rb"\g<1>" + up + b"../_images/",
                  page)


def _place_page(src: Path, dest: Path, old: Path | None, depth: int) -> None:
    """A page pointed at the shared images; the old site's copy when it was made from this
    very page (same modification time: Sphinx rewrote nothing)."""
    stat = src.stat()
    if old is not None and old.stat().st_mtime_ns == stat.st_mtime_ns:
        try:
            os.link(old, dest)
            return
        except OSError:
            pass
    dest.write_bytes(_shared_references(src.read_bytes(), depth))
    os.utime(dest, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def share_images(variants: list[Path], site: Path, old: Path | None) -> None:
    """Every variant's images in the site's one ``_images/`` (named by content, so one name
    is one picture): a figure the handout, the deck and the notes show is stored once.

    A content-named file never changes (Sphinx copies an image only when it differs), so
    the site's file is the work folder's own, linked, and each variant's work copy is a
    link to the first: a cache of the work folder and the site holds each picture once."""
    shared = site / IMAGES
    for folder in variants:
        if not (folder / IMAGES).is_dir():
            continue
        shared.mkdir(exist_ok=True)
        for entry in os.scandir(folder / IMAGES):
            if not entry.is_file():
                continue
            target = shared / entry.name
            if target.exists():
                if CONTENT_NAMED.search(entry.name) and folder != old:
                    _relink(target, Path(entry.path))
                continue
            if CONTENT_NAMED.search(entry.name):
                try:
                    os.link(entry.path, target)
                    continue
                except OSError:
                    pass
            previous = old / IMAGES / entry.name if old is not None else None
            _place(Path(entry.path), target,
                   previous if previous is not None and previous.is_file() else None)


CONTENT_NAMED = re.compile(r"-[0-9a-f]{10}\.\w+$")
"""An image name made from its content (``sphinx_ext/images.py``)."""


def _relink(first: Path, copy: Path) -> None:
    """Make ``copy`` (another variant's work copy of one picture) a link to ``first``."""
    try:
        if os.path.samefile(first, copy) or first.stat().st_size != copy.stat().st_size:
            return
        spare = copy.with_name(copy.name + ".link")
        os.link(first, spare)
        os.replace(spare, copy)
    except OSError:
        pass


def keep_page(old_root: Path, new_root: Path, doc: str) -> bool:
    """Put a talk's page from the old site back (with any image it needs that is gone)."""
    old_page = old_root / f"{doc}.html"
    if not old_page.is_file():
        return False
    new_page = new_root / f"{doc}.html"
    new_page.parent.mkdir(parents=True, exist_ok=True)
    if new_page.exists():
        new_page.unlink()
    _place_page(old_page, new_page, None, doc.count("/"))
    text = new_page.read_text(encoding="utf-8", errors="replace")
    shared = new_root.parent / IMAGES
    for image in set(re.findall(r'_images/([^"\'?#)\s]+)', text)):
        for old in (old_root.parent / IMAGES / image, old_root / IMAGES / image):
            if not (shared / image).exists() and old.is_file():
                shared.mkdir(exist_ok=True)
                _place(old, shared / image, old)
    return True


def has_page(site: Path, doc: str) -> bool:
    """A document is listed once some variant of the site holds its page."""
    return any((site / variant / f"{doc}.html").is_file() for variant in VARIANTS)


def copy_exports(made: Path, dest: Path, old: Path, docs: Iterable[str],
                 formats: tuple[str, ...]) -> None:
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


def unlink_absent_exports(site: Path, docs: Iterable[str], formats: tuple[str, ...]) -> None:
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


def new_site_folder(out: Path, reuse_old: bool = False) -> Path:
    """The empty folder the new site is assembled in, beside ``out``.  With ``reuse_old``
    (the preview, whose ``swap`` leaves the replaced site beside the new one), that site's
    folders are emptied of their files and used again: a file system makes and removes
    folders and new files far slower than it links a file (a folder or a new file took
    about 2 ms each on the machine the speed notes were measured on, a link 0.03 ms), and
    a course's site has dozens of folders."""
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    old = out.with_name(out.name + ".old")
    if reuse_old and old.is_dir():
        os.replace(old, tmp)
        _remove_files(tmp)
    else:
        tmp.mkdir(parents=True)
    return tmp


def _remove_files(folder: Path) -> None:
    """Every file under ``folder``, its folders left in place."""
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            _remove_files(Path(entry.path))
        else:
            os.unlink(entry.path)


def place_text(dest: Path, text: str, old: Path | None) -> None:
    """Write a page the build made, or link the old site's copy when it says the same
    (most generated pages are the same from one build to the next; a link is far
    cheaper than a new file, see ``new_site_folder``)."""
    data = text.encode("utf-8")
    dest.unlink(missing_ok=True)  # it may be a link to the old site's copy: never write that
    if old is not None:
        try:
            if old.stat().st_size == len(data) and old.read_bytes() == data:
                os.link(old, dest)
                return
        except OSError:
            pass
    dest.write_bytes(data)


def place_pages(folder: Path, pages: dict[str, str], old: Path | None) -> None:
    """Pages (file name -> text) into ``folder``, each linked from ``old`` when alike."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        place_text(folder / name, text, old / name if old is not None else None)


def swap(tmp: Path, out: Path, keep_old: bool = False) -> None:
    """Put the new site in place of the old by renaming; with ``keep_old``, the old site is
    left beside it, for the next build to assemble its site in (``new_site_folder``)."""
    old = out.with_name(out.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists() and not keep_old:
        shutil.rmtree(old, ignore_errors=True)


def recover(out: Path) -> None:
    """A build stopped between the two renames: put the previous site back."""
    old = out.with_name(out.name + ".old")
    if not out.exists() and old.is_dir():
        os.replace(old, out)


FORWARD = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>\n'
           '<meta http-equiv="refresh" content="0; url={url}"><link rel="canonical" href="{url}">'
           '</head>\n<body><p><a href="{url}">{title}</a></p></body></html>\n')


def lamd_address_files(talks: dict[str, dict]) -> set[str]:
    """Every forwarding page ``lamd_deck_addresses`` may write for these talks."""
    return {address for meta in talks.values() for address, _ in meta.get("lamd", [])}


def lamd_deck_addresses(site: Path, talks: dict[str, dict], old: Path | None = None) -> None:
    """A page at each address lamd published a talk at (its deck, a lecture's numbered deck
    and notes: ``discovery.lamd_addresses``) that forwards to our page, so links to a lamd
    site keep working.  An address two talks claim goes to the first by document name; one
    that is a page of ours, or whose page is missing, is left alone.  ``old`` is the site
    before, whose page is linked when it is the same."""
    taken = {f"{variant}/{doc}.html" for variant in VARIANTS for doc in talks}  # our own pages
    for doc in sorted(talks):
        for address, target in talks[doc].get("lamd", []):
            page = site / address
            if address in taken or not (site / target).is_file():
                continue
            taken.add(address)
            page.parent.mkdir(parents=True, exist_ok=True)
            url = html.escape(posixpath.relpath(target, posixpath.dirname(address)))
            title = html.escape(str(talks[doc].get("title") or doc))
            place_text(page, FORWARD.format(title=title, url=url),
                       old / address if old is not None else None)
