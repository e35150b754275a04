"""The expander: gpp semantics, include search, located diagnostics, limits."""
import os

import pytest

from build_tools.diagnostics import MacroError, Severity
from build_tools.engine.output import origin_of

from helpers import codes, expand, write_repo

FRONT = "---\ntitle: T\n---\n"


def body(expansion):
    return expansion.document.body


def test_define_forms_and_parameters(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + (
        "\\define{width}{80%}\\define{\\height}{50%}\\define{\\pair{a}{b}}{(\\b,\\a)}\n"
        "\\width \\height \\pair{1}{2} \\pair{1} \\pair{1}{2}{3}\n")})
    assert body(expand(tmp_path, "talks/t.md")).strip() == "80% 50% (2,1) (,1) (2,1)"


def test_arguments_are_evaluated_before_substitution_even_when_unused(tmp_path):
    # gpp evaluates every argument of a macro with a body, used or not
    write_repo(tmp_path, {"talks/t.md": FRONT + (
        "\\define{\\first{a}{b}}{<\\a>}\\first{x}{\\define{B}}\\ifdef{B}B\\endif\n")})
    assert body(expand(tmp_path, "talks/t.md")).strip() == "<x>B"


def test_redefinition_replaces_the_number_of_parameters(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + (
        "\\define{\\p{x}}{1\\x}\\define{\\p{x}{y}}{2\\x\\y}\\p{a}{b}\n")})
    assert body(expand(tmp_path, "talks/t.md")).strip() == "2ab"


def test_longest_identifier_and_non_identifier_backslashes(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + (
        "\\define{N}{[n]}$\\N1 \\N_i \\N$ \\\\N \\{ \\@x\n")})
    assert body(expand(tmp_path, "talks/t.md")).strip() == "$\\N1 \\N_i [n]$ \\[n] \\{ @x"


def test_nested_conditionals_mid_line(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + (
        "\\define{A}x \\ifdef{A}a\\ifndef{B}b\\else c\\endif\\else d\\endif y "
        "\\ifeq{\\A}{ }E\\endif\\ifeq{ 1}{1 }one\\endif\n")})
    assert body(expand(tmp_path, "talks/t.md")).strip() == "x ab y Eone"


def test_unbalanced_braces_are_located_warnings(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "line\n\\notes{never closed\nmore\n"})
    e = expand(tmp_path, "talks/t.md")
    brace = [d for d in e.diagnostics if d.code == "W-BRACE"]
    assert brace and str(brace[0].location) == f"{os.path.relpath(tmp_path / 'talks/t.md')}:5:7"
    assert "never closed" in body(e)  # nothing is lost


