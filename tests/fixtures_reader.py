"""Reads golden-file fixtures: ``## title`` cases made of ``~~~ name`` blocks."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path



@dataclass
class Case:
    title: str
    blocks: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    talk_files: dict[str, str] = field(default_factory=dict)


def read_cases(path: Path) -> list[Case]:
    """Cases start at ``## `` lines outside blocks; blocks run from ``~~~ name`` to ``~~~``."""
    cases: list[Case] = []
    block: tuple[str, str | None] | None = None
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if block is None:
            if line.startswith("## "):
                cases.append(Case(line[3:].strip()))
            elif line.startswith("~~~ ") and cases:
                kind, _, arg = line[4:].strip().partition(" ")
                block, body = (kind, arg or None), []
            continue
        if line == "~~~":
            kind, arg = block
            text = "\n".join(body) + "\n"
            if kind == "file":
                cases[-1].files[arg] = text
            elif kind == "talkfile":
                cases[-1].talk_files[arg] = text
            else:
                cases[-1].blocks[kind] = text
            block = None
        else:
            body.append(line)
    return cases


def normalise(text: str) -> str:
    """Spec §2.9: trailing blanks dropped, blank-line runs collapsed, ends stripped."""
    lines = [line.rstrip(" \t") for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line and out and not out[-1]:
            continue
        out.append(line)
    text = "\n".join(out).strip("\n")
    return "" if text == "(nothing)" else text
