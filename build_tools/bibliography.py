"""BibTeX files read entry by entry, and entries written as lamd shows them.

Real bibliographies have defects (a field given twice, a key used twice, a
``@string`` never defined).  pybtex stops at the first one, and one defect would
lose every entry of the file.  Here a file is cut into entries at each
``@type{`` that starts a line; each entry is parsed alone, each defect becomes a
``W-BIB`` diagnostic at its file and line, and every usable entry goes into a
cleaned copy that sphinxcontrib-bibtex reads instead of the original:

* a field given twice keeps its first value;
* an undefined ``@string`` name is kept as its own name, as text;
* a key used twice keeps the first entry (in any earlier file too);
* an entry that does not parse at all is left out.

Entries are formatted as lamd's pandoc citeproc shows them (author–date):
``Rogers and Girolami (2011)``, ``(Legendre, 1805)``, and in the references
``Rogers, S., Girolami, M., 2011. A First Course in Machine Learning. CRC Press.``
Formatting never raises: a missing field is left out.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from .diagnostics import Diagnostic, Location, Severity
from .paths import display_name

if TYPE_CHECKING:  # pybtex ships no type information: these are names for its classes
    from pybtex.backends.plaintext import Backend
    from pybtex.database import BibliographyData, Entry, Person

ENTRY_START_RE = re.compile(r"^[ \t]*@[ \t]*([A-Za-z]+)[ \t]*[{(]", re.M)
KEY_RE = re.compile(r"@[ \t]*[A-Za-z]+[ \t]*[{(][ \t\r\n]*([^,\s{}()]+)")
FIELD_RE = r"^[ \t]*,?[ \t]*{name}[ \t]*="
NOT_ENTRIES = ("string", "preamble", "comment")
CACHE_VERSION = 2


@dataclass
class BibChunk:
    """One ``@...{`` block of a BibTeX file, as the cleaned copy will hold it."""

    kind: str
    """``string``, ``preamble``, ``comment`` or an entry type (lower case)."""
    line: int
    text: str
    key: str = ""


@dataclass
class BibDefect:
    """A defect of one entry: the entry's key (empty when none could be read) and the warning."""

    key: str
    diagnostic: Diagnostic
    whole_file: bool = False
    """The file itself cannot be read: every citation of it is affected."""


@dataclass
class CleanBib:
    """A BibTeX file cut into usable blocks, with a diagnostic for each defect."""

    path: str
    chunks: list[BibChunk] = field(default_factory=list)
    defects: list[BibDefect] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.chunks if c.key]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d.diagnostic for d in self.defects]


# -- reading entry by entry ----------------------------------------------------------------

def split_entries(text: str) -> list[tuple[int, str, str]]:
    """(first line, type, text) of every ``@type{`` block; text between blocks is a comment."""
    starts = list(ENTRY_START_RE.finditer(text))
    blocks = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        blocks.append((text.count("\n", 0, m.start()) + 1, m.group(1).lower(), text[m.start():end]))
    return blocks


def clean_bib_file(path: str, display: str | None = None) -> CleanBib:
    """Read one BibTeX file entry by entry (see the module's docstring)."""
    display = display or display_name(path)
    result = CleanBib(path)
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            text = fh.read()
    except OSError as exc:
        result.defects.append(BibDefect("", _warning(f"bibliography cannot be read: {exc.strerror}",
                                                     display, 1), whole_file=True))
        return result
    macros: dict[str, str] = {}
    seen: dict[str, int] = {}
    for line, kind, block in split_entries(text):
        if kind in NOT_ENTRIES:
            if kind == "string":
                macros.update(_string_macros(block))
            if kind != "comment":
                result.chunks.append(BibChunk(kind, line, block))
            continue
        found: list[Diagnostic] = []
        chunk = _clean_entry(block, kind, line, macros, display, found)
        key = chunk.key if chunk is not None else _written_key(block)
        result.defects += [BibDefect(key, d) for d in found]
        if chunk is None:
            continue
        first = seen.get(chunk.key.lower())
        if first is not None:
            result.defects.append(BibDefect(chunk.key, _warning(
                f"citation key '{chunk.key}' is used again (first at line {first}); "
                "this entry is left out", display, line)))
            continue
        seen[chunk.key.lower()] = line
        result.chunks.append(chunk)
    return result


