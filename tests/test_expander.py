"""The expander: gpp semantics, include search, located diagnostics, limits."""

import pytest

from build_tools.diagnostics import MacroError, Severity
from build_tools.engine.output import origin_of
from build_tools.paths import display_name

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
    assert brace and str(brace[0].location) == f"{display_name(str(tmp_path / 'talks/t.md'))}:5:7"
    assert "never closed" in body(e)  # nothing is lost


def test_unterminated_conditional_and_stray_endif(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\endif\nkeep\n\\ifdef{NOPE}\nlost\n"})
    e = expand(tmp_path, "talks/t.md")
    conds = [d for d in e.diagnostics if d.code == "W-CONDITIONAL"]
    assert [d.location.line for d in conds] == [4, 6]
    assert body(e).strip() == "keep"


@pytest.mark.parametrize("source,message", [
    ("\\ifdef{SLIDES}\nkept or not\n",
     "\\ifdef{SLIDES} opened here is never closed by \\endif: the rest of the file is kept "
     "where SLIDES is defined and skipped where it is not"),
    ("\\ifndef{NOTES}\nA\n\\else\nB\n",
     "\\ifndef{NOTES} opened here is never closed by \\endif: the rest of the file after its "
     "\\else is kept where NOTES is defined and skipped where it is not"),
    ("\\ifeq{\\variant}{slides}\nA\n",
     "\\ifeq opened here is never closed by \\endif: the rest of the file is kept where its two "
     "sides are equal and skipped where they differ"),
])
def test_an_unclosed_conditional_is_one_message_in_every_variant(tmp_path, source, message):
    """Whether a variant keeps the rest or skips it, the warning is the same: it says both."""
    write_repo(tmp_path, {"talks/t.md": FRONT + source})
    found = {(d.location.line, d.message) for variant in ("slides", "speaker-notes", "handout")
             for d in expand(tmp_path, "talks/t.md", variant).diagnostics if d.code == "W-CONDITIONAL"}
    assert found == {(4, message)}


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
    assert "\\f" not in e.text and "W-UNKNOWN-MACRO" in codes(e)  # \\f stays undefined


# -- names no macro file defines ----------------------------------------------------

def unknown(tmp_path, body: str, variant: str = "handout"):
    write_repo(tmp_path, {"talks/t.md": FRONT + body})
    e = expand(tmp_path, "talks/t.md", variant)
    return e, [(d.location.line, d.location.column, d.code, d.message) for d in e.diagnostics]


def test_latex_pandoc_reads_is_rendered_with_its_meaning_and_no_warning(tmp_path):
    e, found = unknown(tmp_path, "An \\emph{a} \\textbf{b} \\textit{c} \\url{http://x.org} "
                       "\\href{http://y.org}{why}, Figure \\ref{fig-a}, \\texttt{d}\\ldots "
                       "\\textsection 2.\n")
    assert "An *a* **b** *c* <http://x.org> [why](http://y.org), Figure {numref}`%s <fig-a>`, " \
           "`d`… § 2." in e.text
    assert not found
    deck, found = unknown(tmp_path, "Figure \\ref{fig-a}.\n", "slides")
    assert "Figure ." in deck.text and not found  # figures are numbered in the handout only


def test_latex_citations_become_pandoc_citations(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "See \\citep{a, b} and \\citet{c}.\n"})
    e = expand(tmp_path, "talks/t.md")
    assert "See {cite:p}`a,b` and {cite:t}`c`." in e.text


def test_lamd_names_with_an_obvious_reading_are_rendered_and_warned(tmp_path):
    e, found = unknown(tmp_path, "An \\alert{x} and \\refnotes{that part}{part-two}.\n")
    assert "An *x* and [that part](#part-two)." in e.text
    assert [(line, column, code) for line, column, code, _ in found] == \
        [(4, 4, "W-UNKNOWN-MACRO"), (4, 18, "W-UNKNOWN-MACRO")]
    assert "\\alert is rendered as emphasis" in found[0][3]


def test_assignments_written_in_camel_case_are_the_exercise_macros(tmp_path):
    e, found = unknown(tmp_path, "\\writeAssignment{Prove it.}{5}{}\n\n\\codeAssignment{Code it.}{}{3}{}\n")
    assert "# Exercise 1\n\nProve it." in e.text and "# Exercise 2\n\nCode it." in e.text
    assert "Assignment" not in e.text
    assert "rendered as `\\writeassignment`" in found[0][3] and "did you mean" not in found[0][3]


