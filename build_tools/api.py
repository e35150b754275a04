"""The library API: expand a talk for a variant, check talks, write MyST files.

``expand_talk`` reads like the pipeline: read the talk, expand its macros with
the variant's vocabulary, emit MyST.  Nothing here prints or exits; the CLI
and the Sphinx extension decide what to do with the diagnostics.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .config import VARIANTS, TalkConfig, default_roots
from .diagnostics import Diagnostic, MacroError, Severity
from .emit import Document, EmitOptions, emit
from .expander import META, Definition, Expander, ExpansionState, Primitive
from .memo import Memo
from .primitives import PRIMITIVES
from .source import Frame, IncludeResolver, load_source, new_snapshot, text_source
from .talkfile import Talk, read_talk, snippet_dirs

__all__ = ["Expansion", "expand_talk", "check_talks", "load_vocabulary", "write_myst"]

BIB_KEY_RE = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,")


@dataclass
class Expansion:
    """One talk expanded for one variant."""

    talk: Talk
    variant: str
    document: Document
    diagnostics: list[Diagnostic]
    dependencies: list[str] = field(default_factory=list)
    """Every file read: includes, the vocabulary, the talk itself."""

    @property
    def text(self) -> str:
        return self.document.text

    @property
    def origins(self):
        return self.document.origins

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity >= Severity.ERROR]


# -- the vocabulary ---------------------------------------------------------------

def _let(ex: Expander, call) -> None:
    """``\\__let{new}{old}``: give an existing macro or primitive a second name."""
    if len(call.regions) == 2:
        new, old = (call.src.text[a:b].strip().lstrip("\\") for a, b in call.regions)
        value = ex.lookup(old)
        if value is not None:
            ex.set_macro(new, value)


_VOCABULARY: dict[tuple, tuple[dict, list[str], list[Diagnostic]]] = {}


def define_text(macros: dict, name: str, value: str) -> None:
    """Define a parameterless macro whose body is ``value`` (build variables, symbols)."""
    src = text_source(value, f"<{name}>")
    src.is_vocabulary = True
    macros[name] = Definition(name, (), src, 0, len(value), Frame(src, src.display))


def load_vocabulary(variant: str, config: TalkConfig) -> tuple[dict, list[str], list[Diagnostic]]:
    """The macros in force before a talk starts: symbols, primitives, ``macros/``."""
    symbols = config.variant_symbols(variant)
    key = (variant, symbols, tuple(sorted(config.symbols.items())), config.macros_dir,
           tuple(config.thanks_links))
    entry = _VOCABULARY.get(key)
    entry_path = os.path.join(config.macros_dir, "talk-macros.gpp")
    stamp = os.stat(entry_path).st_mtime_ns if os.path.exists(entry_path) else 0
    if entry is not None and entry[3] == stamp:
        return entry[0], entry[1], entry[2]
    macros: dict = dict(PRIMITIVES)
    macros["__let"] = Primitive("__let", _let, raw=True)
    for symbol in symbols:
        define_text(macros, symbol, "1")
    for name, value in config.symbols.items():
        define_text(macros, name, value)
    if config.thanks_links:
        define_text(macros, "thanksLinks",
                    "\n".join(f"* {label}: [{url}]({url})" if not label.startswith("[") else
                              f"* {label}" for label, url in config.thanks_links))
    state = ExpansionState(macros)
    if not os.path.exists(entry_path):
        raise MacroError(Diagnostic("E-VOCABULARY", Severity.ERROR,
                                    f"the macro vocabulary is missing: {entry_path}"))
    vocab = load_source(entry_path, is_vocabulary=True)
    resolver = IncludeResolver(entry_path, [], config.macros_dir)
    ex = Expander(state, resolver, variant=variant, vocabulary=True)
    ex.expand_document(vocab, 0, "talk-macros.gpp")
    files = [vocab.path, *ex.dependencies]
    _VOCABULARY[key] = (state.macros, files, ex.diagnostics, stamp)
    return state.macros, files, ex.diagnostics


# -- expansion ----------------------------------------------------------------------

def _variables(macros: dict, talk: Talk, config: TalkConfig) -> None:
    define_text(macros, "diagramsDir", config.diagrams_url.rstrip("/"))
    define_text(macros, "writeDiagramsDir", str(talk.meta.get("writediagramsdir", "diagrams")).rstrip("/") or ".")
    define_text(macros, "scriptsDir", str(talk.meta.get("scriptsdir", "scripts")).rstrip("/"))
    define_text(macros, "githubBaseUrl", config.github_base_url)
    define_text(macros, "githubDownloadUrl", "https://raw.githubusercontent.com/lawrennd/talks/gh-pages/")
    define_text(macros, "blogBaseUrl", config.blog_base_url)
    define_text(macros, "atomicBlogBaseUrl", "http://the-atomic-human.ai/")
    define_text(macros, "guardianBaseUrl", "https://www.theguardian.com/media-network/")
    if talk.meta.get("assignment") is True:
        define_text(macros, "ASSIGNMENT", "1")


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


def talk_bib_files(talk: Talk, config: TalkConfig) -> list[str]:
    files = list(config.bib_files)
    named = talk.meta.get("bibliography")
    for name in ([named] if isinstance(named, str) else named or []):
        files.append(os.path.join(os.path.dirname(talk.source.path), str(name)))
    return files


def expand_talk(path: str, variant: str, config: TalkConfig | None = None, *,
                emit_options: EmitOptions | None = None, advisor=None) -> Expansion:
    """Expand one talk for one variant: MyST text, an origin per line, diagnostics."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    config = config or TalkConfig(include_roots=default_roots(path))
    new_snapshot()
    talk = read_talk(path)
    vocabulary, vocab_files, vocab_diagnostics = load_vocabulary(variant, config)
    state = ExpansionState(dict(vocabulary))
    _variables(state.macros, talk, config)
    resolver = _resolver(path, config)
    ex = Expander(state, resolver, variant=variant, clean_comments=config.clean_comments,
                  strict=config.strict,
                  options={"image_root": config.image_root, "doc_dir": os.path.dirname(talk.source.path),
                           "talk_dir": os.path.dirname(talk.source.path)})
    if advisor is not None:
        ex.advisor = _advisor(advisor, vocabulary)
    if config.reuse_includes:
        ex.memo = _MEMO
        ex.memo_context = (variant, config.clean_comments, config.strict, advisor is not None,
                           tuple(resolver.roots), resolver.macros_dir, config.image_root, id(vocabulary))
    out = ex.expand_document(talk.source, talk.body_offset, talk.source.display)
    options = emit_options or EmitOptions()
    options.doc_dir = options.doc_dir or os.path.dirname(talk.source.path)
    options.image_root = options.image_root or config.image_root
    if options.bib_keys is None:
        options.bib_keys = bibliography_keys(talk_bib_files(talk, config))
    text = out.text()
    document = emit(out.lines(text), variant, talk.meta, options, text=text)
    diagnostics = [*talk.diagnostics, *vocab_diagnostics, *ex.diagnostics, *document.diagnostics]
    dependencies = list(dict.fromkeys([talk.source.path, *ex.dependencies, *vocab_files]))
    return Expansion(talk, variant, document, diagnostics, dependencies)


