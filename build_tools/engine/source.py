"""Stage 1, reading sources: files, positions, brace tables and include search.

Everything the expander knows about a file lives in ``SourceFile``: its text,
where its lines start (for ``file:line:col``), and which brace closes which, so
that finding a macro's arguments is a dictionary look-up.  ``IncludeResolver``
is the only thing that touches the file system while expanding; tests can
replace it with an in-memory one.
"""
from __future__ import annotations

import bisect
import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..diagnostics import Location, Severity
from ..paths import confine, display_name, display_name_in, forget_real_paths, real_roots
from ..project import find_project_root

BRACE_RE = re.compile(r"[{}]")
MOJIBAKE_BOM = "\u00ef\u00bb\u00bf"
MACRO_FILE_NAMES = {"talk-macros.gpp", "talk-macros.tex"}


@dataclass(eq=False)
class SourceFile:
    """One file's text and the tables the expander needs to scan it."""

    path: str
    """Absolute path, or a pseudo name for text that never lived in a file."""
    label: str | None
    """The name shown in messages for text that is not a file; None for files."""
    text: str
    problems: list[tuple[str, Severity, str, int]] = field(default_factory=list)
    """(code, severity, message, offset) found while reading; reported on first use."""
    is_vocabulary: bool = False
    _line_starts: list[int] | None = None
    _closing: dict[int, int] | None = None
    _stray: list[int] | None = None
    _display: tuple[str, str] | None = field(default=None, repr=False, compare=False)
    """(working directory, display name) when it was last asked for."""
    shown_as: SourceFile | None = field(default=None, repr=False, compare=False)
    """The file whose name this text goes by in messages (a defeval body's file)."""

    @property
    def display(self) -> str:
        """The name shown in messages: relative to the working directory where possible."""
        if self.shown_as is not None:
            return self.shown_as.display
        if self.label:
            return self.label
        cwd = os.getcwd()
        if self._display is None or self._display[0] != cwd:
            self._display = (cwd, display_name_in(self.path, cwd))
        return self._display[1]

    # -- positions ---------------------------------------------------------
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        return self._line_starts

    def line_col(self, offset: int) -> tuple[int, int]:
        starts = self.line_starts()
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def location(self, offset: int) -> Location:
        line, col = self.line_col(offset)
        return Location(self.display, line, col)

    # -- braces --------------------------------------------------------------
    def _match_braces(self) -> None:
        closing: dict[int, int] = {}
        stray: list[int] = []
        stack: list[int] = []
        push, pop = stack.append, stack.pop
        for m in BRACE_RE.finditer(self.text):
            if m.group() == "{":
                push(m.start())
            elif stack:
                closing[pop()] = m.start()
            else:
                stray.append(m.start())
        self._closing, self._stray = closing, stray

    @property
    def closing(self) -> dict[int, int]:
        """Offset of each ``{`` mapped to the offset of the ``}`` that balances it.

        Every brace counts, as in gpp: there is no quoting.  Counting forward
        from a ``{`` finds exactly the ``}`` that a stack pass pairs it with, so
        one pass per file answers every argument look-up.
        """
        if self._closing is None:
            self._match_braces()
        assert self._closing is not None
        return self._closing

    @property
    def stray_closers(self) -> list[int]:
        if self._stray is None:
            self._match_braces()
        assert self._stray is not None
        return self._stray


