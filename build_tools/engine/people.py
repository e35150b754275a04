"""Portrait macros from a people table (docs/vocabulary.md, "People").

lamd generates one macro per person, ``\\neilLawrencePicture{width}``, from a people YAML
file: a circular portrait linked to the person's page (``\\circleHead``). The table lamd
ships is ``macros/people.yml``; a project's or course's own ``_people/people.yml``, found
as an include is, adds to it and wins. Each entry becomes a ``\\define`` in the macro
language, so a talk can still redefine a person.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..diagnostics import Diagnostic, Location, Severity
from ..paths import display_name
from ..yamlfile import YamlTooLarge, load_yaml

PEOPLE_FILE = "_people/people.yml"
"""Where lamd keeps a speaker's people, in the snippets tree."""
UNSAFE = re.compile(r"[{}\\\n]")


@dataclass(frozen=True)
class Person:
    macro: str
    """The macro's name, ``Picture`` included."""
    image: str
    """Relative to ``\\diagramsDir``."""
    title: str
    url: str = ""


def macro_name(given: str, family: str) -> str:
    """lamd's rule: the given name with its first letter lower-cased, then the family name,
    without anything but letters and digits, then ``Picture``."""
    given = given[:1].lower() + given[1:]
    return re.sub(r"[^A-Za-z0-9]", "", given + family) + "Picture"


def read_people(path: str) -> tuple[list[Person], list[Diagnostic]]:
    """The people of one YAML file, and a warning for each entry that cannot be used."""
    shown = display_name(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = load_yaml(fh.read())
    except (OSError, UnicodeDecodeError, YamlTooLarge, ValueError) as exc:
        return [], [Diagnostic("W-PEOPLE", Severity.WARNING, f"cannot read the people file: {exc}",
                               Location(shown, 1, 1))]
    people, problems = [], []
    for number, entry in enumerate(data if isinstance(data, list) else [], start=1):
        person = _person(entry)
        if person is None:
            problems.append(Diagnostic(
                "W-PEOPLE", Severity.WARNING,
                f"entry {number} of the people file gives no portrait macro: it needs an image and "
                "a given and family name (or a macro name), without braces or backslashes",
                Location(shown, 1, 1)))
        else:
            people.append(person)
    return people, problems


def _person(entry: object) -> Person | None:
    if not isinstance(entry, dict):
        return None
    text = {k: str(v).strip() for k, v in entry.items() if isinstance(v, (str, int, float))}
    given, family = text.get("given", ""), text.get("family", "")
    macro = text.get("macro") or (macro_name(given, family) if given or family else "")
    title = text.get("title") or " ".join(p for p in (given, family) if p)
    image, url = text.get("image", ""), text.get("url", "")
    if not re.fullmatch(r"[A-Za-z0-9]+", macro) or not image \
            or any(UNSAFE.search(v) for v in (image, title, url)):
        return None
    return Person(macro, image, title, url)


def people_source(people: list[Person]) -> str:
    """The people as definitions in the macro language."""
    return "".join(f"\\define{{\\{p.macro}{{width}}}}{{\\circleHead{{\\diagramsDir/{p.image}}}"
                   f"{{{p.title}}}{{\\width}}{{{p.url}}}}}\n" for p in people)


def stamp(path: str) -> int:
    return os.stat(path).st_mtime_ns if os.path.exists(path) else 0