_MEMO = Memo()
"""Recordings of included files, shared by every talk this process expands."""

_ADVISORS: dict[int, object] = {}


def _advisor(factory, vocabulary: dict):
    """One did-you-mean helper per vocabulary, so its cache lasts across talks."""
    key = id(vocabulary)
    if key not in _ADVISORS:
        _ADVISORS[key] = factory([*vocabulary, *META])
    return _ADVISORS[key]


_RESOLVERS: dict[tuple, IncludeResolver] = {}


def _resolver(path: str, config: TalkConfig) -> IncludeResolver:
    folder = os.path.dirname(os.path.abspath(path))
    key = (folder, tuple(config.include_roots), config.macros_dir)
    if key not in _RESOLVERS:
        roots = list(dict.fromkeys([*config.include_roots, *snippet_dirs(folder)]))
        _RESOLVERS[key] = IncludeResolver(path, roots, config.macros_dir)
    return _RESOLVERS[key]


def check_talks(paths: list[str], config: TalkConfig | None = None,
                lint: bool = True) -> list[Diagnostic]:
    """Every problem in the talks, over all three variants, each reported once.

    With ``lint``, also damaged include lines (in the talks and every fragment
    they read) and unknown names close to vocabulary names.
    """
    from .lint import NameAdvisor, damaged_includes

    seen: set = set()
    found: list[Diagnostic] = []

    def add(diag: Diagnostic) -> None:
        key = (diag.code, diag.location, diag.message)
        if key not in seen:
            seen.add(key)
            found.append(diag)

    for path in paths:
        cfg = config or TalkConfig(include_roots=default_roots(path))
        files: list[str] = []
        for variant in VARIANTS:
            try:
                expansion = expand_talk(path, variant, cfg, advisor=NameAdvisor if lint else None)
            except MacroError as exc:  # an unreadable talk, or strict mode's first error
                add(exc.diagnostic)
                break
            for diag in expansion.diagnostics:
                add(diag)
            files.extend(f for f in expansion.dependencies
                         if not f.startswith(os.path.abspath(cfg.macros_dir) + os.sep))
        if lint:
            roots = [*cfg.include_roots, os.path.dirname(os.path.dirname(os.path.abspath(path)))]
            for file in dict.fromkeys(files):
                for diag, _ in damaged_includes(file, load_source(file).text, roots):
                    add(diag)
    damaged = {(d.location.file, d.location.line) for d in found if d.code == "E-DAMAGED-INCLUDE"}
    # the stray braces of a damaged include line are the same problem, said once
    found = [d for d in found if not (d.code == "W-BRACE" and d.location
                                      and (d.location.file, d.location.line) in damaged)]
    found.sort(key=lambda d: (d.location.file, d.location.line, d.location.column)
               if d.location else ("", 0, 0))
    return found


def _write_one(job: tuple[str, str, TalkConfig, str]) -> tuple[str, list[Diagnostic]]:
    path, variant, config, target = job
    try:
        expansion = expand_talk(path, variant, config)
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
               jobs: int | None = None):
    """Expand many talks into ``out_dir`` (mirroring their folders); yields (path, diagnostics).

    Large batches are shared between worker processes; each keeps its own
    file and vocabulary caches warm across the talks it is given.
    """
    base = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
    work = [(p, variant, config, os.path.join(out_dir, os.path.relpath(os.path.abspath(p), base)))
            for p in paths]
    jobs = jobs or min(len(os.sched_getaffinity(0)), 4)
    if jobs < 2 or len(work) < 16:
        yield from map(_write_one, work)
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        # contiguous halves: talks of one folder share fragments, so each worker reuses more
        yield from pool.imap(_write_one, work, chunksize=-(-len(work) // jobs))
