"""Pandoc citations become sphinxcontrib-bibtex roles (docs/macro-language.md, "Citations and bibliography")."""
import pytest

from build_tools.myst.emit import EmitOptions, Emitter, _cite_line


@pytest.mark.parametrize("text,expected", [
    ("[@a; @b]", "{cite:p}`a,b`"),
    ("[@a,@b]", "{cite:p}`a,b`"),
    ("[@a, @b; @c]", "{cite:p}`a,b,c`"),
    ("[@Rasmussen:book06, Chapter 5]", "{cite:p}`Rasmussen:book06{Chapter 5}`"),
    ("[See @Simon-information71]", "{cite:p}`{See}Simon-information71`"),
    ("as @Sculley:debt15 said.", "as {cite:t}`Sculley:debt15` said."),
    ("mail x@y.com or \\@lawrennd", "mail x@y.com or @lawrennd"),
    ("see https://medium.com/@user/post and `@code`", "see https://medium.com/@user/post and `@code`"),
    ("[link](https://x.org/@me) @key", "[link](https://x.org/@me) {cite:t}`key`"),
])
def test_citation_forms(text, expected):
    assert _cite_line(Emitter("handout", EmitOptions()), text, None) == expected


def test_unknown_keys_stay_text_with_one_warning_each():
    em = Emitter("handout", EmitOptions(bib_keys=frozenset({"known"})))
    assert _cite_line(em, "[@known; @other] and @other", None) == "[@known; @other] and @other"
    assert [d.code for d in em.diagnostics] == ["W-CITE-KEY"]
