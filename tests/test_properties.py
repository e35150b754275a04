"""Property tests: any text, however broken, expands without escaping errors or hanging."""
import pickle
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from build_tools.api import expand_talk
from build_tools.config import VARIANTS, TalkConfig
from build_tools.diagnostics import Location, MacroError
from build_tools.engine.output import Origin, PackedOrigins

ROOT = Path(__file__).resolve().parent.parent
SEED_TALK = (ROOT / "talks" / "accelerate-spark-information-session.md").read_text(encoding="utf-8")

PIECES = ["\\", "{", "}", "}{", "\n", "\n\n", " ", "x", "$", "$$", "#", "## ", "<!--", "-->",
          "@key", "[@a; @b]", "```", ":::", "\\notes{", "\\slides{", "\\speakernotes{",
          "\\subsection{", "\\newslide", "\\figure{", "\\includediagram{", "\\define{",
          "\\define{\\m{a}}{", "\\m{", "\\a", "\\ifdef{", "\\ifndef{", "\\ifeq{", "\\else",
          "\\endif", "\\include{", "talk-macros.gpp", "\\defeval{", "\\undef{", "\\eval{",
          "\\columns{", "\\startanimation{", "\\newframe{", "\\endanimation", "\\references",
          "\\thanks", "\\editme", "\\file", "\\addreading{", "\\reading", "é", "\u00ef\u00bb\u00bf",
          "\ufeff", "\ue000", "\ue010", "\\diagramsDir", "---"]

talk_text = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=80).map("".join)


def mutate(data, text: str) -> str:
    """Insert, delete and duplicate slices of a real talk."""
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 200)))
        action = data.draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if action == "delete":
            text = text[:i] + text[j:]
        elif action == "insert":
            text = text[:i] + data.draw(st.sampled_from(PIECES)) + text[i:]
        else:
            text = text[:i] + text[i:j] * 2 + text[j:]
    return text


def expand_safely(tmp_path, text: str, variant: str, strict: bool = False) -> None:
    talk = tmp_path / "talks" / "t.md"
    talk.parent.mkdir(parents=True, exist_ok=True)
    talk.write_text(text, encoding="utf-8")
    config = TalkConfig(include_roots=[str(ROOT / "includes")], stop_at_error=strict)
    try:
        expansion = expand_talk(str(talk), variant, config)
        assert isinstance(expansion.text, str)
        for d in expansion.diagnostics:
            assert d.location is None or d.location.line >= 1
    except MacroError:
        assert strict


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@SETTINGS
@given(text=talk_text, variant=st.sampled_from(VARIANTS), strict=st.booleans())
def test_random_text_never_escapes(tmp_path, text, variant, strict):
    expand_safely(tmp_path, "---\ntitle: t\n---\n" + text, variant, strict)


@SETTINGS
@given(data=st.data(), variant=st.sampled_from(VARIANTS))
def test_mutated_talk_never_escapes(tmp_path, data, variant):
    expand_safely(tmp_path, mutate(data, SEED_TALK), variant)


@SETTINGS
@given(raw=st.binary(max_size=300), variant=st.sampled_from(VARIANTS))
def test_arbitrary_bytes_never_escape(tmp_path, raw, variant):
    talk = tmp_path / "talks" / "b.md"
    talk.parent.mkdir(parents=True, exist_ok=True)
    talk.write_bytes(raw)
    expand_talk(str(talk), variant, TalkConfig(include_roots=[str(ROOT / "includes")]))


locations = st.builds(Location, st.sampled_from(["a.md", "b/c.md", "é.md"]),
                      st.integers(1, 10**6), st.integers(1, 500))
origins = st.none() | st.builds(Origin, locations, st.lists(locations, max_size=3).map(tuple))


@given(st.lists(origins, max_size=40), st.data())
def test_a_saved_record_gives_back_each_line_origin_as_it_was(lines, data):
    packed = pickle.loads(pickle.dumps(PackedOrigins(lines)))
    assert len(packed) == len(lines) and list(packed) == lines
    if lines:
        i = data.draw(st.integers(-len(lines), len(lines) - 1))
        assert packed[i] == lines[i]
    assert packed[1:3] == lines[1:3]
