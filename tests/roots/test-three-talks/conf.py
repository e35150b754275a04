# A small project of three talks that share fragments, for the Sphinx tests.
project = "Three talks"
extensions = ["myst_parser", "sphinx.ext.mathjax", "sphinxcontrib.bibtex", "build_tools.sphinx_ext"]
root_doc = "index"
exclude_patterns = ["_build", "includes", "diagrams"]
myst_enable_extensions = ["colon_fence", "dollarmath", "attrs_inline", "attrs_block"]
talks_bib_files = ["references.bib"]
talks_variant = "handout"
suppress_warnings = ["toc.not_included"]
html_theme = "basic"
revealjs_script_conf = {"hash": True, "scrollActivationWidth": None}
revealjs_script_plugins = [{"name": "RevealNotes", "src": "revealjs/plugin/notes/notes.js"}]
