"""One configuration object, built in one place, for every entry point.

``TalkConfig`` holds every setting that changes how a talk is expanded and
rendered.  ``build_config`` makes it, in this order, each source overriding
the one before:

1. the defaults below;
2. the project's ``conf.py``: each field is the Sphinx value ``talks_<field>``
   (registered with Sphinx from ``OPTIONS``, the way MyST-Parser registers
   ``myst_*``);
3. the talk folder's lamd settings (``_config.yml``, then ``_lamd.yml``) for the
   keys that mean something here (``snippetsdir``);
4. command-line options.

``TalkConfig.sources`` says where each value came from (``talks config`` prints it).
"""
from __future__ import annotations

import functools
import os
import typing
from dataclasses import Field, dataclass, field, fields
from pathlib import Path

from .lamd import bibdir_files, diagrams_dir_setting, folder_settings, settings_roots
from .project import PACKAGE_DIR, find_project_root

PROJECT_MACROS = PACKAGE_DIR.parent / "macros"

VARIANTS = ("slides", "speaker-notes", "handout")
VARIANT_LABELS = {"slides": "Slides", "speaker-notes": "Speaker notes", "handout": "Handout"}

SYMBOLS = {
    "slides": ("HTML", "SLIDES", "DARKBACKGROUND"),
    "speaker-notes": ("HTML", "SLIDES", "SPEAKERNOTES"),
    "handout": ("HTML", "NOTES", "CODE", "EDIT", "EXERCISES"),
}
"""Build symbols per variant (docs/macro-language.md, "Build symbols")."""

CODE_LEVELS = {
    "none": (),
    "sparse": ("CODE",),
    "plot": ("CODE", "PLOTCODE"),
    "diagnostic": ("CODE", "PLOTCODE", "DISPLAYCODE", "HELPERCODE"),
    "full": ("CODE", "PLOTCODE", "DISPLAYCODE", "HELPERCODE", "MAGICCODE"),
}


@dataclass
class TalkConfig:
    include_roots: list[str] = field(default_factory=list,
                                     metadata={"doc": "Snippet roots searched by \\include, in order "
                                               "(after the talk's own folders)."})
    macros_dir: str = field(default=str(PROJECT_MACROS),
                            metadata={"doc": "The vocabulary, written in the macro language; "
                                      "talk-macros.gpp is its entry point."})
    diagrams_url: str = field(default="/diagrams",
                              metadata={"doc": "What \\diagramsDir expands to: a path Sphinx "
                                        "resolves from its source folder."})
    diagrams_dir: str | None = field(default=None,
                                     metadata={"doc": "The folder \\diagramsDir names on disk "
                                               "(default: the project's diagrams/)."})
    image_root: str | None = field(default=None,
                                   metadata={"doc": "The folder that /-rooted image paths name "
                                             "on disk.", "conf": False})
    github_base_url: str = field(default="https://github.com/lawrennd/snippets/edit/main/",
                                 metadata={"doc": "Where \\editme links point."})
    blog_base_url: str = field(default="http://inverseprobability.com/",
                               metadata={"doc": "What \\blogBaseUrl expands to."})
    code_level: str = field(default="sparse",
                            metadata={"doc": "Code shown in the handout: "
                                      + ", ".join(CODE_LEVELS) + "."})
    clean_comments: bool = field(default=True,
                                 metadata={"doc": "Leave HTML comments unexpanded (False: expand "
                                           "inside them, as gpp does)."})
    stop_at_error: bool = field(default=False,
                                metadata={"doc": "Stop expanding a talk at its first error.",
                                          "conf": False})
    symbols: dict[str, str] = field(default_factory=dict,
                                    metadata={"doc": "Extra NAME: VALUE definitions, as lamd's "
                                              "--meta-data."})
    speaker_notes_dark: bool = field(default=False,
                                     metadata={"doc": "Give the speaker-notes variant the deck's "
                                               "dark background symbol."})
    bib_files: list[str] = field(default_factory=list,
                                 metadata={"doc": "BibTeX files every talk may cite."})
    thanks_links: list[tuple[str, str]] = field(default_factory=list,
                                                metadata={"doc": "The closing slide's links as "
                                                          "(label, url); empty keeps the default."})
    pptx_reference: str | None = field(default=None,
                                       metadata={"doc": "The PowerPoint file (.pptx or .potx) "
                                                 "whose layouts and theme PPTX exports take."})
    step_timeout: float = field(default=180.0,
                                metadata={"doc": "Seconds each outside step of an export may "
                                          "take (one pandoc or Typst run, loading and printing "
                                          "one deck) before it is stopped and the talk's export "
                                          "fails."})
    max_slides: int = field(default=1500,
                            metadata={"doc": "The most slides a deck may have for its slide "
                                      "PDF and PPTX to be made (each slide costs the printer "
                                      "and pandoc time)."})
    reuse_includes: bool = field(default=True,
                                 metadata={"doc": "Replay an included file's recorded expansion "
                                           "when nothing it read has changed."})
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False,
                                    metadata={"conf": False})
    """Field name -> where its value came from (``conf.py``, ``_lamd.yml``, ``command line``)."""

    def variant_symbols(self, variant: str) -> tuple[str, ...]:
        symbols = list(SYMBOLS[variant])
        if variant == "handout":
            symbols = [s for s in symbols if s != "CODE"] + list(CODE_LEVELS.get(self.code_level, ("CODE",)))
        if variant == "speaker-notes" and self.speaker_notes_dark:
            symbols.append("DARKBACKGROUND")
        return tuple(symbols)

    def source_of(self, name: str) -> str:
        return self.sources.get(name, "default")