def test_other_unknown_names_are_dropped_with_their_arguments_and_a_near_name(tmp_path):
    e, found = unknown(tmp_path, "A \\notse{hidden words} and \\frobnicate[x]{y}{z} end.\n")
    assert "A  and  end." in e.text and "hidden" not in e.text
    (_, first, _, notse), (_, second, _, frobnicate) = found
    assert notse.endswith("is dropped with its arguments, as pandoc drops raw TeX from HTML; "
                          "did you mean \\notes?")
    assert "\\frobnicate is dropped" in frobnicate and (first, second) == (3, 28)


def test_unknown_names_in_math_and_code_stay_as_written(tmp_path):
    body = ("$\\frac{a}{b}$ and `\\foo{x}`\n\n```python\nprint('a\\nb')\n```\n\n"
            "\\code{print('c\\nd')}\n\n$$\n\\begin{cases} 1 \\end{cases}\n$$\n")
    e, found = unknown(tmp_path, body)
    for kept in ("$\\frac{a}{b}$", "`\\foo{x}`", "print('a\\nb')", "print('c\\nd')",
                 "\\begin{cases} 1 \\end{cases}"):
        assert kept in e.text
    assert not any(code == "W-UNKNOWN-MACRO" for _, _, code, _ in found)


def test_raw_latex_environments_go_with_one_warning_and_math_ones_become_display_math(tmp_path):
    body = ("\\begin{tikzpicture}\n\\draw (0,0);\n\\end{tikzpicture}\n\n\\only<2->{later}\n\n"
            "\\begin{center}\nmiddle\n\\end{center}\n\n\\begin{align}\nx &= \\frac{1}{2}\n\\end{align}\n")
    e, found = unknown(tmp_path, body, "slides")
    assert "draw" not in e.text and "later" not in e.text and "middle" not in e.text
    assert "$$\n\\begin{align}\nx &= \\frac{1}{2}\n\\end{align}\n$$" in e.text
    assert [(line, code) for line, _, code, _ in found] == [(4, "W-RAW-LATEX")]


def test_a_mathjax_definition_keeps_its_arguments(tmp_path):
    e, found = unknown(tmp_path, "\\newcommand{\\R}{\\mathbb{R}}\n\n$\\R$\n")
    assert e.document.math_macros == {"R": "\\mathbb{R}"} and not found


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


def test_a_fence_closed_where_its_macro_argument_closes_ends_the_code(tmp_path):
    e, found = unknown(tmp_path, "\\notes{Code:\n\n```python\nx = 1\n```}\n\nText \\frobnicate{z}.\n")
    assert "Text ." in e.text and [code for _, _, code, _ in found] == ["W-UNKNOWN-MACRO"]


def test_a_name_in_a_macro_a_talk_defines_is_judged_where_the_macro_is_called(tmp_path):
    e, found = unknown(tmp_path, "\\define{designMatrix}{\\inputMatrix}\n\\define{\\shout{x}}{\\emph{\\x} \\foo}\n"
                       "\nA $\\designMatrix$ and\n$$\n\\designMatrix = 1\n$$\n\n\\shout{hey}\n")
    assert "A $\\inputMatrix$ and" in e.text and "$$\n\\inputMatrix = 1\n$$" in e.text
    assert "*hey*" in e.text and "foo" not in e.text
    assert [(line, code) for line, _, code, _ in found] == [(5, "W-UNKNOWN-MACRO")]


def test_names_math_knows_stay_wherever_they_stand(tmp_path):
    """A body may become math only where a vocabulary macro puts it in $$...$$."""
    e, found = unknown(tmp_path, "\\define{\\formula}{\\kernelScalar_f(\\inputVector^\\prime) = \\alpha \\R}\n"
                       "\\newcommand{\\R}{\\mathbb{R}}\n\n\\includecovariance{add}{\\formula}{Additive.}\n")
    assert "$$\\kernelScalar_f(\\inputVector^\\prime) = \\alpha \\R$$" in e.text
    assert not [code for _, _, code, _ in found if code == "W-UNKNOWN-MACRO"]


def test_a_colour_switch_written_in_text_goes_with_its_colour_and_stays_in_math(tmp_path):
    """_gp/includes/low-rank-variational.md: ``[\\color{MyDarkBlue} No inversion of $\\Kff$
    required]{}`` showed ``\\color{MyDarkBlue}``; in math (also over lines) MathJax sets it."""
    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\n---\n\n[\\color{MyDarkBlue} No inversion "
                          "of $\\Kff$ required]{}\n\n$a + {\\color{red} b}$ and $c +\n\\color{red} d$\n"})
    e = expand(tmp_path, "talks/t.md")
    assert "[ No inversion of $\\Kff$ required]{}" in e.text
    assert "$a + {\\color{red} b}$ and $c +\n\\color{red} d$" in e.text
    assert [(d.code, d.location.line) for d in e.diagnostics] == [("W-RAW-LATEX", 5)]
