"""Sphinx adapter: render lamd talks as slides, speaker notes or handouts.

Stage 4 of the pipeline.  The macro engine (``build_tools.api``) knows nothing
about Sphinx; this package feeds its MyST to Sphinx and fits the output to
each variant:

* ``reading``: ``source-read`` swaps a talk's lamd source for the MyST of the
  chosen variant, notes every file read as a dependency and logs the
  engine's diagnostics at their original file and line;
* ``locations``: maps Sphinx's own warnings on generated lines back to the
  original file and line;
* ``replay``: a build that skips a document prints the warnings it drew last time;
* ``citations``: author–date citations and a References list, as lamd shows them,
  from BibTeX files read entry by entry;
* ``notes``: speaker notes keep their formatting in reveal.js's speaker view;
* ``links``: handout sections link to their slide and slides to their section;
* ``placeholders``: a neutral frame where a file was not found (the author's
  warning box only in ``talks serve``'s preview);
* ``typography``: quotes, dashes and ellipses made while parsing;
* ``figures``: numbered figures, of one image or of several pieces;
* ``navigation``: the site's talks beside each handout, previous and next at its
  foot, from the list ``talks build`` hands over (no toctree);
* ``images``: image files named by their content, so shards agree on them;
* ``assets``: MathJax from the build (no network), notation macros, deck CSS,
  and the sphinx-revealjs full re-read workaround.

The variant is the ``talks_variant`` configuration value (``-D talks_variant=slides``).
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from ..config import OPTIONS, VARIANTS, option_type
from ..project import code_fingerprint

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__all__ = ["setup"]

ENV_VERSION = 8  # 7: images named by content (images.py); 8: figures numbered (figures.py)



def import_modules() -> None:
    """Import every module of this extension (``talks build`` does, before its variant
    processes fork, so that none of them imports them again)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_revealjs")
    app.setup_extension("myst_parser")

    app.add_config_value("talks_variant", "", "env", types=[str],
                         description=f"Which variant to render: one of {', '.join(VARIANTS)}.")
    for option in OPTIONS:  # every engine setting, as talks_<name>; None: not set here
        app.add_config_value(f"talks_{option.name}", None, "env", types=[option_type(option)],
                             description=option.metadata["doc"])
    app.add_config_value("talks_prepared_dir", "", "", types=[str],
                         description="Where talks build keeps each talk's prepared deck.")
    app.add_config_value("talks_notation", "", "html", types=[str],
                         description="A file of \\newcommand lines handed to MathJax.")
    app.add_config_value("talks_exports", [], "", types=[list, tuple, str],
                         description="Exports `talks build` makes by default besides the HTML "
                         "(ipynb, docx, pdf, slides-pdf); read by the site builder, not Sphinx.")
    # what this build links, not what conf.py makes by default: `--to` decides it per build,
    # and a change rewrites the pages (no re-read) so no page links a file the site lacks
    app.add_config_value("talks_linked_exports", [], "html", types=[list, tuple],
                         description="Exports the site holds for every talk (set by `talks "
                         "build`): the handout, speaker notes and deck link them.")
    app.add_config_value("talks_site_links", True, "env", types=[bool],
                         description="Link handout sections and slides to each other in the site.")

    from . import (assets, citations, figures, htmlassets, images, links, locations, navigation,
                   keptbib, notes, parsing, placeholders, reading, replay, searchindex,
                   speedups, typography)

    locations.setup(app)
    replay.setup(app)
    reading.setup(app)
    citations.setup(app)
    keptbib.setup(app)
    parsing.setup(app)
    speedups.setup(app)
    searchindex.setup(app)
    typography.setup(app)
    notes.setup(app)
    links.setup(app)
    assets.setup(app)
    htmlassets.setup(app)
    images.setup(app)
    placeholders.setup(app)
    navigation.setup(app)
    figures.setup(app)
    # pages, doctrees and environment made by other code (an upgrade, an edit) are made anew
    return {"version": "0.1", "env_version": f"{ENV_VERSION}-{code_fingerprint()}",
            "parallel_read_safe": True, "parallel_write_safe": True}
