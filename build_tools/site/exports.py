"""Handing the built talks to the exporters: every talk the build did not fail."""
from __future__ import annotations

from pathlib import Path

from ..config import VARIANTS, build_config, read_site_setting
from ..export.run import ExportResult, run_exports
from ..export.shared import PICTURES, ExportJob
from ..status import TalkStatus, withholds_page
from .options import SiteOptions
from .sources import diagrams_folder
from .variants import VariantResult, talk_problems

__all__ = ["export_built_talks"]


def export_built_talks(options: SiteOptions, project: Path, work: Path, docs: dict[str, str],
                       results: dict[str, VariantResult]) -> list[ExportResult]:
    """Export every talk the build did not fail; a failed talk keeps its last good exports."""
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
                                     options.slide_notes, str(work / "exports" / PICTURES)))
    return run_exports(export_jobs, options.jobs or None)
