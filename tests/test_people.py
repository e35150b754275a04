"""People: portrait macros from the people table lamd ships (macros/people.yml) and from a
project's own ``_people/people.yml``, and ``\\circleHead`` itself (docs/vocabulary.md, People)."""
from __future__ import annotations

from pathlib import Path

import yaml

from build_tools.engine.people import macro_name, read_people

from helpers import codes, expand, write_repo

FRONT = "---\ntitle: T\n---\n"
PEOPLE = Path(__file__).resolve().parent.parent / "macros" / "people.yml"


def image_options(text: str, path: str) -> dict[str, str]:
    """The options of the ``{image}`` directive of ``path`` in MyST text."""
    block = text.split(f"```{{image}} {path}\n", 1)[1].split("```", 1)[0]
    return dict(line[1:].split(": ", 1) for line in block.strip().split("\n"))


def test_a_person_lamd_knows_is_a_round_portrait_linked_to_their_page(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\neilLawrencePicture{15%}\n",
                          "diagrams/people/neil-lawrence.png": b"\x89PNG"})
    for variant in ("slides", "handout"):
        e = expand(tmp_path, "talks/t.md", variant, image_root=str(tmp_path))
        assert image_options(e.text, "/diagrams/people/neil-lawrence.png") == {
            "width": "15%", "class": "circle-head", "align": "center", "alt": "Neil Lawrence",
            "target": "https://inverseprobability.com/"}
        assert not codes(e)


def test_circlehead_is_the_portrait_of_anyone(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\circleHead{/x.jpg}{Ada L}{10%}{https://a.org}\n",
                          "x.jpg": b"jpg"})
    e = expand(tmp_path, "talks/t.md", image_root=str(tmp_path))
    assert image_options(e.text, "/x.jpg") == {"width": "10%", "class": "circle-head",
                                               "align": "center", "alt": "Ada L",
                                               "target": "https://a.org"}


def test_a_projects_people_file_adds_people_and_wins(tmp_path):
    write_repo(tmp_path, {
        "talks/t.md": FRONT + "\\adaLovelacePicture{9%}\n\n\\neilLawrencePicture{9%}\n",
        "includes/_people/people.yml": yaml.safe_dump([
            {"given": "Ada", "family": "Lovelace", "image": "people/ada.png", "title": "Ada"},
            {"given": "Neil", "family": "Lawrence", "image": "people/neil.png",
             "url": "https://example.org/neil"},
            {"given": "Bad", "image": "x{y}.png", "family": "Entry"}]),
    })
    e = expand(tmp_path, "talks/t.md")
    assert image_options(e.text, "/diagrams/people/ada.png")["alt"] == "Ada"
    assert image_options(e.text, "/diagrams/people/neil.png")["target"] == "https://example.org/neil"
    assert "Picture" not in e.text
    assert [d.code for d in e.diagnostics] == ["W-PEOPLE"]
    assert str(tmp_path / "includes/_people/people.yml") in e.dependencies


def test_a_talk_can_still_redefine_a_person(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\define{\\neilLawrencePicture{w}}{}\nA\\neilLawrencePicture{5%}B\n"})
    assert "AB" in expand(tmp_path, "talks/t.md").text


def test_macro_names_follow_lamds_rule():
    assert macro_name("Carl Henrik", "Ek") == "carlHenrikEkPicture"
    assert macro_name("Michael T.", "Smith") == "michaelTSmithPicture"
    assert macro_name("Joyce", "Nakatumba-Nabende") == "joyceNakatumbaNabendePicture"


def test_the_table_holds_every_person_lamd_ships():
    people, problems = read_people(str(PEOPLE))
    assert not problems and len(people) == 67
    names = {p.macro for p in people}
    assert {"neilLawrencePicture", "michaelSmithPicture", "jimmyKinyonyiPicture",
            "teoPicture"} <= names


def test_a_portrait_without_its_picture_shows_the_persons_initials_and_name_warned_once(tmp_path):
    """The shared course has no people pictures: a reader still sees who it is, linked to their
    page, rather than an empty frame; the author hears once that the picture is missing."""
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\ernestMwebazePicture{15%}\n\nA\\ernestMwebazePicture{15%}\n",
                          "diagrams/people/other.png": b"\x89PNG"})
    for variant in ("slides", "handout", "speaker-notes"):
        e = expand(tmp_path, "talks/t.md", variant, image_root=str(tmp_path))
        portrait = ('<figure class="talks-portrait" style="width: 15%"><a href="https://www.linkedin.com'
                    '/in/emwebaze/" tabindex="-1"><span class="talks-initials" style="background-color: '
                    'hsl(')
        assert e.text.count(portrait) == 2, e.text
        assert 'role="img" aria-label="Ernest Mwebaze">EM</span></a><figcaption><a href="https://www.' \
               'linkedin.com/in/emwebaze/">Ernest Mwebaze</a></figcaption></figure>' in e.text
        assert "{image}" not in e.text and "talks-missing" not in e.text
        warnings = [d for d in e.diagnostics if d.code == "W-IMAGE-MISSING"]
        assert [(d.location.line, d.message.split(" (")[0]) for d in warnings] == [
            (4, "portrait of Ernest Mwebaze not found: /diagrams/people/ernest-mwebaze.png")]


def test_a_portrait_link_a_talk_names_cannot_run_script(tmp_path):
    write_repo(tmp_path, {"talks/t.md": FRONT + "\\circleHead{/x.jpg}{Ada <b>L</b>}{10%\" onload=\"x}"
                                                "{javascript:alert(1)}\n"})
    text = expand(tmp_path, "talks/t.md", image_root=str(tmp_path)).text
    assert "javascript" not in text and "onload" not in text and "<b>" not in text
    assert ">A</span><figcaption>Ada &lt;b&gt;L&lt;/b&gt;</figcaption>" in text


def test_documents_write_a_portrait_without_its_picture_as_the_persons_linked_name(tmp_path):
    from build_tools.config import TalkConfig
    from build_tools.engine.run import expand as expand_items
    from build_tools.export.markdown import Style, cells

    write_repo(tmp_path, {"talks/t.md": FRONT + "\\ernestMwebazePicture{15%}\n",
                          "diagrams/people/other.png": b"\x89PNG"})
    talk = expand_items(str(tmp_path / "talks/t.md"), "handout",
                        TalkConfig(include_roots=[str(tmp_path / "includes")], image_root=str(tmp_path)))
    text = "\n".join(c.text for c in cells(talk.items, Style(image_link=lambda path: path)))
    assert text.strip() == "[Ernest Mwebaze](https://www.linkedin.com/in/emwebaze/)"
