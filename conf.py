"""Sphinx configuration for the talks site: one source tree, three variants.

Every build reads the talks under ``talks/`` and renders one variant of them,
chosen by the ``talks_variant`` value::

    sphinx-build -b revealjs -D talks_variant=slides        . _build/slides
    sphinx-build -b html     -D talks_variant=speaker-notes . _build/speaker-notes
    sphinx-build -b html     -D talks_variant=handout       . _build/handout

``talks build`` runs all three (in parallel where it can) and assembles
``_build/site/``.  The extension in ``build_tools/sphinx_ext`` feeds each talk's
preprocessed MyST to Sphinx; everything variant-specific lives there.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)  # build_tools imports even without an installed package

project = "Talks"
author = "The talks authors"
copyright = "the talks authors"
language = "en"

extensions = [
    "myst_parser",
    "sphinx.ext.mathjax",
    "sphinxcontrib.bibtex",
    "build_tools.sphinx_ext",  # also loads sphinx_revealjs
]

# The repository root is the source directory: only talks/ holds documents.  With
# no index page of its own, the first talk is the root document; ``talks build``
# generates a source folder with an index and says so with -D root_doc=index.
_talks = sorted(f[:-3] for f in os.listdir(os.path.join(HERE, "talks")) if f.endswith(".md")) \
    if os.path.isdir(os.path.join(HERE, "talks")) else []
root_doc = "index" if os.path.isfile(os.path.join(HERE, "index.md")) or not _talks \
    else f"talks/{_talks[0]}"
exclude_patterns = [
    "_build", ".venv", "venv", ".git", ".ci", ".github", "includes", "macros", "diagrams",
    "tests", "benchmarks", "build_tools", "docs", "test-artifacts", "*.egg-info", "README.md",
    "**/README.md",
]
source_suffix = {".md": "markdown"}

# -- MyST -----------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "dollarmath", "attrs_inline", "attrs_block",
                          "html_image", "deflist"]
myst_heading_anchors = 0
myst_dmath_double_inline = True

# -- citations --------------------------------------------------------------------------
# The talks' own ``bibliography:`` files are added by the extension at start-up.
talks_bib_files = [os.path.join(HERE, "talks", "references.bib")]
bibtex_bibfiles = []
bibtex_default_style = "alpha"
bibtex_reference_style = "author_year"  # {cite} roles; the talks use the extension's author–date footcite roles

# -- the talks extension ---------------------------------------------------------------
talks_variant = "handout"                      # overridden per build with -D
talks_notation = os.path.join(HERE, "macros", "notation.tex")

# What ``talks build`` exports besides the HTML (``--to`` overrides it; ``--to none``
# builds the HTML alone).  The demo site shows every output.
talks_exports = ["ipynb", "docx", "pdf", "slides-pdf", "pptx"]

# Large flat sites: no global toctree, so no page is "not included".
suppress_warnings = ["toc.not_included", "myst.header", "misc.highlighting_failure"]

# -- handout and speaker notes: HTML ---------------------------------------------------
html_theme = "furo"
html_title = "Talks"
html_static_path = []
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_use_index = False          # talks have no index entries; skip genindex.html
html_domain_indices = False
templates_path = []

# -- slides: reveal.js -----------------------------------------------------------------
revealjs_html_theme = "revealjs-simple"
revealjs_style_theme = "black"
revealjs_static_path = []
revealjs_use_section_ids = False
revealjs_script_conf = {
    "hash": True,
    "slideNumber": "c/t",
    "transition": "none",
    "controls": True,
    "progress": True,
    "center": False,
    "width": 1280,
    "height": 800,
    "margin": 0.04,
    # sphinx-revealjs adds this key itself when missing, which would change the
    # configuration between runs and force a full re-read; say it here instead.
    "scrollActivationWidth": None,
}
revealjs_script_plugins = [
    {"name": "RevealNotes", "src": "revealjs/plugin/notes/notes.js"},
    {"name": "RevealHighlight", "src": "revealjs/plugin/highlight/highlight.js"},
]
revealjs_css_files = ["revealjs/plugin/highlight/monokai.css"]
html_scaled_image_link = False
