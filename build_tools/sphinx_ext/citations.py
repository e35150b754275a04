"""Citations as lamd shows them: author–date text, and a References list of what was cited.

The emit stage writes pandoc's ``[@a]`` and ``@a`` as sphinxcontrib-bibtex's
``{footcite:p}`` and ``{footcite:t}`` (each talk is its own page, so its
citations stay in it).  sphinxcontrib-bibtex's own footcite roles render
footnote numbers ("[1]") whatever ``bibtex_reference_style`` says; these roles
replace them and write what pandoc's citeproc writes for lamd:

* ``{footcite:t}`` -> ``Rogers and Girolami (2011)``;
* ``{footcite:p}`` -> ``(see Legendre, 1805, p. 3; Gauss, 1809)``;

each name–year linked to its entry in the talk's References (the
``{footbibliography}`` the emit stage places), which lists exactly the cited
entries, sorted by author, formatted by ``build_tools.bibliography``.

The BibTeX files sphinxcontrib-bibtex reads are cleaned copies (entry by entry,
see ``build_tools.bibliography``).  A defect is a warning at its file and line, and
at each citation of the entry, only when a talk of the build cites the entry; the
defects of entries nobody cites (a shared bibliography's, which the user cannot
fix) are one line per file, with the command that lists them.
"""
from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Any

import docutils.nodes as nodes
from docutils.nodes import make_id
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole

from ..bibliography import (BibDefect, cited_names, cited_year, cleaned_copies, defects_to_report,
                            reference_pieces, with_crossref)
from ..diagnostics import Diagnostic
from ..paths import display_name
from . import locations

if TYPE_CHECKING:
    from collections.abc import Collection
    from pybtex.database import Entry
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment
    from sphinxcontrib.bibtex.citation_target import CitationTarget

    Cited = tuple[CitationTarget, Entry | None, str]
    """One key of a citation: what was written, its entry (if found), its id in References."""

logger = logging.getLogger(__name__)

LIST_CLASSES = ["references", "csl-bib-body"]
BIB_FOLDER = "talks-bib"


# -- the BibTeX files, cleaned -------------------------------------------------------------

def on_config_inited(app: Sphinx, config: Config) -> None:
    """sphinxcontrib-bibtex reads a cleaned copy of every bibliography a talk may cite."""
    files = [os.path.abspath(os.path.join(app.confdir, b)) for b in config.talks_bib_files or []]
    present = []
    for path in dict.fromkeys(files):
        if os.path.isfile(path):
            present.append(path)
        else:
            logger.warning("bibliography not found: %s", display_name(path),
                           type="talks", subtype="W-BIB")
    folder = os.path.join(str(app.doctreedir), BIB_FOLDER)
    copies, defects = cleaned_copies(present, folder, cache_dir=os.path.join(folder, "cache"))
    _DEFECTS[app] = defects  # reported once the talks are read (on_env_updated)
    config.bibtex_bibfiles = list(dict.fromkeys([*(config.bibtex_bibfiles or []), *copies]))
    # sphinxcontrib-bibtex keeps the file list in the pickled environment and fails on a
    # list that changed without a re-read; a change of this value makes Sphinx re-read
    config.talks_bib_copies = list(copies)


_DEFECTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Sphinx application -> the defects of its bibliographies."""


def report_bib_problem(diag: Diagnostic) -> None:
    loc = diag.location
    logger.warning(diag.message, location=f"{loc.file}:{loc.line}" if loc else None,
                   type="talks", subtype=diag.code)


# -- which citations each talk makes ---------------------------------------------------------

def citations(env: BuildEnvironment) -> dict[str, list[tuple[str, str]]]:
    """Document -> (key, where the citation was written) of each of its citations."""
    if not hasattr(env, "talks_citations"):
        setattr(env, "talks_citations", {})
    return getattr(env, "talks_citations")


def note_citation(env: BuildEnvironment, key: str, lineno: int) -> None:
    origin = locations.origin_at(str(env.doc2path(env.docname)), lineno)
    where = f"{origin.location.file}:{origin.location.line}" if origin is not None \
        else f"{env.doc2path(env.docname)}:{lineno}"
    citations(env).setdefault(env.docname, []).append((key, where))


def on_purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    citations(env).pop(docname, None)


def on_merge_info(app: Sphinx, env: BuildEnvironment, docnames: Collection[str],
                  other: BuildEnvironment) -> None:
    mine = citations(env)
    for docname, cited in citations(other).items():
        if docname in docnames:
            mine[docname] = cited


def on_env_updated(app: Sphinx, env: BuildEnvironment) -> None:
    """The defects of cited entries, at the entry and at each citation; a count per file
    for the rest."""
    cited: dict[str, list[str]] = {}
    for found in citations(env).values():
        for key, where in found:
            cited.setdefault(key.lower(), []).append(where)
    report = defects_to_report(_DEFECTS.get(app, []), cited)
    for defect in report.cited:
        report_bib_problem(defect.diagnostic)
        for where in dict.fromkeys(cited.get(defect.key.lower(), [])):
            _warn_at_citation(defect, where)
    for file, message in report.summary():
        # "FILE:LINE": a location without a line would be taken for a document name
        logger.warning(message, location=f"{file}:1", type="talks", subtype="W-BIB")


def _warn_at_citation(defect: BibDefect, where: str) -> None:
    loc = defect.diagnostic.location
    at = f": see {loc.file}:{loc.line}" if loc else ""
    logger.warning(f"cites '{defect.key}', whose bibliography entry has a defect{at}",
                   location=where, type="talks", subtype="W-BIB")


# -- the roles ---------------------------------------------------------------------------

class AuthorYearCite(SphinxRole):
    """``{footcite:p}`` and ``{footcite:t}`` as author–date text (see the module's docstring)."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        from sphinxcontrib.bibtex.citation_target import parse_citation_targets

        try:
            targets = list(parse_citation_targets(self.text))
        except ValueError:
            self._warn(f"malformed citation: {self.text}")
            return [nodes.Text(self.text)], []
        domain: Any = self.env.get_domain("cite")  # sphinxcontrib-bibtex's, with the parsed files
        entries = domain.bibdata.data.entries
        node = nodes.inline(classes=["citation"])
        textual = self.name.rpartition(":")[2].startswith("t")
        cited: list[Cited] = []
        for target in targets:
            note_citation(self.env, target.key, self.lineno)
            entry = entries.get(target.key)
            if entry is None:
                self._warn(f'could not find bibtex key "{target.key}"')
                cited.append((target, None, ""))
                continue
            entry = with_crossref(entry, entries)
            cited.append((target, entry, self._listed(entry)))
        for child in (_textual(cited) if textual else _parenthetical(cited)):
            node += child
        return [node], []

    def _warn(self, message: str) -> None:
        logger.warning(message, location=(self.env.docname, self.lineno),
                       type="bibtex", subtype="key_not_found")

    def _listed(self, entry: Entry) -> str:
        """The id of the entry in the talk's coming References, adding it the first time."""
        temp: Any = self.env.temp_data  # shared with sphinxcontrib-bibtex's footnote roles
        ids: dict[str, str] = temp.setdefault("talks_cite_ids", {})
        if entry.key in ids:
            return ids[entry.key]
        listed: nodes.container = temp.setdefault(
            "bibtex_foot_bibliography", nodes.container(classes=list(LIST_CLASSES)))
        temp.setdefault("bibtex_foot_new_refs", set()).add(entry.key)
        document = self.inliner.document
        ident = base = make_id(f"ref-{entry.key}") or "ref"
        count = 1
        while ident in document.ids:
            count += 1
            ident = f"{base}-{count}"
        para = nodes.paragraph(classes=["csl-entry"], ids=[ident])
        document.ids[ident] = para
        for piece in reference_pieces(entry):
            para += nodes.reference(piece.text, piece.text, refuri=piece.url) if piece.url \
                else nodes.Text(piece.text)
        listed += para
        ids[entry.key] = ident
        return ident


def _link(text: str, refid: str) -> nodes.Node:
    if not refid:
        return nodes.Text(text)
    return nodes.reference(text, text, refid=refid, internal=True)


def _parenthetical(cited: list[Cited]) -> list[nodes.Node]:
    """``(pre Author, Year, post; Other, Year)``."""
    out: list[nodes.Node] = [nodes.Text("(")]
    for i, (target, entry, refid) in enumerate(cited):
        if i:
            out.append(nodes.Text("; "))
        if target.pre:
            out.append(nodes.Text(target.pre + " "))
        label = f"{cited_names(entry)}, {cited_year(entry)}" if entry else f"@{target.key}"
        out.append(_link(label, refid))
        if target.post:
            out.append(nodes.Text(", " + target.post))
    out.append(nodes.Text(")"))
    return out


def _textual(cited: list[Cited]) -> list[nodes.Node]:
    """``Author (Year, post)``; several in-text keys are joined by ``;``."""
    out: list[nodes.Node] = []
    for i, (target, entry, refid) in enumerate(cited):
        if i:
            out.append(nodes.Text("; "))
        if entry is None:
            out.append(nodes.Text(f"@{target.key}"))
            continue
        if target.pre:
            out.append(nodes.Text(target.pre + " "))
        year = cited_year(entry) + (f", {target.post}" if target.post else "")
        out.append(_link(f"{cited_names(entry)} ({year})", refid))
    return out


# -- the References list ----------------------------------------------------------------------

def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """Each References list in author order, as citeproc sorts it (entries were added in
    the order they were first cited)."""
    for container in doctree.findall(nodes.container):
        if "references" not in container["classes"]:
            continue
        entries = sorted(container.children, key=lambda n: n.astext().lower())
        container.children = []
        container.extend(entries)


def setup(app: Sphinx) -> None:
    app.setup_extension("sphinxcontrib.bibtex")
    app.add_config_value("talks_bib_copies", [], "env", types=[list],
                         description="The cleaned BibTeX copies (set by the extension).")
    app.connect("config-inited", on_config_inited)
    app.connect("doctree-read", on_doctree_read)
    app.connect("env-purge-doc", on_purge_doc)
    app.connect("env-merge-info", on_merge_info)
    app.connect("env-updated", on_env_updated)
    for name in ("p", "t"):
        app.add_role_to_domain("footcite", name, AuthorYearCite(), override=True)
