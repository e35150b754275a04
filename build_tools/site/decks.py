"""Each talk's deck expanded once, before Sphinx starts, in worker processes."""
from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from ..api import (PreparedStamps, config_key, current_prepared, page_emit_options, prepare_talk,
                   prepared_file, save_prepared)
from ..config import TalkConfig, build_config, conf_values, read_conf
from ..diagnostics import MacroError
from ..timings import StageTime, rows, taken
from ..workers import cpu_count, map_chunks

__all__ = ["prepare_decks"]


def prepare_decks(docs: dict[str, str], src: Path, confdir: Path, overrides: dict, folder: Path,
                  jobs: int | None = None) -> tuple[dict[str, PreparedStamps], list[StageTime]]:
    """Expand each talk's deck once, before Sphinx starts, with the settings its build will have.

    The deck's build reads the record instead of expanding the talk, and the handout's
    build takes its links' slide anchors from it.  A record still true to its files is kept.
    Returns what each document's record holds (``PreparedStamps``; a talk that cannot be
    read has none), and where worker processes spent their time (this process keeps its
    own sums).
    """
    conf = {**read_conf(confdir), **conf_values(overrides, confdir)}
    diagrams = overrides.get("talks_command_line_diagrams") or None
    work = []
    made_with: dict[str, tuple[str, str]] = {}  # document -> its record's file, and settings
    decks: dict[str, PreparedStamps] = {}
    configs: dict[str, tuple[TalkConfig, str]] = {}  # the settings are a folder's
    stamps: dict[str, tuple[int, int] | None] = {}
    for talk, doc in docs.items():
        path = os.path.realpath(talk)
        folder_of_talk = os.path.dirname(path)
        if folder_of_talk not in configs:
            config = build_config(path, conf=conf, image_root=str(src), diagrams_dir=diagrams)
            configs[folder_of_talk] = config, config_key(config)
        config, key = configs[folder_of_talk]
        file = prepared_file(str(folder), doc, "slides")
        current = current_prepared(file, key, stamps)
        if current is not None:
            decks[doc] = current
        else:
            work.append((path, config, file))
            made_with[doc] = file, key
    timings = _prepare_all(work, jobs)
    for doc, (file, key) in made_with.items():  # one that could not be made stays out of date
        made = current_prepared(file, key, stamps)
        if made is not None:
            decks[doc] = made
    return decks, timings


def _prepare_all(work: list[tuple[str, TalkConfig, str]], jobs: int | None) -> list[StageTime]:
    workers = min(jobs or cpu_count(), cpu_count())
    if len(work) < 8 or workers < 2:  # a few talks: not worth starting processes
        _prepare_decks(work)
        return []
    # contiguous runs: talks of one folder share fragments, so each worker reuses more;
    # a talk whose worker died has no record, and its deck's build expands it itself
    size = -(-len(work) // workers)
    outcomes = map_chunks(_prepare_decks, [work[i:i + size] for i in range(0, len(work), size)],
                          workers)
    return [t for n, o in enumerate(outcomes) for t in rows(o.result or {}, f"deck worker {n + 1}")]


def _prepare_decks(jobs: list[tuple[str, TalkConfig, str]]) -> dict[str, tuple[float, int]]:
    """Prepare each deck; what a worker process spent on them (``timings.taken``: the sums a
    forked worker inherited are not its own)."""
    in_worker = multiprocessing.parent_process() is not None
    if in_worker:
        taken()
    for path, config, file in jobs:
        try:
            save_prepared(prepare_talk(path, "slides", config, page_emit_options()), file)
        except MacroError:  # the deck's build reports it, at its place
            pass
        except OSError:  # no record: the deck's build expands the talk itself
            pass
    return taken() if in_worker else {}
