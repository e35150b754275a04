"""Stage 2, expanding macros: ``\\include`` and what comes with it.

Part of the expander (``expander.Expander`` inherits it): resolving a target,
refusing what escapes the roots, reporting a missing file at its
``\\include`` with suggestions, detecting cycles and guard clashes, checking
commented-out includes, and replaying a recorded expansion of a file when
nothing it read has changed (``memo``).
"""
from __future__ import annotations

import os
import re
from typing import Any
from collections.abc import Callable

from ..config import TalkConfig, granted_roots
from ..diagnostics import Diagnostic, Severity
from ..lamd import refused_settings, settings_roots, snippet_dirs
from .memo import Recording, replay_out
from .output import Out
from .records import Missing
from ..paths import display_name, mapped_roots
from .source import (Frame, IncludeResolver, Resolution, SourceFile, load_source,
                     repository_roots)

INCLUDE_RE = re.compile(r"\\include\{([^{}]*)\}")
GUARD_RE = re.compile(r"\s*\\ifndef\{\s*([A-Za-z0-9_]+)\s*\}")


def resolution_key(res: Resolution) -> tuple[str | None, bool, str | None]:
    return (res.path, res.macro_file, res.refused)


class IncludeHandling:
    """The include half of the expander; every attribute it uses is the Expander's."""

    # what this half uses of the Expander (``expander.Expander.__init__`` sets each)
    state: Any
    resolver: IncludeResolver
    options: dict
    site: tuple
    steps: int
    dependencies: list[str]
    absent: list[str]
    includes: list[tuple[str, str, int]]
    recorders: list[Recording]
    _reported_files: set[str]
    note: Callable[..., None]
    wrote: Callable[..., None]
    lookup: Callable[[str], Any]
    report: Callable[..., Any]
    _generated: Callable[[], Any]
    include_frame: Frame | None
    vocabulary: bool
    limits: Any
    memo: Any
    memo_context: tuple
    _abort: Callable[..., Any]
    current: Callable[..., Any]
    expand: Callable[..., None]
    expand_region: Callable[..., Out]

    def _guard_clash(self, included: SourceFile) -> None:
        m = GUARD_RE.match(included.text)
        if not m:
            return
        guard = m.group(1)
        owner = self.state.guards.get(guard)
        self.note("guard", guard, owner)
        if self.lookup(guard) is None:
            self.state.guards[guard] = included.path
            self.wrote("guard", guard, included.path)
        elif owner and owner != included.path:
            self.report("W-GUARD-CLASH", Severity.WARNING,
                        f"this include does nothing: {display_name(included.path)} is guarded by "
                        f"'{guard}', which {display_name(owner)} already defined",
                        hint="give each fragment its own guard name")

    def _check_commented_includes(self, src: SourceFile, frame: Frame, a: int, b: int) -> None:
        """A commented-out include still names files lamd would read: they must exist.

        The includes of an existing commented-out file are followed too, as
        lamd would follow them; each missing one is reported at the comment.
        """
        if self.resolver is None:
            return
        for m in INCLUDE_RE.finditer(src.text, a, b):
            target = m.group(1).strip()
            if "\\" in target or not target:
                continue
            saved = self.site
            self.site = (frame, m.start())
            try:
                res = self.resolve(target, self.include_frame or frame)
                if res.path is None and not res.macro_file:
                    self._missing_include(target, res, Out(), "inside an HTML comment: ")
                elif res.path:
                    self._check_closure(target, res.path)
            finally:
                self.site = saved

    def _check_closure(self, name: str, path: str) -> None:
        seen, todo = {path}, [(name, path)]
        while todo:
            name, path = todo.pop()
            try:
                text = load_source(path).text
            except OSError:
                continue
            for m in INCLUDE_RE.finditer(text):
                target = m.group(1).strip()
                res = self.resolver.resolve_from(target, os.path.dirname(name), os.path.dirname(path))
                self.absent.extend(res.passed)
                self.note("include", (target, os.path.dirname(name), os.path.dirname(path)),
                          resolution_key(res))
                if res.path is None and not res.macro_file and "\\" not in target:
                    self._missing_include(target, res, Out(),
                                          f"inside an HTML comment, through {display_name(path)}: ")
                elif res.path and res.path not in seen:
                    seen.add(res.path)
                    todo.append((target, res.path))

    def resolve(self, target: str, including: Frame) -> Resolution:
        opened_dir = os.path.dirname(including.name) if including.parent is not None else ""
        name = (target, opened_dir, os.path.dirname(including.source.path))
        res = self.resolver.resolve_from(*name)
        self.note("include", name, resolution_key(res))
        self.absent.extend(res.passed)
        return res

    def _apply(self, rec: Recording) -> None:
        for (kind, name), value in rec.writes.items():
            self.state.put(kind, name, value)

    def _replay(self, rec: Recording, child: Frame, out: Out) -> None:
        mapped = replay_out(rec, child, out)
        self._apply(rec)
        diagnostics = [(*d[:3], mapped(d[3]) if d[3] else None, *d[4:]) for d in rec.diagnostics]
        recorders, self.recorders = self.recorders, []  # absorbed below, with the new frames
        try:
            for code, severity, message, frame, offset, hint, fix, subject in diagnostics:
                self.report(code, severity, message, at=(frame, offset) if frame else (None, 0),
                            hint=hint, fix=fix, subject=subject)
        finally:
            self.recorders = recorders
        if self.recorders:
            self.recorders[-1].absorb(rec, diagnostics)
        self.steps += rec.steps
        self.dependencies.extend(rec.dependencies)
        self.absent.extend(rec.absent)
        self.includes.extend(rec.includes)

    def _meta_include(self, src: SourceFile, frame: Frame, regions: list[tuple[int, int]],
                      params: dict[str, Out] | None, out: Out, offset: int) -> None:
        if not regions:
            self.report("E-INCLUDE", Severity.ERROR, "\\include needs a file name in braces")
            return
        target = self.expand_region(src, *regions[0], frame, params).text().strip()
        including = self.include_frame or frame
        if not target:
            self.report("E-INCLUDE", Severity.ERROR, "\\include{} names no file")
            return
        if self.resolver is None:
            self.report("E-INCLUDE-MISSING", Severity.ERROR, f"include file not found: {target}")
            return
        res = self.resolve(target, including)
        if res.macro_file:
            if res.legacy:
                self.report("W-LEGACY-MACROS", Severity.NOTICE,
                            f"\\include{{{target}}} names lamd's retired macro file; the built-in "
                            "vocabulary is used", hint="write \\include{talk-macros.gpp}")
            return
        if res.path is None:
            self._missing_include(target, res, out)
            return
        if res.relative_fallback:
            self.report("W-INCLUDE-RELATIVE", Severity.WARNING,
                        f"{target} was found only relative to the including file; lamd would not "
                        "find it", hint="write the path relative to an include root")
        if res.renamed_from:
            self.report("W-INCLUDE-RENAMED", Severity.WARNING,
                        f"{target} was renamed; using {res.path} (filename_changes.txt)")
        try:
            included = load_source(res.path, is_vocabulary=self.vocabulary)
        except OSError as exc:
            self.report("E-INCLUDE", Severity.ERROR, f"cannot read {target}: {exc.strerror}")
            return
        if including.contains(included.path) or (frame is not including and frame.contains(included.path)):
            names = []
            f: Frame | None = including
            while f is not None:
                names.append(f.source.display)
                f = f.parent
            cycle = " -> ".join(reversed(names)) + f" -> {included.display}"
            self.report("E-INCLUDE-CYCLE", Severity.ERROR, f"include cycle: {cycle}")
            return
        site_frame, site_offset = (self.site or (frame, offset))[:2]
        child = Frame(included, target, site_frame, site_offset)
        if child.depth() > self.limits.max_include_depth:
            self._abort("E-LIMIT", f"includes nested deeper than {self.limits.max_include_depth} "
                        "levels (limit max_include_depth)")
        self.dependencies.append(included.path)
        self.includes.append((including.source.path, included.path, site_frame.source.line_col(site_offset)[0]))
        self._guard_clash(included)
        self._report_source_problems(included, child)
        key = (self.memo_context, included.path, target) if self.memo is not None else None
        if key is not None:
            rec = self.memo.find(key, self.current)
            if rec is not None and not any(site_frame.contains(f.path) for f in rec.files):
                self._replay(rec, child, out)
                return
            rec = Recording(child, files=[included])
            self.recorders.append(rec)
            steps, deps, incs = self.steps, len(self.dependencies), len(self.includes)
            absent = len(self.absent)
        target_out = Out() if key is not None else out
        saved_frame, saved_site = self.include_frame, self.site
        self.include_frame, self.site = child, (child, 0)
        try:
            self.expand(included, 0, len(included.text), child, None, target_out)
        finally:
            self.include_frame, self.site = saved_frame, saved_site
            if key is not None:
                self.recorders.pop()
        if key is not None:
            rec.out, rec.steps = target_out, self.steps - steps
            rec.dependencies, rec.includes = self.dependencies[deps:], self.includes[incs:]
            rec.absent = self.absent[absent:]
            self.memo.keep(key, rec)
            if self.recorders:
                self.recorders[-1].absorb(rec)
            out.extend(target_out)

    def _missing_include(self, target: str, res: Resolution, out: Out, context: str = ""
                         ) -> None:
        suggestions: tuple[str, ...] = ()
        if res.refused:
            message = (f"include {target} resolves to {res.refused}, outside the talk's repository "
                       "and the include roots; refused")
            hint = "add its folder with -I DIR to allow it"
        else:
            message = f"{context}include file not found: {target}"
            hint = "searched " + ", ".join(display_name(d) for d in self.resolver.search_dirs())
            suggestions = self.resolver.suggest(target)
            if suggestions:
                hint = "did you mean " + " or ".join(suggestions) + "? " + hint
        self.note("option", "talk_dir", self.options.get("talk_dir"))  # the hint names it
        fix = ("include", target, suggestions[0]) if len(suggestions) == 1 else ()
        self.report("E-INCLUDE-MISSING", Severity.ERROR, message, hint=hint, fix=fix)
        out.add_block(Missing("include", target), self._generated())

    def _report_source_problems(self, src: SourceFile, frame: Frame) -> None:
        if src.problems and src.path not in self._reported_files:
            self._reported_files.add(src.path)
            for code, severity, message, offset in src.problems:
                self.report(code, severity, message, at=(frame, offset))


_RESOLVERS: dict[tuple, tuple[IncludeResolver, list[Diagnostic]]] = {}


def include_resolver(path: str, config: TalkConfig) -> tuple[IncludeResolver, list[Diagnostic]]:
    """The talk folder's include resolver, and the errors its settings' folders gave: the
    one search order every command follows (expansion, ``talks deps``, ``where-used``)."""
    folder = os.path.dirname(os.path.abspath(path))
    key = (folder, tuple(config.include_roots), config.macros_dir, config.image_root,
           tuple(config.bib_files), config.diagrams_dir)
    if key not in _RESOLVERS:
        # only the repository and the roots the user gave may be widened by settings
        given = repository_roots(path, config.include_roots, config.macros_dir,
                                 [config.image_root, config.diagrams_dir,
                                  *(os.path.dirname(b) for b in config.bib_files), *mapped_roots()])
        from_settings = settings_roots(folder, granted_roots(config))
        snippets = snippet_dirs(folder, from_settings)
        refused = refused_settings(folder, from_settings)
        roots = list(dict.fromkeys([*config.include_roots, *snippets]))
        _RESOLVERS[key] = (IncludeResolver(path, roots, config.macros_dir, given), refused)
    return _RESOLVERS[key]
