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
    ("diagnostics", "workers", "yamlfile", "formats", "media", "timings", "views"),
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

INNER_LAYERS = {
    "engine": (("records", "source", "unknown", "texnames", "people"), ("output", "talkfile", "advice"),
               ("memo",), ("includes",),
               ("graph", "expander"), ("primitives",), ("vocabulary",), ("run",)),
    "myst": (("anchors", "paths"), ("emit",), ("mathnames",)),
    "sphinx_ext": (("locations", "images", "typography"), ("reading", "replay"),
                   ("assets", "citations", "figures", "htmlassets", "keptbib", "links", "navigation", "notes",
                    "parsing", "placeholders", "searchindex", "speedups")),
    "export": (("tools", "citations", "standins", "sanitize", "tree"),
               ("typst_process", "typst_child", "markdown", "browser"),
               ("images", "completeness"), ("shared",),
               # the formats, side by side: none imports another (below)
               ("notebook", "documents", "typeset", "slides_pdf", "pptx"),
               ("run",)),
    "site": (("pages", "publish", "summary", "sources", "fragments", "decks", "unchanged"),
             ("discovery",),
             ("variants",), ("index_page",), ("navigation", "shards"), ("options",), ("exports",),
             ("build",)),
    "authoring": (("ci", "lint", "scaffold", "serve"),),
}
"""The same rule inside each subpackage: its modules, lowest first."""

INNER_RANK = {(package, module): rank for package, layers in INNER_LAYERS.items()
              for rank, modules in enumerate(layers) for module in modules}


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
    """A folder of modules, with or without ``__init__.py`` (a namespace package is
    imported as a module all the same)."""
    folder = PACKAGE.parent / module.replace(".", "/")
    return folder.is_dir() and any(folder.glob("*.py"))


def is_module(module: str) -> bool:
    return is_package(module) or (PACKAGE.parent / module.replace(".", "/")).with_suffix(".py").is_file()


def resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import names."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package(importer):
        base = base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


IMPORTERS = {"import_module", "__import__"}
"""Functions that import a module named by a string (``importlib.import_module``)."""