def decode_source(data: bytes) -> tuple[str, list[tuple[str, Severity, str, int]]]:
    """Decode UTF-8 text, reporting (not hiding) damage; nothing is dropped."""
    problems: list[tuple[str, Severity, str, int]] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        problems.append(("W-ENCODING", Severity.WARNING,
                         "file starts with a UTF-8 byte-order mark", 0))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8", errors="replace")
        problems.append(("E-ENCODING", Severity.ERROR,
                         f"not valid UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded "
                         "(save the file as UTF-8)", len(prefix)))
        text = data.decode("utf-8", errors="replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    nul = text.find("\x00")
    if nul >= 0:  # no file name or Markdown can hold one; docutils would choke on it
        problems.append(("W-ENCODING", Severity.WARNING, "NUL byte (U+0000) replaced by U+FFFD", nul))
        text = text.replace("\x00", "\ufffd")
    pos = text.find(MOJIBAKE_BOM)
    while pos >= 0:
        problems.append(("W-MOJIBAKE", Severity.WARNING,
                         "byte-order mark decoded as Latin-1 ('\u00ef\u00bb\u00bf'): encoding damage", pos))
        pos = text.find(MOJIBAKE_BOM, pos + 1)
    pos = text.find("\ufeff")
    while pos >= 0:
        problems.append(("W-ENCODING", Severity.WARNING, "stray byte-order mark (U+FEFF) in text", pos))
        pos = text.find("\ufeff", pos + 1)
    return text, problems


_FILE_CACHE: dict[str, tuple[tuple[int, int], SourceFile]] = {}


def file_stamp(path: str) -> tuple[int, int] | None:
    """A file's identity for caches: it appeared, vanished or changed if this differs."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL byte in the name
        return None
    return st.st_mtime_ns, st.st_size


_CHECKED: set[str] = set()
"""Files whose cached text was checked against the disk since ``new_snapshot``."""

_SNAPSHOT = 0
"""Counts the views of the disk: what was worked out from an older one is worked out again."""


def new_snapshot() -> None:
    """Start a new view of the disk: the next use of each cached file checks it again.

    One talk's expansion is one snapshot, so a file is checked once per talk
    however often it is included or its recording replayed.
    """
    global _SNAPSHOT
    _SNAPSHOT += 1
    _CHECKED.clear()
    forget_real_paths()
    _FOLDER_FILES.clear()


def load_source(path: str | os.PathLike, *, is_vocabulary: bool = False) -> SourceFile:
    """Read a file once per process; re-read it only when it changed on disk."""
    if path in _CHECKED:  # already absolute, and seen in this snapshot: the common case
        return _FILE_CACHE[path][1]
    path = os.path.abspath(path)
    cached = _FILE_CACHE.get(path)
    if cached and path in _CHECKED:
        return cached[1]
    st = os.stat(path)
    stamp = (st.st_mtime_ns, st.st_size)
    if not (cached and cached[0] == stamp):
        with open(path, "rb") as fh:
            text, problems = decode_source(fh.read())
        cached = _FILE_CACHE[path] = (stamp, SourceFile(path, None, text, problems, is_vocabulary))
    _CHECKED.add(path)
    return cached[1]


def text_source(text: str, name: str = "<text>", shown_as: SourceFile | None = None) -> SourceFile:
    """A source for text that does not live in a file (tests, defeval bodies); messages name
    it ``name``, or as ``shown_as`` is named (worked out only when a message needs it)."""
    return SourceFile(name, name, text, shown_as=shown_as)


def clear_caches() -> None:
    _FILE_CACHE.clear()
    _CHECKED.clear()
    forget_real_paths()
    _FOLDER_FILES.clear()
    _LISTINGS.clear()


@dataclass
class Frame:
    """One level of the include stack: which file, under what name, included from where."""

    source: SourceFile
    name: str
    """The name the file was opened under (the include path, or the talk's path)."""
    parent: Frame | None = None
    at: int = 0
    """Offset of the ``\\include`` in the parent's text."""
    _chain: tuple | None = field(default=None, repr=False, compare=False)

    def chain(self) -> tuple[Location, ...]:
        """Where each enclosing file was included, innermost first (remembered per folder)."""
        here = os.getcwd()
        if self._chain is None or self._chain[0] != here:
            out = []
            frame = self
            while frame.parent is not None:
                out.append(frame.parent.source.location(frame.at))
                frame = frame.parent
            self._chain = (here, tuple(out))
        return self._chain[1]

    def contains(self, path: str) -> bool:
        frame: Frame | None = self
        while frame is not None:
            if frame.source.path == path:
                return True
            frame = frame.parent
        return False

    def depth(self) -> int:
        n, frame = 0, self.parent
        while frame is not None:
            n, frame = n + 1, frame.parent
        return n


@dataclass
class Resolution:
    path: str | None = None
    macro_file: bool = False
    legacy: bool = False
    relative_fallback: bool = False
    renamed_from: str | None = None
    refused: str | None = None
    """Why an existing file was not used (it lies outside the allowed roots)."""
    searched: tuple[str, ...] = ()
    passed: tuple[str, ...] = ()
    """The places looked at before the answer and found empty: a file appearing at one of
    them would change the answer (a missing include found, a shared fragment overridden)."""


def _empty(places: list[str]) -> tuple[str, ...]:
    """The places, once each, that hold no file (a refused file outside the roots is there)."""
    return tuple(p for p in dict.fromkeys(places) if not is_file(p))


_LISTINGS: dict[str, list[str]] = {}


def listing(root: str) -> list[str]:
    """Every file below ``root`` as a relative path, for did-you-mean hints."""
    if root not in _LISTINGS:
        names = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = os.path.relpath(dirpath, root)
            for f in filenames:
                names.append(f if rel == "." else os.path.join(rel, f).replace(os.sep, "/"))
        _LISTINGS[root] = names
    return _LISTINGS[root]


def is_file(path: str) -> bool:
    """``os.path.isfile`` of a normal path, from one listing of its folder per ``new_snapshot``:
    include candidates are many names in a few folders, most of them missing."""
    folder, name = os.path.split(path)
    files = _FOLDER_FILES.get(folder)
    if files is None:
        try:
            with os.scandir(folder) as entries:
                files = _FOLDER_FILES[folder] = {e.name for e in entries if e.is_file()}
        except (OSError, ValueError):
            files = _FOLDER_FILES[folder] = set()
    return name in files


_FOLDER_FILES: dict[str, set[str]] = {}
"""The files (symlinks to files included) in each folder listed since ``new_snapshot``."""


def repository_roots(talk_path: str, include_roots: Iterable[str] = (),
                     macros_dir: str | None = None, others: Iterable[str | None] = ()
                     ) -> tuple[str, ...]:
    """Where a talk may read from: its repository, then the configured roots.

    The repository is the talk's project root (the nearest folder above with a
    ``conf.py`` or an ``includes/`` folder), else the talk's own folder tree.
    """
    project = find_project_root(talk_path)
    repo = str(project) if project else os.path.dirname(os.path.abspath(talk_path))
    return real_roots([repo, *include_roots, macros_dir, *others])


def read_renames(root: str) -> dict[str, str]:
    """lamd's ``filename_changes.txt``: old snippet names mapped to new ones, by file name."""
    path = os.path.join(root, "filename_changes.txt")
    renames: dict[str, str] = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 2:
                    renames[os.path.basename(parts[0])] = os.path.basename(parts[1])
    return renames


class IncludeResolver:
    """Finds the file an ``\\include`` names, in lamd's search order (docs/macro-language.md, "Include resolution").

    Order: the including file's opened name relative to the talk's directory,
    the talk's parent directory, each include root, the talk's directory, the
    macros directory.  A target found only relative to the including file's own
    folder is used with a warning.  Nothing outside the talk's repository
    (its parent directory), the roots and the macros directory is ever read.
    """

    def __init__(self, talk_path: str, roots: list[str], macros_dir: str,
                 allowed: tuple[str, ...] | None = None) -> None:
        self.talk_dir = os.path.dirname(os.path.abspath(talk_path))
        self.repo_dir = os.path.dirname(self.talk_dir)
        self.roots = [os.path.abspath(r) for r in roots]
        self.macros_dir = os.path.abspath(macros_dir)
        self.allowed = allowed or repository_roots(talk_path, self.roots, self.macros_dir)
        self._cache: dict[tuple[str, str, str], Resolution] = {}
        self._cached_in = _SNAPSHOT
        self._renames: dict[str, str] | None = None
        self._all_names: list[str] | None = None
        self._suggested: dict[str, tuple[str, ...]] = {}

    def resolve(self, target: str, frame: Frame) -> Resolution:
        opened_dir = os.path.dirname(frame.name) if frame.parent is not None else ""
        return self.resolve_from(target, opened_dir, os.path.dirname(frame.source.path))

    def resolve_from(self, target: str, opened_dir: str, including_dir: str) -> Resolution:
        """Resolve ``target`` for a file opened as ``opened_dir/...`` that lives in ``including_dir``."""
        base = os.path.basename(target)
        if base in MACRO_FILE_NAMES and os.path.dirname(target) in ("", ".."):
            return Resolution(macro_file=True, legacy=base.endswith(".tex"))
        key = (opened_dir, target, including_dir)
        if self._cached_in != _SNAPSHOT:  # a file may have appeared since
            self._cache.clear()
            self._cached_in = _SNAPSHOT
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._search(target, opened_dir, including_dir)
        return hit

    def _candidates(self, target: str, opened_dir: str) -> list[str]:
        return [os.path.join(self.talk_dir, opened_dir, target),
                os.path.join(self.repo_dir, target),
                *(os.path.join(r, target) for r in self.roots),
                os.path.join(self.talk_dir, target),
                os.path.join(self.macros_dir, target)]

    def _search(self, target: str, opened_dir: str, including_dir: str) -> Resolution:
        refused = None
        searched: list[str] = []
        for cand in self._candidates(target, opened_dir):
            cand = os.path.normpath(cand)
            if is_file(cand):
                if confine(cand, self.allowed):
                    return Resolution(path=cand, passed=_empty(searched))
                refused = refused or display_name(cand)
            searched.append(cand)
        own = os.path.normpath(os.path.join(including_dir, target))
        if is_file(own) and confine(own, self.allowed):
            return Resolution(path=own, relative_fallback=True, passed=_empty(searched))
        passed = _empty([*searched, own])
        renamed = self._renamed(target, opened_dir)
        if renamed:
            return replace(renamed, passed=passed)
        return Resolution(refused=refused, searched=tuple(dict.fromkeys(searched)), passed=passed)

    def _renamed(self, target: str, opened_dir: str) -> Resolution | None:
        if self._renames is None:
            self._renames = {}
            for root in self.roots:
                self._renames.update(read_renames(root))
        new = self._renames.get(os.path.basename(target))
        if not new:
            return None
        new_target = os.path.join(os.path.dirname(target), new)
        for cand in self._candidates(new_target, opened_dir):
            if is_file(cand) and confine(cand, self.allowed):
                return Resolution(path=os.path.normpath(cand), renamed_from=target)
        return None

    def search_dirs(self) -> list[str]:
        return list(dict.fromkeys([self.talk_dir, self.repo_dir, *self.roots, self.macros_dir]))

    def suggest(self, target: str, n: int = 3) -> tuple[str, ...]:
        """Existing include paths close to ``target``: the same name elsewhere, or a near spelling."""
        if target not in self._suggested:
            self._suggested[target] = self._suggest(target, n)
        return self._suggested[target]

    def _suggest(self, target: str, n: int) -> tuple[str, ...]:
        names = self._names()
        target = target.strip().lstrip("./")
        base = os.path.basename(target)
        same = [p for p in self._by_base.get(base, ()) if p != target]
        if same:
            return tuple(dict.fromkeys(same))[:n]
        folder = target.split("/", 1)[0]
        nearby = [p for p in names if p.startswith(folder + "/")]
        close = difflib.get_close_matches(target, nearby, n=n, cutoff=0.75)
        if not close:  # typos rarely hit the first letters: compare names that share them
            similar = [b for b in self._by_base if b[:2] == base[:2]]
            close = [self._by_base[b][0] for b in difflib.get_close_matches(base, similar, n=n, cutoff=0.8)]
        return tuple(dict.fromkeys(close))[:n]

    def _names(self) -> list[str]:
        if self._all_names is None:
            self._all_names = []
            self._by_base: dict[str, list[str]] = {}
            for root in [*self.roots, self.repo_dir]:
                if os.path.isdir(root):
                    for name in listing(root):
                        self._all_names.append(name)
                        self._by_base.setdefault(os.path.basename(name), []).append(name)
        return self._all_names


DOLLAR_RE = re.compile(r"\$\$|\$")
FENCE_LINE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.M)
_TABLES: dict[int, tuple[str, tuple]] = {}
"""id(text) -> (text, its ``$$``, single ``$``, line starts and code-fence lines), for the last
few texts asked about (a talk and the fragments it includes take turns)."""
_TABLES_KEPT = 32


def _dollar_tables(text: str) -> tuple:
    cached = _TABLES.get(id(text))
    if cached is not None and cached[0] is text:
        return cached[1]
    doubles: list[int] = []
    singles: list[int] = []
    for m in DOLLAR_RE.finditer(text):
        (doubles if m.end() - m.start() == 2 else singles).append(m.start())
    lines = [m.start() for m in re.finditer("\n", text)]
    if len(_TABLES) >= _TABLES_KEPT:
        _TABLES.pop(next(iter(_TABLES)))
    tables = (doubles, singles, lines, _code_blocks(text))
    _TABLES[id(text)] = (text, tables)
    return tables


def _code_blocks(text: str) -> list[int]:
    """Start and end offsets of the fenced code blocks, flattened (an unclosed one runs on)."""
    bounds: list[int] = []
    fence = ""
    for m in FENCE_LINE_RE.finditer(text):
        mark = m.group(1)
        if not fence:
            fence = mark
            bounds.append(m.start())
        elif mark[0] == fence[0] and len(mark) >= len(fence):
            line_end = text.find("\n", m.end())
            # "```}" closes a fence that a macro argument held, as the argument ends
            if not text[m.end():line_end if line_end >= 0 else len(text)].strip(" \t}"):
                fence = ""
                bounds.append(m.end())
    if fence:
        bounds.append(len(text))
    return bounds


def in_code(text: str, offset: int) -> bool:
    """Whether ``offset`` sits in a fenced code block or in inline code on its line."""
    _, _, newlines, blocks = _dollar_tables(text)
    if bisect.bisect_right(blocks, offset) % 2 == 1:
        return True
    line_index = bisect.bisect_left(newlines, offset) - 1
    line_start = newlines[line_index] + 1 if line_index >= 0 else 0
    return text.count("`", line_start, offset) % 2 == 1


def in_math(text: str, offset: int) -> bool:
    """Whether ``offset`` sits inside ``$...$`` or ``$$...$$`` (a line-local judgement for inline math).

    The positions of every ``$`` are found once per text, so asking about many
    offsets stays linear in the text.
    """
    doubles, singles, newlines, _ = _dollar_tables(text)
    if bisect.bisect_right(doubles, offset - 2) % 2 == 1:  # "$$" wholly before offset
        return True
    line_index = bisect.bisect_left(newlines, offset) - 1
    line_start = newlines[line_index] + 1 if line_index >= 0 else 0
    count = bisect.bisect_left(singles, offset) - bisect.bisect_left(singles, line_start)
    i = bisect.bisect_left(doubles, offset - 1)
    if i < len(doubles) and doubles[i] == offset - 1 and offset - 1 >= line_start:
        count += 1  # a "$$" cut in half by offset leaves one "$" before it
    return count % 2 == 1


PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n")


def in_paragraph_math(text: str, offset: int) -> bool:
    """Whether ``offset`` sits inside math by its paragraph, not only its line: inline math
    may run over lines (``$a +`` then ``\\color{red} b$``)."""
    if in_math(text, offset):
        return True
    doubles, singles, _, _ = _dollar_tables(text)
    breaks = [m.end() for m in PARAGRAPH_BREAK_RE.finditer(text, max(0, offset - 2000), offset)]
    start = breaks[-1] if breaks else max(0, offset - 2000)
    return (bisect.bisect_left(singles, offset) - bisect.bisect_left(singles, start)) % 2 == 1
