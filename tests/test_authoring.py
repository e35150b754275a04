"""Authoring tools: check's extra findings, --fix, new, deps, where-used."""
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from build_tools.api import check_talks, expand_talk
from build_tools.cli import main
from build_tools.config import VARIANTS, TalkConfig
from build_tools.engine.graph import find_talks
from build_tools.engine.includes import INCLUDE_RE

from conftest import ROOT, corpus_or_skip, seeds_or_skip
from helpers import write_repo

FRONT = "---\ntitle: T\n---\n"
DAMAGED = {27: "\\include{talk-macros.gpp}",
           61: "\\include{_compsci/includes/computer-laboratory.md}",
           62: "\\include{_accelerate/includes/ai-for-science.md}",
           104: "\\include{_accelerate/includes/rs-turing-ai-science.md}",
           105: "\\include{_accelerate/includes/ai-changing-science.md}",
           106: "\\include{_accelerate/includes/accelerate-programme.md}",
           107: "\\include{_compsci/includes/j-j-thomson.md}"}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_seed_fixture_is_the_supplied_talk():
    fixture = Path(__file__).parent / "fixtures" / "information-session.md"
    assert fixture.read_bytes() == (seeds_or_skip() / "information-session.md").read_bytes()


def test_check_reports_each_damaged_include_with_its_repair(seed_talk, monkeypatch):
    monkeypatch.chdir(seed_talk.parent.parent)
    result = run("check", "talks/information-session.md")
    assert result.exit_code == 1
    for line, repair in DAMAGED.items():
        pattern = rf"^talks/information-session\.md:{line}:1: error: damaged include directive"
        assert re.search(pattern, result.output, re.M), line
        assert f"replace the line with {repair}" in result.output


def test_fix_repairs_the_seed_so_that_it_expands_cleanly(seed_talk, monkeypatch):
    monkeypatch.chdir(seed_talk.parent.parent)
    original = seed_talk.read_text(encoding="utf-8")
    result = run("check", "--fix", "talks/information-session.md")
    assert result.exit_code == 0, result.output
    assert "7 repair(s)" in result.output
    assert Path(str(seed_talk) + ".orig").read_text(encoding="utf-8") == original
    lines = seed_talk.read_text(encoding="utf-8").split("\n")
    for number, repair in DAMAGED.items():
        assert lines[number - 1] == repair
    config = TalkConfig(include_roots=[str(seed_talk.parent.parent / "includes")],
                        image_root=str(seed_talk.parent.parent))
    for variant in VARIANTS:
        assert not expand_talk(str(seed_talk), variant, config).errors


MOJIBAKE = "---\ntitle: x\n---\nD\u00ef\u00bb\u00bfeadline for applications"
"""A byte-order mark read as Latin-1 inside a word, as in the supplied senior-ml-engineers page."""


@pytest.mark.parametrize("source", ["written here", "supplied seed"])
def test_mojibake_is_reported_and_fixed(tmp_path, monkeypatch, source):
    page = MOJIBAKE if source == "written here" else \
        (seeds_or_skip() / "senior-ml-engineers.md").read_text(encoding="utf-8")
    write_repo(tmp_path, {"talks/page.md": page})
    monkeypatch.chdir(tmp_path)
    result = run("check", "talks/page.md", "--fail-on", "warning")
    assert result.exit_code == 3 and "W-MOJIBAKE" in result.output
    result = run("check", "--fix", "talks/page.md")
    assert result.exit_code == 0
    assert "Deadline for applications" in (tmp_path / "talks/page.md").read_text(encoding="utf-8")
    assert "W-MOJIBAKE" not in result.output


