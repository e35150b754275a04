"""The library API: expand a talk for a variant, check talks, write MyST files.

``expand_talk`` reads like the pipeline: read the talk, expand its macros with
the variant's vocabulary, emit MyST.  Nothing here prints or exits; the CLI
and the Sphinx extension decide what to do with the diagnostics.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from .config import VARIANTS, TalkConfig, build_config
from .diagnostics import Diagnostic, Location, MacroError, Severity
from .engine.advice import NameAdvisor, damaged_includes
from .engine.output import LazyOrigins, Origin, PackedOrigins
from .engine.run import ExpandedTalk, diagrams_mapping, expand
from .engine.source import file_stamp, load_source, new_snapshot, repository_roots
from .paths import confine, display_name
from .project import code_fingerprint
from .timings import timed
from .engine.talkfile import Talk, front_matter_location
from .myst.anchors import SlideAnchor
from .myst.emit import Document, EmitOptions, emit
from .myst.mathnames import notation_names, undefined_math
from .workers import collect_rarely, die_with_parent

__all__ = ["Expansion", "expand_talk", "check_talks", "write_myst", "talk_bib_files",
           "PreparedTalk", "PreparedStamps", "prepare_talk", "save_prepared", "load_prepared",
           "current_prepared", "prepared_file"]

BIB_KEY_RE = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,")


@dataclass
class Expansion:
    """One talk expanded for one variant and laid out as MyST."""

    expanded: ExpandedTalk
    document: Document

    @property
    def talk(self) -> Talk:
        return self.expanded.talk

    @property
    def variant(self) -> str:
        return self.expanded.variant

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [*self.expanded.diagnostics, *self.document.diagnostics]

    @property
    def dependencies(self) -> list[str]:
        return self.expanded.dependencies

    @property
    def absent(self) -> list[str]:
        return self.expanded.absent

    @property
    def text(self) -> str:
        return self.document.text

    @property
    def origins(self) -> list[Origin | None]:
        return self.document.origins

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity >= Severity.ERROR]


_BIB_CACHE: dict[tuple[str, ...], frozenset[str]] = {}


def bibliography_keys(files: list[str]) -> frozenset[str] | None:
    """Citation keys of the given BibTeX files; None when there are none to check against."""
    files = [f for f in files if os.path.isfile(f)]
    if not files:
        return None
    key = tuple(files)
    if key not in _BIB_CACHE:
        keys = set()
        for path in files:
            with open(path, encoding="utf-8", errors="replace") as fh:
                keys.update(BIB_KEY_RE.findall(fh.read()))
        _BIB_CACHE[key] = frozenset(keys)
    return _BIB_CACHE[key]


def bibliography_problems(files: list[str], cited_keys: Iterable[str] | None = None) -> list[Diagnostic]:
    """The defects of the BibTeX files, at their file and line (``bibliography.clean_bib_file``):
    every one, or with ``cited_keys`` those of the entries cited and one warning per file
    counting the rest (``talks check --bib FILE`` lists them)."""
    from .bibliography import defects_to_report, read_bib

    defects = [d for f in dict.fromkeys(files) if os.path.isfile(f) for d in read_bib(f).defects]
    if cited_keys is None:
        return [d.diagnostic for d in defects]
    report = defects_to_report(defects, cited_keys)
    return [*(d.diagnostic for d in report.cited),
            *(Diagnostic("W-BIB", Severity.WARNING, message, Location(file, 1, 1))
              for file, message in report.summary())]


def talk_bib_files(talk: Talk, config: TalkConfig) -> list[str]:
    """The BibTeX files a talk may cite: the configured ones, then those its front matter names."""
    return _talk_bibs(talk, config)[0]


def _talk_bibs(talk: Talk, config: TalkConfig) -> tuple[list[str], list[Diagnostic]]:
    """Bibliographies, and an error for each the front matter names outside the repository."""
    files = list(config.bib_files)
    refused = []
    named = talk.meta.get("bibliography")
    allowed = None
    for name in ([named] if isinstance(named, str) else named if isinstance(named, list) else []):
        path = os.path.join(os.path.dirname(talk.source.path), str(name))
        if allowed is None:
            allowed = repository_roots(talk.source.path, config.include_roots, config.macros_dir,
                                       [config.image_root, *(os.path.dirname(b) for b in config.bib_files)])
        if confine(path, allowed):
            files.append(path)
        else:
            refused.append(Diagnostic(
                "E-PATH-OUTSIDE", Severity.ERROR,
                f"bibliography {name} resolves to {display_name(os.path.normpath(path))}, outside "
                "the talk's repository and its include roots; refused",
                front_matter_location(talk, "bibliography"), hint="add its folder with -I DIR to allow it"))
    return files, refused


def expand_talk(path: str, variant: str, config: TalkConfig | None = None, *,
                emit_options: EmitOptions | None = None,
                advisor: Callable[[list[str]], NameAdvisor] | None = None,
                fresh_view: bool = True) -> Expansion:
    """Expand one talk for one variant: MyST text, an origin per line, diagnostics.

    ``fresh_view=False`` keeps the view of the disk the batch it belongs to took."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    config = config or build_config(path)
    with timed("expansion"):
        expanded = expand(path, variant, config, advisor, fresh_view=fresh_view)
    options = emit_options or EmitOptions()
    options.doc_dir = options.doc_dir or os.path.dirname(expanded.talk.source.path)
    options.image_root = options.image_root or config.image_root
    options.diagrams = options.diagrams or diagrams_mapping(config)
    options.allowed_roots = options.allowed_roots or expanded.allowed_roots
    bibs, refused = _talk_bibs(expanded.talk, config)
    expanded.diagnostics.extend(refused)
    with timed("bibliography keys"):
        if options.bib_keys is None:
            options.bib_keys = bibliography_keys(bibs)
    with timed("MyST"):
        document = emit(expanded.items, variant, expanded.talk.meta, options)
        known = notation_names(_notation_file(config)) | set(document.math_macros)
        document.diagnostics.extend(undefined_math(document.text, document.lines, known))
    return Expansion(expanded, document)


