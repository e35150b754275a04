"""Conformance examples as golden files, one test per case and variant (docs/macro-language.md, "Examples")."""
from pathlib import Path

import pytest
import yaml

from build_tools.api import expand_talk
from build_tools.config import TalkConfig
from build_tools.myst.emit import EmitOptions

from fixtures_reader import normalise, read_cases

CASES = read_cases(Path(__file__).parent / "fixtures" / "conformance.md")
VARIANTS = ("slides", "speaker-notes", "handout")


def run_case(case, variant, tmp_path):
    roots = tmp_path / "snippets"
    talk_dir = tmp_path / "talks" / "_demo"
    talk_dir.mkdir(parents=True)
    roots.mkdir()
    for name, body in case.files.items():
        (roots / name).parent.mkdir(parents=True, exist_ok=True)
        (roots / name).write_text(body, encoding="utf-8")
    for name, body in case.talk_files.items():
        (talk_dir / name).write_text(body, encoding="utf-8")
    options = yaml.safe_load(case.blocks.get("options", "")) or {}
    front = "---\ntitle: Conformance\n"
    if "writediagramsdir" in options:
        front += f"writediagramsdir: '{options['writediagramsdir']}'\n"
    talk = talk_dir / "talk.md"
    talk.write_text(front + "---\n" + case.blocks["input"], encoding="utf-8")
    config = TalkConfig(include_roots=[str(roots)], clean_comments=not options.get("compat"),
                        code_level=options.get("code_level", "sparse"))
    emit_options = EmitOptions(title_block=False, initial_heading_level=2)
    return expand_talk(str(talk), variant, config, emit_options=emit_options)


PARAMS = [pytest.param(case, variant, id=f"{case.title.split()[0]}-{variant}")
          for case in CASES for variant in VARIANTS if variant in case.blocks]


@pytest.mark.parametrize("case,variant", PARAMS)
def test_conformance_output(case, variant, tmp_path):
    expansion = run_case(case, variant, tmp_path)
    assert normalise(expansion.document.body) == normalise(case.blocks[variant])


DIAG_PARAMS = [pytest.param(case, id=case.title.split()[0]) for case in CASES
               if "diagnostics" in case.blocks]


@pytest.mark.parametrize("case", DIAG_PARAMS)
def test_conformance_diagnostics(case, tmp_path):
    codes = set()
    for variant in VARIANTS:
        sub = tmp_path / variant
        sub.mkdir()
        codes |= {d.code for d in run_case(case, variant, sub).diagnostics}
    for expected in case.blocks["diagnostics"].split():
        assert expected in codes