OPTIONS = tuple(f for f in fields(TalkConfig) if f.metadata.get("conf", True))
"""The fields a project sets in conf.py as ``talks_<name>``."""



def option_type(option: Field[typing.Any]) -> type:
    """The Python type a ``talks_<name>`` value must have (for Sphinx's checks)."""
    hint = _config_hints()[option.name]
    origin = typing.get_origin(hint) or hint
    return origin if isinstance(origin, type) else object


@functools.cache
def _config_hints() -> dict[str, typing.Any]:
    return typing.get_type_hints(TalkConfig)


PATH_LISTS = ("include_roots", "bib_files")
"""Fields whose values are paths, made absolute against the file that named them."""
PATHS = ("pptx_reference",)
"""Other fields whose value is one path, made absolute against the file that named it."""


def conf_values(namespace: dict, confdir: str | os.PathLike) -> dict:
    """The ``talks_*`` values of a conf.py namespace (or Sphinx config), paths made absolute."""
    values = {}
    for option in OPTIONS:
        key = f"talks_{option.name}"
        if key in namespace and namespace[key] is not None:
            value = namespace[key]
            if option.name in PATH_LISTS:
                value = [os.path.abspath(os.path.join(confdir, str(v))) for v in value]
            elif option.name in ("macros_dir", "diagrams_dir", *PATHS):
                value = os.path.abspath(os.path.join(confdir, str(value)))
            values[option.name] = value
    return values


_CONF_CACHE: dict[str, dict] = {}


def read_conf(project: str | os.PathLike) -> dict:
    """The ``talks_*`` values of ``project/conf.py``, without starting Sphinx."""
    path = os.path.join(project, "conf.py")
    stamp = os.stat(path).st_mtime_ns if os.path.isfile(path) else None
    cached = _CONF_CACHE.get(path)
    if cached is not None and cached["stamp"] == stamp:
        return cached["values"]
    values: dict = {}
    settings: dict = {}
    if stamp is not None:
        import runpy

        namespace = runpy.run_path(path, run_name="conf")
        values = conf_values(namespace, project)
        settings = {k: namespace[k] for k in SITE_SETTINGS if namespace.get(k) is not None}
    _CONF_CACHE[path] = {"stamp": stamp, "values": values, "settings": settings}
    return values


