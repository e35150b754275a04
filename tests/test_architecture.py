"""The package's imports flow one way, down the stage order, with no circles and no
private names taken from another module; every form of import counts, at module level
and inside functions."""
from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_NAME = "build_tools"
PACKAGE = Path(__file__).resolve().parent.parent / PACKAGE_NAME

LAYERS = (
    ("diagnostics", "workers", "yamlfile", "formats", "media"),
    ("paths",),
    ("project",),
    ("lamd",),
    ("config", "bibliography"),
    ("engine",),
    ("myst",),
    ("status", "navigation"),
    ("api",),
    ("sphinx_ext",),
    ("export",),
    ("site",),
    ("authoring",),
    ("cli",),
)
"""Each top-level module or subpackage, lowest first: a part may import only from its own
layer's part or from the layers below."""

RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


@dataclass(frozen=True)
class Import:
    importer: str
    """The importing module, dotted (``build_tools.site.build``)."""
    target: str
    """The module imported from, dotted."""
    names: tuple[str, ...]
    """The names taken from ``target`` (empty for ``import x``)."""
    line: int

    def __str__(self) -> str:
        names = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.importer}:{self.line} -> {self.target}{names}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").is_file()


def resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import names."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package(importer):
        base = base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_in(source: str, importer: str) -> list[Import]:
    """Every import of the package's own modules in ``source``, however written and wherever."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(importer, alias.name, (), node.lineno) for alias in node.names
                      if alias.name.split(".")[0] == PACKAGE_NAME]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(importer, node)
            if target.split(".")[0] != PACKAGE_NAME:
                continue
            names = tuple(alias.name for alias in node.names)
            # ``from . import x`` imports the module x when there is one
            modules = [n for n in names if (PACKAGE.parent / f"{target}.{n}".replace(".", "/")).with_suffix(".py").is_file()
                       or is_package(f"{target}.{n}")]
            found += [Import(importer, f"{target}.{n}", (), node.lineno) for n in modules]
            rest = tuple(n for n in names if n not in modules)
            if rest:
                found.append(Import(importer, target, rest, node.lineno))
    return found


def package_files() -> list[Path]:
    """The package's modules (its templates are data, not code)."""
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "templates" not in p.relative_to(PACKAGE).parts]


def package_imports() -> list[Import]:
    found = []
    for path in package_files():
        found += imports_in(path.read_text(encoding="utf-8"), module_name(path))
    return found


def part(module: str) -> str:
    """The stage a module belongs to: its top-level module or subpackage."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def against_the_order(imports: list[Import]) -> list[str]:
    return [str(i) for i in imports
            if part(i.target) and RANK[part(i.target)] > RANK[part(i.importer)]]


def private_names(imports: list[Import]) -> list[str]:
    return [str(i) for i in imports if i.target != i.importer
            and any(n.startswith("_") and not n.startswith("__") for n in i.names)]


def cycles(imports: list[Import]) -> list[list[str]]:
    """The import circles between modules (strongly connected groups of two or more)."""
    graph: dict[str, set[str]] = {}
    for i in imports:
        target = i.target if i.target in MODULES else i.target.rsplit(".", 1)[0]
        if target != i.importer and target in MODULES:
            graph.setdefault(i.importer, set()).add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


MODULES = {module_name(p) for p in package_files()}


def test_every_part_of_the_package_has_a_place_in_the_order():
    parts = {part(m) for m in MODULES if part(m)}
    assert parts <= set(RANK), sorted(parts - set(RANK))


def test_imports_flow_one_way():
    assert against_the_order(package_imports()) == []


def test_no_module_takes_another_modules_private_names():
    assert private_names(package_imports()) == []


def test_no_import_circles():
    assert cycles(package_imports()) == []


def users_imports() -> list[Import]:
    """What the tests, the benchmarks and CI's checks import from the package."""
    root = PACKAGE.parent
    files = [p for folder in ("tests", "benchmarks", ".ci") for p in sorted((root / folder).rglob("*.py"))]
    return [i for path in files
            for i in imports_in(path.read_text(encoding="utf-8"), path.stem)]


