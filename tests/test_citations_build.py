"""Citations rendered for real: author–date text, a References list of what was cited,
and a defective BibTeX file read entry by entry (docs/macro-language.md, "Citations and
bibliography")."""
from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from build_tools.bibliography import (clean_bib_file, cited_names, cited_year, reference_pieces,
                                      usable_entries)

from conftest import require_module

ROOTS = Path(__file__).resolve().parent / "roots"
DEFECTIVE = Path(__file__).resolve().parent / "fixtures" / "bib" / "defective.bib"

sphinx_application = require_module("sphinx.application", "sphinx")

CITING = """
The data were collected by @Rogers:book11 and fitted by least squares [@Legendre:nouvelles05].
Faces were matched [see @Taigman:deepface14, p. 3] after a projection [@Roweis-SPCA97].
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "cites"
    shutil.copytree(ROOTS / "test-three-talks", dest)
    shutil.copy(DEFECTIVE, dest / "defective.bib")
    conf = dest / "conf.py"
    conf.write_text(conf.read_text().replace('talks_bib_files = ["references.bib"]',
                                             'talks_bib_files = ["references.bib", "defective.bib"]'))
    alpha = dest / "talks" / "alpha.md"
    alpha.write_text(alpha.read_text().replace("\\thanks", CITING + "\n\\thanks"))
    return dest


def build(project: Path, variant: str, builder: str) -> tuple[str, str]:
    """(the alpha talk's page, the warnings)."""
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    out = project / "_build" / variant
    warnings = io.StringIO()
    with patch_docutils(project), docutils_namespace():
        app = sphinx_application.Sphinx(
            str(project), str(project), str(out / "html"), str(out / "doctrees"), builder,
            confoverrides={"talks_variant": variant}, status=None, warning=warnings)
        app.build()
    return (out / "html" / "talks" / "alpha.html").read_text(encoding="utf-8"), warnings.getvalue()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


@pytest.mark.parametrize("variant,builder", [("handout", "html"), ("slides", "revealjs")])
def test_citations_read_as_lamd_shows_them(project, variant, builder):
    page, _ = build(project, variant, builder)
    text = text_of(page)
    assert "collected by Rogers and Girolami (2011) and" in text
    assert "least squares (Legendre, 1805)." in text
    assert "matched (see Taigman et al., 2014, p. 3) after" in text
    assert "projection (Roweis, n.d.)." in text
    assert 'href="#ref-rogers-book11"' in page


@pytest.mark.parametrize("variant,builder", [("handout", "html"), ("slides", "revealjs")])
def test_references_list_exactly_what_was_cited(project, variant, builder):
    page, _ = build(project, variant, builder)
    entries = [text_of(e) for e in re.findall(r'<p class="csl-entry"[^>]*>(.*?)</p>', page, re.S)]
    # the shared fragment cites Doe in its notes, which the deck leaves out; the uncited
    # entry and the second 'Rogers:book11' are never listed
    doe = ["Doe, J., 2020. Shared Fragments. Example Press."] if variant == "handout" else []
    assert entries == [*doe,
        "Legendre, A.-M., 1805. Nouvelles méthodes pour la détermination des orbites des comètes. "
        "F. Didot.",
        "Rogers, S., Girolami, M., 2011. A First Course in Machine Learning. CRC Press.",
        "Roweis, S.T., n.d. EM Algorithms for PCA and SPCA. pp. 626–632.",
        "Taigman, Y., Yang, M., Ranzato, M., Wolf, L., 2014. DeepFace: Closing the Gap to "
        "Human-Level Performance in Face Verification, in: Computer Vision and Pattern "
        "Recognition. ieee.",
    ]
    assert "References" in text_of(page)


def test_defects_are_warned_at_their_line_and_good_entries_kept(project):
    _, warnings = build(project, "handout", "html")
    assert re.search(r"defective\.bib:16: WARNING: field 'year' is given twice", warnings), warnings
    assert re.search(r"defective\.bib:23: WARNING: undefined string 'ieee'", warnings), warnings
    assert re.search(r"defective\.bib:33: WARNING: citation key 'Rogers:book11' is used again "
                     r"\(first at line 4\)", warnings), warnings
    assert "could not find bibtex key" not in warnings


def test_talks_check_reports_each_defect(project):
    from build_tools.api import check_talks
    from build_tools.config import build_config

    talk = project / "talks" / "alpha.md"
    found = check_talks([str(talk)], build_config(talk, bib_files=[str(project / "defective.bib")]))
    lines = sorted(d.location.line for d in found if d.code == "W-BIB")
    assert lines == [16, 23, 33]


def test_cleaning_keeps_first_field_raw_macro_and_first_key():
    bib = clean_bib_file(str(DEFECTIVE), "defective.bib")
    assert bib.keys == ["Rogers:book11", "Legendre:nouvelles05", "Taigman:deepface14",
                        "Roweis-SPCA97", "Uncited:book99"]
    entries = usable_entries([str(DEFECTIVE)])
    assert entries.entries["Legendre:nouvelles05"].fields["year"] == "1805"
    assert entries.entries["Taigman:deepface14"].fields["publisher"] == "ieee"
    assert entries.entries["Rogers:book11"].fields["publisher"] == "CRC Press"


def test_an_entry_missing_fields_still_formats():
    from pybtex.database import Entry

    bare = Entry("inproceedings", fields={})
    bare.key = "bare"
    assert cited_names(bare) == "bare" and cited_year(bare) == "n.d."
    assert "".join(p.text for p in reference_pieces(bare)) == "n.d."
    odd = Entry("article", fields={"title": "{Unbalanced", "pages": None})
    odd.key = "odd"
    assert reference_pieces(odd)  # never raises


SHARED = """@book{Shared:one99,
  title = {One},
  year = {1999},
  year = {2000},
  publisher = {Nobody}
}

@book{Shared:two99,
  title = {Two},
  publisher = undefinedpress,
  year = {1999}
}
"""


@pytest.fixture()
def shared_bib(project: Path) -> Path:
    """A bibliography the talks may cite with two defects in entries none of them cites."""
    (project / "shared.bib").write_text(SHARED, encoding="utf-8")
    conf = project / "conf.py"
    conf.write_text(conf.read_text().replace('"defective.bib"]', '"defective.bib", "shared.bib"]'))
    return project / "shared.bib"


def test_defects_of_uncited_entries_are_one_line_per_file(project, shared_bib):
    _, warnings = build(project, "handout", "html")
    shared = [line for line in warnings.splitlines() if "shared.bib" in line]
    assert len(shared) == 1, warnings
    assert re.search(r"shared\.bib:1: WARNING: 2 defect\(s\) in this bibliography.*"
                     r"`talks check --bib \S*shared\.bib` lists them all", shared[0]), shared
    # defective.bib's defects are all in cited entries: each at the entry, none counted away
    assert "defective.bib:1: WARNING" not in warnings


def test_a_cited_defect_is_reported_at_the_citation_too(project):
    _, warnings = build(project, "handout", "html")
    at_citation = re.findall(r"alpha\.md:(\d+): WARNING: cites '([^']+)', whose bibliography "
                             r"entry has a defect: see \S*defective\.bib:(\d+)", warnings)
    assert sorted((key, int(line)) for _, key, line in at_citation) == [
        ("Legendre:nouvelles05", 16), ("Rogers:book11", 33), ("Taigman:deepface14", 23)], warnings


def test_check_on_a_talk_counts_uncited_defects(project, shared_bib):
    from build_tools.api import check_talks
    from build_tools.config import build_config

    talk = project / "talks" / "alpha.md"
    found = check_talks([str(talk)], build_config(talk, bib_files=[str(project / "defective.bib"),
                                                                   str(shared_bib)]))
    shared = [d for d in found if d.location and d.location.file.endswith("shared.bib")]
    assert [(d.location.line, d.message.split(" in this")[0]) for d in shared] == [(1, "2 defect(s)")]


def test_check_bib_lists_every_defect(shared_bib):
    from click.testing import CliRunner

    from build_tools.cli import main

    result = CliRunner().invoke(main, ["check", "--bib", str(shared_bib)])
    assert result.exit_code == 0, result.output
    assert re.findall(r"shared\.bib:(\d+):\d+: warning: (\w+)", result.output) == [
        ("4", "field"), ("10", "undefined")], result.output


def test_a_reference_decodes_only_the_fields_it_shows(monkeypatch):
    from pybtex.database import Entry

    from build_tools import bibliography

    decoded: list[str] = []
    real = bibliography.latex_text
    monkeypatch.setattr(bibliography, "latex_text", lambda v: decoded.append(v) or real(v))
    entry = Entry("article", fields={"title": "Caf{\\'e} tables", "journal": "J", "year": "2001",
                                     "abstract": "A long abstract \\emph{never shown}"})
    entry.key = "k"
    text = "".join(p.text for p in reference_pieces(entry))
    assert "Café tables" in text and "J" in text
    assert not [v for v in decoded if "abstract" in v]