@dataclass
class PreparedTalk:
    """What a Sphinx build needs of one talk in one variant, kept to be used by another build.

    ``talks build`` prepares the deck before Sphinx starts: the deck's build reads
    it instead of expanding the talk, and the handout's build takes the slide anchors
    from it, so no variant of a talk is expanded twice.
    """

    variant: str
    config_key: str
    """The configuration it was made with (``config_key``): another one means expanding anew."""
    text: str
    origins: list | LazyOrigins | PackedOrigins
    """The origin of each line of ``text`` (a lazy sequence until it is saved)."""
    diagnostics: list[Diagnostic]
    dependencies: list[str]
    bib_files: list[str]
    slide_anchors: list[SlideAnchor]
    """Each slide after the title slide: its title and the origin of its heading."""
    math_macros: dict
    meta: dict
    stamps: dict[str, tuple | None] = field(default_factory=dict)
    format: str = ""
    """``prepared_format()`` when it was made: a record of another format, or made by other
    code, is made anew."""
    digest: str = ""
    """What it holds, as one comparable value (all but ``stamps``): a deck made again from
    an edited file that holds the same has the same digest, and its page need not change."""
    absent: list[str] = field(default_factory=list)
    """Where a file appearing would change it (``ExpandedTalk.absent``)."""

    def is_fresh(self) -> bool:
        """Whether every file it was made from is as it was."""
        return bool(self.stamps) and all(file_stamp(f) == s for f, s in self.stamps.items())


def page_emit_options() -> EmitOptions:
    """How a Sphinx build lays out a talk: each talk's page cites into its own bibliography."""
    return EmitOptions(local_citations=True)


PREPARED_FORMAT = 6
"""Bumped whenever what a prepared record holds changes: older records are made anew."""


def prepared_format() -> str:
    """The record format and the code that makes records: an upgrade makes them anew."""
    return f"{PREPARED_FORMAT}-{code_fingerprint()}"


def config_key(config: TalkConfig) -> str:
    """The settings that shape an expansion (and the record format), as one comparable value."""
    return repr((prepared_format(), {k: v for k, v in asdict(config).items() if k != "sources"}))