def test_every_imported_name_exists():
    """What the type checker also reports, checked here for the package's own names and for
    every user of them in the repository (a name that moved breaks its importers)."""
    missing = []
    for i in [*package_imports(), *users_imports()]:
        module = importlib.import_module(i.target)
        missing += [f"{i}: no {n}" for n in i.names if n != "*" and not hasattr(module, n)
                    and not is_package(f"{i.target}.{n}")]
    assert missing == []


def defined_names(module: str) -> set[str]:
    """What a module defines itself, or offers in ``__all__``: what others may import from it."""
    path = PACKAGE.parent / module.replace(".", "/")
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
                names.update(ast.literal_eval(node.value))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_names_are_imported_from_where_they_are_defined():
    """Not from a module that only imported them: one home for each name."""
    passed_on = [f"{i}: {n}" for i in [*package_imports(), *users_imports()]
                 for n in i.names if n != "*" and not is_package(f"{i.target}.{n}")
                 and n not in defined_names(i.target)]
    assert passed_on == []


def format_modules() -> set[str]:
    """The export formats' modules, one per record of ``formats.FORMAT_TABLE``."""
    from build_tools.formats import FORMAT_TABLE

    return {f"{PACKAGE_NAME}.export.{record.module}" for record in FORMAT_TABLE}


def between_formats(imports: list[Import], formats: set[str]) -> list[str]:
    """Imports of one format's module from another's: formats sit side by side, and what
    they share lives below them (``export/shared.py``)."""
    return [str(i) for i in imports if i.importer in formats and i.target in formats
            and i.target != i.importer]


def test_export_formats_never_import_each_other():
    assert between_formats(package_imports(), format_modules()) == []


def test_every_format_module_writes_reads_back_and_names_its_settings():
    for module in sorted(format_modules()):
        loaded = importlib.import_module(module)
        assert all(callable(getattr(loaded, name, None)) for name in ("write", "read_back", "settings")), module


# -- the checks themselves fail on what they are there to catch ---------------------------

def test_an_import_between_formats_is_caught():
    found = between_formats(imports_in("from .typeset import rasterize\n", "build_tools.export.pptx"),
                            format_modules())
    assert found == ["build_tools.export.pptx:1 -> build_tools.export.typeset (rasterize)"]


def test_a_back_import_inside_a_function_is_caught():
    source = "def f():\n    from ..site.build import helper\n    return helper()\n"
    found = against_the_order(imports_in(source, "build_tools.export.run"))
    assert found == ["build_tools.export.run:2 -> build_tools.site.build (helper)"]


@pytest.mark.parametrize("source", [
    "import build_tools.cli\n",
    "from build_tools import cli\n",
    "from .. import cli\n",
    "def f():\n    import build_tools.cli as c\n",
])
def test_every_form_of_import_is_seen(source):
    assert against_the_order(imports_in(source, "build_tools.engine.run"))


def test_a_private_name_from_another_module_is_caught():
    found = private_names(imports_in("from .build import _swap\n", "build_tools.site.shards"))
    assert found == ["build_tools.site.shards:1 -> build_tools.site.build (_swap)"]


def test_a_circle_is_caught():
    imports = [Import("build_tools.site.build", "build_tools.site.pages", ("find",), 1),
               Import("build_tools.site.pages", "build_tools.site.build", ("is_talk",), 1)]
    assert cycles(imports) == [["build_tools.site.build", "build_tools.site.pages"]]


def test_no_private_use_marks_in_the_pipeline():
    """Structure travels as records, never as private-use characters in text."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not any(0xE000 <= ord(c) <= 0xF8FF for c in text), path
        assert "\\ue0" not in text and "\\ue1" not in text, path
