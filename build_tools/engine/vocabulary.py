"""The macros in force before a talk starts: build symbols, primitives and ``macros/``.

A vocabulary is loaded once per variant and configuration and shared, read
only, by every talk expanded with it.  See ``docs/macro-language.md#build-symbols``.
"""
from __future__ import annotations

import os

from ..config import TalkConfig
from ..diagnostics import Diagnostic, MacroError, Severity
from .expander import Call, Expander, ExpansionState, Primitive
from .people import PEOPLE_FILE, people_source, read_people, stamp as people_stamp
from .primitives import PRIMITIVES
from .source import Frame, IncludeResolver, load_source, text_source
from .talkfile import Talk
from .expander import Definition


def _let(ex: Expander, call: Call) -> None:
    """``\\__let{new}{old}``: give an existing macro or primitive a second name."""
    if len(call.regions) == 2:
        new, old = (call.src.text[a:b].strip().lstrip("\\") for a, b in call.regions)
        value = ex.lookup(old)
        if value is not None:
            ex.set_macro(new, value)


def define_text(macros: dict, name: str, value: str) -> None:
    """Define a parameterless macro whose body is ``value`` (build variables, symbols)."""
    src = text_source(value, f"<{name}>")
    src.is_vocabulary = True
    macros[name] = Definition(name, (), src, 0, len(value), Frame(src, src.display))


_LOADED: dict[tuple, tuple[dict, list[str], list[Diagnostic], tuple[int, int]]] = {}


def load_vocabulary(variant: str, config: TalkConfig) -> tuple[dict, list[str], list[Diagnostic]]:
    """(macros, files read, diagnostics) for ``variant``; reloaded when the entry file changes."""
    symbols = config.variant_symbols(variant)
    key = (variant, symbols, tuple(sorted(config.symbols.items())), config.macros_dir,
           tuple(config.thanks_links))
    entry_path = os.path.join(config.macros_dir, "talk-macros.gpp")
    people_path = os.path.join(config.macros_dir, "people.yml")
    stamp = (os.stat(entry_path).st_mtime_ns if os.path.exists(entry_path) else 0,
             people_stamp(people_path))
    cached = _LOADED.get(key)
    if cached is not None and cached[3] == stamp:
        return cached[0], cached[1], cached[2]
    if not os.path.exists(entry_path):
        raise MacroError(Diagnostic("E-VOCABULARY", Severity.ERROR,
                                    f"the macro vocabulary is missing: {entry_path}"),
                         absent=(entry_path,))
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
    vocab = load_source(entry_path, is_vocabulary=True)
    ex = Expander(state, IncludeResolver(entry_path, [], config.macros_dir), variant=variant,
                  vocabulary=True)
    ex.expand_document(vocab, 0, "talk-macros.gpp")
    files = [vocab.path, *ex.dependencies]
    diagnostics = ex.diagnostics
    if os.path.exists(people_path):
        diagnostics += define_people(state, people_path, variant)
        files.append(people_path)
    _LOADED[key] = (state.macros, files, diagnostics, stamp)
    return state.macros, files, diagnostics


_PEOPLE: dict[str, tuple[int, dict, list[Diagnostic]]] = {}


def define_people(state: ExpansionState, path: str, variant: str) -> list[Diagnostic]:
    """Define the portrait macros of a people file (people.py); its problems. The
    definitions are made once per file and shared, as the vocabulary's are."""
    cached = _PEOPLE.get(path)
    if cached is None or cached[0] != people_stamp(path):
        people, problems = read_people(path)
        source = text_source(people_source(people), path)
        source.is_vocabulary = True
        made = ExpansionState({})
        ex = Expander(made, IncludeResolver(path, [], os.path.dirname(path)), variant=variant,
                      vocabulary=True)
        ex.expand_document(source, 0, os.path.basename(path))
        cached = _PEOPLE[path] = (people_stamp(path), made.macros, [*problems, *ex.diagnostics])
    _, definitions, problems = cached
    state.macros.update(definitions)
    return list(problems)


def project_people(resolver: IncludeResolver, talk_dir: str) -> str | None:
    """A project's or course's own people file (lamd's ``_people/people.yml``), if any."""
    return resolver.resolve_from(PEOPLE_FILE, "", talk_dir).path


def define_variables(macros: dict, talk: Talk, config: TalkConfig) -> None:
    """The build variables lamd passes on gpp's command line (``\\diagramsDir`` ...)."""
    define_text(macros, "diagramsDir", config.diagrams_url.rstrip("/"))
    define_text(macros, "writeDiagramsDir",
                str(talk.meta.get("writediagramsdir", "diagrams")).rstrip("/") or ".")
    define_text(macros, "scriptsDir", str(talk.meta.get("scriptsdir", "scripts")).rstrip("/"))
    define_text(macros, "githubBaseUrl", config.github_base_url)
    define_text(macros, "githubDownloadUrl", "https://raw.githubusercontent.com/lawrennd/talks/gh-pages/")
    define_text(macros, "blogBaseUrl", config.blog_base_url)
    define_text(macros, "atomicBlogBaseUrl", "http://the-atomic-human.ai/")
    define_text(macros, "guardianBaseUrl", "https://www.theguardian.com/media-network/")
    if talk.meta.get("assignment") is True:
        define_text(macros, "ASSIGNMENT", "1")
