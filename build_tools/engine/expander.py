"""Stage 2, expanding macros: lamd source text in, expanded text with origins out.

A single left-to-right pass, as gpp makes it (see docs/macro-language.md, "Evaluation model"): definitions take
effect where they are read, arguments are expanded in the caller's context
before substitution and never rescanned, a macro with an empty body does not
evaluate its arguments, unknown names pass through.  Meta-macros
(``\\define``, ``\\ifdef``, ``\\include`` ...) are handled here; the vocabulary
lives in ``macros/`` and its few Python primitives in ``primitives.py``.
"""
from __future__ import annotations

import ast
import bisect
import inspect
import operator
import re
from dataclasses import dataclass, field
from typing import Any, cast
from collections.abc import Callable

from ..diagnostics import Diagnostic, MacroError, Severity
from .includes import IncludeHandling, resolution_key
from .memo import Memo, Name, Recording
from .output import Out
from .records import Block
from .source import (Frame, IncludeResolver, SourceFile, file_stamp, in_code, in_math,
                     in_paragraph_math, text_source)
from .unknown import (MATH_ENVIRONMENTS, PASSED_ON, RAW_LATEX, READINGS, TEXT_COLOUR, Reading,
                      citation_keys)

NAME_RE = re.compile(r"\\([A-Za-z0-9_]+)")
NAME_OR_COMMENT_RE = re.compile(r"\\([A-Za-z0-9_]+)|<!--")
COND_RE = re.compile(r"\\(ifdef|ifndef|ifeq|else|endif)(?![A-Za-z0-9_])")
DEFINE_HEAD_RE = re.compile(r"\s*(\\?)([A-Za-z0-9_]+)((?:\{[^{}]*\})*)\s*$")
PARAM_RE = re.compile(r"\{([^{}]*)\}")
IDENT_RE = re.compile(r"[A-Za-z0-9_]+$")

TEX_NAME_RE = re.compile(r"[A-Za-z]*")
"""The part of a macro name TeX reads as the command's name (gpp's names may go on with ``_``)."""

CONDITIONALS = frozenset({"ifdef", "ifndef", "ifeq", "else", "endif"})


@dataclass(frozen=True)
class Limits:
    """Bounds that turn runaway input into a clean error instead of a hang."""

    max_depth: int = 120
    """Macro calls nested inside each other (recursion guard)."""
    max_include_depth: int = 40
    max_output: int = 4_000_000
    """Characters of expanded text per document (exponential expansion guard)."""
    max_steps: int = 100_000
    """Macro calls per document."""
    max_warnings: int = 200
    """Warnings and notices kept per document; one more diagnostic says how many were left out."""


PLAIN_BODY, ANY_BODY = -1, -2
"""Shapes of a macro body (``Definition.shape``)."""


@dataclass(slots=True)
class Definition:
    """A macro defined in the language: its parameters and a slice of source as body."""

    name: str
    params: tuple[str, ...]
    src: SourceFile
    start: int
    end: int
    frame: Frame
    _key: tuple | None = field(default=None, repr=False, compare=False)
    _shape: int | None = field(default=None, repr=False, compare=False)
    _code: bool | None = field(default=None, repr=False, compare=False)

    @property
    def empty(self) -> bool:
        return self.start == self.end

    @property
    def shape(self) -> int:
        """``PLAIN_BODY`` for a body with nothing to expand, the index of the parameter a
        body is nothing but, or ``ANY_BODY``: the first two need no expansion at all."""
        if self._shape is None:
            body = self.src.text[self.start:self.end]
            if "\\" not in body and "<!--" not in body:
                self._shape = PLAIN_BODY
            elif body[:1] == "\\" and body[1:] in self.params:
                self._shape = self.params.index(body[1:])
            else:
                self._shape = ANY_BODY
        return self._shape

    @property
    def makes_code(self) -> bool:
        """Whether its body hands its arguments to a code block: they are code, not prose."""
        if self._code is None:
            body = self.src.text[self.start:self.end]
            self._code = "\\__code" in body or "\\__python" in body
        return self._code

    @property
    def key(self) -> tuple:
        """What the macro means, comparable across talks: its parameters and body text."""
        if self._key is None:
            self._key = ("define", self.params, self.src.text[self.start:self.end])
        return self._key


@dataclass(slots=True)
class Primitive:
    """A vocabulary building block written in Python (see primitives.py)."""

    name: str
    func: Callable[..., Out | None]
    raw: bool = False
    """Receive the argument regions unexpanded (for sandboxed or deferred expansion)."""
    arity: tuple[int, int] = (0, 0)
    """Fewest and most brace groups ``func`` accepts (after the expander and the call)."""

    def __post_init__(self) -> None:
        if not self.raw:
            params = list(inspect.signature(self.func).parameters.values())[2:]
            required = sum(1 for p in params if p.default is inspect.Parameter.empty)
            self.arity = (required, len(params))


