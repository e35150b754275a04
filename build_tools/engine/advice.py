"""Checks beyond expansion: include lines damaged by editing, and names that are almost
vocabulary names.  Each problem that has exactly one repair carries it (``Repair``);
``authoring.lint`` applies them (``talks check --fix``).
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass

from ..diagnostics import Diagnostic, Location, Severity
from ..paths import display_name
from .source import MACRO_FILE_NAMES, MOJIBAKE_BOM, listing

# a line that ends like an include target but has lost its ``\include{`` (and has no macro left)
DAMAGED_INCLUDE_RE = re.compile(r"^(?!.*\\)\s*(\S*?)([^\s{}]*\.(?:md|gpp|tex|html))\}\s*$")
COMMENT_RE = re.compile(r"<!--.*?-->", re.S)


@dataclass(frozen=True)
class Repair:
    line: int
    old: str
    new: str


def _include_names(roots: list[str]) -> dict[str, str]:
    """Every include name under the roots, mapped to the file it names."""
    names: dict[str, str] = {}
    for root in roots:
        if os.path.isdir(root):
            for name in listing(root):
                if name.endswith((".md", ".html", ".gpp", ".tex")):
                    names.setdefault(name, os.path.realpath(os.path.join(root, name)))
    return names


def damaged_includes(path: str, text: str, roots: list[str]) -> list[tuple[Diagnostic, Repair | None]]:
    """Lines such as ``talk-macros.gpp}ompsci/includes/computer-laboratory.md}``.

    What is still visible of the target is matched against the files under the
    include roots; a single match is the repair.
    """
    found = []
    names = None
    display = display_name(path)
    comments = [(c.start(), c.end()) for c in COMMENT_RE.finditer(text)]
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        start, offset = offset, offset + len(line) + 1
        m = DAMAGED_INCLUDE_RE.match(line)
        if not m or line.lstrip().startswith(("`", "<", "[", "!", "(")):
            continue
        if any(a <= start < b for a, b in comments):  # commented out: it was never meant to run
            continue
        if names is None:
            names = _include_names(roots)
        remainder = m.group(2).lstrip("/")
        by_file: dict[str, str] = {}  # one name per file: the shortest way to write it
        for name, real in names.items():
            if len(remainder) > 6 and name.endswith(remainder):
                if real not in by_file or len(name) < len(by_file[real]):
                    by_file[real] = name
        candidates = sorted(by_file.values())
        if not candidates and os.path.basename(remainder) in MACRO_FILE_NAMES:
            candidates = ["talk-macros.gpp"]
        if len(candidates) == 1:
            repair = Repair(number, line, f"\\include{{{candidates[0]}}}")
            hint = f"replace the line with {repair.new}"
        else:
            repair = None
            hint = ("it could be any of " + ", ".join(candidates[:4])) if candidates else \
                "no existing include ends with it"
        column = len(line) - len(line.lstrip()) + 1
        diag = Diagnostic("E-DAMAGED-INCLUDE", Severity.ERROR,
                          f"damaged include directive: '{line.strip()}' includes nothing",
                          Location(display, number, column), hint=hint,
                          fix=("line", str(number), repair.new) if repair else ())
        found.append((diag, repair))
    return found


def encoding_repairs(text: str) -> list[Repair]:
    """Byte-order marks that are not at the very start, or that were decoded as Latin-1."""
    repairs = []
    for number, line in enumerate(text.split("\n"), start=1):
        if MOJIBAKE_BOM in line or "\ufeff" in line:
            repairs.append(Repair(number, line, line.replace(MOJIBAKE_BOM, "").replace("\ufeff", "")))
    return repairs


class NameAdvisor:
    """Did-you-mean for unknown macro names that are near a vocabulary name
    (docs/macro-language.md, "Unknown names")."""

    LATEX = frozenset("text textbf textit texttt emph item begin end label ref cite caption "
                      "section paragraph frac mathbf mathrm sqrt left right hline vspace hspace "
                      "centering includegraphics url footnote".split())
    """LaTeX commands that are not typos of the vocabulary, however close they look."""

    def __init__(self, vocabulary: list[str]):
        self.vocabulary = sorted(n for n in vocabulary
                                 if not n.startswith("__") and not n.isupper())
        self._lower = {n.lower(): n for n in self.vocabulary}
        self._cache: dict[str, str | None] = {}

    def suggest(self, name: str) -> str | None:
        if name in self._cache:
            return self._cache[name]
        guess = None
        if len(name) >= 4 and name not in self.LATEX:
            if name.lower() in self._lower:
                guess = self._lower[name.lower()]
            else:
                near = [n for n in self.vocabulary if abs(len(n) - len(name)) <= 2 and n[0] == name[0]]
                close = difflib.get_close_matches(name, near, n=1, cutoff=0.84)
                if close and _edit_distance(name, close[0]) <= 2:
                    guess = close[0]
        self._cache[name] = guess
        return guess


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
