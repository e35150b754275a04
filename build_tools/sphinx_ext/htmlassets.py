"""Files that a talk's raw HTML shows: ``<img src>``, ``<object data>``, ``<video poster>``.

Sphinx copies the images it is given as image nodes; a picture inside an HTML
table or an SVG in an ``<object>`` is just text to it, and its path (often
``\\diagramsDir/...``, i.e. ``/diagrams/...``) would point outside the site.
Each such local file is copied into the page's ``_images`` folder under a name
made from its content, and the attribute is pointed at the copy.  A file that is
not there is one ``W-IMAGE-MISSING`` at the talk's line.  Paths outside the
repository never get here: emit has already refused them (``myst/paths.py``).
"""
from __future__ import annotations

import os
import re
import shutil
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util import logging

from ..media import unpublishable
from ..myst.paths import REFUSED, URL_RE
from .images import content_name

if TYPE_CHECKING:
    from sphinx.application import Sphinx

logger = logging.getLogger(__name__)

SHOWN_FILE_RE = re.compile(r"""(<(?:img|object|source|video|embed|iframe)\b[^>]*?\b(?:src|data|poster)\s*=\s*["']?)"""
                           r"""([^"'\s>]+)""", re.I)


def on_file(app: Sphinx, docname: str, target: str) -> str | None:
    """The file a local path in a page's HTML names, as the browser of the source would find it."""
    path = target.split("#", 1)[0].split("?", 1)[0]
    if path.startswith("/"):
        return os.path.join(str(app.srcdir), path.lstrip("/"))
    talk = os.path.realpath(app.env.doc2path(docname))
    return os.path.join(os.path.dirname(talk), path)


def rewrite(app: Sphinx, docname: str, node: nodes.raw) -> str:
    """The node's HTML with every shown local file copied and pointed at."""
    up = "../" * docname.count("/")
    images = os.path.join(app.outdir, "_images")

    def copy(m: re.Match) -> str:
        target = m.group(2)
        if URL_RE.match(target):
            return m.group(0)
        path = on_file(app, docname, target)
        if path is None or not os.path.isfile(path):
            logger.warning("image not found: %s", target, location=node, type="talks",
                           subtype="W-IMAGE-MISSING")
            return m.group(0)
        why = unpublishable(path)
        if why is not None:  # emit refuses these first (myst/paths.py); never copy one
            logger.warning("%s is not published: %s", target, why, location=node, type="talks",
                           subtype="E-FILE-NOT-MEDIA")
            return m.group(1) + REFUSED
        name = content_name(path)  # as Sphinx's own images are named (images.py)
        os.makedirs(images, exist_ok=True)
        if not os.path.isfile(os.path.join(images, name)):
            shutil.copyfile(path, os.path.join(images, name))
        return m.group(1) + up + "_images/" + name

    return SHOWN_FILE_RE.sub(copy, node.astext())


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    for node in list(doctree.findall(nodes.raw)):
        if "html" not in node.get("format", "").split() or not SHOWN_FILE_RE.search(node.astext()):
            continue
        html = rewrite(app, docname, node)
        if html != node.astext():
            node.replace_self(nodes.raw("", html, format="html", source=node.source, line=node.line))


def setup(app: Sphinx) -> None:
    app.connect("doctree-resolved", on_doctree_resolved)
