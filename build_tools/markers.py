"""Structure marks passed from the expander to the emit stage.

Private-use characters cannot occur in sane sources, so a line holding one is
unambiguously a mark.  Each mark stands on a line of its own.
"""
from __future__ import annotations

HEADING = "\ue000"
SEP = "\ue001"
END = "\ue002"
NOTES_OPEN = "\ue010"
NOTES_CLOSE = "\ue011"
ANIM_OPEN = "\ue020"
FRAME_OPEN = "\ue021"
FRAME_CLOSE = "\ue022"
ANIM_CLOSE = "\ue023"

ALL = HEADING + NOTES_OPEN + NOTES_CLOSE + ANIM_OPEN + FRAME_OPEN + FRAME_CLOSE + ANIM_CLOSE


def heading(level: int, title: str, attrs: str = "") -> str:
    return f"{HEADING}{level}{SEP}{title}{SEP}{attrs}{END}"


def parse_heading(line: str) -> tuple[int, str, str]:
    body = line.strip()[1:].rstrip(END)
    level, title, attrs = (body.split(SEP) + ["", ""])[:3]
    return int(level or 2), title, attrs


def anim_open(name: str) -> str:
    return f"{ANIM_OPEN}{name}{END}"


def anim_name(line: str) -> str:
    return line.strip()[1:].rstrip(END)


def kind(line: str) -> str | None:
    """The mark a line holds, if it is a mark line."""
    if not line or (line[0] not in ALL and line[0] not in " \t"):
        return None
    stripped = line.strip()
    if stripped and stripped[0] in ALL:
        return stripped[0]
    return None