def test_unknown_macro_did_you_mean_outside_math_only(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\newslides{A}\n$\\frak{x} \\notez$\n\\refernces\n"})
    found = check_talks([str(tmp_path / "talks/t.md")], TalkConfig())
    advice = {d.location.line: d.message for d in found if d.code == "W-UNKNOWN-MACRO"}
    assert "did you mean \\newslide?" in advice[4]
    assert "did you mean \\references?" in advice[6]
    assert 5 not in advice


def test_guard_clash_is_reported_at_the_silent_include(tmp_path):
    write_repo(tmp_path, {
        "talks/t.md": FRONT + "\\include{_a/includes/one.md}\n\\include{_a/includes/two.md}\n",
        "includes/_a/includes/one.md": "\\ifndef{shared}\n\\define{shared}\nONE\n\\endif\n",
        "includes/_a/includes/two.md": "\\ifndef{shared}\n\\define{shared}\nTWO\n\\endif\n",
    })
    found = check_talks([str(tmp_path / "talks/t.md")], TalkConfig(include_roots=[str(tmp_path / "includes")]))
    [clash] = [d for d in found if d.code == "W-GUARD-CLASH"]
    assert clash.location.line == 5 and "one.md" in clash.message and "two.md" in clash.message


def test_missing_image_names_the_closest_existing_one(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\includediagram{\\diagramsDir/x/overveiw}\n",
                          "diagrams/x/overview.svg": "<svg/>"})
    e = expand_talk(str(tmp_path / "talks/t.md"), "handout", TalkConfig(image_root=str(tmp_path)))
    [missing] = [d for d in e.diagnostics if d.code == "W-IMAGE-MISSING"]
    assert missing.location.line == 4 and "overview.svg" in missing.hint
    assert "Missing image: `/diagrams/x/overveiw.svg`" in e.text


def test_new_talk_expands_cleanly_in_every_variant(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "talks").mkdir()
    result = run("new", "Gaussian Processes: a First Look", "--author", "Ada Lovelace")
    assert result.exit_code == 0, result.output
    talk = tmp_path / "talks" / "gaussian-processes-a-first-look.md"
    assert talk.exists()
    config = TalkConfig(include_roots=[str(tmp_path / "includes")], image_root=str(tmp_path))
    for variant in VARIANTS:
        e = expand_talk(str(talk), variant, config)
        assert not e.diagnostics, [str(d) for d in e.diagnostics]
    assert run("new", "Gaussian Processes: a First Look").exit_code == 1


def test_deps_prints_the_include_tree(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run("deps", "talks/accelerate-spark-information-session.md")
    lines = result.output.splitlines()
    assert lines[0] == "talks/accelerate-spark-information-session.md"
    assert "    _accelerate/includes/ai-changing-science.md  (includes/" in result.output
    assert any("ai-changing-science.md  (again: guarded)" in line for line in lines)


def test_where_used_agrees_with_a_direct_scan_of_the_corpus(monkeypatch):
    corpus = corpus_or_skip()
    roots = [corpus / "snippets", corpus / "talks"]
    talks = [t for t in find_talks(corpus / "talks")]

    def direct(talk: Path) -> set[Path]:
        seen, todo = set(), [talk]
        while todo:
            for target in INCLUDE_RE.findall(todo.pop().read_text(encoding="utf-8", errors="replace")):
                for root in [talk.parent, talk.parent.parent, *roots]:
                    candidate = (root / target.strip()).resolve()
                    if candidate.is_file():
                        if candidate not in seen:
                            seen.add(candidate)
                            todo.append(candidate)
                        break
        return seen

    closures = {Path(t): direct(Path(t)) for t in talks}
    fragments = ["_ml/includes/what-is-ml.md", "_ai/includes/embodiment-factors.md",
                 "_data-science/includes/data-science-africa.md"]
    for fragment in fragments:
        path = (corpus / "snippets" / fragment).resolve()
        assert path.is_file(), f"the corpus has no {fragment}: choose fragments it has"
        expected = sorted(str(t.relative_to(corpus)) for t, c in closures.items() if path in c)
        monkeypatch.chdir(corpus)
        result = run("where-used", fragment, "--talks", "talks", "-I", "snippets", "-I", "talks")
        assert result.exit_code == 0, result.output
        assert sorted(result.output.split()) == expected
        assert expected
