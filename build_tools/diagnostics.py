"""Diagnostics: the located problems every stage reports.

A diagnostic is a value, not an exception: the expander collects them and keeps
going, so one run reports every problem in a talk.  Only the CLI turns them
into exit codes.  ``MacroError`` exists for API callers that want to raise the
first error (``strict``); it carries the same diagnostic.
"""
from __future__ import annotations

import dataclasses
import enum
import os
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    NOTICE = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Location:
    """A position as editors show it: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    """Stable identifier such as ``W-BRACE`` or ``E-INCLUDE-MISSING`` (``CATALOGUE``, docs/diagnostics.md)."""
    severity: Severity
    message: str
    location: Location | None = None
    chain: tuple[Location, ...] = ()
    """Where each enclosing file was included from, innermost first."""
    hint: str = ""
    fix: tuple[str, ...] = field(default=(), compare=False)
    """Machine-readable repair, when exactly one safe repair exists: (kind, data...)."""
    subject: str = field(default="", compare=False)
    """The file on disk the problem is about, when there is one (a missing image)."""

    def format(self) -> str:
        where = f"{self.location}: " if self.location else ""
        lines = [f"{where}{self.severity}: {self.message} [{self.code}]"]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        lines.extend(f"  included from {loc}" for loc in self.chain)
        return "\n".join(lines)

    def as_dict(self) -> dict:
        loc = self.location
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
            "chain": [str(c) for c in self.chain],
            "hint": self.hint or None,
        }

    __str__ = format

    def as_record(self) -> dict:
        """Every field, as JSON keeps it (``from_record`` reads it back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> Diagnostic:
        where = record["location"]
        return cls(record["code"], Severity(record["severity"]), record["message"],
                   Location(**where) if where else None,
                   tuple(Location(**c) for c in record["chain"]), record["hint"],
                   tuple(record["fix"]), record["subject"])


class MacroError(Exception):
    """The project's one error type for bad input; it carries its diagnostic, and the files
    read (``read``) and looked for in vain (``absent``) up to it: a change to any of them
    may make the input good."""

    def __init__(self, diagnostic: Diagnostic, read: tuple[str, ...] = (),
                 absent: tuple[str, ...] = ()):
        super().__init__(diagnostic.format())
        self.diagnostic = diagnostic
        self.read, self.absent = read, absent

    # keep it picklable across Sphinx's parallel workers
    def __reduce__(self) -> tuple[type[MacroError], tuple[Diagnostic, tuple[str, ...], tuple[str, ...]]]:
        return (type(self), (self.diagnostic, self.read, self.absent))


@dataclass(frozen=True)
class Code:
    """A kind of problem: its stable name and what it means, in one line."""

    name: str
    meaning: str


CATALOGUE: tuple[Code, ...] = (
    Code('E-READ', 'the talk file cannot be read'),
    Code('E-FRONTMATTER', 'front matter is not valid YAML, or not a mapping'),
    Code('W-FRONTMATTER', 'a front-matter value of an odd shape, or front matter that lost its opening `---`'),
    Code('E-ENCODING', 'a file is not valid UTF-8 (it is read with replacement characters)'),
    Code('W-ENCODING', 'a byte-order mark or a stray U+FEFF'),
    Code('W-MOJIBAKE', 'a byte-order mark that was decoded as Latin-1'),
    Code('E-DEFINE', 'a `\\define`/`\\defeval` whose head cannot be read, or a parameter list without the backslash'),
    Code('W-BRACE', 'an argument never closed, or a `}` without a matching `{`'),
    Code('W-CONDITIONAL',
         'a conditional not closed in its file, argument or body; a stray `\\else` or `\\endif`; a '
         'conditional without its braces'),
    Code('W-COMMENT-INCLUDE', 'clean mode: `\\include` or `\\define` inside an HTML comment'),
    Code('W-EVAL', '`\\eval` cannot compute its expression'),
    Code('E-INCLUDE', '`\\include` without a name, or a file that cannot be read'),
    Code('E-INCLUDE-MISSING', 'an include that resolves to no file, or to a file outside the allowed folders'),
    Code('E-INCLUDE-CYCLE', 'a file includes itself'),
    Code('W-INCLUDE-RELATIVE', 'an include found only relative to the including file'),
    Code('W-INCLUDE-RENAMED', 'an include found through `filename_changes.txt`'),
    Code('W-LEGACY-MACROS', '`\\include{talk-macros.tex}` (notice)'),
    Code('W-GUARD-CLASH', "an included file's guard was already defined by another file"),
    Code('E-RECURSION', 'macro nesting exceeds `max_depth`'),
    Code('E-LIMIT', 'another limit was exceeded'),
    Code('W-IMAGE', 'an image macro names no file, or names another image as its file'),
    Code('W-IMAGE-MISSING', 'an image, inlined diagram or slide background is not on disk'),
    Code('W-DIAGRAMS-MISSING',
         'once per `talks build`: the diagrams folder lamd’s `diagramsdir` names is nowhere (every '
         'place looked is named); the diagrams’ own `W-IMAGE-MISSING` are then counted, not listed'),
    Code('W-PEOPLE', 'a people file that cannot be read, or an entry of it that gives no portrait macro'),
    Code('W-LABEL', 'a figure label used twice in one document; the later one is renamed'),
    Code('W-SLIDE-ATTR', 'a slide attribute class with no meaning'),
    Code('W-ANIMATION', '`\\startanimation` without `\\endanimation`'),
    Code('W-REF', 'a `\\ref` to a label no numbered figure of the talk has: nothing is shown, as pandoc shows nothing'),
    Code('W-CITE-KEY', 'a citation key not in the bibliography'),
    Code('W-UNKNOWN-MACRO',
         'a name no macro file defines, outside math and code: rendered or dropped (see [Unknown '
         'names](macro-language.md#unknown-names))'),
    Code('W-RAW-LATEX',
         'raw LaTeX layout outside math (an environment, a beamer overlay, TikZ) dropped from the '
         'pages; once per talk'),
    Code('W-PANDOC-SYNTAX', 'pandoc syntax MyST does not read (line block, grid table); see `docs/pandoc-syntax.md`'),
    Code('W-MATH-UNCLOSED',
         'a `$$` not closed before the paragraph ends (closed there when LaTeX follows it, else '
         'shown as written), or a `$` of inline math of LaTeX its paragraph never closes (closed '
         'after the words that read as math)'),
    Code('W-MATH-UNDEFINED', 'a name used in math that neither MathJax, the notation file nor the talk defines'),
    Code('E-PATH-OUTSIDE',
         'a file the talk or its settings name lies outside the repository and the configured '
         'roots (or in a hidden, dot-named folder such as `.git/`); refused, never read'),
    Code('E-FILE-NOT-MEDIA',
         'a file the talk shows or links is not a picture, video, audio, caption or PDF file, or '
         'its content is not what its suffix says; never published (docs/exports.md, "What a talk '
         'may publish")'),
    Code('E-PRIMITIVE-ARGS', 'an internal `\\__` macro called with the wrong number of arguments'),
    Code('W-LIMIT', 'more warnings than `max_warnings`; says how many were left out'),
    Code('E-INTERNAL', 'a fault of the tool met by one talk; that talk fails, the others build'),
    Code('E-WORKER', 'a worker process died or could not start: an error at each talk it held'),
    Code('E-DAMAGED-INCLUDE', '`talks check`: a line that looks like an include target that has lost its `\\include{`'),
    Code('E-VOCABULARY', '`macros/talk-macros.gpp` is missing'),
    Code('E-WRITE', 'an output file cannot be written'),
    Code('W-BIB',
         'a bibliography file is missing, or one of its entries has a defect (reported at its '
         'line; the entry is kept when usable)'),
    Code('E-RENDER', 'Sphinx could not render a talk'),
    Code('E-EXPORT-INCOMPLETE',
         'an export holds less of the handout or deck than its tolerance allows (words, headings, '
         'pictures); it names the format, the figures and the first part missing'),
    Code('E-EXPORT', 'an export of a talk failed; its last good file is kept'),
    Code('W-EXPORT-FIGURE', 'an export cannot place an image; the file is still written'),
    Code('W-EXPORT-MATH', 'the handout PDF cannot write an equation as Typst math; it shows it as TeX'),
    Code('W-EXPORT-REFERENCE',
         'the PowerPoint reference presentation is missing or outside the repository; pandoc’s '
         'default layouts are used'),
    Code('W-EXPORT-ATTRIBUTE',
         'an attribute a document writer would obey (raw Typst, a Word style) is left out of the '
         'documents'),
    Code('W-EXPORT-REFUSED',
         'the printing browser was asked for something that is not a file of the built site; '
         'refused'),
    Code('W-EXPORT-TOOL', 'a program an export needs is missing (one warning, naming the package)'),
    Code('W-EXPORT-FOOTNOTE',
         'pandoc, making an export, found a footnote defined but never referred to, or defined '
         'twice; reported where it is defined'),
    Code('W-EXPORT-TOOL-SAID',
         'anything else a program an export runs (pandoc) said, at the talk’s first line'),
    Code('W-SPHINX', 'a warning of Sphinx, docutils or an extension that gives no type of its own'),
    Code('E-SPHINX', 'an error of Sphinx, docutils or an extension that gives no type of its own'),
)
"""Every diagnostic code the tool reports; docs/diagnostics.md is made from this table
(``catalogue_page``), and a test checks that every code the package raises is here.  A new
code is one record here."""

CODES: dict[str, str] = {code.name: code.meaning for code in CATALOGUE}


def catalogue_table() -> str:
    """The catalogue as a Markdown table."""
    rows = [f"| `{code.name}` | {code.meaning} |" for code in CATALOGUE]
    return "\n".join(["| code | raised when |", "|---|---|", *rows])


CATALOGUE_PAGE = """\
# Diagnostics: every code

<!-- Made from the catalogue in build_tools/diagnostics.py (CATALOGUE); do not edit here:
     TALKS_UPDATE_GOLDEN=1 python -m pytest tests/test_catalogue.py writes it again. -->

Every problem `talks` reports names the file and line of the talk (or of the fragment it
includes, with each `included from` line) and ends with a code:

```text
FILE:LINE:COL: warning: message [CODE]          talks check, the exports
FILE:LINE: WARNING: message [talks.CODE]        talks build and talks serve, through Sphinx
```

A file inside the folder the command runs in is named relative to it; any other file by its
absolute path. Sphinx's own warnings keep Sphinx's type and subtype as their code
(`[myst.directive_unknown]`, `[ref.footnote]`); one with no type of its own gets `W-SPHINX`
(or `E-SPHINX`). A build that reads no talk again says the same warnings as the build before
it: what Sphinx and the exports said about a talk is kept and said again until the talk
changes. The build ends with the errors counted apart from the warnings, code by code.

`E-` codes are errors, `W-` codes warnings (`W-LEGACY-MACROS` is a notice).

{table}
"""


def catalogue_page() -> str:
    """docs/diagnostics.md: what a diagnostic says, and every code with its meaning."""
    return CATALOGUE_PAGE.format(table=catalogue_table())


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity >= Severity.ERROR for d in diagnostics)


def crash_site(exc: BaseException) -> str:
    """``file:line`` of the innermost frame of this package in an exception's traceback."""
    package = os.path.dirname(os.path.abspath(__file__))
    site = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(package + os.sep):
            site = f"{os.path.relpath(frame.filename, os.path.dirname(package))}:{frame.lineno}"
    return site
