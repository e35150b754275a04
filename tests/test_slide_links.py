"""The handout's links to its slides follow the origin of each heading, not its title.

A heading written once becomes a slide in the deck and a section in the handout;
the section of slide k carries the id ``slide-k`` and a link to ``#/k`` in the deck.
Each talk here is one that matching titles in order links wrong.
"""
from __future__ import annotations

import html
import re

import pytest

from build_tools.api import expand_talk
from build_tools.config import TalkConfig
from helpers import write_repo
from conftest import require_module

require_module("sphinx.application", "sphinx")

CONF = ('extensions = ["myst_parser", "build_tools.sphinx_ext"]\n'
        'exclude_patterns = ["_build", "includes"]\n'
        'suppress_warnings = ["toc.not_included"]\n'
        'html_theme = "basic"\n')

TALKS = {
    # two slides called "Further Reading", and a third heading of that title inside a
    # slide: the deck shows it on the "Summary" slide, the handout makes it a section
    "talks/same-titles.md": """---
title: Same Titles
---

\\subsection{Further Reading}

The first reading list.

\\subsection{Summary}

What we saw.

### Further Reading

Read these before the next lecture.

\\subsection{Further Reading}

The second reading list.
""",
    # the deck's title and the handout's differ in text
    "talks/two-titles.md": """---
title: Two Titles
---

\\subsection{Data}

Where the data come from.

\\subsection{Model \\slides{(on screen)}\\notes{(in full)}}

The model in words.
""",
    # one fragment included three times: once for the deck alone, then twice for both
    "talks/twice.md": """---
title: Twice
---

\\slides{\\include{exercise.md}}

\\subsection{Lists}

Lists come first.

\\include{exercise.md}

\\subsection{Trees}

Trees come next.

\\include{exercise.md}
""",
    "includes/exercise.md": """\\subsection{Exercise\\notes{: try it at home}}

Work through the example again.
""",
}


@pytest.fixture(scope="module", params=["talks build", "sphinx-build"])
def handouts(request, tmp_path_factory) -> dict[str, str]:
    """Each talk's handout page, built by ``talks build`` (the deck prepared first, the
    handout reading its record) or by Sphinx alone (the handout lays out the deck)."""
    root = tmp_path_factory.mktemp("links")
    project = write_repo(root / "project", {"conf.py": CONF, "index.md": "# Talks\n", **TALKS})
    names = [n[len("talks/"):-len(".md")] for n in TALKS if n.startswith("talks/")]
    if request.param == "talks build":
        from build_tools.site.build import SiteOptions, build_site

        out = root / "site"
        report = build_site(SiteOptions(talks=[str(project / "talks" / f"{n}.md") for n in names],
                                        out=str(out), project=str(project), variants=("handout",)))
        assert report.ok, report.failed
        return {n: (out / "handout" / f"{n}.html").read_text(encoding="utf-8") for n in names}
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    out = root / "html"
    with patch_docutils(project), docutils_namespace():
        Sphinx(str(project), str(project), str(out), str(root / "doctrees"), "html",
               confoverrides={"talks_variant": "handout"}, status=None, warning=None).build()
    return {n: (out / "talks" / f"{n}.html").read_text(encoding="utf-8") for n in names}


def section_of(page: str, k: int) -> str:
    """The text of the handout from the ``slide-k`` id up to the next section's start or end."""
    start = page.rindex("<", 0, page.index(f'id="slide-{k}"'))
    end = min(i for i in (page.find("<section", start + 1), page.find("</section", start))
              if i >= 0)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page[start:end])).split())


def slide_link(section: str) -> list[str]:
    return re.findall(r"slide (\d+)", section)


def test_slides_of_one_title_link_their_own_sections(handouts):
    page = handouts["same-titles"]
    first, summary, second = (section_of(page, k) for k in (1, 2, 3))
    assert "The first reading list" in first and slide_link(first) == ["2"]
    assert "What we saw" in summary and slide_link(summary) == ["3"]
    assert "The second reading list" in second and slide_link(second) == ["4"], second
    assert "Read these before" not in second
    assert re.search(r'href="[^"]*slides/[^"]*same-titles\.html#/3"', page)


def test_a_title_that_differs_between_deck_and_handout_is_linked(handouts):
    page = handouts["two-titles"]
    data, model = section_of(page, 1), section_of(page, 2)
    assert "Where the data come from" in data and "The model in words" not in data
    assert model.startswith("Model (in full)"), model
    assert "The model in words" in model and slide_link(model) == ["3"], model


def test_a_fragment_included_twice_links_each_slide_to_its_copy(handouts):
    page = handouts["twice"]
    # slide 1: the deck's own copy, which the handout lacks; 2: Lists; 3: the first
    # shared copy; 4: Trees; 5: the second shared copy
    lists, trees = page.index("Lists come first"), page.index("Trees come next")
    first, second = page.index('id="slide-3"'), page.index('id="slide-5"')
    assert lists < first < trees < second, (lists, first, trees, second)
    for k in (3, 5):
        section = section_of(page, k)
        assert section.startswith("Exercise: try it at home"), section
        assert slide_link(section) == [str(k + 1)]
    assert "Lists come first" in section_of(page, 2) and slide_link(section_of(page, 2)) == ["3"]
    assert slide_link(section_of(page, 1)) == []  # no section of its own: the talk's top


def test_the_deck_numbers_its_slides_as_the_links_expect(tmp_path):
    root = write_repo(tmp_path, TALKS)
    config = TalkConfig(include_roots=[str(root / "includes")])

    def titles(name: str) -> list[str]:
        return expand_talk(str(root / "talks" / f"{name}.md"), "slides", config).document.slide_titles

    assert titles("same-titles") == ["Further Reading", "Summary", "Further Reading"]
    assert titles("two-titles") == ["Data", "Model (on screen)"]
    assert titles("twice") == ["Exercise", "Lists", "Exercise", "Trees", "Exercise"]
    anchors = expand_talk(str(root / "talks" / "twice.md"), "slides", config).document.slide_anchors
    assert [a.line for a in anchors if a.title == "Exercise"] == [1, 1, 1]
    assert len({a.chain for a in anchors if a.title == "Exercise"}) == 3


def test_the_deck_record_keeps_its_anchors_and_an_older_format_is_not_read(tmp_path):
    from build_tools.api import PREPARED_FORMAT, load_prepared, prepare_talk, prepared_format, save_prepared

    root = write_repo(tmp_path, TALKS)
    config = TalkConfig(include_roots=[str(root / "includes")])
    record = prepare_talk(str(root / "talks" / "twice.md"), "slides", config)
    anchors = list(record.slide_anchors)
    file = str(tmp_path / "prepared" / "slides" / "twice.pickle")
    save_prepared(record, file)
    assert load_prepared(file).slide_anchors == anchors
    # a record made before the anchors were kept holds titles alone: made anew, never read
    record.format = prepared_format().replace(str(PREPARED_FORMAT), str(PREPARED_FORMAT - 1), 1)
    save_prepared(record, file)
    assert load_prepared(file) is None
    # and one made by other code (before an upgrade, say) is made anew too
    record.format = f"{PREPARED_FORMAT}-{'0' * 16}"
    save_prepared(record, file)
    assert load_prepared(file) is None