def value_key(value: Definition | Primitive | None) -> tuple | None:
    """What a macro means, as a comparable value (two equal definitions compare equal)."""
    if value is None:
        return None
    key = getattr(value, "key", None)  # a Definition's; a Primitive has none
    return key if key is not None else ("primitive", value.name, cast(Primitive, value).func)


@dataclass(slots=True)
class Call:
    """What a primitive knows about the call it serves."""

    name: str
    src: SourceFile
    frame: Frame
    regions: list[tuple[int, int]]
    offset: int


class _Abort(Exception):
    """Unwinds the whole expansion after a limit was hit (already reported)."""


@dataclass
class ExpansionState:
    """Everything that expansion changes; copied for SPEAKER-NOTES' sandboxed notes."""

    macros: dict[str, Definition | Primitive]
    counters: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    guards: dict[str, str] = field(default_factory=dict)
    """Include guard -> the file whose inclusion defined it."""

    def put(self, kind: str, name: str, value: Definition | Primitive | int | str | None) -> None:
        """Set one entry of the state; None removes it."""
        tables: dict[str, dict[str, Any]] = {"macro": self.macros, "label": self.labels,
                                             "counter": self.counters, "guard": self.guards}
        table = tables[kind]
        if value is None:
            table.pop(name, None)
        else:
            table[name] = value

    def copy(self) -> ExpansionState:
        return ExpansionState(dict(self.macros), dict(self.counters), dict(self.labels),
                              dict(self.guards))