SITE_SETTINGS = ("talks_exports", "talks_notation")
"""conf.py values the site builder reads itself (they change no page Sphinx renders)."""


def read_site_setting(project: str | os.PathLike[str], name: str,
                      default: object = None) -> typing.Any:
    """One of ``SITE_SETTINGS`` from ``project/conf.py``, without starting Sphinx (whatever
    Python value conf.py gave it)."""
    read_conf(project)
    cached = _CONF_CACHE.get(os.path.join(project, "conf.py"), {})
    return cached.get("settings", {}).get(name, default)


def build_config(talk: str | os.PathLike | None = None, *, conf: dict | None = None,
                 project: str | os.PathLike[str] | None = None, **overrides: typing.Any) -> TalkConfig:
    """The configuration for the talks of one project, in the documented order.

    ``conf`` is the project's conf.py values (as ``conf_values`` returns them);
    when it is None they are read from ``project``/conf.py, the project being
    found from ``talk`` when not given.  ``overrides`` are command-line options.
    Path lists (``include_roots``, ``bib_files``) add to what came before.
    """
    if project is None and talk is not None:
        project = find_project_root(talk)
    config = TalkConfig()
    if project is not None and (Path(project) / "includes").is_dir():
        config.include_roots = [str(Path(project) / "includes")]
    if conf is None:
        conf = read_conf(project) if project else {}
    for name, value in conf.items():
        _set(config, name, value, "conf.py")
    command_line = {}
    for name, value in overrides.items():
        if value is None or (name in PATH_LISTS and not value):
            continue
        if name in PATH_LISTS:
            value = [os.path.abspath(v) for v in value]
        elif name == "diagrams_dir":
            value = os.path.abspath(value)
        command_line[name] = value
    _folder_settings(config, talk, granted_roots(config, command_line))
    for name, value in command_line.items():
        _set(config, name, value, "command line")
    return config


def granted_roots(config: TalkConfig, command_line: dict | None = None) -> list[str]:
    """The folders given from outside the talks' settings files, which those may name too:
    conf.py's (the project's code, reviewed as code) and the command line's.  What lamd's
    settings added to ``config`` is inside these already (``_folder_settings``)."""
    given = {**{name: getattr(config, name) for name in GRANTING}, **(command_line or {})}
    folders = [*given.get("include_roots", []), given.get("diagrams_dir"), given.get("macros_dir"),
               *(os.path.dirname(b) for b in given.get("bib_files", []))]
    return [str(f) for f in dict.fromkeys(folders) if f]


GRANTING = ("include_roots", "diagrams_dir", "macros_dir", "bib_files")
"""The settings whose folders lamd settings may then name (``lamd.settings_roots``)."""


def _folder_settings(config: TalkConfig, talk: str | os.PathLike[str] | None, granted: list[str]) -> None:
    """lamd's folder settings that override conf.py: ``diagramsdir``; ``bibdir`` adds to
    conf.py's bibliographies.  Their paths stay inside the project and the granted roots."""
    if talk is None:
        return
    folder = os.path.dirname(os.path.abspath(talk))
    allowed = settings_roots(folder, granted)
    diagrams = diagrams_dir_setting(folder, allowed)
    if diagrams:
        _set(config, "diagrams_dir", diagrams, "_lamd.yml")
    bibs = bibdir_files(folder, allowed)
    if bibs:
        _set(config, "bib_files", bibs, "_lamd.yml")
    reference = folder_settings(folder).get("potx")
    if reference is not None and isinstance(reference.value, str) and reference.value.strip():
        # relative to the settings' folder; confined where it is read (export/pptx.py)
        _set(config, "pptx_reference", os.path.join(reference.folder, reference.value.strip()),
             reference.source)


def _set(config: TalkConfig, name: str, value: typing.Any, source: str) -> None:
    if name in PATH_LISTS:
        value = list(dict.fromkeys([*getattr(config, name), *value]))
    setattr(config, name, value)
    config.sources[name] = source
