"""What a talk may publish: pictures and media that are what their name says.

A talk names files for its readers to see, play or download: images, video, audio,
captions, PDFs.  Every other file of its repository (settings, code, a CI checkout's
``.git/config`` with its token) is never copied into the site or an export, whatever
the talk writes: a file is published only when its suffix is one of ``MEDIA`` and its
first bytes say it is of that kind (the ``filetype`` package reads the signatures;
SVG and WebVTT are text, checked here).  Folders whose name starts with a dot are
refused earlier, by ``paths.confine``.
"""
from __future__ import annotations

import functools
import os

import filetype

SVG = "image/svg+xml"
VTT = "text/vtt"

MEDIA: dict[str, frozenset[str]] = {suffix: frozenset(kinds) for suffix, kinds in {
    ".png": ("image/png", "image/apng"), ".apng": ("image/apng", "image/png"),
    ".jpg": ("image/jpeg",), ".jpeg": ("image/jpeg",), ".gif": ("image/gif",),
    ".webp": ("image/webp",), ".bmp": ("image/bmp",), ".ico": ("image/x-icon",),
    ".tif": ("image/tiff",), ".tiff": ("image/tiff",), ".avif": ("image/avif",),
    ".svg": (SVG,),
    ".mp4": ("video/mp4", "video/quicktime", "video/x-m4v", "video/3gpp"),
    ".m4v": ("video/x-m4v", "video/mp4"), ".mov": ("video/quicktime", "video/mp4"),
    ".webm": ("video/webm", "video/x-matroska"), ".ogv": ("audio/ogg",),
    ".mp3": ("audio/mpeg",), ".m4a": ("audio/mp4", "video/mp4"), ".wav": ("audio/x-wav",),
    ".ogg": ("audio/ogg",), ".oga": ("audio/ogg",), ".flac": ("audio/x-flac",),
    ".vtt": (VTT,), ".pdf": ("application/pdf",),
}.items()}
"""Each suffix a published file may have, and the kinds its content may show (an Ogg
video reads as an Ogg stream, an MP4 may carry QuickTime's brand)."""

HEAD_BYTES = 64 * 1024
"""How much of a file is read to tell its kind (an SVG's root may follow a long comment)."""


def unpublishable(path: str | os.PathLike) -> str | None:
    """Why the file at ``path`` may not be published, or None when it may."""
    path = os.fspath(path)
    try:
        stat = os.stat(path)
    except OSError:
        return "it cannot be read"
    return _judge(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _judge(path: str, mtime: int, size: int) -> str | None:
    suffix = os.path.splitext(path)[1].lower()
    kinds = MEDIA.get(suffix)
    if kinds is None:
        return (f"a talk publishes only pictures and media ({', '.join(sorted(MEDIA))}), "
                f"not {suffix or 'a file without a suffix'} files")
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return "it cannot be read"
    found = _kind(head)
    if found in kinds:
        return None
    return f"its content is {'not recognised' if found is None else found}, not what {suffix} says"


def _kind(head: bytes) -> str | None:
    kind = filetype.guess_mime(head) if head else None
    if kind is not None:
        return kind
    if b"\x00" in head:
        return None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("WEBVTT"):
        return VTT
    if "<svg" in text.lower():
        return SVG
    return None