class Expander(IncludeHandling):
    """Expands one document for one variant."""

    def __init__(self, state: ExpansionState, resolver: IncludeResolver,
                 *, variant: str, clean_comments: bool = True, stop_at_error: bool = False,
                 limits: Limits = Limits(), options: dict | None = None,
                 vocabulary: bool = False):
        self.state = state
        self.resolver = resolver
        self.variant = variant
        self.clean_comments = clean_comments
        self.stop_at_error = stop_at_error
        self.limits = limits
        self.options = options or {}
        self.vocabulary = vocabulary
        """Expanding the vocabulary itself: every file it includes is vocabulary too."""
        self.diagnostics: list[Diagnostic] = []
        self._generated_for: tuple | None = None
        self._generated_at: tuple | None = None
        self._seen: set[tuple] = set()
        self.dependencies: list[str] = []
        self.absent: list[str] = []
        """Where a file that appeared would change the expansion (``Resolution.passed``)."""
        self.include_frame: Frame | None = None
        self.site: tuple = ()
        self.site_end = 0
        """Where the call at ``site`` ends in its source."""
        self.depth = 0
        self.call_stack: list[str] = []
        self.steps = 0
        self.emitted = 0
        self._scan_re = NAME_OR_COMMENT_RE if clean_comments else NAME_RE
        self._reported_files: set[str] = set()
        self.warnings_left_out = 0
        self._warnings = 0
        self._unclosed_comment: dict[tuple[int, int], int] = {}
        """(source, end) -> the first offset from which no ``-->`` follows before ``end``."""
        self.advisor: Any = None
        """Set (advice.NameAdvisor) to say which vocabulary name an unknown one is close to."""
        self.math_depth = 0
        """Inside a math environment the expander wrapped as display math."""
        self.verbatim_depth = 0
        """Evaluating the arguments of a code macro: what they hold is code."""
        self.raw_latex_reported = False
        self.math_names: frozenset[str] | set[str] = frozenset()
        """TeX names math knows (texnames.py): left as written wherever they stand, since a
        macro body may be put into math only by the macro that uses it."""
        self.memo: Memo | None = None
        """Recordings of included files to replay instead of expanding again (memo.py)."""
        self.memo_context: tuple = ()
        self.recorders: list[Recording] = []
        self.includes: list[tuple[str, str, int]] = []
        """(including file, included file, line of the \\include) in reading order."""

    # -- diagnostics -----------------------------------------------------------
    def report(self, code: str, severity: Severity, message: str,
               at: tuple | None = None, hint: str = "", fix: tuple = (), subject: str = "") -> None:
        if severity < Severity.ERROR:
            if self._warnings >= self.limits.max_warnings:
                self.warnings_left_out += 1
                return
        frame, offset = (at or self.site or (None, 0))[:2]
        if self.recorders:
            self.recorders[-1].diagnostics.append((code, severity, message, frame, offset, hint, fix,
                                                   subject))
        location = frame.source.location(offset) if frame else None
        chain = frame.chain() if frame else ()
        key = (code, location, message)
        if key in self._seen:
            return
        self._seen.add(key)
        if severity < Severity.ERROR:
            self._warnings += 1
        diag = Diagnostic(code, severity, message, location, chain, hint, fix, subject)
        self.diagnostics.append(diag)
        if self.stop_at_error and severity >= Severity.ERROR:
            raise MacroError(diag)

    def _abort(self, code: str, message: str, hint: str = "") -> None:
        self.report(code, Severity.ERROR, message, hint=hint)
        raise _Abort()

    # -- entry points ----------------------------------------------------------
    def expand_document(self, src: SourceFile, start: int, name: str) -> Out:
        """Expand a whole file (from ``start``, after its front matter)."""
        frame = Frame(src, name)
        self.include_frame = frame
        self.site = (frame, start)
        self._report_source_problems(src, frame)
        out = Out()
        try:
            self.expand(src, start, len(src.text), frame, None, out)
        except _Abort:
            pass
        except RecursionError:
            self.report("E-LIMIT", Severity.ERROR,
                        "expansion nested too deeply for the interpreter; "
                        "look for a macro that calls itself")
        if self.warnings_left_out:
            self.diagnostics.append(Diagnostic(
                "W-LIMIT", Severity.WARNING,
                f"{self.warnings_left_out:,} more warning(s) left out after the first "
                f"{self.limits.max_warnings} (limit max_warnings)", src.location(start)))
        return out

    def expand_region(self, src: SourceFile, start: int, end: int, frame: Frame,
                      params: dict[str, Out] | None = None) -> Out:
        out = Out()
        self.expand(src, start, end, frame, params, out)
        self._check_size(out)
        return out

    def _check_size(self, out: Out) -> None:
        """Every buffer text is built in counts: arguments and parameters as much as output."""
        if out.size + out.blocks > self.limits.max_output:
            self._abort("E-LIMIT", f"expanded text exceeds {self.limits.max_output:,} characters "
                        "(limit max_output); is a macro expanding exponentially?")

    # -- the scanner -------------------------------------------------------------
    def expand(self, src: SourceFile, start: int, end: int, frame: Frame,
               params: dict[str, Out] | None, out: Out, body: bool = False) -> None:
        """Expand ``src.text[start:end]`` into ``out``.

        Text the user wrote keeps its own position; text of a macro body
        (``body``) or of the vocabulary is pinned to the call that produced it.
        """
        text = src.text
        user = not (body or src.is_vocabulary)
        search = self._scan_re.search
        closing = src.closing
        macros = self.state.macros
        open_blocks: list[tuple[int, bool]] = []
        """(offset of each open conditional, whether its \\else was passed)"""
        pos = start
        written = start  # the text from here to the next call is not in ``out`` yet
        while True:
            m = search(text, pos, end)
            if m is None:
                if written < end:
                    self._text(src, frame, written, end, out, user)
                break
            s = m.start()
            name = m.group(1)
            p = m.end()
            if name is not None and (params is None or name not in params) \
                    and name not in CONDITIONALS:
                meta = META.get(name)
                definition = macros.get(name) if meta is None else None
                if self.recorders and meta is None:
                    rec = self.recorders[-1]
                    slot = ("macro", name)
                    if slot not in rec.reads and slot not in rec.writes:
                        rec.reads[slot] = value_key(definition)
                if meta is None and definition is None and not self._is_markup(src, s, user):
                    pos = p  # an unknown name in math or code is text like the text around it
                    continue
            if s > written:
                self._text(src, frame, written, s, out, user)
            if name is None:  # an HTML comment, opaque in clean mode
                pos = written = self._comment(src, frame, s, end, out, user)
                continue
            if params is not None and name in params:
                out.extend(params[name])
                self._check_size(out)
                pos = written = p
                continue
            if name in CONDITIONALS:
                saved = self.site
                if user:
                    self.site = (frame, s)
                pos = written = self._conditional(name, src, frame, s, p, end, open_blocks, params)
                self.site = saved
                continue
            if meta is None and definition is None:
                saved = self.site
                if user:  # in a macro's body the call stays the site: where its math is judged
                    self.site = (frame, s)
                pos = written = self._unknown(name, src, frame, s, p, end, params, out)
                self.site = saved
                continue
            # collect the brace groups that follow immediately
            regions: list[tuple[int, int]] = []
            limit = meta[1] if meta is not None else 1_000_000
            while p < end and text[p] == "{" and len(regions) < limit:
                q = closing.get(p)
                if q is None or q >= end:
                    self.report("W-BRACE", Severity.WARNING,
                                f"the argument of \\{name} opened here is never closed; "
                                "it is read as text", at=(frame, p))
                    break
                regions.append((p + 1, q))
                p = q + 1
            saved, saved_end = self.site, self.site_end
            if user:
                self.site, self.site_end = (frame, s), p
            self.steps += 1
            if self.steps > self.limits.max_steps:
                self._abort("E-LIMIT", f"more than {self.limits.max_steps:,} macro calls in one "
                            "document (limit max_steps); is a macro expanding itself?")
            if meta is not None:
                meta[0](self, src, frame, regions, params, out, s)
            elif definition is not None:  # always, past the unknown-name branch above
                self._call(definition, src, frame, regions, params, out, s)
            self.site, self.site_end = saved, saved_end
            if out.size + out.blocks > self.limits.max_output:
                self._check_size(out)
            pos = written = p
        for opened, past_else in open_blocks:
            self._unclosed(text, frame, opened, past_else, end == len(text))

    # -- names no macro file defines (unknown.py) ---------------------------------
    def _is_markup(self, src: SourceFile, offset: int, user: bool) -> bool:
        """Whether an unknown name is markup a reader would see: written in a talk or
        fragment, outside math and code (there it is LaTeX for MathJax, or code). A name in
        the body of a macro a talk defined stands where the macro was called."""
        if src.is_vocabulary or self.math_depth or self.verbatim_depth:
            return False
        if not user:
            if not self.site:
                return False
            src, offset = self.site[0].source, self.site[1]
        return not in_math(src.text, offset) and not in_code(src.text, offset)

    def _in_paragraph_math(self, src: SourceFile, offset: int) -> bool:
        """Whether a name stands in math by its paragraph, judged where the talk wrote it."""
        if src.is_vocabulary and self.site:
            src, offset = self.site[0].source, self.site[1]
        return in_paragraph_math(src.text, offset)

    def _unknown(self, name: str, src: SourceFile, frame: Frame, s: int, p: int, end: int,
                 params: dict[str, Out] | None, out: Out) -> int:
        """Render or drop an unknown name and its arguments; returns where the text goes on."""
        if name == "begin":
            return self._environment(src, frame, s, p, end, params, out)
        if name in PASSED_ON:  # a MathJax definition: its arguments are math
            regions, q = self._groups(src, p, end, 1_000_000)
            if regions:  # the name it defines is math's from here on
                self.math_names = {*self.math_names, src.text[slice(*regions[0])].strip().lstrip("\\")}
            out.add("\\" + name, (frame, s))
            self._as_math(src, p, q, frame, params, out)
            return q
        reading = READINGS.get(name)
        if name in TEXT_COLOUR and not self._in_paragraph_math(src, s):
            regions, q = self._groups(src, p, end, 1)  # the colour goes too: pandoc drops both
            self._raw_latex(frame, s, f"\\{name}")
            return q
        if reading is None and _tex_name(name) in self.math_names:
            out.add("\\" + name, (frame, s))  # \kernelScalar_f is \kernelScalar, then _f
            return p
        q = p if reading else self._skip_options(src.text, p, end)
        regions, q = self._groups(src, q, end, reading.groups if reading else 1_000_000)
        if reading is None or len(regions) < reading.groups:
            if name in RAW_LATEX:
                self._raw_latex(frame, s, f"\\{name}")
            else:
                self._report_unknown(name, frame, s, "is dropped with its arguments, as pandoc "
                                     "drops raw TeX from HTML")
            return q
        if reading.warn:
            self._report_unknown(name, frame, s, f"is rendered as {reading.meaning}",
                                 advise=not reading.alias)
        if reading.handout_only and self.variant != "handout":
            return q
        if reading.alias:
            definition = self.lookup(reading.alias)
            if definition is not None:
                self._call(definition, src, frame, regions, params, out, s)
            return q
        self._render_reading(reading, [self._arg(src, r, frame, params) for r in regions], out)
        return q

    def _render_reading(self, reading: Reading, args: list[Out], out: Out) -> None:
        if args and not any(arg.text().strip() for arg in args):
            return  # \\emph{} is no emphasis: nothing to show
        for piece in reading.template:
            if isinstance(piece, str):
                out.add(piece, self._generated())
            elif piece == reading.keys:
                out.add(citation_keys(args[piece].text()), self._generated())
            else:
                out.extend(args[piece])

    def _report_unknown(self, name: str, frame: Frame, offset: int, fate: str,
                        advise: bool = True) -> None:
        guess = self.advisor.suggest(name) if self.advisor is not None and advise else None
        advice = f"; did you mean \\{guess}?" if guess else ""
        self.report("W-UNKNOWN-MACRO", Severity.WARNING,
                    f"unknown macro \\{name} {fate}{advice}", at=(frame, offset),
                    fix=("name", name, guess) if guess else ())

    def _raw_latex(self, frame: Frame, offset: int, what: str) -> None:
        """LaTeX layout is dropped from the pages; said once per talk, where it first stands."""
        if not self.raw_latex_reported:
            self.raw_latex_reported = True
            self.report("W-RAW-LATEX", Severity.WARNING,
                        f"raw LaTeX ({what} here) is dropped from the pages, as pandoc drops it "
                        "from HTML; later raw LaTeX in this talk is dropped without a word",
                        at=(frame, offset))

    def _environment(self, src: SourceFile, frame: Frame, s: int, p: int, end: int,
                     params: dict[str, Out] | None, out: Out) -> int:
        """``\\begin{x} ... \\end{x}``: math environments become display math, others go."""
        text = src.text
        closer = src.closing.get(p) if p < end and text[p] == "{" else None
        if closer is None or closer >= end:
            self._raw_latex(frame, s, "\\begin")
            return p
        env = text[p + 1:closer].strip()
        finish = re.compile(r"\\end\s*\{" + re.escape(env) + r"\}").search(text, closer + 1, end)
        if finish is None:  # never closed: only the \begin goes
            self._raw_latex(frame, s, f"\\begin{{{env}}}")
            return closer + 1
        if env.rstrip("*") not in MATH_ENVIRONMENTS:
            self._raw_latex(frame, s, f"\\begin{{{env}}}")
            return finish.end()
        out.add("\n\n$$\n", self._generated())
        out.add(text[s:closer + 1], (frame, s))
        self._as_math(src, closer + 1, finish.start(), frame, params, out)
        out.add(finish.group(0), (frame, finish.start()))
        out.add("\n$$\n\n", self._generated())
        return finish.end()

    def _as_math(self, src: SourceFile, start: int, end: int, frame: Frame,
                 params: dict[str, Out] | None, out: Out) -> None:
        """Expand text that is math wherever it stands: its unknown names are MathJax's."""
        self.math_depth += 1
        try:
            self.expand(src, start, end, frame, params, out)
        finally:
            self.math_depth -= 1

    def _groups(self, src: SourceFile, p: int, end: int, most: int) -> tuple[list[tuple[int, int]], int]:
        """The brace groups that follow at ``p`` (at most ``most``) and where they end."""
        regions: list[tuple[int, int]] = []
        text, closing = src.text, src.closing
        while p < end and text[p] == "{" and len(regions) < most:
            q = closing.get(p)
            if q is None or q >= end:
                break
            regions.append((p + 1, q))
            p = q + 1
        return regions, p

    @staticmethod
    def _skip_options(text: str, p: int, end: int) -> int:
        """Past LaTeX's ``[options]`` and beamer's ``<overlay>`` right after a name (one line each)."""
        while p < end and text[p] in "[<":
            close = text.find("]" if text[p] == "[" else ">", p, min(end, p + 200))
            if close < 0 or "\n" in text[p:close]:
                break
            p = close + 1
        return p

    def _text(self, src: SourceFile, frame: Frame, a: int, b: int, out: Out, user: bool) -> None:
        out.add(src.text[a:b], (frame, a) if user else self._generated())
        stray = src.stray_closers
        if stray and user:
            i = bisect.bisect_left(stray, a)
            while i < len(stray) and stray[i] < b:
                self.report("W-BRACE", Severity.WARNING,
                            "'}' has no matching '{': text meant for an argument probably "
                            "leaks into the output here", at=(frame, stray[i]))
                i += 1

    def _comment(self, src: SourceFile, frame: Frame, s: int, end: int, out: Out, user: bool) -> int:
        text = src.text
        # once no "-->" follows some offset, none follows any later one: search each stretch once
        key = (id(src), end)
        unclosed = self._unclosed_comment.get(key, end)
        close = text.find("-->", s + 4, end) if s + 4 < unclosed else -1
        if close < 0 and s + 4 < unclosed:
            self._unclosed_comment[key] = s + 4
        if close < 0:  # no closing in reach: not a comment (docs/macro-language.md, "Comments")
            out.add("<!--", (frame, s) if user else self._generated())
            return s + 4
        close += 3
        body = text[s:close]
        if user and ("\\include" in body or "\\define" in body):
            self.report("W-COMMENT-INCLUDE", Severity.WARNING,
                        "\\include or \\define inside an HTML comment is not expanded "
                        "(lamd would expand it)", at=(frame, s))
            self._check_commented_includes(src, frame, s, close)
        self._text(src, frame, s, close, out, user)
        return close

    # -- state, as seen by recordings --------------------------------------------
    def note(self, kind: str, name: Name, value: object) -> None:
        """Something outside the file being recorded was read."""
        if self.recorders:
            self.recorders[-1].read(kind, name, value)

    def wrote(self, kind: str, name: str, value: object) -> None:
        if self.recorders:
            self.recorders[-1].write(kind, name, value)

    def lookup(self, name: str) -> Definition | Primitive | None:
        value = self.state.macros.get(name)
        self.note("macro", name, value_key(value))
        return value

    def set_macro(self, name: str, value: Definition | Primitive | None) -> None:
        self.state.put("macro", name, value)
        self.wrote("macro", name, value)

    def bump(self, kind: str, name: str) -> int:
        """Count one more use of a figure label or counter; returns the new count."""
        table = self.state.labels if kind == "label" else self.state.counters
        value = table.get(name, 0)
        self.note(kind, name, value)
        table[name] = value + 1
        self.wrote(kind, name, value + 1)
        return value + 1

    def current(self, kind: str, name: Name) -> object:
        """The present value of what a recording read, in the form it noted."""
        if kind == "include":
            return resolution_key(self.resolver.resolve_from(*cast("tuple[str, str, str]", name)))
        key = cast(str, name)  # every other kind is named by a string
        if kind == "macro":
            return value_key(self.state.macros.get(key))
        if kind == "label":
            return self.state.labels.get(key, 0)
        if kind == "counter":
            return self.state.counters.get(key, 0)
        if kind == "guard":
            return self.state.guards.get(key)
        if kind == "file":
            return file_stamp(key)
        return self.options.get(key)

    def begin_sandbox(self) -> Recording | None:
        """State changes from here until end_sandbox are thrown away; what is read still counts."""
        if not self.recorders:
            return None
        sandbox = Recording(self.recorders[-1].root)
        self.recorders.append(sandbox)
        return sandbox

    def end_sandbox(self, sandbox: Recording | None) -> None:
        if sandbox is not None:
            self.recorders.pop()
            self.recorders[-1].absorb_reads(sandbox)

    # -- conditionals ------------------------------------------------------------
    def _conditional(self, name: str, src: SourceFile, frame: Frame, s: int, p: int,
                     end: int, open_blocks: list[tuple[int, bool]], params: dict[str, Out] | None
                     ) -> int:
        text = src.text
        if name == "endif":
            if open_blocks:
                open_blocks.pop()
            else:
                self.report("W-CONDITIONAL", Severity.WARNING,
                            "\\endif without a matching \\ifdef, \\ifndef or \\ifeq; ignored")
            return p
        if name == "else":
            if not open_blocks:
                self.report("W-CONDITIONAL", Severity.WARNING,
                            "\\else without a matching \\ifdef, \\ifndef or \\ifeq; ignored")
                return p
            opened, _ = open_blocks.pop()
            q, token = self._skip(text, p, end, want_else=False)
            if token is None:
                self._unclosed(text, frame, opened, True, end == len(text))
            return q
        wanted = 2 if name == "ifeq" else 1
        regions: list[tuple[int, int]] = []
        closing = src.closing
        while p < end and text[p] == "{" and len(regions) < wanted:
            closer = closing.get(p)
            if closer is None or closer >= end:
                break
            regions.append((p + 1, closer))
            p = closer + 1
        if len(regions) < wanted:
            self.report("W-CONDITIONAL", Severity.WARNING,
                        f"\\{name} needs {wanted} argument{'s' if wanted > 1 else ''} in braces; "
                        "treated as false")
            truth = False
        elif name == "ifeq":
            a = self.expand_region(src, *regions[0], frame, params).text().strip()
            b = self.expand_region(src, *regions[1], frame, params).text().strip()
            truth = a == b
        else:
            symbol = text[regions[0][0]:regions[0][1]]
            if params:
                symbol = _substitute(symbol, params)
            symbol = symbol.strip().lstrip("\\")
            truth = (self.lookup(symbol) is not None) == (name == "ifdef")
        if truth:
            open_blocks.append((s, False))
            return p
        q, token = self._skip(text, p, end, want_else=True)
        if token == "else":
            open_blocks.append((s, True))
        elif token is None:
            self._unclosed(text, frame, s, False, end == len(text))
        return q

    def _unclosed(self, text: str, frame: Frame, opened: int, past_else: bool,
                  at_file_end: bool) -> None:
        """One message for every variant: whether this variant keeps the rest or skips it
        depends on the condition, so the message says where it is kept and where skipped."""
        call, kept, skipped = _condition_words(text, opened, past_else)
        rest = "the rest of the " + ("file" if at_file_end else "argument") \
            + (" after its \\else" if past_else else "")
        self.report("W-CONDITIONAL", Severity.WARNING,
                    f"{call} opened here is never closed by \\endif: {rest} is kept where "
                    f"{kept} and skipped where {skipped}", at=(frame, opened))

    @staticmethod
    def _skip(text: str, pos: int, end: int, want_else: bool) -> tuple[int, str | None]:
        """Skip a false branch: only conditionals are seen, braces do not count."""
        depth = 0
        for m in COND_RE.finditer(text, pos, end):
            token = m.group(1)
            if token == "endif":
                if depth == 0:
                    return m.end(), "endif"
                depth -= 1
            elif token == "else":
                if depth == 0 and want_else:
                    return m.end(), "else"
            else:
                depth += 1
        return end, None

    # -- macro calls -------------------------------------------------------------
    def _call(self, d: Definition | Primitive, src: SourceFile, frame: Frame,
              regions: list[tuple[int, int]], params: dict[str, Out] | None, out: Out,
              offset: int) -> None:
        if isinstance(d, Primitive):
            if d.raw:
                result = d.func(self, Call(d.name, src, frame, regions, offset))
            elif not self._arity_ok(d, len(regions)):
                return
            else:
                args = self._args(d.name == "__code", src, regions, frame, params)
                result = d.func(self, Call(d.name, src, frame, regions, offset), *args)
            if result is not None:
                out.extend(result)
            return
        if d.empty:  # an empty body does not evaluate its arguments
            return
        args = self._args(bool(regions) and d.makes_code, src, regions, frame, params)
        shape = d.shape
        if shape == PLAIN_BODY and (d.params or not args):  # a named value: \diagramsDir ...
            out.add(d.src.text[d.start:d.end], self._generated())
            return
        if shape >= 0:  # the body is one of its parameters
            if shape < len(args):
                out.extend(args[shape])
                self._check_size(out)
            return
        self.depth += 1
        self.call_stack.append(d.name)
        if self.depth > self.limits.max_depth:
            chain = " -> ".join("\\" + n for n in self.call_stack[-8:])
            self._abort("E-RECURSION",
                        f"macro calls nested deeper than {self.limits.max_depth} levels "
                        f"(limit max_depth): ... {chain}",
                        hint="a macro probably calls itself")
        try:
            if d.params:
                bound = {p: (args[i] if i < len(args) else Out()) for i, p in enumerate(d.params)}
                self.expand(d.src, d.start, d.end, d.frame, bound, out, body=True)
            else:  # an alias: expand the body, then append the groups (docs/macro-language.md, "Arity")
                self.expand(d.src, d.start, d.end, d.frame, None, out, body=True)
                for arg in args:
                    out.add("{", self._generated())
                    out.extend(arg)
                    out.add("}", self._generated())
                    self._check_size(out)
        finally:
            self.depth -= 1
            self.call_stack.pop()

    def _arity_ok(self, d: Primitive, given: int) -> bool:
        """Internal macros called by hand with the wrong number of groups are errors, not crashes."""
        fewest, most = d.arity
        if fewest <= given <= most:
            return True
        wanted = f"{fewest}" if fewest == most else f"{fewest} to {most}"
        self.report("E-PRIMITIVE-ARGS", Severity.ERROR,
                    f"\\{d.name} takes {wanted} argument(s) in braces, not {given}; "
                    "nothing is produced",
                    hint="\\__ macros are the vocabulary's building blocks; use the documented macros")
        return False

    def _args(self, code: bool, src: SourceFile, regions: list[tuple[int, int]], frame: Frame,
              params: dict[str, Out] | None) -> list[Out]:
        """The arguments of a call, expanded; those of a code macro are code (``_is_markup``)."""
        if not code:
            return [self._arg(src, r, frame, params) for r in regions]
        self.verbatim_depth += 1
        try:
            return [self._arg(src, r, frame, params) for r in regions]
        finally:
            self.verbatim_depth -= 1

    def _arg(self, src: SourceFile, region: tuple[int, int], frame: Frame,
             params: dict[str, Out] | None) -> Out:
        a, b = region
        text = src.text
        if params is not None and text[a] == "\\" and text[a + 1:b] in params:
            return params[text[a + 1:b]]  # a body passing a parameter on, as most do
        out = Out()
        if text.find("\\", a, b) < 0 and text.find("<!--", a, b) < 0:
            # plain text (most arguments: widths, titles, labels): nothing to scan
            out.add(text[a:b], (frame, a) if not src.is_vocabulary else self._generated())
            return out
        self.expand(src, a, b, frame, params, out)
        self._check_size(out)
        return out

    def call_neighbours(self) -> tuple[bool, bool]:
        """Whether the talk wrote other text on the line before and after the current call."""
        if not self.site:
            return False, False
        text, start, end = self.site[0].source.text, self.site[1], self.site_end
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        return bool(text[line_start:start].strip()), \
            bool(text[end:line_end if line_end >= 0 else len(text)].strip())

    def _generated(self) -> tuple | None:
        """The origin of text a macro makes up: its call site (one tuple per site)."""
        site = self.site
        if site is not self._generated_for:
            self._generated_for = site
            self._generated_at = (site[0], site[1], "site") if site else None
        return self._generated_at

    def generated(self, text: str) -> Out:
        """Text a primitive makes up, pinned to the current call site."""
        out = Out()
        out.add(text, self._generated())
        return out

    def block(self, record: Block, before: str = "\n\n", after: str = "\n\n") -> Out:
        """A record a primitive makes, pinned to the current call site, in its own paragraph."""
        out = Out()
        site = self._generated()
        out.add(before, site)
        out.add_block(record, site)
        out.add(after, site)
        return out

    # -- meta-macros -------------------------------------------------------------
    def _raw(self, src: SourceFile, region: tuple[int, int]) -> str:
        return src.text[region[0]:region[1]]

    def _meta_define(self, src: SourceFile, frame: Frame, regions: list[tuple[int, int]],
                     params: dict[str, Out] | None, out: Out, offset: int,
                     evaluate: bool = False) -> None:
        if not regions:
            self.report("E-DEFINE", Severity.ERROR, "\\define needs a name in braces")
            return
        head = self._raw(src, regions[0])
        if params:
            head = _substitute(head, params)
        m = DEFINE_HEAD_RE.match(head)
        if not m:
            self.report("E-DEFINE", Severity.ERROR,
                        f"cannot read the macro name in \\define{{{head.strip()[:40]}}}",
                        hint="write \\define{name}{body} or \\define{\\name{param}}{body}")
            return
        backslash, name, plist = m.groups()
        names = tuple(PARAM_RE.findall(plist))
        if names and not backslash:
            self.report("E-DEFINE", Severity.ERROR,
                        f"\\define{{{name}{plist}}} needs a backslash before the name when it has "
                        f"parameters: \\define{{\\{name}{plist}}}; nothing was defined")
            return
        bad = [p for p in names if not IDENT_RE.match(p)]
        if bad:
            self.report("E-DEFINE", Severity.ERROR,
                        f"parameter name '{bad[0]}' of \\{name} is not an identifier")
            return
        if len(regions) > 1:
            body_start, body_end = regions[1]
            body_src, body_frame = src, frame
            body = None
            if evaluate:
                body = self.expand_region(src, body_start, body_end, frame, params).text()
            elif params:
                # a \define inside a macro body sees that macro's arguments
                raw = src.text[body_start:body_end]
                body = _substitute(raw, params)
                body = None if body == raw else body
            if body is not None:
                body_src = text_source(body, f"<body of {name}>", shown_as=src)
                body_src.is_vocabulary = src.is_vocabulary
                body_start, body_end = 0, len(body)
                body_frame = Frame(body_src, frame.name, frame.parent, frame.at)
        else:
            body_src, body_start, body_end, body_frame = src, regions[0][1], regions[0][1], frame
        self.set_macro(name, Definition(name, names, body_src, body_start, body_end, body_frame))

    def _meta_defeval(self, src: SourceFile, frame: Frame, regions: list[tuple[int, int]],
                      params: dict[str, Out] | None, out: Out, offset: int) -> None:
        self._meta_define(src, frame, regions, params, out, offset, evaluate=True)

    def _meta_undef(self, src: SourceFile, frame: Frame, regions: list[tuple[int, int]],
                    params: dict[str, Out] | None, out: Out, offset: int) -> None:
        if regions:
            self.set_macro(self._raw(src, regions[0]).strip().lstrip("\\"), None)

    def _meta_file(self, src: SourceFile, frame: Frame, regions: list[tuple[int, int]],
                   params: dict[str, Out] | None, out: Out, offset: int) -> None:
        out.add(self.include_frame.name if self.include_frame else "", self._generated())

    def _meta_eval(self, src: SourceFile, frame: Frame, regions: list[tuple[int, int]],
                   params: dict[str, Out] | None, out: Out, offset: int) -> None:
        if not regions:
            return
        start, end = regions[0]
        expr = self.expand_region(src, start, end, frame, params).text()
        try:
            value = _arithmetic(expr)
        except (ValueError, SyntaxError, ZeroDivisionError, RecursionError):
            self.report("W-EVAL", Severity.WARNING, f"\\eval cannot compute '{expr.strip()[:40]}'")
            out.add(expr, self._generated())
            return
        out.add(str(value), self._generated())