def imports_in(source: str, importer: str, attributes: bool = True) -> list[Import]:
    """Every import of the package's own modules in ``source``, however written and wherever:
    import statements, ``importlib.import_module`` and ``__import__`` with a literal name, and
    each attribute taken from a module bound to a name (``import build_tools`` then
    ``build_tools.site.build.x``, or ``from . import build`` then ``build._swap()``; only
    with ``attributes``: the tests reuse module names for other things)."""
    found = []
    bound: dict[str, str] = {}
    """Name in this source -> the package's module it is bound to."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE_NAME:
                    found.append(Import(importer, alias.name, (), node.lineno))
                    name = alias.asname or alias.name.split(".")[0]
                    bound[name] = alias.name if alias.asname else PACKAGE_NAME
        elif isinstance(node, ast.ImportFrom):
            target = resolve(importer, node)
            if target.split(".")[0] != PACKAGE_NAME:
                continue
            names = tuple(alias.name for alias in node.names)
            # ``from . import x`` imports the module x when there is one
            modules = [a for a in node.names if is_module(f"{target}.{a.name}")]
            found += [Import(importer, f"{target}.{a.name}", (), node.lineno) for a in modules]
            bound.update({a.asname or a.name: f"{target}.{a.name}" for a in modules})
            rest = tuple(n for n in names if n not in {a.name for a in modules})
            if rest:
                found.append(Import(importer, target, rest, node.lineno))
        elif isinstance(node, ast.Call) and _called(node) in IMPORTERS and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            target = _string_target(node, importer)
            if target.split(".")[0] == PACKAGE_NAME:
                found.append(Import(importer, target, (), node.lineno))
    return found + (_attribute_imports(tree, importer, bound) if attributes else [])


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _string_target(node: ast.Call, importer: str) -> str:
    """The module ``import_module("..x", package)`` names (relative to the importer's package)."""
    name = node.args[0].value
    if not name.startswith("."):
        return name
    level = len(name) - len(name.lstrip("."))
    relative = ast.ImportFrom(module=name[level:] or None, names=[], level=level)
    return resolve(importer, relative)


def _attribute_imports(tree: ast.AST, importer: str, bound: dict[str, str]) -> list[Import]:
    """``name.a.b`` for a name bound to a module: the deepest module of the chain, and the
    attribute taken from it."""
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue  # only whole chains: ``a.b.c``, not its ``a.b``
        chain, root = [], node
        while isinstance(root, ast.Attribute):
            chain.append(root.attr)
            root = root.value
        if not isinstance(root, ast.Name) or root.id not in bound:
            continue
        module, rest = bound[root.id], chain[::-1]
        while rest and is_module(f"{module}.{rest[0]}"):
            module = f"{module}.{rest.pop(0)}"
        found.append(Import(importer, module, tuple(rest[:1]), node.lineno))
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


def inner_part(module: str) -> tuple[str, str] | None:
    """(subpackage, module) for a module inside a subpackage of the package."""
    parts = module.split(".")
    return (parts[1], parts[2]) if len(parts) > 2 else None


def against_the_inner_order(imports: list[Import]) -> list[str]:
    """Imports from a higher module of the importer's own subpackage."""
    wrong = []
    for i in imports:
        here, there = inner_part(i.importer), inner_part(i.target)
        if here and there and here[0] == there[0] and here != there \
                and INNER_RANK[there] > INNER_RANK[here]:
            wrong.append(str(i))
    return wrong


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


def test_every_module_of_a_subpackage_has_a_place_in_its_order():
    inner = {inner_part(m) for m in MODULES if inner_part(m) and inner_part(m)[0] in INNER_LAYERS}
    assert inner <= set(INNER_RANK), sorted(inner - set(INNER_RANK))
    assert set(INNER_LAYERS) == {part(m) for m in MODULES if is_package(m) and part(m)}


def test_imports_flow_one_way_inside_each_subpackage():
    assert against_the_inner_order(package_imports()) == []


def test_every_subpackage_is_a_regular_package():
    """Without ``__init__.py`` a folder is a namespace package, which import rules and
    tools read differently."""
    folders = {p.parent for p in package_files()}
    assert sorted(str(f.relative_to(PACKAGE)) for f in folders
                  if not (f / "__init__.py").is_file()) == []


def test_no_module_takes_another_modules_private_names():
    assert private_names(package_imports()) == []


def test_no_import_circles():
    assert cycles(package_imports()) == []


def users_imports() -> list[Import]:
    """What the tests, the benchmarks and CI's checks import from the package."""
    root = PACKAGE.parent
    files = [p for folder in ("tests", "benchmarks", ".ci") for p in sorted((root / folder).rglob("*.py"))]
    return [i for path in files
            for i in imports_in(path.read_text(encoding="utf-8"), path.stem, attributes=False)]


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


@pytest.mark.parametrize("source, importer, expected", [
    ("def f():\n    from .. import site\n", "build_tools.engine.run", "build_tools.site"),
    ("import build_tools\nbuild_tools.site.build.build_site()\n", "build_tools.engine.run",
     "build_tools.site.build (build_site)"),
    ("import importlib\nimportlib.import_module('build_tools.site.build')\n",
     "build_tools.engine.run", "build_tools.site.build"),
    ("from importlib import import_module\nimport_module('..cli', 'build_tools.engine')\n",
     "build_tools.engine.run", "build_tools.cli"),
    ("__import__('build_tools.export.run')\n", "build_tools.myst.emit", "build_tools.export.run"),
    ("import build_tools.site as s\ns.build.build_site()\n", "build_tools.export.run",
     "build_tools.site.build (build_site)"),
])
def test_each_way_round_the_order_is_caught(source, importer, expected):
    found = against_the_order(imports_in(source, importer))
    assert any(f.split(" -> ")[1] == expected for f in found), found


def test_a_private_name_taken_through_a_module_is_caught():
    source = "from . import build\n\ndef f():\n    return build._swap()\n"
    found = private_names(imports_in(source, "build_tools.site.shards"))
    assert found == ["build_tools.site.shards:4 -> build_tools.site.build (_swap)"]


@pytest.mark.parametrize("source, importer", [
    ("from .run import expand\n", "build_tools.engine.source"),
    ("from . import run\n", "build_tools.export.shared"),
    ("def f():\n    from .build import build_site\n", "build_tools.site.discovery"),
])
def test_a_back_import_inside_a_subpackage_is_caught(source, importer):
    assert against_the_inner_order(imports_in(source, importer))


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
