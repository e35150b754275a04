"""Every pool of worker processes, with more than one unit of work each: the exports of
three talks on two workers, the variant builds, and a worker broken on purpose, which
costs only its own share, reported at each talk it held."""
from __future__ import annotations

import shutil

import pytest

from build_tools import workers
from build_tools.config import build_config
from build_tools.export.run import run_exports
from build_tools.export.shared import ExportJob
from build_tools.site.build import SiteOptions, build_site

from conftest import ROOT, require_module

TALKS = sorted(p for p in (ROOT / "talks").glob("*.md"))


@pytest.fixture()
def project(tmp_path):
    assert len(TALKS) >= 3, "the demo has three talks"
    shutil.copy(ROOT / "conf.py", tmp_path / "conf.py")
    for folder in ("includes", "diagrams", "macros", "talks"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def notebook_jobs(project, out):
    talks = sorted((project / "talks").glob("*.md"))
    return [ExportJob(str(t), t.stem, ("ipynb",), str(out), build_config(str(t)))
            for t in talks]


def test_the_export_pool_exports_three_talks_on_two_workers(project, tmp_path):
    nbformat = require_module("nbformat")
    jobs = notebook_jobs(project, tmp_path / "exports")
    results = run_exports(jobs, workers=2)
    assert [r.doc for r in results] == [j.doc for j in jobs]  # in the order asked
    for job, result in zip(jobs, results, strict=True):
        assert result.written == ["ipynb"], [d.format() for d in result.diagnostics]
        notebook = nbformat.read(tmp_path / "exports" / f"{job.doc}.ipynb", as_version=4)
        nbformat.validate(notebook)


def broken_start() -> None:
    raise ImportError("cannot import name 'gone' from 'build_tools.workers'")


def test_an_export_worker_that_cannot_start_is_an_error_at_each_of_its_talks(
        project, tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "start_worker", broken_start)
    jobs = notebook_jobs(project, tmp_path / "exports")
    results = run_exports(jobs, workers=2)  # no BrokenProcessPool reaches here
    assert [r.doc for r in results] == [j.doc for j in jobs]
    for job, result in zip(jobs, results, strict=True):
        assert result.failed and not result.written
        [diagnostic] = result.diagnostics
        assert diagnostic.code == "E-WORKER"
        assert diagnostic.location.file.endswith(f"{job.doc}.md")
        assert "worker process could not start (ImportError: cannot import name" in diagnostic.message
    assert not (tmp_path / "exports").exists() or not list((tmp_path / "exports").glob("*.ipynb"))


def test_every_variant_of_every_talk_is_built_in_parallel_processes(project):
    report = build_site(SiteOptions(project=str(project), out=str(project / "_build/site"),
                                    jobs=3))
    assert report.ok, report.failed
    site = project / "_build/site"
    for talk in (project / "talks").glob("*.md"):
        for variant in ("slides", "speaker-notes", "handout"):
            assert (site / variant / f"{talk.stem}.html").is_file(), (variant, talk.stem)


def test_a_variant_worker_that_cannot_start_fails_its_talks_without_a_traceback(
        project, monkeypatch):
    monkeypatch.setattr(workers, "start_worker", broken_start)
    report = build_site(SiteOptions(project=str(project), out=str(project / "_build/site"),
                                    jobs=3))
    assert not report.ok
    talks = {t.stem for t in (project / "talks").glob("*.md")}
    assert set(report.failed) == talks
    for problems in report.failed.values():
        assert any("worker process could not start (ImportError" in p for p in problems)


def thresholds(_chunk: list[int]) -> tuple[tuple[int, int, int], int]:
    import gc

    return gc.get_threshold(), gc.get_freeze_count()


def test_workers_collect_garbage_rarely_and_never_walk_what_they_inherited():
    outcomes = workers.map_chunks(thresholds, [[1], [2]], workers=2)
    for outcome in outcomes:
        assert outcome.failure == ""
        threshold, frozen = outcome.result
        assert threshold == workers.GC_THRESHOLDS
        assert frozen > 10_000  # the modules a worker inherits from the test process