def _tex_name(name: str) -> str:
    """The command TeX reads where gpp reads ``name``: ``kernelScalar_f`` is ``kernelScalar``."""
    m = TEX_NAME_RE.match(name)
    return m.group(0) if m else ""


def _substitute(text: str, params: dict[str, Out]) -> str:
    """Replace parameter references only; every other macro stays for later."""
    return NAME_RE.sub(lambda m: params[m.group(1)].text() if m.group(1) in params else m.group(0),
                       text)


def _arithmetic(expr: str) -> int:
    """Integer arithmetic for ``\\eval`` (counters); nothing else is evaluated."""
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.FloorDiv: operator.floordiv, ast.Div: operator.floordiv, ast.Mod: operator.mod}

    def value(node: ast.expr) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](value(node.left), value(node.right))
        raise ValueError(expr)

    if len(expr) > 200:
        raise ValueError(expr)
    return value(ast.parse(expr.strip() or "0", mode="eval").body)


# name -> (handler, how many brace groups it takes)
META: dict[str, tuple[Callable, int]] = {
    "define": (Expander._meta_define, 2),
    "defeval": (Expander._meta_defeval, 2),
    "undef": (Expander._meta_undef, 1),
    "include": (Expander._meta_include, 1),
    "file": (Expander._meta_file, 0),
    "eval": (Expander._meta_eval, 1),
}


_CONDITION_RE = re.compile(r"\\(ifdef|ifndef|ifeq)\s*(?:\{([^{}\n]{0,60})\})?")


def _condition_words(text: str, opened: int, past_else: bool) -> tuple[str, str, str]:
    """(the conditional as written, where the branch that runs on is kept, where it is skipped)."""
    m = _CONDITION_RE.match(text, opened)
    if m is None or m.group(1) == "ifeq":
        return ("\\ifeq",) + (("its two sides differ", "they are equal") if past_else
                               else ("its two sides are equal", "they differ"))
    symbol = (m.group(2) or "").strip().lstrip("\\")
    call = f"\\{m.group(1)}{{{m.group(2) or ''}}}"
    if (m.group(1) == "ifdef") != past_else:
        return call, f"{symbol} is defined", "it is not"
    return call, f"{symbol} is not defined", "it is"
