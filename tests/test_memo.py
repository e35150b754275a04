"""Replaying recorded includes gives exactly what expanding them again gives."""
from build_tools.api import expand_talk
from build_tools.config import VARIANTS, TalkConfig

from conftest import ROOT, corpus_or_skip
from helpers import write_repo

FRONT = "---\ntitle: T\n---\n"


def same(a, b):
    assert a.text == b.text
    assert [d.format() for d in a.diagnostics] == [d.format() for d in b.diagnostics]
    assert [str(o) for o in a.origins] == [str(o) for o in b.origins]
    assert [o.chain if o else None for o in a.origins] == [o.chain if o else None for o in b.origins]
    assert a.dependencies == b.dependencies


def test_replay_respects_state_the_fragment_reads(tmp_path):
    write_repo(tmp_path, {
        "talks/a.md": FRONT + "\\define{width}{10%}\\include{_x/includes/f.md}\\include{_x/includes/f.md}",
        "talks/b.md": FRONT + "\\define{width}{90%}\\define{fGuard}\\include{_x/includes/f.md}",
        "talks/c.md": FRONT + "\\define{width}{10%}\\include{_x/includes/f.md}",
        "includes/_x/includes/f.md": "\\ifndef{fGuard}\\define{fGuard}\n"
                                     "\\figure{\\includepng{x}{\\width}}{cap}{lab}\n}\n\\endif\n",
    })
    roots = [str(tmp_path / "includes")]
    for variant in VARIANTS:
        for talk in ("a", "b", "c", "a"):
            path = str(tmp_path / f"talks/{talk}.md")
            same(expand_talk(path, variant, TalkConfig(include_roots=roots)),
                 expand_talk(path, variant, TalkConfig(include_roots=roots, reuse_includes=False)))


def test_corpus_expands_identically_with_and_without_replay():
    corpus = corpus_or_skip()
    roots = [str(corpus / "snippets"), str(corpus / "talks")]
    talks = sorted((corpus / "talks").glob("_*/*.md"))[::8]
    talks += [ROOT / "talks" / "accelerate-spark-information-session.md"]
    for variant in VARIANTS:
        for talk in talks:
            same(expand_talk(str(talk), variant, TalkConfig(include_roots=roots)),
                 expand_talk(str(talk), variant, TalkConfig(include_roots=roots, reuse_includes=False)))
