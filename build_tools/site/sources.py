"""The generated Sphinx source folder: a link per talk and page, the diagrams, a talk list."""
from __future__ import annotations

import html
import os
from pathlib import Path

from ..config import VARIANTS, build_config
from ..diagnostics import MacroError
from ..engine.talkfile import read_talk
from ..lamd import diagrams_dir_candidates
from ..project import find_project_root
from ..paths import display_name

__all__ = ["prepare_sources", "prune_outputs", "diagrams_folder", "diagrams_not_found"]

def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _link(target: str, link: Path) -> None:
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)


def prepare_sources(src: Path, project: Path, talks: dict[str, str],
                    pages: dict[str, str] | None = None, diagrams_dir: str | None = None,
                    listed: dict[str, str] | None = None) -> list[str]:
    """The generated source folder: a link per talk and page, the diagrams, an index page
    listing ``listed`` (default: the talks; a shard lists every talk of the project).

    Returns the documents that are gone since the last build (deleted or renamed)."""
    src.mkdir(parents=True, exist_ok=True)
    linked = {**talks, **(pages or {})}
    wanted = {src / f"{doc}.md" for doc in linked.values()}
    removed = []
    for path in list(src.rglob("*.md")):
        if path.is_symlink() and path not in wanted:
            path.unlink()
            removed.append(path.relative_to(src).with_suffix("").as_posix())
    for talk, doc in linked.items():
        _link(os.path.realpath(talk), src / f"{doc}.md")
    diagrams = diagrams_folder(project, list(listed or talks), diagrams_dir)
    if diagrams is not None:
        _link(str(diagrams), src / "diagrams")
    elif (src / "diagrams").is_symlink():
        (src / "diagrams").unlink()
    lines = ["# Talks", "", '<p><a href="../index.html">All talks and their variants</a></p>', ""]
    for talk, doc in sorted((listed or talks).items(), key=lambda kv: kv[1]):
        try:
            title = str(read_talk(talk).meta.get("title") or doc)
        except MacroError:  # unreadable: Sphinx reports it when it reads the talk
            title = doc
        # a plain link, not {doc}: a shard lists talks it does not build, and its list
        # must be the page a build of every talk makes
        title = html.escape(title.replace("`", "'").replace("<", "(").replace(">", ")"))
        lines.append(f'- <a class="reference internal" href="{html.escape(doc)}.html">{title}</a>')
    _write_if_changed(src / "index.md", "\n".join(lines) + "\n")
    return removed


def prune_outputs(work: Path, removed: list[str]) -> None:
    """Sphinx leaves the pages of removed documents behind: take them out of every variant."""
    for variant in VARIANTS:
        for doc in removed:
            page = work / variant / "html" / f"{doc}.html"
            if page.is_file():
                page.unlink()


def diagrams_folder(project: Path, talks: list[str], given: str | None = None) -> Path | None:
    """What ``/diagrams`` names, linked into Sphinx's source folder so that Sphinx copies
    the images it is given: ``--diagrams``, else the first talk's configured folder
    (``diagramsdir``, ``talks_diagrams_dir``), else the talks' project's ``diagrams/``."""
    if given:
        return Path(given).resolve()
    # the settings are a folder's, so one talk of each folder answers for all its talks
    firsts: dict[str, str] = {}
    for talk in talks:
        firsts.setdefault(os.path.dirname(os.path.abspath(talk)), talk)
    one_per_folder = list(firsts.values())
    for talk in one_per_folder:
        configured = build_config(talk).diagrams_dir
        if configured and os.path.isdir(configured):
            return Path(configured).resolve()
    for talk in one_per_folder:
        root = find_project_root(talk)
        if root is not None and (root / "diagrams").is_dir():
            return (root / "diagrams").resolve()
    return (project / "diagrams").resolve() if (project / "diagrams").is_dir() else None


def diagrams_not_found(project: Path, talks: list[str], given: str | None = None) -> str | None:
    """One warning for a build whose talks' diagrams folder is nowhere (instead of
    thousands of missing images), naming every place looked and how to give it."""
    if diagrams_folder(project, talks, given) is not None:
        return None
    looked: dict[str, None] = {}
    for folder in dict.fromkeys(os.path.dirname(os.path.abspath(t)) for t in talks):
        looked.update(dict.fromkeys(diagrams_dir_candidates(folder)[1]))
    if not looked:  # no lamd settings name one: images are wherever the talks say
        return None
    looked[str(project / "diagrams")] = None
    home = [p for p in looked if p.startswith("$HOME/")]
    how = (f"map its repository (TALKS_PATH_MAP='{home[0].rsplit('/', 1)[0]}=DIR'), "
           if home else "")
    shown = ", ".join(dict.fromkeys(p if p.startswith("$") else display_name(p) for p in looked))
    return (f"no diagrams folder, so the talks show no diagrams: looked in {shown}; {how}"
            "or give --diagrams DIR (README: Configuration) [W-DIAGRAMS-MISSING]")