def test_unterminated_conditional_and_stray_endif(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\endif\nkeep\n\\ifdef{NOPE}\nlost\n"})
    e = expand(tmp_path, "talks/t.md")
    conds = [d for d in e.diagnostics if d.code == "W-CONDITIONAL"]
    assert [d.location.line for d in conds] == [4, 6]
    assert body(e).strip() == "keep"


def test_missing_include_names_position_roots_and_suggestion(tmp_path):
    write_repo(tmp_path, {
        "talks/t.md": FRONT + "\\include{_ml/includes/a.md}\n",
        "includes/_ml/includes/a.md": "A\n\n  \\include{_ml/includes/what-is-ml.md}\n",
        "includes/_ml/includes/what-is-machine-learning.md": "x",
    })
    e = expand(tmp_path, "talks/t.md")
    [missing] = [d for d in e.diagnostics if d.code == "E-INCLUDE-MISSING"]
    assert missing.severity == Severity.ERROR
    assert str(missing.location).endswith("includes/_ml/includes/a.md:3:3")
    assert str(missing.chain[0]).endswith("talks/t.md:4:1")
    assert "_ml/includes/what-is-machine-learning.md" in missing.hint
    assert "includes" in missing.hint
    assert "Missing include: `_ml/includes/what-is-ml.md`" in body(e)


def test_include_cycle_shows_the_chain(tmp_path):
    write_repo(tmp_path, {
        "talks/t.md": FRONT + "\\include{_x/includes/a.md}\n",
        "includes/_x/includes/a.md": "a \\include{_x/includes/b.md}",
        "includes/_x/includes/b.md": "b \\include{_x/includes/a.md}",
    })
    e = expand(tmp_path, "talks/t.md")
    [cycle] = [d for d in e.diagnostics if d.code == "E-INCLUDE-CYCLE"]
    assert "a.md -> " in cycle.message and cycle.message.endswith("a.md")
    assert len(cycle.chain) == 2


def test_includes_cannot_escape_the_repository(tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text("SECRET")
    repo = tmp_path / "repo"
    write_repo(repo, {"talks/t.md": FRONT + f"\\include{{{outside}}}\n\\include{{../../secret.md}}\n"})
    e = expand(repo, "talks/t.md")
    assert "SECRET" not in e.text
    assert codes(e).count("E-INCLUDE-MISSING") == 2
    widened = expand(repo, "talks/t.md", include_roots=[str(repo / "includes"), str(tmp_path)])
    assert "SECRET" in widened.text


def test_origins_follow_includes_and_macros(tmp_path):
    write_repo(tmp_path, {
        "talks/t.md": FRONT + "intro\n\\include{_a/includes/frag.md}\n",
        "includes/_a/includes/frag.md": "\\define{\\shout{x}}{**\\x**}\nfirst\n\\shout{second}\n",
    })
    e = expand(tmp_path, "talks/t.md")
    by_text = {line: origin_of(pos) for line, pos in e.document.lines}
    assert by_text["intro"].location.line == 4
    assert by_text["first"].location.file.endswith("frag.md") and by_text["first"].location.line == 2
    assert by_text["**second**"].location.line == 3
    assert by_text["first"].chain[0].line == 5


def test_non_utf8_is_a_located_error_and_text_survives(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT.encode() + b"caf\xe9 ok\n"})
    e = expand(tmp_path, "talks/t.md")
    [enc] = [d for d in e.diagnostics if d.code == "E-ENCODING"]
    assert (enc.location.line, enc.location.column) == (4, 4)
    assert "ok" in e.text


@pytest.mark.parametrize("source,code", [
    ("\\define{\\a}{\\a}\\a", "E-RECURSION"),
    ("\\define{\\a}{x\\a x}\\a", "E-RECURSION"),
    ("".join(f"\\define{{\\m{i}}}{{\\m{i + 1}\\m{i + 1}}}" for i in range(40)) + "\\m0", "E-LIMIT"),
])
def test_runaway_expansion_stops_at_a_named_limit(tmp_path, source, code):
    write_repo(tmp_path, {"talks/t.md": FRONT + source})
    e = expand(tmp_path, "talks/t.md")
    [limit] = [d for d in e.diagnostics if d.code == code]
    assert "limit" in limit.message


def test_stop_at_error_raises_the_project_error(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\include{nope.md}"})
    with pytest.raises(MacroError) as info:
        expand(tmp_path, "talks/t.md", stop_at_error=True)
    assert info.value.diagnostic.code == "E-INCLUDE-MISSING"


def test_define_without_backslash_before_parameters_is_an_error(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\define{f{x}}{y}\\f{1}"})
    e = expand(tmp_path, "talks/t.md")
    assert "E-DEFINE" in codes(e)
    assert "\\f{1}" in e.text


def test_dropped_notes_do_not_read_their_includes(tmp_path):
    write_repo(tmp_path, {
        "talks/t.md": FRONT + "\\notes{\\include{_a/includes/g.md}}\\include{_a/includes/g.md}\n",
        "includes/_a/includes/g.md": "\\ifndef{gg}\\define{gg}G\\endif",
    })
    # "G" comes before any heading, so it is the slide after the title slide
    assert expand(tmp_path, "talks/t.md", variant="slides").document.body.split() == ["##", "G"]
    assert expand(tmp_path, "talks/t.md", variant="handout").document.body.strip() == "G"
    speaker = expand(tmp_path, "talks/t.md", variant="speaker-notes")
    # the deck's guard state, notes shown aside
    assert speaker.document.body.split("\n\n")[1] == "G"
    assert "Speaker notes" in speaker.document.body


def test_legacy_and_parent_macro_file_includes_are_no_ops(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + (
        "\\include{talk-macros.gpp}\\include{../talk-macros.gpp}\\include{../talk-macros.tex}ok\n")})
    e = expand(tmp_path, "talks/t.md")
    assert body(e).strip() == "ok"
    assert codes(e) == ["W-LEGACY-MACROS"]


def test_lamd_yml_snippetsdir_is_an_include_root(tmp_path, monkeypatch):
    monkeypatch.setenv("SNIPPETS_HOME", str(tmp_path / "elsewhere"))
    write_repo(tmp_path, {  # conf.py: the snippets lie inside the repository, so they may be read
        "conf.py": "",
        "talks/_lamd.yml": "snippetsdir: $SNIPPETS_HOME/snippets:$HOME/not-here-at-all/\n",
        "talks/t.md": FRONT + "\\include{_a/includes/s.md}\n",
        "elsewhere/snippets/_a/includes/s.md": "FROM-SNIPPETSDIR\n",
    })
    e = expand(tmp_path, "talks/t.md")
    assert body(e).strip() == "FROM-SNIPPETSDIR" and not e.diagnostics


def test_video_links_carry_only_the_parameters_given(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\includeyoutube{abc}{}{}{30}{}\n\n"
                                                "\\includeyoutube{xyz}{}{}{}{}\n"})
    text = body(expand(tmp_path, "talks/t.md"))
    assert 'src="https://www.youtube.com/embed/abc?start=30&rel=0"' in text
    assert 'src="https://www.youtube.com/embed/xyz?rel=0"' in text


def test_text_before_the_first_heading_is_a_slide_of_its_own(tmp_path):
    # pandoc makes the title slide from the front matter, so the opening text is slide 2
    write_repo(tmp_path, {"talks/t.md": FRONT + "<!-- plan -->\n\nOpening words\n\n## First\n\nBody\n"})
    doc = expand(tmp_path, "talks/t.md", variant="slides").document
    assert doc.slide_titles == ["", "First"]
    assert doc.body.index("##") < doc.body.index("Opening words") < doc.body.index("## First")
    notes = expand(tmp_path, "talks/t.md", variant="speaker-notes").document.body
    assert "## Slide 2\n" in notes


def test_comments_before_the_first_heading_make_no_blank_slide(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "<!-- plan\nof the talk -->\n\n## First\n\nBody\n"})
    assert expand(tmp_path, "talks/t.md", variant="slides").document.slide_titles == ["First"]


def test_display_math_left_open_inside_a_figure_is_escaped_where_it_was_opened(tmp_path):
    """The figure's container lines come before the math line once the figure closes;
    the unclosed $$ is still the one escaped (found by the fuzz harness: it once
    escaped another line, or crashed on a record standing in that place)."""
    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\n---\n\\figure{$$x}{cap}{lab}\n"
                                        "\\startanimation{a}{1}{2}\n\\newframe{one}{a}\n"
                                        "\\endanimation\n"})
    for variant in ("handout", "slides", "speaker-notes"):
        result = expand(tmp_path, "talks/t.md", variant=variant)
        assert "\\$\\$x" in result.text and "\n$$x" not in result.text
        assert [d.code for d in result.diagnostics] == ["W-MATH-UNCLOSED"]
