"""Handing the built talks to the exporters: every talk the build did not fail.

A talk's PPTX needs only its deck (``export.run.made_ahead``): it is written while Sphinx
builds the variants, checked against the deck's page once the deck is built, and put in
place once the build knows the talk is published."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..api import prepared_file
from ..config import VARIANTS, build_config, read_site_setting
from ..export.run import ExportResult, ExportsAhead, made_ahead, run_exports
from ..export.shared import PICTURES, ExportJob
from ..status import TalkStatus, withholds_page
from .options import SiteOptions
from .sources import diagrams_folder
from .variants import VariantResult, talk_problems

__all__ = ["Ahead", "ahead_of_site", "export_built_talks"]


def export_built_talks(options: SiteOptions, project: Path, work: Path, docs: dict[str, str],
                       results: dict[str, VariantResult],
                       ahead: ExportsAhead | None = None) -> list[ExportResult]:
    """Export every talk the build did not fail; a failed talk keeps its last good exports.
    What ``ahead`` began is put in place, not made again."""
    return run_exports(_jobs(options, project, work, docs, results), options.jobs or None, ahead)


@dataclass
class Ahead:
    """The exports made ahead of the site, at the three moments the build gives them."""

    exports: ExportsAhead
    begin: Callable[[], None]
    """Once the decks are prepared, before Sphinx starts: every talk's export is begun, the
    largest deck first, and written while Sphinx builds the variants (the build does not
    know yet which talks Sphinx fails: their exports are dropped)."""
    built: Callable[[str, VariantResult], None]
    """What ``run_variants`` calls as each variant is built: the deck lets them be checked."""


def ahead_of_site(options: SiteOptions, project: Path, work: Path, docs: dict[str, str]
                  ) -> Ahead | None:
    """The exports made ahead, their pictures begun now (while the bibliographies are
    cleaned, a core is free); None when no format asked for is made ahead, or the build
    makes no deck to check them against."""
    if not any(made_ahead(fmt) for fmt in options.exports) or "slides" not in options.variants:
        return None
    ahead = ExportsAhead(options.jobs or None)
    ahead.draw_first(_jobs(options, project, work, docs, {}))

    def begin() -> None:
        ahead.start(_jobs(options, project, work, docs, {}), before_decks=True)

    def built(variant: str, _result: VariantResult) -> None:
        if variant == "slides":
            ahead.decks_built()
    return Ahead(ahead, begin, built)


def _jobs(options: SiteOptions, project: Path, work: Path, docs: dict[str, str],
          results: dict[str, VariantResult]) -> list[ExportJob]:
    """The export of every talk none of ``results`` failed."""
    diagrams = diagrams_folder(project, list(docs), options.diagrams_dir)
    notation = read_site_setting(str(project), "talks_notation")
    export_jobs = []
    for talk, doc in docs.items():
        if any(not r.ok or withholds_page(r.talks.get(doc, TalkStatus()), talk_problems(
                r.talks.get(doc, TalkStatus()), options.strict)) for r in results.values()):
            continue
        config = build_config(talk, project=str(project), include_roots=options.include_roots,
                              bib_files=options.bib_files, diagrams_dir=options.diagrams_dir)
        pages = {v: str(work / v / "html" / f"{doc}.html") for v in VARIANTS}
        export_jobs.append(ExportJob(talk, doc, tuple(options.exports), str(work / "exports"), config,
                                     pages, str(diagrams) if diagrams else None, notation,
                                     options.slide_notes, str(work / "exports" / PICTURES),
                                     prepared_file(str(work / "prepared"), doc, "slides")))
    return export_jobs
