"""Sharded builds: the shards of a project, merged, are the site one build makes, file for file.

Nothing is excluded from the comparison: the site never holds what legitimately
differs between two Sphinx runs (``.buildinfo`` with its configuration hashes,
``objects.inv``, ``_sources``, the doctrees: ``SKIP_IN_SITE``), the per-variant
search index is merged into the one a single build writes, and the shard
manifest (``_talks-shard.json``) is not copied into the merged site.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from build_tools.cli import main
from build_tools.site.build import SiteOptions, build_site
from build_tools.site.shards import MANIFEST, MergeError, Shard, merge_sites, shard_documents

from helpers import assert_same_site, five_talks

BROKEN = "\n\\include{_shared/includes/no-such-fragment.md}\n"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return five_talks(tmp_path / "five-talks")


def build(project: Path, out: str, shard: Shard | None = None):
    return build_site(SiteOptions(out=str(project / out), project=str(project), shard=shard))


def build_shards(project: Path, count: int) -> list[Path]:
    sites = []
    for index in range(1, count + 1):
        shard = Shard(index, count)
        build(project, f"_build/{shard.folder}", shard)
        sites.append(project / "_build" / shard.folder)
    return sites


def test_shards_split_every_talk_once_by_sorted_name():
    docs = {f"/p/talks/{n}.md": n for n in ("gamma", "alpha", "epsilon", "beta", "delta")}
    shares = [sorted(shard_documents(docs, Shard(i, 3)).values()) for i in (1, 2, 3)]
    assert shares == [["alpha", "epsilon"], ["beta", "gamma"], ["delta"]]


def test_merged_shards_equal_a_one_machine_build(project, monkeypatch):
    monkeypatch.chdir(project)  # index rows name each talk's source relative to here
    single = project / "_build/site"
    assert build(project, "_build/site").ok
    sites = build_shards(project, 3)
    assert all((site / MANIFEST).is_file() for site in sites)
    assert not (sites[0] / "handout/beta.html").exists()  # a shard builds only its own talks

    merged = project / "_build/merged"
    report = merge_sites(sites, merged)
    assert report.talks == 5 and report.failed == {}
    assert_same_site(merged, single)
    # lamd's address of each deck forwards to it, in the merged site as in the one build's
    forward = (merged / "slides/beta.slides.html").read_text(encoding="utf-8")
    assert 'content="0; url=beta.html"' in forward and "Beta" in forward
    assert sorted(p.name for p in merged.glob("slides/*.slides.html")) == [
        f"{doc}.slides.html" for doc in ("alpha", "beta", "delta", "epsilon", "gamma")]
    search = (merged / "handout/searchindex.js").read_text(encoding="utf-8")
    assert all(f'"{doc}"' in search for doc in ("alpha", "beta", "gamma", "delta", "epsilon",
                                                 "pages/about"))

    # a talk that breaks keeps its last good pages in its shard; the index marks it, as one
    # build does
    gamma = project / "talks/gamma.md"
    gamma.write_text(gamma.read_text(encoding="utf-8") + BROKEN, encoding="utf-8")
    assert not build(project, "_build/site").ok
    assert not build(project, "_build/site-shard-2-of-3", Shard(2, 3)).ok
    report = merge_sites(sites, merged)
    assert list(report.failed) == ["gamma"]
    assert (merged / "handout/gamma.html").is_file()
    assert "build failed" in (merged / "index.html").read_text(encoding="utf-8")
    assert json.loads((merged / "_talks-status.json").read_text())["handout"]["gamma"] is True
    assert_same_site(merged, single)


def test_merge_refuses_an_incomplete_or_mixed_set(project, monkeypatch):
    monkeypatch.chdir(project)
    sites = build_shards(project, 2)
    with pytest.raises(MergeError, match=r"shard\(s\) 2 of 2 missing"):
        merge_sites(sites[:1], project / "_build/merged")
    with pytest.raises(MergeError, match="is shard 1/2 again"):
        merge_sites([sites[0], sites[0]], project / "_build/merged")
    with pytest.raises(MergeError, match="is not a shard site"):
        merge_sites([project / "talks"], project / "_build/merged")
    assert not (project / "_build/merged").exists()

    result = CliRunner().invoke(main, ["merge", str(sites[0]), "--out", str(project / "_build/m")])
    assert result.exit_code == 1 and "missing" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("given, message", [("3/2", "counted from 1 to 2"), ("0/2", "counted from 1"),
                                            ("1/0", "at least 1"), ("half", "is not I/N")])
def test_a_wrong_shard_is_a_usage_error(given, message, project, monkeypatch):
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--shard", given])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_merge_prints_the_sites_size_and_warns_near_the_pages_limit(project, monkeypatch):
    monkeypatch.chdir(project)
    sites = build_shards(project, 2)
    result = CliRunner().invoke(main, ["merge", *map(str, sites), "--out", "_build/merged"])
    assert result.exit_code == 0, result.output
    size = float(re.search(r"site size: ([\d.]+) MB in \d+ files", result.output).group(1))
    assert 0.5 < size < 100 and "warning" not in result.output
    with open(sites[0] / "big.bin", "wb") as fh:  # sparse: 900 MB that take no disk
        fh.truncate(900_000_000)
    result = CliRunner().invoke(main, ["merge", *map(str, sites), "--out", "_build/merged"])
    assert re.search(r"warning: the site is 0\.9\d GB; GitHub Pages publishes at most 1 GB",
                     result.output), result.output
