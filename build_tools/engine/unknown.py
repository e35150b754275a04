"""What becomes of a name no macro file defines, written outside math and code
(docs/macro-language.md, "Unknown names").

lamd hands such a name to pandoc, which drops raw TeX from HTML. Here a reader never sees
it either: a LaTeX command with a plain meaning (emphasis, a citation, a link, a
cross-reference) is rendered with that meaning; a lamd name with an obvious reading is
rendered so, with a warning; raw LaTeX layout (environments, beamer overlays, TikZ) is
dropped with one warning per talk; any other name is dropped with its arguments and a
warning where it stands.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Reading:
    """How an unknown name is rendered: ``template`` is text with argument numbers in it."""

    groups: int
    """Brace groups it takes (more stay text)."""
    template: tuple[str | int, ...] = ()
    alias: str = ""
    """A vocabulary macro that means the same, called with the same arguments instead."""
    warn: bool = True
    """A lamd name no macro file defines (warned); False for LaTeX pandoc's readers know."""
    keys: int = -1
    """The argument that is a comma-separated list of citation keys, written ``@a; @b``."""
    handout_only: bool = False
    """What it names exists only in the handout (numbered figures): elsewhere it is dropped."""
    meaning: str = ""


READINGS: dict[str, Reading] = {
    "emph": Reading(1, ("*", 0, "*"), warn=False, meaning="emphasis"),
    "textit": Reading(1, ("*", 0, "*"), warn=False, meaning="emphasis"),
    "textbf": Reading(1, ("**", 0, "**"), warn=False, meaning="strong emphasis"),
    "texttt": Reading(1, ("`", 0, "`"), warn=False, meaning="code"),
    "paragraph": Reading(1, ("**", 0, "**"), warn=False, meaning="a run-in heading, in bold"),
    "textsection": Reading(0, ("§",), warn=False, meaning="§"),
    "ldots": Reading(0, ("…",), warn=False, meaning="…"),
    "cite": Reading(1, ("[", 0, "]"), warn=False, keys=0, meaning="a citation, as `[@key]`"),
    "citep": Reading(1, ("[", 0, "]"), warn=False, keys=0, meaning="a citation, as `[@key]`"),
    "citet": Reading(1, (0,), warn=False, keys=0, meaning="an in-text citation, as `@key`"),
    "ref": Reading(1, ("{numref}`%s <", 0, ">`"), warn=False, handout_only=True,
                   meaning="the number of the labelled figure, as LaTeX gives it; nothing "
                           "where figures are not numbered (the deck, the speaker notes)"),
    "url": Reading(1, ("<", 0, ">"), warn=False, meaning="a link showing its address"),
    "href": Reading(2, ("[", 1, "](", 0, ")"), warn=False, meaning="a link, as `[text](url)`"),
    "alert": Reading(1, ("*", 0, "*"), meaning="emphasis (beamer's highlight)"),
    "refnotes": Reading(2, ("[", 0, "](#", 1, ")"),
                        meaning="the text linked to the labelled section, as `[text](#label)`"),
    "writeAssignment": Reading(3, alias="writeassignment",
                               meaning="`\\writeassignment`: an exercise, as the exercise macros give"),
    "codeAssignment": Reading(4, alias="codeassignment",
                              meaning="`\\codeassignment`: an exercise, as the exercise macros give"),
}
"""Unknown names that are rendered rather than dropped."""

RAW_LATEX = frozenset(
    "begin end only uncover onslide visible invisible alt pause tikzstyle tikzset usetikzlibrary "
    "node draw fill path centering vspace hspace vfill hfill noindent newpage clearpage "
    "linebreak newline smallskip medskip bigskip small large Large LARGE huge Huge tiny "
    "scriptsize footnotesize normalsize includegraphics caption label item columnwidth "
    "textwidth linewidth resizebox scalebox".split())
"""LaTeX and beamer layout pandoc drops from HTML: one warning per talk, not one per use."""

TEXT_COLOUR = frozenset({"color"})
"""MathJax's colour switch: in math MathJax sets it; written in text (``[\\color{blue} No
inversion]{}``) it is LaTeX layout, dropped with its colour as pandoc drops it."""

PASSED_ON = frozenset({"newcommand", "renewcommand"})
"""Read by a later stage (MathJax macro definitions), never dropped."""

MATH_ENVIRONMENTS = frozenset({"align", "aligned", "equation", "eqnarray", "gather", "multline",
                               "split", "array", "matrix", "pmatrix", "bmatrix", "cases",
                               "alignat", "flalign"})

CITE_KEY_RE = re.compile(r"[^\s,]+")


def citation_keys(text: str) -> str:
    """``a, b`` -> ``@a; @b``: a LaTeX key list as pandoc's citation syntax."""
    return "; ".join("@" + key for key in CITE_KEY_RE.findall(text))
