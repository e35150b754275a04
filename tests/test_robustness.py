"""Hostile input: every problem is a located diagnostic, never a traceback, and limits hold."""
import os
import time

import pytest

from build_tools.diagnostics import Severity

from helpers import codes, expand, write_repo

FRONT = "---\ntitle: T\n---\n"
VARIANTS = ("slides", "speaker-notes", "handout")


def expand_all(root, talk="talks/t.md", **config):
    return [expand(root, talk, v, **config) for v in VARIANTS]


def located(expansion, code):
    found = [d for d in expansion.diagnostics if d.code == code]
    assert found, f"no {code} in {[str(d) for d in expansion.diagnostics]}"
    return found[0]


# -- no crashes ---------------------------------------------------------------------

@pytest.mark.parametrize("call", ["\\__heading", "\\__svg{a}{b}", "\\__image{a}{b}{c}{d}{e}{f}",
                                  "\\__count{a}{b}"])
def test_internal_macros_with_the_wrong_number_of_arguments(tmp_path, call):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\n" + call + "\n"})
    for e in expand_all(tmp_path):
        diag = located(e, "E-PRIMITIVE-ARGS")
        assert (diag.location.line, diag.location.column) == (5, 1)


@pytest.mark.parametrize("field", ["date: 2024-13-45", "author: 12", "author: true", "author: 1.5",
                                   "bibliography: 3", "bibliography: [1, {a: b}]"])
def test_front_matter_values_of_an_odd_shape(tmp_path, field):
    write_repo(tmp_path, {"talks/t.md": f"---\ntitle: T\n{field}\n---\nx\n"})
    for e in expand_all(tmp_path):
        assert not e.errors
        if not field.startswith("date"):
            assert str(located(e, "W-FRONTMATTER").location).endswith("t.md:3:1")


def test_date_that_is_no_date_stays_as_written(tmp_path):
    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\ndate: 2024-13-45\n---\nx\n"})
    assert expand(tmp_path, "talks/t.md").talk.meta["date"] == "2024-13-45"


def test_self_referencing_yaml_anchor(tmp_path):
    write_repo(tmp_path, {"talks/t.md": "---\ntitle: &a [*a]\n---\nx\n"})
    diag = located(expand(tmp_path, "talks/t.md"), "E-FRONTMATTER")
    assert "refers to the value that contains it" in diag.message
    assert diag.location.line == 2


def test_billion_laughs_fails_fast(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    write_repo(tmp_path, {"talks/t.md": "---\n" + "\n".join(lines) + "\n---\nx\n"})
    start = time.perf_counter()
    diag = located(expand(tmp_path, "talks/t.md"), "E-FRONTMATTER")
    assert time.perf_counter() - start < 1
    assert "MAX_YAML_VALUES" in diag.message and diag.location.line > 2


def test_yaml_error_in_the_middle_points_at_its_line_and_column(tmp_path):
    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\nvenue: V\nauthor: [a, b\ndate: 2024\n---\nx\n"})
    diag = located(expand(tmp_path, "talks/t.md"), "E-FRONTMATTER")
    # the flow sequence opened on line 4 is never closed; PyYAML notices at line 5, column 5
    assert (diag.location.line, diag.location.column) == (5, 5)
    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\nvenue: V\n  bad: indent\ndate: 2024\n---\nx\n"})
    diag = located(expand(tmp_path, "talks/t.md"), "E-FRONTMATTER")
    assert (diag.location.line, diag.location.column) == (4, 6)


def test_nul_byte_in_an_image_path(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\includepng{a\x00b}\n![x](c\x00d.png)\n"})
    for e in expand_all(tmp_path):
        assert str(located(e, "W-ENCODING").location).endswith("t.md:4:14")
