"""The include graph: which file includes which, for ``talks deps`` and ``talks where-used``.

Built from the ``\\include`` lines themselves, resolved with the same search
as expansion, so it answers "what could this talk read" independently of
variant and of include guards: a maintainer about to edit a fragment wants
every talk that names it, directly or through other fragments.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import TalkConfig
from .includes import INCLUDE_RE, include_resolver
from ..paths import display_name
from .source import IncludeResolver, load_source



@dataclass
class Edge:
    target: str
    """The include as written."""
    line: int
    path: str | None
    """The file it resolves to; None when missing (or a macro file)."""
    macro_file: bool = False


@dataclass
class IncludeGraph:
    edges: dict[str, list[Edge]] = field(default_factory=dict)

    def children(self, path: str) -> list[Edge]:
        return self.edges.get(path, [])

    def closure(self, path: str) -> set[str]:
        seen: set[str] = set()
        todo = [path]
        while todo:
            for edge in self.children(todo.pop()):
                if edge.path and edge.path not in seen:
                    seen.add(edge.path)
                    todo.append(edge.path)
        return seen


IncludeLines = Callable[[str], "list[tuple[str, int]]"]
"""A file's ``\\include`` lines: (the include as written, its line), in order."""


def include_lines(path: str) -> list[tuple[str, int]]:
    """The ``\\include`` lines of the file at ``path``, read from it."""
    source = load_source(path)
    return [(m.group(1).strip(), source.line_col(m.start())[0])
            for m in INCLUDE_RE.finditer(source.text)]


def scan(talks: list[str], config: TalkConfig, lines_of: IncludeLines = include_lines
         ) -> IncludeGraph:
    """Follow every ``\\include`` from the talks, resolving names as expansion would;
    ``lines_of`` gives a file's include lines (a site build keeps them between builds)."""
    graph = IncludeGraph()
    resolvers: dict[str, IncludeResolver] = {}  # one per talk folder: its search order
    for talk in talks:
        talk = os.path.abspath(talk)
        folder = os.path.dirname(talk)
        if folder not in resolvers:  # as expansion searches: its snippetsdir too
            resolvers[folder] = include_resolver(talk, config)[0]
        resolver = resolvers[folder]
        todo = [(talk, "")]  # a file, and the folder of the name it was opened by
        while todo:
            path, opened_dir = todo.pop()
            if path in graph.edges:
                continue
            edges = graph.edges[path] = []
            for target, line in lines_of(path):
                res = resolver.resolve_from(target, opened_dir, os.path.dirname(path))
                edges.append(Edge(target, line, res.path and os.path.abspath(res.path), res.macro_file))
                if res.path:
                    todo.append((os.path.abspath(res.path), os.path.dirname(target)))
    return graph


def dependency_tree(talk: str, graph: IncludeGraph) -> list[str]:
    """The include tree of a talk as indented lines; repeats and cycles are marked, not followed."""
    lines = [display_name(talk)]
    shown: set[str] = set()

    def walk(path: str, depth: int, stack: tuple[str, ...]) -> None:
        for edge in graph.children(path):
            pad = "  " * depth
            if edge.macro_file:
                lines.append(f"{pad}{edge.target}  (built-in vocabulary)")
            elif edge.path is None:
                lines.append(f"{pad}{edge.target}  MISSING (line {edge.line})")
            elif edge.path in stack:
                lines.append(f"{pad}{edge.target}  (cycle)")
            elif edge.path in shown:
                lines.append(f"{pad}{edge.target}  (again: guarded)")
            else:
                shown.add(edge.path)
                lines.append(f"{pad}{edge.target}  ({display_name(edge.path)})")
                walk(edge.path, depth + 1, stack + (edge.path,))

    walk(os.path.abspath(talk), 1, (os.path.abspath(talk),))
    return lines


def where_used(fragment: str, talks: list[str], graph: IncludeGraph) -> list[str]:
    """The talks whose include closure holds ``fragment``."""
    target = os.path.abspath(fragment)
    return [t for t in talks if target in graph.closure(os.path.abspath(t))]


def find_talks(folder: str | os.PathLike) -> list[str]:
    """Talk sources under a folder: Markdown files, skipping generated and template folders."""
    skip = {"_posts", "_layouts", "_includes", "_notes", "_notebooks", "_build", "includes"}
    found = []
    for path in sorted(Path(folder).rglob("*.md")):
        if not skip.intersection(path.relative_to(folder).parts[:-1]):
            found.append(str(path))
    return found