def _written_key(block: str) -> str:
    """The key an entry that does not parse was written with, if it can be read."""
    m = KEY_RE.match(block.lstrip())
    return m.group(1) if m else ""


def _string_macros(block: str) -> dict[str, str]:
    from pybtex.database.input.bibtex import Parser

    parser = Parser()
    try:
        import pybtex.errors

        with pybtex.errors.capture():
            parser.parse_string(block)
    except Exception:  # noqa: BLE001 - a broken @string defines nothing
        return {}
    return {k: v for k, v in parser.macros.items()}


def _clean_entry(block: str, kind: str, line: int, macros: dict[str, str], display: str,
                 diagnostics: list[Diagnostic]) -> BibChunk | None:
    """The entry as the cleaned copy holds it, or None when it cannot be used."""
    import pybtex.errors
    from pybtex.database import BibliographyData
    from pybtex.database.input.bibtex import Parser, UndefinedMacro

    parser = Parser()
    parser.macros.update(macros)
    with pybtex.errors.capture() as errors:
        try:
            data = parser.parse_string(block)
        except Exception as exc:  # noqa: BLE001 - anything pybtex raises leaves this entry out
            errors.append(exc)
            data = None
    entries = list(data.entries.items()) if data is not None else []
    if not entries:
        lineno: int = next((e.lineno for e in errors if getattr(e, "lineno", None)), 1)
        reason = str(errors[0]) if errors else "no entry found"
        diagnostics.append(_warning(f"bibliography entry left out: {_plain_reason(reason)}",
                                    display, line + lineno - 1))
        return None
    key, entry = entries[0]
    if not errors:
        return BibChunk(kind, line, block, key)
    for error in errors:
        if isinstance(error, UndefinedMacro):
            name = _undefined_name(error)
            field_name = _field_of_macro(block, name)
            if field_name and not entry.fields.get(field_name):
                entry.fields[field_name] = name
            diagnostics.append(_warning(
                f"undefined string '{name}' in entry '{key}'; kept as the text '{name}'",
                display, line + (getattr(error, "lineno", 1) or 1) - 1))
        elif type(error).__name__ == "DuplicateField":
            name = _duplicate_field_name(str(error))
            diagnostics.append(_warning(
                f"field '{name}' is given twice in entry '{key}'; the first is kept",
                display, line + _second_field_line(block, name)))
        else:
            diagnostics.append(_warning(f"in entry '{key}': {_plain_reason(str(error))}",
                                        display, line + (getattr(error, "lineno", 1) or 1) - 1))
    text = BibliographyData(entries={key: entry}).to_string("bibtex")
    return BibChunk(kind, line, text, key)


def _warning(message: str, file: str, line: int) -> Diagnostic:
    return Diagnostic("W-BIB", Severity.WARNING, message, Location(file, line, 1))


def _plain_reason(reason: str) -> str:
    """pybtex's message without its own line number (the diagnostic has the file's)."""
    return re.sub(r"\s*in line \d+", "", reason).strip() or "it does not parse"


def _undefined_name(error: Exception) -> str:
    m = re.search(r":\s*(\S+)\s*$", str(error))
    return m.group(1) if m else "?"


def _field_of_macro(block: str, name: str) -> str:
    m = re.search(r"(\w+)\s*=\s*" + re.escape(name) + r"\b", block)
    return m.group(1).lower() if m else ""


def _duplicate_field_name(message: str) -> str:
    m = re.search(r"duplicate (\S+) field", message)
    return m.group(1) if m else "?"


def _second_field_line(block: str, name: str) -> int:
    """Lines after the entry's first where ``name =`` appears the second time."""
    found = list(re.finditer(FIELD_RE.format(name=re.escape(name)), block, re.M | re.I))
    if len(found) < 2:
        return 0
    return block.count("\n", 0, found[1].start())


# -- many files, cached by stamp ----------------------------------------------------------

def _stamp(path: str) -> str:
    st = os.stat(path)
    return f"{st.st_mtime_ns}|{st.st_size}|{CACHE_VERSION}"


_MEMO: dict[str, tuple[str, CleanBib]] = {}


