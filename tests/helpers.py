"""Small builders for tests: a talk repository in a temporary folder."""
from __future__ import annotations

from pathlib import Path

from build_tools.api import expand_talk
from build_tools.config import TalkConfig


def write_repo(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (path -> text) under ``root``; talks go in talks/, snippets in includes/."""
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
    return root


def expand(root: Path, talk: str, variant: str = "handout", **config):
    config.setdefault("include_roots", [str(root / "includes")])
    return expand_talk(str(root / talk), variant, TalkConfig(**config))


def codes(expansion) -> list[str]:
    return [d.code for d in expansion.diagnostics]
