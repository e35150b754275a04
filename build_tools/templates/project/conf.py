"""Sphinx configuration of a talks project (``talks init`` wrote it; edit freely).

``talks build`` renders every talk under ``talks/`` three times (slides, speaker
notes, handout) with this file; ``talks config`` prints every ``talks_*`` value
in force and where it came from.  The values are documented in the talks README,
"Configuration".  A folder with no conf.py (a lamd course) is built with this
file as it is.
"""
import os

from build_tools.config import PROJECT_MACROS

project = "Talks"
author = ""
language = "en"

extensions = [
    "myst_parser",
    "sphinx.ext.mathjax",
    "sphinxcontrib.bibtex",
    "build_tools.sphinx_ext",  # also loads sphinx_revealjs
]
root_doc = "index"
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "includes", "diagrams"]
myst_enable_extensions = ["colon_fence", "dollarmath", "attrs_inline", "attrs_block",
                          "html_image", "deflist"]
myst_heading_anchors = 0
myst_dmath_double_inline = True

# -- the talks -------------------------------------------------------------------------
talks_variant = "handout"                      # set per build by talks build
talks_notation = os.path.join(str(PROJECT_MACROS), "notation.tex")
talks_exports = []                             # e.g. ["ipynb", "docx", "pdf", "slides-pdf"]
# talks_include_roots = ["../snippets"]        # more snippet roots, after includes/
# talks_bib_files = ["talks/references.bib"]
bibtex_bibfiles = []
bibtex_default_style = "alpha"
bibtex_reference_style = "author_year"
suppress_warnings = ["toc.not_included", "myst.header", "misc.highlighting_failure"]

# -- handout and speaker notes: HTML ---------------------------------------------------
html_theme = "furo"
html_title = project
copyright = author
html_show_copyright = bool(author)  # no bare "Copyright ©" without a name
html_show_sourcelink = False
html_copy_source = False
html_use_index = False
html_domain_indices = False

# -- slides: reveal.js -----------------------------------------------------------------
revealjs_html_theme = "revealjs-simple"
revealjs_style_theme = "black"
revealjs_use_section_ids = False
revealjs_script_conf = {"hash": True, "slideNumber": "c/t", "transition": "none",
                        "controls": True, "progress": True, "center": False,
                        "width": 1280, "height": 800, "margin": 0.04,
                        "scrollActivationWidth": None}
revealjs_script_plugins = [
    {"name": "RevealNotes", "src": "revealjs/plugin/notes/notes.js"},
    {"name": "RevealHighlight", "src": "revealjs/plugin/highlight/highlight.js"},
]
revealjs_css_files = ["revealjs/plugin/highlight/monokai.css"]
html_scaled_image_link = False
