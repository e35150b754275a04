"""The stages import one way: engine <- myst <- sphinx_ext <- site <- authoring."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "build_tools"

# what each stage may not import (anything from a later stage or a tool built on it)
FORBIDDEN = {
    "engine": ("myst", "sphinx_ext", "site", "authoring", "api", "cli", "status"),
    "myst": ("sphinx_ext", "site", "authoring", "api", "cli"),
    "sphinx_ext": ("site", "authoring", "cli"),
    "site": ("authoring", "cli", "sphinx_ext"),
}


def imported_stages(path: Path) -> set[str]:
    """The build_tools subpackages or modules a file imports, relatively or absolutely."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level >= 2 and node.module:  # from ..x import y
                found.add(node.module.split(".")[0])
            elif node.level >= 2:  # from .. import x
                found.update(alias.name for alias in node.names)
            elif node.level == 0 and (node.module or "").startswith("build_tools."):
                found.add(node.module.split(".")[1])
    return found


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_stage_imports_flow_one_way(stage):
    bad = {str(path.relative_to(PACKAGE)): sorted(imported_stages(path) & set(FORBIDDEN[stage]))
           for path in (PACKAGE / stage).glob("*.py")}
    assert not {k: v for k, v in bad.items() if v}


def test_no_private_use_marks_in_the_pipeline():
    """Structure travels as records, never as private-use characters in text."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not any(0xE000 <= ord(c) <= 0xF8FF for c in text), path
        assert "\\ue0" not in text and "\\ue1" not in text, path
