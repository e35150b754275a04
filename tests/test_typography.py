"""Quotes, dashes and ellipses are made while MyST parses, as pandoc and Sphinx would make them,
and never inside code, math or an address shown as a link."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import require_module
from test_sphinx_build import ROOTS, build

require_module("myst_parser")

TALK = """---
title: Typography
---

\\section{Quotes}

\\notes{"Double" and 'single' quotes, don't -- a range 1--2, a pause --- then... more. . . """ \
    """and `code "as" -- written...`, $a--b$, <https://example.org/a--b...c>.}
"""


def test_the_parser_makes_the_typographic_forms() -> None:
    from myst_parser.config.main import MdParserConfig
    from myst_parser.mdit_to_docutils.base import DocutilsRenderer
    from myst_parser.parsers.mdit import create_md_parser

    from build_tools.sphinx_ext import typography

    md = create_md_parser(MdParserConfig(enable_extensions={"dollarmath"}), DocutilsRenderer)
    typography.enable(md)
    inline = md.parse('"Double" don\'t 1--2 a---b wait... so . . . `x--y...` $c--d$ <https://e.org/a--b...>')[1]
    texts = "".join(t.content for t in inline.children if t.type == "text")
    assert "\u201cDouble\u201d" in texts and "don\u2019t" in texts
    assert "1\u20132" in texts and "a\u2014b" in texts and texts.count("\u2026") == 2
    kept = {t.type: t.content for t in inline.children if t.type in ("code_inline", "math_inline")}
    assert kept == {"code_inline": "x--y...", "math_inline": "c--d"}
    assert "https://e.org/a--b..." in texts  # the address shown is the address


@pytest.mark.parametrize("smartquotes", [True, False])
def test_handout_shows_typographic_text_unless_conf_turns_it_off(tmp_path: Path, smartquotes: bool) -> None:
    project = tmp_path / "p"
    shutil.copytree(ROOTS / "test-three-talks", project)
    (project / "talks" / "alpha.md").write_text(TALK, encoding="utf-8")
    read, warnings, out = build(project, "handout", smartquotes=smartquotes)
    html = (out / "talks" / "alpha.html").read_text(encoding="utf-8")
    typographic = "\u201cDouble\u201d and \u2018single\u2019 quotes, don\u2019t \u2013 a range 1\u20132, " \
                  "a pause \u2014 then\u2026 more\u2026 and"
    plain = "&quot;Double&quot; and 'single' quotes, don't -- a range 1--2, a pause --- then... more. . . and"
    assert (typographic if smartquotes else plain) in html
    assert '<span class="pre">written...</span>' in html and r"\(a--b\)" in html
    assert ">https://example.org/a--b...c</a>" in html  # the address shown is the address
