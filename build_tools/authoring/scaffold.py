"""``talks new``: a talk to start from, showing each main macro once."""
from __future__ import annotations

import datetime
import re
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug or "talk"


def guard_name(slug: str) -> str:
    words = slug.split("-")
    return words[0] + "".join(w.capitalize() for w in words[1:]) + "Intro"


def new_talk(title: str, project: Path, author: str = "", venue: str = "",
             date: datetime.date | None = None) -> list[Path]:
    """Write a talk, one fragment it includes and one diagram; returns the files written.

    Refuses to overwrite: a talk of the same name is an error the caller reports.
    """
    slug = slugify(title)
    talk = project / "talks" / f"{slug}.md"
    fragment = project / "includes" / f"_{slug}" / "includes" / "introduction.md"
    diagram = project / "diagrams" / slug / "overview.svg"
    for path in (talk, fragment):
        if path.exists():
            raise FileExistsError(str(path))
    env = Environment(loader=PackageLoader("build_tools", "templates/new"),
                      undefined=StrictUndefined, keep_trailing_newline=True)
    given, _, family = (author or "Your Name").rpartition(" ")
    values = {
        "title": title.replace('"', "'"), "slug": slug, "guard": guard_name(slug),
        "given": given or family, "family": family if given else "",
        "venue": venue or "Venue", "date": (date or datetime.date.today()).isoformat(),
    }
    written = []
    for path, template in ((talk, "talk.md"), (fragment, "fragment.md"), (diagram, "diagram.svg")):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path == diagram and path.exists():
            continue
        path.write_text(env.get_template(template).render(**values), encoding="utf-8")
        written.append(path)
    return written


def init_project(folder: Path) -> list[Path]:
    """Make ``folder`` a project that builds: conf.py, talks/, includes/, diagrams/ and pages/.

    Leaves any of them that exists as it is; returns the files and folders made.
    """
    from ..project import DEFAULT_CONF_DIR

    made = []
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "conf.py"
    if not conf.exists():
        conf.write_text((DEFAULT_CONF_DIR / "conf.py").read_text(encoding="utf-8"), encoding="utf-8")
        made.append(conf)
    for name in ("talks", "includes", "diagrams", "pages"):
        if not (folder / name).is_dir():
            (folder / name).mkdir()
            made.append(folder / name)
    return made
