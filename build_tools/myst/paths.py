"""Local files named in the MyST text itself: Markdown images and links, raw HTML,
slide backgrounds and file-reading directives.

Sphinx copies every image and download it is given and reads every file an
``{include}``, ``{literalinclude}`` or ``:file:`` option names, wherever it is.
Each such path is checked here with the engine's one rule (``source.confine``);
a path outside the talk's repository and roots is reported at its line and
replaced, so it never reaches Sphinx.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection

from ..media import unpublishable
from ..paths import confine, display_name

REFUSED = "refused-path-outside-repository"
"""What a refused path becomes: a name Sphinx cannot find, so nothing is read or copied."""

MD_TARGET_RE = re.compile(r"(\]\(\s*<?)([^)\s>]+)")
HTML_ATTR_RE = re.compile(r"""(\b(?:src|data|href|data-src|data-background(?:-image|-video|-iframe)?)\s*=\s*["']?)"""
                          r"""([^"'\s>]+)""", re.I)
DIRECTIVE_RE = re.compile(r"^(\s*(?:`{3,}|~{3,}|:{3,})\s*\{(?:include|literalinclude|image|figure)\}\s+)(\S+)",
                          re.I)
READING_DIRECTIVE_RE = re.compile(r"^\s*(?:`{3,}|~{3,}|:{3,})\s*\{(?:include|literalinclude)\}", re.I)
"""Directives whose file becomes page text: any text file of the project may be shown."""
FILE_OPTION_RE = re.compile(r"^(\s*:(?:file|source):\s+)(\S+)", re.I)
REFERENCE_RE = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*<?)([^\s>]+)")
"""A reference-style target (``[r1]: ../x.png``), which ``![alt][r1]`` shows."""
ROLE_RE = re.compile(r"(\{(?:download|doc|file)\}`(?:[^`<]*<)?)([^`>]+)", re.I)
URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:|#|//")


def _html_attribute(low: str) -> bool:
    return "=" in low and ("src" in low or "data" in low or "href" in low)


def _directive(low: str) -> bool:
    return "}" in low and ("include}" in low or "image}" in low or "figure}" in low)


def _file_option(low: str) -> bool:
    return ":file:" in low or ":source:" in low


def _reference(low: str) -> bool:
    return "]:" in low


def _role(low: str) -> bool:
    return "}`" in low and ("download}" in low or "doc}" in low or "file}" in low)


PATTERNS = ((MD_TARGET_RE, lambda low: "](" in low), (REFERENCE_RE, _reference),
            (HTML_ATTR_RE, _html_attribute),
            (DIRECTIVE_RE, _directive), (FILE_OPTION_RE, _file_option), (ROLE_RE, _role))
"""Each pattern with a quick look that rules out most lines before it runs.

Directive, role and attribute names are matched without regard to case, as
docutils and browsers read them."""


def may_name_a_file(text: str) -> bool:
    if "](" in text or "]:" in text:
        return True
    if "=" not in text and ":" not in text and "}" not in text:  # what every other look needs
        return False
    low = text.lower()
    return _html_attribute(low) or _file_option(low) or _directive(low) or _role(low)


def local_file(path: str, doc_dir: str | None, image_root: str | None) -> str | None:
    """Where a path in the MyST text names a file, as Sphinx resolves it; None for URLs."""
    if URL_RE.match(path):
        return None
    path = path.split("#", 1)[0].split("?", 1)[0]
    if path.startswith("/"):
        return os.path.join(image_root or doc_dir or "/", path.lstrip("/")) if (image_root or doc_dir) \
            else None
    return os.path.join(doc_dir, path) if doc_dir else None


DOCUMENT_SUFFIXES = frozenset({".md"})
"""Files a talk may link that are pages of the site (talk sources), not files to copy."""


def guard_line(text: str, doc_dir: str | None, image_root: str | None, allowed: Collection[str],
               refuse: Callable[[str, str, str | None], None]) -> str:
    """``text`` with every local path outside ``allowed``, or naming a file that is no
    picture or media (``media.unpublishable``), replaced; ``refuse(path, shown, why)``
    reports each (``why`` is None for a path outside)."""
    if not allowed or not may_name_a_file(text):
        return text
    reading = bool(READING_DIRECTIVE_RE.match(text)) or bool(FILE_OPTION_RE.match(text))

    def check(m: re.Match) -> str:
        path = m.group(2)
        on_disk = local_file(path, doc_dir, image_root)
        if on_disk is None:
            return m.group(0)
        real = confine(on_disk, allowed)
        why = None if real else "outside"
        if real and not reading and os.path.isfile(real) \
                and os.path.splitext(real)[1].lower() not in DOCUMENT_SUFFIXES:
            why = unpublishable(real)
        if why is None:
            return m.group(0)
        refuse(path, display_name(os.path.normpath(on_disk)), None if why == "outside" else why)
        return m.group(1) + REFUSED

    low = text.lower()
    for pattern, may_match in PATTERNS:
        if may_match(low):
            checked = pattern.sub(check, text)
            if checked != text:
                text, low = checked, checked.lower()
    return text
