"""What a build says about its warnings: each naming the talk's own file, and a summary."""
from __future__ import annotations

import collections
import os
import re
from pathlib import Path
from collections.abc import Callable

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

    def name(warning: str) -> str:
        if not any(prefix in warning for prefix in prefixes):
            return warning
        warning = shown.sub(lambda m: talks.get(m.group(0), m.group(0)), warning)
        for prefix in prefixes:
            warning = warning.replace(prefix, "")
        return warning

    return name


def summary(warnings: list[str], most: int = 5) -> list[str]:
    """Counts of errors and of warnings by code (an ``E-`` code is an error, whatever the
    logger called it), and the files with most problems."""
    codes: collections.Counter = collections.Counter()
    files: collections.Counter = collections.Counter()
    for warning in warnings:
        first = warning.split("\n", 1)[0]
        code = re.search(r"\[(?:talks\.)?([\w.-]+)\]\s*$", warning)
        codes[code.group(1) if code else "other"] += 1
        where = re.match(r"([^:\s]+\.\w+):\d+", first)
        if where:
            files[where.group(1)] += 1
    if not codes:
        return []
    lines = []
    for kind, counted in (("error", [(c, n) for c, n in codes.most_common() if c.startswith("E-")]),
                          ("warning", [(c, n) for c, n in codes.most_common()
                                       if not c.startswith("E-")])):
        if counted:
            lines.append(f"{sum(n for _, n in counted)} {kind}(s): "
                         + ", ".join(f"{code} {n}" for code, n in counted))
    if files:
        lines.append("most warnings: " + ", ".join(f"{f} ({n})" for f, n in files.most_common(most)))
    return lines