def prepare_talk(path: str, variant: str, config: TalkConfig,
                 emit_options: EmitOptions | None = None) -> PreparedTalk:
    """Expand and lay out one talk; ``MacroError`` for a talk that cannot be read at all."""
    expansion = expand_talk(path, variant, config, emit_options=emit_options)
    document = expansion.document
    bibs = [b for b in talk_bib_files(expansion.talk, config) if os.path.isfile(b)]
    return PreparedTalk(variant, config_key(config), expansion.text, document.lazy_origins(),
                        expansion.diagnostics, expansion.dependencies, bibs,
                        list(document.slide_anchors), dict(document.math_macros),
                        expansion.talk.meta, format=prepared_format(), absent=expansion.absent)


def prepared_file(folder: str, docname: str, variant: str) -> str:
    """Where ``talks build`` keeps the record of one talk and variant."""
    return os.path.join(folder, variant, docname + ".pickle")


def save_prepared(record: PreparedTalk, file: str) -> None:
    """Write the record with every origin worked out, its digest and every input file's
    stamp; the stamps, the settings and the digest also in a small file beside it
    (``PreparedStamps``)."""
    record.origins = PackedOrigins(record.origins)
    record.stamps, record.digest = {}, ""
    record.digest = hashlib.sha256(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()
    # a file found missing counts too: when it appears, the record is out of date
    missing = [d.subject for d in record.diagnostics if d.subject]
    record.stamps = {f: file_stamp(f) for f in dict.fromkeys(
        [*record.dependencies, *record.bib_files, *missing, *record.absent])}
    os.makedirs(os.path.dirname(file), exist_ok=True)
    sidecar = PreparedStamps(record.config_key, record.stamps, record.digest)
    for path, value in ((file, record), (file + ".stamps", sidecar)):
        with open(path + ".tmp", "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(path + ".tmp", path)


@dataclass(frozen=True)
class PreparedStamps:
    """What the small file beside a prepared record says of it: read by a build that only
    needs to know whether the record is current, and what it holds."""

    config_key: str
    stamps: dict[str, tuple | None]
    """Every file the record was made from (and each one it found missing), with its stamp."""
    digest: str
    """``PreparedTalk.digest``."""


def _read_prepared_stamps(file: str) -> PreparedStamps | None:
    """The small file beside the record at ``file``; None when it is not there or not one."""
    try:
        with open(file + ".stamps", "rb") as fh:
            sidecar = pickle.load(fh)
    except (OSError, pickle.PickleError, EOFError, ValueError, TypeError, AttributeError,
            ImportError):
        return None
    return sidecar if isinstance(sidecar, PreparedStamps) else None


def current_prepared(file: str, key: str, seen: dict[str, tuple[int, int] | None] | None = None
                     ) -> PreparedStamps | None:
    """What the small file beside the record at ``file`` says of it, when the record was
    made with ``key`` from files as they are now; else None.  Only that file is read (a
    build with nothing to do reads no record).  ``seen`` keeps each file's stamp for the
    next record asked about: the talks of a site share most of their files."""
    sidecar = _read_prepared_stamps(file)
    if sidecar is None or sidecar.config_key != key or not sidecar.stamps:
        return None
    seen = {} if seen is None else seen
    for path, stamp in sidecar.stamps.items():
        if path not in seen:
            seen[path] = file_stamp(path)
        if seen[path] != stamp:
            return None
    return sidecar if os.path.isfile(file) else None


def load_prepared(file: str) -> PreparedTalk | None:
    """A record of this format still true to its files, or None."""
    try:
        with open(file, "rb") as fh:
            record = pickle.load(fh)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
        return None
    # the handout takes the deck's record whatever its settings: its format is checked here
    current = isinstance(record, PreparedTalk) and getattr(record, "format", "") == prepared_format()
    return record if current and record.is_fresh() else None


def _notation_file(config: TalkConfig) -> str:
    """The MathJax notation: the vocabulary's ``notation.tex`` (conf.py's ``talks_notation``
    names the same file in this project)."""
    return os.path.join(config.macros_dir, "notation.tex")


def check_talks(paths: list[str], config: TalkConfig | None = None,
                lint: bool = True) -> list[Diagnostic]:
    """Every problem in the talks, over all three variants, each reported once.

    With ``lint``, also damaged include lines (in the talks and every fragment
    they read) and unknown names close to vocabulary names.
    """
    seen: set = set()
    found: list[Diagnostic] = []

    def add(diag: Diagnostic) -> None:
        key = (diag.code, diag.location, diag.message)
        if key not in seen:
            seen.add(key)
            found.append(diag)

    for path in paths:
        cfg = config or build_config(path)
        files: list[str] = []
        cited: set[str] = set()
        for variant in VARIANTS:
            try:
                expansion = expand_talk(path, variant, cfg, advisor=NameAdvisor if lint else None)
            except MacroError as exc:  # an unreadable talk, or the first error with stop_at_error
                add(exc.diagnostic)
                break
            for diag in expansion.diagnostics:
                add(diag)
            cited.update(expansion.document.cited_keys)
            files.extend(f for f in expansion.dependencies
                         if not f.startswith(os.path.abspath(cfg.macros_dir) + os.sep))
        else:  # the talk was read: its bibliographies' defects too
            for diag in bibliography_problems(talk_bib_files(expansion.talk, cfg), cited):
                add(diag)
        if lint:
            roots = [*cfg.include_roots, os.path.dirname(os.path.dirname(os.path.abspath(path)))]
            for file in dict.fromkeys(files):
                for diag, _ in damaged_includes(file, load_source(file).text, roots):
                    add(diag)
    damaged = {(d.location.file, d.location.line) for d in found
               if d.code == "E-DAMAGED-INCLUDE" and d.location is not None}
    # the stray braces of a damaged include line are the same problem, said once
    found = [d for d in found if not (d.code == "W-BRACE" and d.location
                                      and (d.location.file, d.location.line) in damaged)]
    found.sort(key=lambda d: (d.location.file, d.location.line, d.location.column)
               if d.location else ("", 0, 0))
    return found


def _write_one(job: tuple[str, str, TalkConfig, str]) -> tuple[str, list[Diagnostic]]:
    path, variant, config, target = job
    try:
        expansion = expand_talk(path, variant, config, fresh_view=False)
    except MacroError as exc:
        return path, [exc.diagnostic]
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(expansion.text)
    except OSError as exc:
        return path, [*expansion.diagnostics,
                      Diagnostic("E-WRITE", Severity.ERROR, f"cannot write {target}: {exc.strerror}")]
    return path, expansion.diagnostics


def write_myst(paths: list[str], variant: str, config: TalkConfig, out_dir: str,
               jobs: int | None = None) -> Iterator[tuple[str, list[Diagnostic]]]:
    """Expand many talks into ``out_dir`` (mirroring their folders); yields (path, diagnostics).

    Large batches are shared between processes: this one and ``jobs - 1`` workers,
    each given a contiguous share (talks of one folder share fragments, so each
    reuses more of its file and include caches).  The batch takes one view of the
    disk: each file is checked once, not once per talk.
    """
    new_snapshot()
    base = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
    work = [(p, variant, config, os.path.join(out_dir, os.path.relpath(os.path.abspath(p), base)))
            for p in paths]
    jobs = jobs or min(len(os.sched_getaffinity(0)), 4)
    if jobs < 2 or len(work) < 16:
        yield from map(_write_one, work)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    shares = [work[i * len(work) // jobs:(i + 1) * len(work) // jobs] for i in range(jobs)]
    workers = []
    for share in shares[:-1]:
        receive, send = context.Pipe(duplex=False)
        worker = context.Process(target=_write_share_to, args=(share, send), daemon=True)
        worker.start()
        send.close()
        workers.append((worker, receive, share))
    own = _write_share(shares[-1])  # while the workers do theirs
    for worker, receive, share in workers:
        try:
            results = receive.recv()
        except (EOFError, OSError):  # the worker died: say so for each of its talks
            results = [(job[0], [Diagnostic("E-WORKER", Severity.ERROR,
                                             "the process expanding this talk ended unexpectedly",
                                             Location(display_name(job[0]), 1, 1))])
                       for job in share]
        worker.join()
        yield from results
    yield from own


def _write_share(share: list[tuple]) -> list[tuple[str, list[Diagnostic]]]:
    return [_write_one(job) for job in share]


def _write_share_to(share: list[tuple], send: Connection) -> None:
    """A worker's whole life: its share, then every result in one message."""
    die_with_parent()
    collect_rarely()
    send.send(_write_share(share))
    send.close()
