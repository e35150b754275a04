"""Real lamd material comes out whole: talks without front matter, figures from the
configured diagrams folder, citations, pandoc syntax and math notation."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import require_module
from tests.test_sphinx_build import ROOTS, build

require_module("sphinx.application", "sphinx")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "three-talks"
    shutil.copytree(ROOTS / "test-three-talks", dest)
    return dest


def test_talk_without_front_matter_is_expanded_like_any_talk(project):
    from build_tools.site.discovery import find_talks

    (project / "talks/plain.md").write_text(
        "\\include{talk-macros.gpp}\n\n\\section{Plain Heading}\n\n"
        "\\notes{Prose with no front matter.}\n\n\\slides{* deck only}\n")
    assert str(project / "talks/plain.md") in find_talks(project)
    _, _, out = build(project, "handout")
    page = (out / "talks/plain.html").read_text()
    assert "Prose with no front matter." in page
    assert "\\notes" not in page and "deck only" not in page


def _course(project: Path) -> Path:
    """A lamd course folder: talks in ``_lamd/``, images where ``diagramsdir`` says."""
    course = project / "talks" / "course"
    (course / "_lamd").mkdir(parents=True)
    (course / "slides/diagrams").mkdir(parents=True)
    shutil.copy(project / "diagrams/shared/loop.svg", course / "slides/diagrams/course-loop.svg")
    (course / "_lamd/_lamd.yml").write_text("diagramsdir: ./slides/diagrams/\n")
    (course / "_lamd/lecture.md").write_text(
        "---\ntitle: Lecture\n---\n\n\\section{Figures}\n\n"
        "\\slides{\\includediagram{\\diagramsDir/course-loop}{40%}}\n\n"
        "\\notes{\\includediagram{\\diagramsDir/course-loop}{40%}}\n\n"
        "\\slides{\\includediagram{\\diagramsDir/not-there}{40%}}\n")
    return course / "_lamd/lecture.md"


def test_diagramsdir_from_lamd_settings_resolves_and_copies_images(project, tmp_path):
    from build_tools.config import build_config
    from build_tools.site.build import SiteOptions, build_site

    lecture = _course(project)
    config = build_config(str(lecture))
    assert config.diagrams_dir.endswith("slides/diagrams")
    assert config.source_of("diagrams_dir") == "_lamd.yml"
    out = tmp_path / "site"
    report = build_site(SiteOptions(talks=[str(lecture)], out=str(out), project=str(project),
                                    variants=("handout", "slides")))
    warnings = "\n".join(report.warnings())
    assert "course-loop" not in warnings
    assert sum("not-there" in w for w in report.warnings()) == 1, warnings
    assert "lecture.md:" in warnings and "slides/diagrams" in warnings
    [copy] = (out / "_images").glob("course-loop-*.svg")  # shared by the variants
    deck = next((out / "slides").rglob("lecture.html")).read_text()  # named within the project
    assert copy.name in deck
    assert "admonition warning" not in deck and "talks-missing" in deck


def test_command_line_diagrams_folder_wins_over_settings(project, tmp_path):
    from build_tools.config import build_config

    lecture = _course(project)
    other = tmp_path / "elsewhere"
    other.mkdir()
    config = build_config(str(lecture), diagrams_dir=str(other))
    assert config.diagrams_dir == str(other) and config.source_of("diagrams_dir") == "command line"


def _expand(tmp_path: Path, body: str, variant: str = "slides"):
    from build_tools.api import expand_talk

    talk = tmp_path / "talk.md"
    talk.write_text("---\ntitle: T\n---\n\n" + body)
    return expand_talk(str(talk), variant)


def test_stray_display_math_does_not_swallow_the_next_slides(tmp_path):
    result = _expand(tmp_path, "\\slides{Costs $$ in dollars\nand more}\n\n"
                               "\\newslide{Second}\n\nAfter it.\n\n\\newslide{Third}\n\n$$x^2$$\n")
    codes = [(d.code, d.location.line) for d in result.diagnostics if d.code == "W-MATH-UNCLOSED"]
    assert codes == [("W-MATH-UNCLOSED", 5)]
    assert "\\$\\$ in dollars" in result.text
    assert "$$x^2$$" in result.text and result.document.slide_titles[-2:] == ["Second", "Third"]


def test_pandoc_fences_become_myst(tmp_path):
    result = _expand(tmp_path, "```{.python}\nprint(1)\n```\n\n::: {.incremental}\n* a\n:::\n")
    assert "```python\nprint(1)" in result.text
    assert ":::{container} incremental" in result.text


def test_undefined_math_command_is_one_located_warning(tmp_path):
    result = _expand(tmp_path, "\\notes{First $\\frac{a}{b} + \\notAThing{x}$ and $\\notAThing$, "
                               "with $\\dataVector$.}\n", "handout")
    found = [d for d in result.diagnostics if d.code == "W-MATH-UNDEFINED"]
    assert [d.message.split()[0] for d in found] == ["\\notAThing"]
    assert found[0].location.line == 5


def test_build_summary_counts_codes_and_names_files():
    from build_tools.site.summary import summary

    lines = summary(["talks/a.md:3: WARNING: x [talks.W-IMAGE-MISSING]",
                     "talks/a.md:9: WARNING: y\n  hint: z [talks.W-MATH-UNDEFINED]",
                     "talks/b.md:1: WARNING: x [talks.W-IMAGE-MISSING]"])
    assert lines[0] == "3 warning(s): W-IMAGE-MISSING 2, W-MATH-UNDEFINED 1"
    assert lines[1].startswith("most warnings: talks/a.md (2)")


def test_pandoc_syntax_myst_cannot_read_is_translated_or_warned_at_its_line(tmp_path):
    from helpers import expand, write_repo

    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\n---\n\nA note.^[The footnote.]\n\n"
                                        "| a line\n| another line\n\n+---+---+\n| a | b |\n+---+---+\n\n"
                                        "\\begin{tabular}{cc} a & b \\end{tabular}\n\n"
                                        "```{=html}\n<b>raw</b>\n```\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n"
                                        "$$\n\\begin{aligned} a &= b \\end{aligned}\n$$\n"})
    e = expand(tmp_path, "talks/t.md")
    lines = sorted(d.location.line for d in e.diagnostics if d.code == "W-PANDOC-SYNTAX")
    assert lines == [7, 8, 10, 12], lines  # not the footnote, not the pipe table, not math
    assert "A note.[^note-1]" in e.text and "[^note-1]: The footnote." in e.text
    # raw LaTeX outside math is dropped, as pandoc drops it from HTML
    assert [d.location.line for d in e.diagnostics if d.code == "W-RAW-LATEX"] == [14]
    assert "tabular" not in e.text and "\\begin{aligned} a &= b" in e.text
    assert "```{raw} html\n<b>raw</b>" in e.text


def test_pandoc_pauses_reveal_what_follows_in_the_deck_and_vanish_elsewhere(tmp_path):
    from helpers import expand, write_repo

    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\n---\n\n## S\n\nOne.\n\n. . .\n\nTwo.\n\n"
                                        ". . .\n\nThree.\n\n```\n. . .\n```\n"})
    deck = expand(tmp_path, "talks/t.md", "slides").document.body
    assert deck.split("## S\n\n", 1)[1] == (
        "One.\n\n:::{container} fragment\n\nTwo.\n\n:::\n\n"
        ":::{container} fragment\n\nThree.\n\n```\n. . .\n```\n\n:::")
    for variant in ("handout", "speaker-notes"):
        text = expand(tmp_path, "talks/t.md", variant).text
        assert "One.\n\nTwo.\n\nThree." in text and text.count(". . .") == 1  # in code only


def test_inline_footnotes_become_myst_footnotes(tmp_path):
    from helpers import expand, write_repo

    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\n---\n\nA^[See [x](http://x.org).] b^[Two.]\n"})
    e = expand(tmp_path, "talks/t.md")
    assert "A[^note-1] b[^note-2]" in e.text
    assert e.text.rstrip().endswith("[^note-1]: See [x](http://x.org).\n\n[^note-2]: Two.")
    assert not e.diagnostics


def test_a_fragment_of_paragraphs_is_a_block_and_of_words_a_span(tmp_path):
    from helpers import expand, write_repo

    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\n---\n\nA \\fragment{word}{fade-in} b\n\n"
                                        "\\fragment{\\smalltext{Long.}}{fade-in}\n"})
    deck = expand(tmp_path, "talks/t.md", "slides").text
    assert "A [word]{.fragment .fade-in} b" in deck
    assert '<div class="fragment fade-in">\n\n<small>\n\nLong.\n\n</small>\n\n</div>' in deck


def test_a_web_address_without_its_scheme_is_a_link(tmp_path):
    from helpers import expand, write_repo

    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\n---\n\nSee [ImageNet](www.image-net.org), "
                                        "`[x](www.y)`.\n"})
    assert "See [ImageNet](https://www.image-net.org), `[x](www.y)`." in \
        expand(tmp_path, "talks/t.md").text


def test_display_math_whose_next_line_starts_with_a_minus_sign_stays_math(tmp_path):
    from helpers import expand, write_repo

    write_repo(tmp_path, {"talks/t.md": "---\ntitle: T\n---\n\nThe gradient,\n\n  $$\\frac{a}{b} =\n"
                                        "-2\\sum_i c_i$$\n\nNext.\n"})
    e = expand(tmp_path, "talks/t.md")
    assert "  $$\\frac{a}{b} =\n-2\\sum_i c_i$$" in e.text and not e.diagnostics


def test_display_math_left_open_is_closed_at_the_paragraph_end_and_reported(tmp_path):
    result = _expand(tmp_path, "Before.\n\n$$\n\\frac{a}{b} = \\text{c}\n\nAfter.\n", "handout")
    assert "$$\n\\frac{a}{b} = \\text{c}\n$$\n\nAfter." in result.text
    assert [(d.code, d.location.line, d.message.rsplit("; ", 1)[1]) for d in result.diagnostics] == \
        [("W-MATH-UNCLOSED", 7, "it is closed there")]


def test_build_summary_counts_errors_apart_from_warnings():
    from build_tools.site.summary import summary

    lines = summary(["talks/a.md:3: WARNING: x [talks.W-IMAGE-MISSING]",
                     "talks/a.md:5: ERROR: y [talks.E-PATH-OUTSIDE]",
                     "talks/b.md:1: WARNING: z [talks.E-INCLUDE-MISSING]"])
    assert lines[:2] == ["2 error(s): E-PATH-OUTSIDE 1, E-INCLUDE-MISSING 1",
                         "1 warning(s): W-IMAGE-MISSING 1"]


def test_text_after_the_closing_dollars_of_display_math_starts_below_it(tmp_path):
    result = _expand(tmp_path, "It has the form,\n$$\nx = 1\n$$where we assumed\n\n$$\ny\n$$\n", "handout")
    assert "$$\nx = 1\n$$\n\nwhere we assumed\n\n$$\ny\n$$" in result.text and not result.diagnostics


def test_inline_math_left_open_is_reported_at_its_line_and_money_is_not(tmp_path):
    result = _expand(tmp_path, "The parameters, $\\mathbf{w}, are a means.\nWe write $\\beta$ too.\n\n"
                               "It costs $5 or `$x`.\n\nPaired $a$ and $b$\nacross $c\nd$ lines.\n",
                     "handout")
    assert [(d.code, d.location.line) for d in result.diagnostics] == [("W-MATH-UNCLOSED", 5)]


def test_a_deck_only_line_break_inside_display_math_keeps_the_math_whole(tmp_path):
    """_ml/includes/bias-variance-dilemma.md: ``\\slides{\\\\ &}`` inside an align. A block of
    its own (blank lines around) would end the display math there: the deck showed
    ``\\end{align}`` and ``\\text{variance}`` as text, and an escaped ``$$``."""
    source = ("Decompose as\n$$\n\\begin{align*}\na = & b \\slides{\\\\\n&} + c \\slides{\\\\} d,\n"
              "\\end{align*}\n$$\nwhere\n")
    slides = _expand(tmp_path, source, "slides")
    assert "$$\n\\begin{align*}\na = & b \\\\\n& + c \\\\ d,\n\\end{align*}\n$$" in slides.text, slides.text
    assert not slides.diagnostics
    handout = _expand(tmp_path, source, "handout")
    assert "$$\n\\begin{align*}\na = & b  + c  d,\n\\end{align*}\n$$" in handout.text, handout.text


def test_inline_math_left_open_is_closed_after_the_words_that_read_as_math(tmp_path):
    """_ml/includes/what-does-machine-learning-do.md: ``$\\mathbf{w}, are just a means`` made
    MyST set the prose up to the next ``$`` as math and show ``\\boldsymbol{\\beta}$`` as text."""
    result = _expand(tmp_path, "In machine learning, the parameters, $\\mathbf{w}, are just a means "
                               "to an end. But when we denote the parameters by $\\boldsymbol{\\beta}$, "
                               "we use them.\n\nThe sum $x^2 + y_i = 1 is a circle.\n", "handout")
    assert "the parameters, $\\mathbf{w}$, are just a means to an end. But when we denote the " \
           "parameters by $\\boldsymbol{\\beta}$, we use them." in result.text
    assert "The sum $x^2 + y_i = 1$ is a circle." in result.text
    assert [(d.code, d.location.line, d.message.rsplit("; ", 1)[1]) for d in result.diagnostics] == [
        ("W-MATH-UNCLOSED", 5, "it is closed after \\mathbf{w}"),
        ("W-MATH-UNCLOSED", 7, "it is closed after x^2 + y_i = 1")]


def test_math_in_a_decks_third_level_heading_is_set_as_math(tmp_path):
    """_deepgp/nips-tutorial-notes.md: ``### Modelling $\\mathbf{f}$`` showed its dollars."""
    result = _expand(tmp_path, "## S\n\n### Modelling $\\mathbf{f}$ and $a<b$\n\nText.\n", "slides")
    assert '<h3>Modelling <span class="math notranslate nohighlight">\\(\\mathbf{f}\\)</span> and ' \
           '<span class="math notranslate nohighlight">\\(a&lt;b\\)</span></h3>' in result.text, result.text


