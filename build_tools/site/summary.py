"""What a build says about its warnings: each naming the talk's own file, and a summary."""
from __future__ import annotations

import collections
import functools
import os
import re
from pathlib import Path
from collections.abc import Callable, Iterable

from ..diagnostics import Diagnostic, Severity
from ..paths import display_name

__all__ = ["source_namer", "summary"]

def source_namer(src: Path, docs: dict[str, str]) -> Callable[[str], str]:
    """A function that makes a warning name the talk's own file, never the generated
    source folder's link to it (worked out once for all the warnings of a build)."""
    # the longer first: the absolute folder is a part of its path relative to a folder above
    prefixes = sorted({str(src) + os.sep, display_name(str(src)) + os.sep}, key=len, reverse=True)
    talks = {}
    for talk, doc in docs.items():
        for prefix in prefixes:
            talks[f"{prefix}{doc}.md"] = display_name(talk)
    shown = re.compile("(?:" + "|".join(re.escape(p) for p in prefixes) + r")[^\s:]+?\.md")

    # the variants say most warnings alike: each is worked out once
    @functools.cache
    def name(warning: str) -> str:
        if not any(prefix in warning for prefix in prefixes):
            return warning
        named = shown.sub(lambda m: talks.get(m.group(0), m.group(0)), warning)
        for prefix in prefixes:
            named = named.replace(prefix, "")
        return named

    return name


def summary(warnings: list[str], diagnostics: Iterable[Diagnostic] = (), most: int = 5
            ) -> list[str]:
    """Counts of errors and of warnings by code, and the files with most problems: Sphinx's
    warnings (an ``E-`` code, or Sphinx's ERROR, is an error) and the exports' diagnostics."""
    counted = [_counted_warning(w) for w in warnings] + \
        [(d.code, d.severity >= Severity.ERROR, d.location.file if d.location else None)
         for d in diagnostics if d.severity >= Severity.WARNING]
    if not counted:
        return []
    codes = collections.Counter((code, error) for code, error, _ in counted)
    files = collections.Counter(file for _, _, file in counted if file)
    lines = []
    for kind, chosen in (("error", [(c, n) for (c, e), n in codes.most_common() if e]),
                         ("warning", [(c, n) for (c, e), n in codes.most_common() if not e])):
        if chosen:
            lines.append(f"{sum(n for _, n in chosen)} {kind}(s): "
                         + ", ".join(f"{code} {n}" for code, n in chosen))
    if files:
        lines.append("most warnings: " + ", ".join(f"{f} ({n})" for f, n in files.most_common(most)))
    return lines


def _counted_warning(warning: str) -> tuple[str, bool, str | None]:
    """(code, whether it is an error, file) of one warning as Sphinx printed it."""
    first = warning.split("\n", 1)[0]
    found = CODE_RE.search(warning)
    code = found.group(1) if found else "other"
    where = FILE_RE.match(first)
    error = code.startswith("E-") or (not code.startswith("W-") and LEVEL_RE.search(first) is not None)
    return code, error, where.group(1) if where else None


CODE_RE = re.compile(r"\[(?:talks\.)?([\w.-]+)\]\s*$")
FILE_RE = re.compile(r"([^:\s]+\.\w+):\d+")
LEVEL_RE = re.compile(r"^[^ ]*:\d*:? (?:ERROR|CRITICAL|SEVERE):")