def read_bib(path: str, cache_dir: str | None = None) -> CleanBib:
    """``clean_bib_file`` once per version of the file (in this process, and in ``cache_dir``)."""
    path = os.path.abspath(path)
    try:
        stamp = _stamp(path)
    except OSError:
        return clean_bib_file(path)
    memo = _MEMO.get(path)
    if memo and memo[0] == stamp:
        return memo[1]
    cached = _load_cached(path, stamp, cache_dir) if cache_dir else None
    result = cached or clean_bib_file(path)
    if cache_dir and cached is None:
        _save_cached(result, stamp, cache_dir)
    _MEMO[path] = (stamp, result)
    return result


def _cache_file(path: str, cache_dir: str) -> str:
    digest = hashlib.sha1(path.encode()).hexdigest()[:12]
    return os.path.join(cache_dir, f"{os.path.basename(path)}-{digest}.json")


def _load_cached(path: str, stamp: str, cache_dir: str) -> CleanBib | None:
    try:
        with open(_cache_file(path, cache_dir), encoding="utf-8") as fh:
            data = json.load(fh)
        if data["stamp"] != stamp:
            return None
        return CleanBib(path, [BibChunk(**c) for c in data["chunks"]],
                        [BibDefect(d["key"], _diagnostic_from(d["diagnostic"]), d["whole_file"])
                         for d in data["defects"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save_cached(result: CleanBib, stamp: str, cache_dir: str) -> None:
    data = {"stamp": stamp, "chunks": [asdict(c) for c in result.chunks],
            "defects": [{"key": d.key, "diagnostic": d.diagnostic.as_dict(),
                         "whole_file": d.whole_file} for d in result.defects]}
    try:
        os.makedirs(cache_dir, exist_ok=True)
        with open(_cache_file(result.path, cache_dir), "w", encoding="utf-8") as fh:
            json.dump(data, fh)
    except OSError:
        pass  # only a cache: the next build reads the file again


def _diagnostic_from(d: dict) -> Diagnostic:
    return Diagnostic(d["code"], Severity[d["severity"].upper()], d["message"],
                      Location(d["file"], d["line"], d["column"]) if d["file"] else None)


def cleaned_copies(paths: list[str], out_dir: str, cache_dir: str | None = None
                   ) -> tuple[list[str], list[BibDefect]]:
    """A cleaned copy of each file in ``out_dir`` (keys already given by an earlier file are
    left out) and every defect found.  A copy is rewritten only when its text changes, so
    sphinxcontrib-bibtex rereads it only then."""
    copies: list[str] = []
    defects: list[BibDefect] = []
    seen: dict[str, str] = {}
    for path in dict.fromkeys(os.path.abspath(p) for p in paths):
        bib = read_bib(path, cache_dir)
        defects += bib.defects
        kept = []
        for chunk in bib.chunks:
            if chunk.key and chunk.key.lower() in seen:
                defects.append(BibDefect(chunk.key, _warning(
                    f"citation key '{chunk.key}' is already in {seen[chunk.key.lower()]}; "
                    "this entry is left out", display_name(path), chunk.line)))
                continue
            if chunk.key:
                seen[chunk.key.lower()] = display_name(path)
            kept.append(chunk.text.rstrip() + "\n")
        copies.append(_write_if_changed(_copy_name(path, out_dir), "\n".join(kept)))
    return copies, defects


def _copy_name(path: str, out_dir: str) -> str:
    digest = hashlib.sha1(path.encode()).hexdigest()[:8]
    return os.path.join(out_dir, f"{os.path.splitext(os.path.basename(path))[0]}-{digest}.bib")


def _write_if_changed(target: str, text: str) -> str:
    try:
        with open(target, encoding="utf-8") as fh:
            if fh.read() == text:
                return target
    except OSError:
        pass
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8") as fh:
        fh.write(text)
    return target


def usable_entries(paths: list[str], cache_dir: str | None = None,
                   keys: Collection[str] | None = None) -> BibliographyData:
    """pybtex's ``BibliographyData`` of every usable entry of the files (first key wins);
    of only the entries whose key is in ``keys`` when given."""
    from pybtex.database.input.bibtex import Parser
    import pybtex.errors

    parser = Parser()
    seen: set[str] = set()
    for path in paths:
        if not os.path.isfile(path):
            continue
        bib = read_bib(path, cache_dir)
        for chunk in bib.chunks:
            if chunk.key and (chunk.key.lower() in seen or keys is not None and chunk.key not in keys):
                continue
            seen.add(chunk.key.lower())
            with pybtex.errors.capture():
                try:
                    parser.parse_string(chunk.text)
                except Exception:  # noqa: BLE001 - checked when cleaned; never stop here
                    continue
    return parser.data


# -- which defects to report ----------------------------------------------------------------

LIST_COMMAND = "talks check --bib {file}"
"""The command that lists every defect of one file."""


@dataclass
class DefectReport:
    """What a build says about the bibliographies' defects: each defect of an entry its
    talks cite (the user may fix the citation or the entry), and for the rest one line
    per file (a shared bibliography's defects are not the user's to fix)."""

    cited: list[BibDefect] = field(default_factory=list)
    uncited: dict[str, int] = field(default_factory=dict)
    """File (as the defects name it) -> how many defects its uncited entries have."""
    totals: dict[str, int] = field(default_factory=dict)
    """File -> how many defects it has in all."""

    def summary(self) -> list[tuple[str, str]]:
        """(file, message) for each file with defects in uncited entries.  The message
        counts all the file's defects, so it reads the same whichever talks (or variant)
        the build had."""
        return [(file, f"{self.totals[file]} defect(s) in this bibliography, each entry left "
                       "out or repaired; only those of entries a talk cites are reported; "
                       f"`{LIST_COMMAND.format(file=file)}` lists them all")
                for file in self.uncited]


def defects_to_report(defects: list[BibDefect], cited_keys: Iterable[str]) -> DefectReport:
    """Split the defects by whether a talk cites their entry (keys compared without case,
    as BibTeX does); a file-level defect (unreadable) is always reported."""
    cited = {k.lower() for k in cited_keys}
    report = DefectReport()
    for defect in defects:
        file = defect.diagnostic.location.file if defect.diagnostic.location else "?"
        report.totals[file] = report.totals.get(file, 0) + 1
        if defect.whole_file or defect.key.lower() in cited:
            report.cited.append(defect)
        else:
            report.uncited[file] = report.uncited.get(file, 0) + 1
    return report


# -- formatting as lamd shows it ----------------------------------------------------------

@dataclass(frozen=True)
class Piece:
    """A run of a formatted reference: text, a link when ``url`` is set."""

    text: str
    url: str = ""


MATH_RE = re.compile(r"(\$[^$]+\$)")


def latex_text(value: str) -> str:
    """BibTeX's LaTeX as plain text: accents decoded, braces gone; ``$math$`` kept as written."""
    parts = MATH_RE.split(value)
    return " ".join("".join(p if i % 2 else _decoded(p) for i, p in enumerate(parts)).split())


@functools.lru_cache(maxsize=1)
def _plain_text_backend() -> Backend:
    # made directly: pybtex's own lookup scans every installed package's entry points per call
    from pybtex.backends.plaintext import Backend

    return Backend()


@functools.lru_cache(maxsize=20_000)
def _decoded(latex: str) -> str:
    from pybtex.richtext import Text

    core = latex.strip()
    try:  # the parser drops the spaces at either end, which separate text from math
        return latex[:len(latex) - len(latex.lstrip())] \
            + Text.from_latex(core).render(_plain_text_backend()) \
            + (" " if core and latex[-1:].isspace() else "")
    except Exception:  # noqa: BLE001 - odd markup is shown as written, never fatal
        return latex.replace("{", "").replace("}", "")


def with_crossref(entry: Entry, entries: Mapping[str, Entry]) -> Entry:
    """The entry with the fields its ``crossref`` parent gives, as BibTeX fills them in
    (the parent's title is the child's booktitle)."""
    parent_key = entry.fields.get("crossref", "")
    parent = entries.get(parent_key) if parent_key else None
    if parent is None:
        return entry
    from pybtex.database import Entry

    fields = dict(entry.fields)
    for name, value in parent.fields.items():
        fields.setdefault("booktitle" if name.lower() == "title" else name, value)
    persons = {role: list(people) for role, people in parent.persons.items()}
    persons.update({role: list(people) for role, people in entry.persons.items()})
    merged = Entry(entry.type, fields=fields, persons=persons)
    merged.key = entry.key
    return merged


def _people(entry: Entry, role: str) -> list[Person]:
    try:
        return list(entry.persons.get(role) or [])
    except Exception:  # noqa: BLE001
        return []


def _surname(person: Person) -> str:
    return latex_text(" ".join([*person.prelast_names, *person.last_names]))


def _initials(person: Person) -> str:
    out = []
    for name in [*person.first_names, *person.middle_names]:
        parts = [p for p in latex_text(name).split("-") if p]
        out.append("-".join(p[0] + "." for p in parts if p[0].isalpha() or p[0].isdigit()))
    return "".join(out)


def cited_names(entry: Entry) -> str:
    """Who an in-text citation names: ``Rogers``, ``Rogers and Girolami``, ``Taigman et al.``."""
    people = _people(entry, "author") or _people(entry, "editor")
    names = [_surname(p) for p in people if _surname(p)]
    if not names:
        title = latex_text(entry.fields.get("title", ""))
        return title or entry.key
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


def cited_year(entry: Entry) -> str:
    return latex_text(entry.fields.get("year", "")) or "n.d."


def sort_key(entry: Entry) -> tuple[str, str, str]:
    """References are listed by first author, then year, then title, as citeproc does."""
    people = _people(entry, "author") or _people(entry, "editor")
    who = " ".join(_surname(p) for p in people) or latex_text(entry.fields.get("title", ""))
    return who.lower(), cited_year(entry), latex_text(entry.fields.get("title", "")).lower()


def reference_pieces(entry: Entry) -> list[Piece]:
    """One reference, elsevier-harvard as lamd's citeproc writes it; never raises."""
    try:
        return _reference_pieces(entry)
    except Exception:  # noqa: BLE001 - a reference that cannot be formatted shows its key
        return [Piece(f"{entry.key}.")]


class _PlainFields(Mapping[str, str]):
    """An entry's fields as plain text, each decoded when first asked for: a reference
    shows a few fields, and decoding all of them (abstracts, notes) cost more than the rest
    of formatting it."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self._latex = {k.lower(): v for k, v in fields.items()}
        self._plain: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self._plain:
            self._plain[name] = latex_text(self._latex[name])
        return self._plain[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._latex)

    def __len__(self) -> int:
        return len(self._latex)


def _reference_pieces(entry: Entry) -> list[Piece]:
    f = _PlainFields(entry.fields)
    people = _people(entry, "author")
    editors = _people(entry, "editor")
    who = _name_list(people or editors)
    if who and not people:
        who += " (Ed.)" if len(editors) == 1 else " (Eds.)"
    head = _sentence(", ".join(filter(None, [who, cited_year(entry)])))
    kind = entry.type.lower()
    title = f.get("title", "")
    if kind in IN_BOOK and f.get("booktitle"):
        title = ", ".join(filter(None, [title, "in: " + f["booktitle"]]))
    parts = [head, _sentence(title), *_container(kind, f)]
    text = " ".join(p for p in parts if p)
    link = f"https://doi.org/{f['doi']}" if f.get("doi") else f.get("url", "")
    pieces = [Piece(text)]
    if link.startswith(("http://", "https://")):
        pieces += [Piece(" "), Piece(link, link)]
    return pieces


IN_BOOK = ("inproceedings", "incollection", "conference", "inbook")


def _name_list(people: list[Person]) -> str:
    return ", ".join(", ".join(filter(None, [_surname(p), _initials(p)])) for p in people)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def _container(kind: str, f: Mapping[str, str]) -> list[str]:
    """Where the work appeared, by entry type; whatever fields are missing are left out."""
    pages = f.get("pages", "").replace("--", "–")
    if kind == "article":
        where = " ".join(filter(None, [f.get("journal", ""), f.get("volume", "")]))
        return [_sentence(", ".join(filter(None, [where, pages])))]
    if kind in IN_BOOK:
        return [_sentence(", ".join(filter(None, [f.get("publisher", ""),
                                                 f"pp. {pages}" if pages else ""])))]
    if kind in ("phdthesis", "mastersthesis"):
        label = "PhD thesis" if kind == "phdthesis" else "Master's thesis"
        return [_sentence(", ".join(filter(None, [f.get("type", label), f.get("school", "")])))]
    if kind == "techreport":
        return [_sentence(", ".join(filter(None, [f.get("institution", ""), f.get("number", "")])))]
    publisher = ", ".join(filter(None, [f.get("publisher", ""), f.get("address", "")]))
    return [_sentence(publisher or f.get("howpublished", "") or f.get("note", ""))]
