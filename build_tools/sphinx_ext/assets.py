"""Assets: everything a page needs comes from the build, nothing from the network.

* MathJax 3 (the ``django-static-mathjax`` package) is copied into
  ``_static/mathjax/`` and used instead of Sphinx's CDN default.  Output is SVG
  with a per-equation font cache, so an equation stays whole when reveal.js
  copies the notes' HTML into the speaker view.
* The notation macros (``talks_notation``, a file of ``\\newcommand`` lines)
  become MathJax's ``tex.macros``; a talk's own ``\\newcommand`` lines are added on
  its pages only.
* The project's CSS and JavaScript (``build_tools/static``) are copied into
  ``_static/talks/`` and added to every page, decks included (sphinx-revealjs
  leaves extension CSS out of decks).
* sphinx-revealjs appends its own folder to ``revealjs_static_path`` when the
  builder starts, so the configuration differs from the pickled one on every
  run and Sphinx re-reads every deck (sphinx-revealjs issue 74).  The value is
  restored once the builder has taken what it needs.
"""
from __future__ import annotations

import filecmp
import importlib.util
import json
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sphinx.util import logging

from .reading import DECK_BUILDERS, talk_info

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from docutils import nodes
    from sphinx.config import Config

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
MATHJAX_PARTS = ("tex-svg.js", "input/tex/extensions", "a11y", "ui")
NEWCOMMAND_RE = re.compile(r"^\s*\\(?:re)?newcommand\s*\{?\\([A-Za-z]+)\}?\s*(?:\[(\d)\])?\s*\{(.*)\}\s*(?:%.*)?$")


def mathjax_source() -> Path | None:
    """The folder of MathJax's ready-to-use components, when the package is installed."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax" / "es5"
    return folder if (folder / "tex-svg.js").is_file() else None


def read_notation(path: str) -> dict[str, object]:
    """``\\newcommand`` lines as MathJax macros: name -> body, or [body, nargs]."""
    macros: dict[str, object] = {}
    if not path or not os.path.isfile(path):
        return macros
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            m = NEWCOMMAND_RE.match(line)
            if m:
                name, nargs, body = m.groups()
                macros[name] = [body, int(nargs)] if nargs else body
    return macros


def on_config_inited(app: Sphinx, config: Config) -> None:
    if mathjax_source() is not None and "://" in config.mathjax_path:
        config.mathjax_path = "mathjax/tex-svg.js"
    if config.mathjax3_config is None:
        config.mathjax3_config = {
            "tex": {"macros": read_notation(config.talks_notation),
                    "inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]},
            "svg": {"fontCache": "local"},
            "options": {"menuOptions": {"settings": {"explorer": False}}},
        }


def on_builder_inited(app: Sphinx) -> None:
    builder: Any = app.builder  # an HTML builder (revealjs or html): it has add_css_file
    if builder.name in DECK_BUILDERS:
        from sphinx_revealjs.utils import get_internal_static_path

        internal = str(get_internal_static_path())
        app.config.html_static_path = list(app.config.revealjs_static_path)
        app.config.revealjs_static_path = [p for p in app.config.revealjs_static_path
                                           if p != internal]
        builder.add_css_file("talks/talks-deck.css")
        builder.add_js_file("talks/talks-deck.js", defer="defer")
    elif builder.format == "html":
        builder.add_css_file("talks/talks-pages.css")
        if app.config.talks_variant == "speaker-notes":
            # search is for students' handouts; indexing the presenter's copy
            # as well would double the largest cost of writing
            builder.search = False


def on_html_page_context(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                         doctree: nodes.document | None) -> None:
    """A talk's own ``\\newcommand`` macros, on its pages only (before MathJax loads)."""
    info = talk_info(app.env).get(pagename)
    if not info or not info.math_macros or not context.get("has_maths_elements"):
        return
    body = ("window.MathJax = window.MathJax || {}; MathJax.tex = MathJax.tex || {};"
            "MathJax.tex.macros = Object.assign(MathJax.tex.macros || {}, "
            f"{json.dumps(info.math_macros)});")
    builder: Any = app.builder
    builder.add_js_file("", body=body)


def _copy_if_changed(src: Path, dest: Path) -> None:
    if src.is_dir():
        for child in src.iterdir():
            _copy_if_changed(child, dest / child.name)
        return
    if dest.is_file() and dest.stat().st_size == src.stat().st_size \
            and filecmp.cmp(src, dest, shallow=True):
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    _copy_if_changed(STATIC, static / "talks")
    source = mathjax_source()
    if source is not None and not app.config.mathjax_path.startswith(("http:", "https:")):
        for part in MATHJAX_PARTS:
            if (source / part).exists():
                _copy_if_changed(source / part, static / "mathjax" / part)


def setup(app: Sphinx) -> None:
    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", on_builder_inited)
    app.connect("html-page-context", on_html_page_context, priority=600)
    app.connect("build-finished", on_build_finished)
