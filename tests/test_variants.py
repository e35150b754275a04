"""The information-session talk: each variant shows what docs/vocabulary.md says it shows."""
import re
from pathlib import Path

import pytest

from build_tools.api import expand_talk
from build_tools.config import TalkConfig

ROOT = Path(__file__).resolve().parent.parent
TALK = ROOT / "talks" / "accelerate-spark-information-session.md"

SPEAKER_NOTES = "Thanks, everyone, for coming to today’s session."
NOTES_PROSE = "AlphaFold2's\nbreakthrough in protein folding prediction"
SLIDE_BULLET = "Data for science residency."
VARIANTS = ("slides", "speaker-notes", "handout")


@pytest.fixture(scope="module")
def outputs():
    config = TalkConfig(include_roots=[str(ROOT / "includes")], image_root=str(ROOT))
    return {v: expand_talk(str(TALK), v, config) for v in VARIANTS}


def notes_blocks(text: str) -> str:
    """The text inside ``{revealjs-notes}`` blocks and Speaker-notes admonitions."""
    found = re.findall(r"^(`{3,})\{revealjs-notes\}\n(.*?)^\1$", text, re.M | re.S)
    found += re.findall(r"^(:{3,})\{admonition\} Speaker notes\n(.*?)^\1$", text, re.M | re.S)
    return "\n".join(body for _, body in found)


def test_no_errors_in_any_variant(outputs):
    for variant, expansion in outputs.items():
        assert not expansion.errors, (variant, [str(d) for d in expansion.errors])


def test_speaker_notes_only_for_the_presenter(outputs):
    assert SPEAKER_NOTES in notes_blocks(outputs["slides"].text)
    assert SPEAKER_NOTES in notes_blocks(outputs["speaker-notes"].text)
    assert SPEAKER_NOTES not in outputs["handout"].text


def test_notes_prose_only_in_speaker_notes_and_handout(outputs):
    assert NOTES_PROSE not in outputs["slides"].text
    assert NOTES_PROSE in notes_blocks(outputs["speaker-notes"].text)
    handout = outputs["handout"].text
    assert NOTES_PROSE in handout and NOTES_PROSE not in notes_blocks(handout)


def test_slide_bullets_only_in_slides_and_speaker_notes(outputs):
    for variant in ("slides", "speaker-notes"):
        text = outputs[variant].text
        assert SLIDE_BULLET in text and SLIDE_BULLET not in notes_blocks(text)
    assert SLIDE_BULLET not in outputs["handout"].text


def test_slides_and_presenter_document_agree_on_the_slides(outputs):
    deck = outputs["slides"].document.slide_titles
    presenter = outputs["speaker-notes"].document.slide_titles
    assert deck == presenter
    assert deck[:2] == ["Accelerate-Spark information session", "Welcome"]
    assert deck.count("Thanks!") == 1 and "References" in deck
    h2 = [line for line in outputs["slides"].text.splitlines() if re.match(r"##( |$)", line)]
    assert len(h2) == len(deck)
    assert not re.search(r"^###", outputs["slides"].text, re.M)  # no vertical slides


def test_handout_has_one_title_and_no_skipped_levels(outputs):
    levels = [len(m.group(1)) for m in
              re.finditer(r"^(#{1,6}) ", outputs["handout"].text, re.M)]
    assert levels.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))


def test_figures_are_numbered_in_the_handout_and_captions_go_to_notes_on_slides(outputs):
    handout = outputs["handout"].text
    assert re.search(r"^```\{figure\} /diagrams/\S+\.svg\n:name: ", handout, re.M)
    slides = outputs["slides"].text
    assert "{figure}" not in slides and "{image} /diagrams/" in slides


def test_notes_written_inside_a_sentence_stay_in_it_for_the_presenter(tmp_path):
    """lamd's course-execed, the-new-world: the link of an article cited inside the notes,
    and notes split around a blog post on one line, read as the sentences they are."""
    talk = tmp_path / "t.md"
    talk.write_text("---\ntitle: N\n---\n\n## S\n\n\\notes{Thoughts.\n\nSee \\addguardian{marketing}{2015/x} "
                    "from 2015.}\n\n\\notes{You can also check my }\\addblog{System Zero}{2015/y}"
                    "\\notes{ This was also written in 2015.}\n\n\\notes{Separate.}\n", encoding="utf-8")
    for variant in ("speaker-notes", "handout"):
        text = expand_talk(str(talk), variant, TalkConfig()).text
        assert "\n\nSee Guardian article on [marketing](https://www.theguardian.com/media-network/2015/x)" \
               " from 2015.\n\n" in text
        assert "\n\nYou can also check my blog post on [System Zero](http://inverseprobability.com/"  \
               "2015/y). This was also written in 2015.\n\nSeparate.\n" in text


def test_a_figure_inside_notes_keeps_its_caption_apart_from_the_picture_for_the_presenter(tmp_path):
    """course-execed, the-data-crisis: ``\\notes{\\figure{...}{caption}{label}}`` gave the
    presenter the caption glued to the image's closing fence, a broken directive."""
    (tmp_path / "x.jpg").write_bytes(b"\xff\xd8")
    talk = tmp_path / "t.md"
    talk.write_text("---\ntitle: N\n---\n\n## S\n\nSea.\n\n\\notes{\\figure{\\includejpg{x}{50%}}"
                    "{The abundance of data.}{sea}}\n\nDesalination.\n", encoding="utf-8")
    text = expand_talk(str(talk), "speaker-notes", TalkConfig()).text
    assert "```\n\nThe abundance of data.\n" in text, text
    assert "```The" not in text