def test_a_figures_alt_text_is_its_caption_without_citation_keys_or_link_brackets(tmp_path):
    """course-execed: the DeepFace figure's alt text read ``[@Taigman:deepface14]`` out, and
    the Milan figure's ``<https://github.com/amzn/milan/>``."""
    (tmp_path / "x.png").write_bytes(b"\x89PNG")
    result = _expand(tmp_path, "\\figure{\\includepng{x}{50%}}{The DeepFace architecture "
                               "[@Taigman:deepface14], in colours. See <https://github.com/amzn/milan/> "
                               "and [the *code*](https://x.org) [see @a; @b].}{deep-face}\n", "handout")
    assert ":alt: The DeepFace architecture, in colours. See https://github.com/amzn/milan/ and " \
           "the code.\n" in result.text, result.text


def test_a_caption_of_its_own_reads_like_every_other_caption(tmp_path):
    """holborn-science-centrifugal-governor.md: ``\\caption{...}`` on a slide read "Figure: ..."
    where no other caption of the deck or notes has that prefix, and the handout numbers its
    figures ("Figure 3: ..."): an unnumbered "Figure:" reads as a mistake."""
    for variant in ("slides", "speaker-notes", "handout"):
        result = _expand(tmp_path, "## S\n\n\\caption{Science on Holborn Viaduct.}\n", variant)
        assert '<div class="caption">Science on Holborn Viaduct.</div>' in result.text, variant
        assert "Figure:" not in result.text
