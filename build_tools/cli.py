"""The ``talks`` command: a thin shell over the library API.

Each command parses its options, calls the API and turns diagnostics into
output and an exit status.  Exit 0: no errors; 1: errors in the input;
2: the command was used wrongly.
"""
from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from . import api, workers
from .config import VARIANTS, TalkConfig, build_config
from .diagnostics import Diagnostic, MacroError, Severity, has_errors
from .formats import FORMAT_TABLE, FORMATS

if TYPE_CHECKING:
    from .export.run import ExportResult
    from .site.shards import Shard

Command = TypeVar("Command", bound=Callable[..., Any])
"""A function that ``workflow_options`` decorates, given back with its options."""
Repeated = tuple[str, ...]
"""What click gives for an option given many times or an argument of ``nargs=-1``."""

EXPORT_CHOICES = ", ".join(f"{f.name} ({f.label})" for f in FORMAT_TABLE)
"""The exports ``--to`` offers, from the formats' table."""


def _config(talks: list[str], include: Repeated, **options: Any) -> TalkConfig:
    """The configuration of the first talk's project, with the command line's options on top."""
    return build_config(talks[0] if talks else None, project=None if talks else os.getcwd(),
                        include_roots=list(include), **options)


def _print(diagnostics: list[Diagnostic], fmt: str = "text") -> None:
    if fmt == "json":
        click.echo(json.dumps([d.as_dict() for d in diagnostics], indent=2))
        return
    for diag in diagnostics:
        click.echo(diag.format(), err=fmt != "stdout")


def _summary(diagnostics: list[Diagnostic]) -> str:
    counts = {s: sum(d.severity == s for d in diagnostics) for s in Severity}
    return (f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
            f"{counts[Severity.NOTICE]} notice(s)")


include_option = click.option("-I", "--include", "include", multiple=True, metavar="DIR",
                              type=click.Path(file_okay=False),
                              help="Another include root, searched after the project's includes/.")
diagrams_option = click.option("--diagrams", "diagrams", default=None, metavar="DIR",
                               type=click.Path(file_okay=False, exists=True),
                               help="The images folder \\diagramsDir names (above conf.py's "
                                    "talks_diagrams_dir and lamd's diagramsdir).")
files_argument = click.argument("files", nargs=-1, required=True,
                                type=click.Path(exists=True, dir_okay=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="talks-build-tools")
def main() -> None:
    """Build reveal.js decks, speaker notes and handouts from lamd talk sources."""


_END_AT_ONCE = False
"""Set by ``run``, the installed ``talks`` command: see ``_exit``."""


def run() -> None:
    """The installed ``talks`` command."""
    global _END_AT_ONCE
    _END_AT_ONCE = True
    workers.collect_rarely()
    main()


def _exit(code: int) -> NoReturn:
    """End a batch command.  In the installed command the process ends at once: every
    file it wrote is closed and its output is flushed here, and freeing a corpus's worth
    of cached objects one by one would only delay the exit (by a tenth of the work).
    Under a test runner, which calls ``main``, it exits as usual."""
    if _END_AT_ONCE:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


@main.command()
@files_argument
@click.option("--variant", type=click.Choice(VARIANTS), required=True)
@include_option
@click.option("--out", type=click.Path(file_okay=False),
              help="Write one .md file per talk here instead of printing the MyST.")
@click.option("--stop-at-error", is_flag=True, help="Stop expanding a talk at its first error.")
@click.option("--compat", is_flag=True, help="Expand macros inside HTML comments, as gpp does.")
@diagrams_option
def preprocess(files: Repeated, variant: str, include: Repeated, out: str | None, stop_at_error: bool,
               compat: bool, diagrams: str | None) -> None:
    """Expand talks into MyST for one variant."""
    config = _config(list(files), include, stop_at_error=stop_at_error or None,
                     clean_comments=False if compat else None, diagrams_dir=diagrams)
    failed = False
    if out:
        for _, diagnostics in api.write_myst(list(files), variant, config, out):
            _print(diagnostics)
            failed |= has_errors(diagnostics)
        _exit(1 if failed else 0)
    for path in files:
        try:
            expansion = api.expand_talk(path, variant, config)
        except MacroError as exc:
            _print([exc.diagnostic])
            failed = True
            continue
        _print(expansion.diagnostics)
        failed |= has_errors(expansion.diagnostics)
        click.echo(expansion.text)
    _exit(1 if failed else 0)


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@include_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--fix", is_flag=True,
              help="Repair, in place with a .orig backup, what has exactly one safe repair.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="error",
              help="Exit non-zero on errors only (default), or on warnings too.")
@click.option("--compat", is_flag=True, help="Expand macros inside HTML comments, as gpp does.")
@diagrams_option
@click.option("--bib", "bibs", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Another BibTeX file every talk may cite.")
def check(files: Repeated, include: Repeated, fmt: str, fix: bool, fail_on: str, compat: bool,
          diagrams: str | None, bibs: Repeated) -> None:
    """Report every problem as FILE:LINE:COL: severity: message.

    With no FILES, every talk of the project (as `talks build` finds them); with no FILES
    and `--bib FILE`, every defect of the bibliographies (a build names only those of the
    entries its talks cite).

    Exit status: 0 when clean, 1 when there are errors, 3 when there are
    warnings and --fail-on warning was given.
    """
    if not files and bibs:
        _report_check(api.bibliography_problems([os.path.abspath(b) for b in bibs]), fmt, fail_on)
    files = files or tuple(_project_talks())  # every talk `talks build` builds
    config = _config(list(files), include, clean_comments=False if compat else None,
                     diagrams_dir=diagrams, bib_files=list(bibs))
    if fix:
        _fix(list(files), config)
    _report_check(api.check_talks(list(files), config), fmt, fail_on)


def _project_talks() -> list[str]:
    """Every talk of the project the current folder is in, as `talks build` finds them."""
    from .project import NoProject, require_project
    from .site.discovery import find_talks

    try:
        return find_talks(require_project(os.getcwd()))
    except NoProject as exc:
        raise click.ClickException(str(exc)) from None


def _report_check(diagnostics: list[Diagnostic], fmt: str, fail_on: str) -> NoReturn:
    _print(diagnostics, "json" if fmt == "json" else "stdout")
    if fmt == "text":
        click.echo(_summary(diagnostics), err=True)
    if has_errors(diagnostics):
        _exit(1)
    if fail_on == "warning" and any(d.severity >= Severity.WARNING for d in diagnostics):
        _exit(3)
    _exit(0)


def _fix(files: list[str], config: TalkConfig) -> None:
    from .authoring.lint import fix_file
    from .engine.source import clear_caches
    from .paths import display_name

    for path in files:
        roots = [*config.include_roots, os.path.dirname(os.path.dirname(os.path.abspath(path)))]
        repairs, left, backup = fix_file(path, roots)
        for repair in repairs:
            click.echo(f"{display_name(path)}:{repair.line}: fixed: {repair.old.strip()!r} -> "
                       f"{repair.new.strip()!r}", err=True)
        for diag in left:
            click.echo(f"{diag.location}: left as it is: {diag.message} ({diag.hint})", err=True)
        if backup:
            click.echo(f"{display_name(path)}: {len(repairs)} repair(s); the original is in "
                       f"{display_name(backup)}", err=True)
    clear_caches()


@main.command()
@click.argument("title")
@click.option("--author", default="", help="Given and family name of the speaker.")
@click.option("--venue", default="")
@click.option("--project", type=click.Path(file_okay=False), default=".",
              help="The project folder (holding talks/ and includes/).")
def new(title: str, author: str, venue: str, project: str) -> None:
    """Start a talk: front matter, a fragment it includes, and each main macro once.

    In a folder that is no project yet, make it one first (as `talks init`)."""
    from pathlib import Path

    from .authoring.scaffold import init_project, new_talk
    from .project import find_project_root

    root = find_project_root(project)
    if root is None:
        _report_made(init_project(Path(project)))
        root = Path(project)
    try:
        written = new_talk(title, root, author=author, venue=venue)
    except FileExistsError as exc:
        raise click.ClickException(f"{exc} already exists; choose another title") from None
    _report_made(written)


def workflow_options(command: Command) -> Command:
    """The options of the GitHub workflow ``talks ci github`` and ``talks init --ci`` write."""
    for option in reversed([
        click.option("--shards", default=3, show_default=True, type=click.IntRange(1, 256),
                     help="Machines the site is built on (talks build --shard I/N)."),
        click.option("--source", "sources", multiple=True,
                     metavar="FOLDER=OWNER/NAME[/SUBFOLDER][@REF]",
                     help="A repository the talks read where their lamd settings name FOLDER "
                     "(e.g. '$HOME/lawrennd/slides=lawrennd/slides/diagrams@main'); repeatable; "
                     "kept in .github/talks-sources.yml."),
        click.option("--install", default="", metavar="REQUIREMENT",
                     help="What CI gives pip to install talks: a pinned requirement "
                     "('talks-build-tools==0.1.0', or '... @ git+https://...@COMMIT'); default: "
                     "this copy's repository at its commit, when that commit is pushed."),
        click.option("--branch", "branches", multiple=True,
                     help="Branches whose pushes publish the site; repeatable (default: the "
                     "repository's default branch)."),
        click.option("--force", is_flag=True, help="Replace an existing workflow."),
    ]):
        command = option(command)
    return command


def _write_workflow(root: Path, shards: int, sources: Repeated, install: str, branches: Repeated,
                    force: bool) -> list[Path]:
    """The workflow, and the lock of the sources it checks out (when there are any)."""
    from pathlib import Path

    from .authoring.ci import (CiError, Source, WorkflowSettings, default_branch, pin,
                               project_sources, write_lock, write_workflow)

    root = Path(root)
    try:
        chosen = project_sources(root, [Source.parse(s) for s in sources])
        pinned = [source if source.commit else pin(source) for source in chosen]
        settings = WorkflowSettings(shards=shards, install=install, sources=pinned,
                                    branches=tuple(branches) or (default_branch(root),))
        made = [write_workflow(root, settings, force=force)]
    except CiError as exc:
        raise click.ClickException(str(exc)) from None
    for source in pinned:
        click.echo(f"source: {source.written} = {source.spec}"
                   + (f" at {source.commit[:12]}" if source.commit else
                      " (not pinned: its commit could not be looked up; pushes build the latest)")
                   + (" (from the lamd settings; map it in the lock to change it)"
                      if source.derived else ""), err=True)
    if pinned:
        made.append(write_lock(root, pinned))
    return made


@main.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False))
@click.option("--title", default="My First Talk", show_default=True,
              help="The title of the first talk.")
@click.option("--author", default="", help="Given and family name of the speaker.")
@click.option("--ci", type=click.Choice(["github"]),
              help="Also write a workflow that publishes the site (talks ci github).")
@workflow_options
def init(folder: str, title: str, author: str, ci: str | None, shards: int, sources: Repeated,
         install: str, branches: Repeated, force: bool) -> None:
    """Make FOLDER a talks project that builds: conf.py, talks/ with a first talk,
    includes/, diagrams/ and pages/."""
    from pathlib import Path

    from .authoring.scaffold import init_project, new_talk
    from .site.discovery import find_talks

    root = Path(folder)
    made = init_project(root)
    if not find_talks(root):
        made += new_talk(title, root, author=author)
    if ci:
        made += _write_workflow(root, shards, sources, install, branches, force)
    _report_made(made)
    click.echo(f"next: cd {os.path.relpath(root)} && talks build", err=True)


@main.group()
def ci() -> None:
    """Publish the site from continuous integration."""


@ci.command("github")
@workflow_options
def ci_github(shards: int, sources: Repeated, install: str, branches: Repeated, force: bool) -> None:
    """Write .github/workflows/talks.yml: the site built on N machines, merged and
    deployed to GitHub Pages, each shard's build folder cached between runs."""
    from .project import NoProject, require_project

    try:
        project = require_project(os.getcwd())
    except NoProject as exc:
        raise click.ClickException(str(exc)) from None
    _report_made(_write_workflow(project, shards, sources, install, branches, force))
    click.echo("next: commit it, and set the repository's Pages source to GitHub Actions",
               err=True)


@ci.command("mtimes")
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--state", required=True, type=click.Path(dir_okay=False),
              help="Where the commits of the cached build are kept (inside the cache).")
def ci_mtimes(folders: Repeated, state: str) -> None:
    """Date the files of FOLDERS (git checkouts) that did not change since the cached
    build in the past, so that the build rereads only what changed."""
    import subprocess

    from .authoring.ci import settle_mtimes

    try:
        done = settle_mtimes(list(folders), state)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise click.ClickException(f"needs git checkouts with their history: {exc}") from None
    for dated in done:
        if dated.since:
            click.echo(f"{dated.folder}: {len(dated.changed)} file(s) changed since "
                       f"{dated.since[:12]}, {dated.past} dated in the past", err=True)
        else:
            click.echo(f"{dated.folder}: no cached build to compare with; everything is built",
                       err=True)


@ci.command("record")
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--site", required=True, type=click.Path(exists=True, file_okay=False),
              help="The shard site the record goes into.")
def ci_record(folders: Repeated, site: str) -> None:
    """Note in a shard SITE the commits of FOLDERS (the project and its sources) its talks
    were built from; `talks merge` keeps the note talk by talk."""
    import subprocess
    from pathlib import Path

    from .authoring.ci import record_sources

    try:
        record = record_sources(Path(site), list(folders))
    except (OSError, subprocess.CalledProcessError) as exc:
        raise click.ClickException(f"needs git checkouts: {exc}") from None
    for name, commit in record["commits"].items():
        click.echo(f"{name}: {commit}", err=True)


def _report_made(paths: Iterable[Path]) -> None:
    for path in paths:
        click.echo(f"created {os.path.relpath(path)}")


@main.command()
@click.argument("talk", type=click.Path(exists=True, dir_okay=False))
@include_option
def deps(talk: str, include: Repeated) -> None:
    """Print the include tree of a talk."""
    from .engine.graph import dependency_tree, scan

    config = _config([talk], include)
    for line in dependency_tree(talk, scan([talk], config)):
        click.echo(line)


@main.command("where-used")
@click.argument("fragment")
@include_option
@click.option("--talks", "talks_dir", type=click.Path(file_okay=False), default=None,
              help="The folder of talks to search (default: every talk of the project, as "
                   "talks build finds them).")
def where_used(fragment: str, include: Repeated, talks_dir: str | None) -> None:
    """List the talks that use FRAGMENT, directly or through other fragments.

    FRAGMENT is a file, or an include name such as _ml/includes/what-is-ml.md.
    """
    from .engine.graph import find_talks, scan, where_used as using
    from .engine.includes import include_resolver

    talks = find_talks(talks_dir) if talks_dir else _project_talks()
    if not talks:
        raise click.ClickException(f"no talks under {talks_dir}")
    config = _config(talks, include)
    path = fragment if os.path.isfile(fragment) else next(
        (found for talk in talks for found in [include_resolver(talk, config)[0].resolve_from(
            fragment, "", os.path.dirname(os.path.abspath(talk))).path] if found), None)
    if path is None:
        raise click.ClickException(f"{fragment} is neither a file nor found where the talks "
                                   "include from")
    for talk in using(path, talks, scan(talks, config)):
        click.echo(os.path.relpath(talk))


@main.command()
@click.argument("talks", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@include_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--allow-remote", is_flag=True,
              help="Allow a --host other machines can reach (the preview has no authentication).")
@click.option("--port", type=int, default=8000, show_default=True, help="0 picks a free port.")
@click.option("--out", type=click.Path(file_okay=False), default="_build/preview", show_default=True)
@click.option("--bib", "bibs", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Another BibTeX file every talk may cite.")
def serve(talks: Repeated, include: Repeated, host: str, allow_remote: bool, port: int, out: str,
          bibs: Repeated) -> None:
    """Preview the site live: rebuild what a change affects and reload the browser."""
    from .authoring.serve import is_loopback

    if not is_loopback(host):
        if not allow_remote:
            raise click.ClickException(f"--host {host} lets other machines reach the preview; "
                                       "add --allow-remote if that is meant")
        click.echo(f"warning: serving on {host}: anyone who can reach this machine can read the "
                   "preview and make it rebuild", err=True)
    from .config import PROJECT_MACROS
    from .project import NoProject, require_project, talk_folders
    from .authoring.serve import PreviewServer
    from .lamd import settings_roots, snippet_dirs
    from .site.options import SiteOptions

    try:
        project = require_project(talks[0] if talks else os.getcwd())
    except NoProject as exc:
        raise click.ClickException(str(exc)) from None
    watched = [os.path.join(project, d) for d in ("includes", "diagrams", "macros", "pages")]
    for folder in talk_folders(project):  # a course's snippets are watched too
        watched += [str(folder), *snippet_dirs(str(folder), settings_roots(str(folder), include))]
    watched += [str(PROJECT_MACROS), *(os.path.abspath(d) for d in include), *talks,
                *(os.path.abspath(b) for b in bibs)]
    options = SiteOptions(talks=list(talks), include_roots=list(include), out=out,
                          project=str(project), bib_files=list(bibs))
    try:
        server = PreviewServer(options, host, port, list(dict.fromkeys(watched)),
                               log=lambda line: click.echo(line, err=True))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


# -- talks build: the site (Sphinx) -------------------------------------------------------

@main.command()
@click.argument("talks", nargs=-1, type=click.Path(exists=True))
@click.option("--variant", "variants", multiple=True, type=click.Choice(VARIANTS),
              help="Build only this variant (repeatable); the others keep their pages.")
@include_option
@click.option("--bib", "bibs", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Another BibTeX file every talk may cite.")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Where the site goes; it is replaced whole when the build ends "
                   "[default: _build/site; with --shard I/N, _build/site-shard-I-of-N].")
@click.option("--shard", default=None, metavar="I/N", callback=lambda ctx, param, value: _shard(value),
              help="Build only shard I of N (counted from 1) of the project's talks; "
                   "`talks merge` combines the N shard sites into one.")
@click.option("--strict", is_flag=True, help="Treat every warning as an error.")
@click.option("--jobs", type=int, default=None, help="Variants built at once (default: the cores).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--to", "exports", default=None, metavar="FORMATS",
              help=f"Also export: a comma-separated list of {EXPORT_CHOICES} (or all, "
                   "or none); default: conf.py's talks_exports.")
@click.option("--slide-notes", is_flag=True,
              help="In slide PDFs, a page of speaker notes after each slide that has notes.")
@click.option("--timings", is_flag=True,
              help="Say at the end where the time went: each stage, in the process that ran it.")
@diagrams_option
def build(talks: Repeated, variants: Repeated, include: Repeated, bibs: Repeated, out: str | None,
          shard: Shard | None, strict: bool, jobs: int | None, quiet: bool, exports: str | None,
          slide_notes: bool, timings: bool, diagrams: str | None) -> None:
    """Render TALKS (default: every talk of the project) as one site: slides, speaker notes,
    handouts.  A FOLDER of talks (a talks repository's ``_gp/``) is built as a site of its own."""
    if shard is not None and talks:
        raise click.UsageError("--shard builds a share of every talk of the project; "
                               "name no TALKS with it")
    if out is None:
        out = f"_build/{shard.folder}" if shard else "_build/site"
    _build(talks, variants, include, bibs, out, strict, jobs, quiet, exports, slide_notes, diagrams,
           shard, timings)


def _shard(value: str | None) -> Shard | None:
    from .site.shards import Shard

    if value is None:
        return None
    try:
        return Shard.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None


@main.command()
@click.argument("sites", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", default="_build/site", show_default=True, type=click.Path(file_okay=False),
              help="Where the merged site goes; it is replaced whole when the merge ends.")
def merge(sites: Repeated, out: str) -> None:
    """Combine the shard sites of `talks build --shard I/N` (all N of them) into one site:
    one index, one fragments section, one status file, one search index per variant."""
    from pathlib import Path

    from .site.shards import MergeError, merge_sites

    if any(Path(site).resolve() == Path(out).resolve() for site in sites):
        raise click.UsageError("--out must not be one of the shard sites")
    try:
        report = merge_sites([Path(site) for site in sites], Path(out))
    except MergeError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    except OSError as exc:
        raise click.ClickException(f"cannot write the site: {exc.filename}: {exc.strerror}") from None
    for doc in report.failed:
        click.echo(f"error: talk '{doc}' has errors; its pages are published with placeholders"
                   if doc in report.published else
                   f"error: talk '{doc}' failed in its shard (the index marks it)", err=True)
    click.echo(f"{report.talks} talk(s) from {len(sites)} shard(s); "
               f"site: {os.path.relpath(report.out)}/index.html", err=True)
    _report_size(report.out)
    sys.exit(1 if report.failed else 0)


def _names_a_diagram(warning: str) -> bool:
    """A missing-image warning for a file of the diagrams folder (``\\diagramsDir``)."""
    return "W-IMAGE-MISSING" in warning and re.search(r"(?:^|[\s(])/?diagrams/", warning) is not None


def _report_size(site: str | Path) -> None:
    """The site's size, and a warning as it nears what GitHub Pages publishes."""
    from pathlib import Path

    from .site.shards import PAGES_LIMIT, site_size

    size, files = site_size(Path(site))
    click.echo(f"site size: {size / 1e6:.1f} MB in {files} files", err=True)
    if size > 0.8 * PAGES_LIMIT:
        click.echo(f"warning: the site is {size / 1e9:.2f} GB; GitHub Pages publishes at most "
                   f"{PAGES_LIMIT / 1e9:.0f} GB (build fewer variants, or smaller images)", err=True)


@main.command()
@click.argument("talks", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@include_option
@click.option("--bib", "bibs", multiple=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", default="_build/site", show_default=True, type=click.Path(file_okay=False))
@click.option("--jobs", type=int, default=None, help="Processes at once (default: the cores).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--to", "exports", default="all", show_default=True, metavar="FORMATS",
              help=f"A comma-separated list of {EXPORT_CHOICES}, or all.")
@click.option("--slide-notes", is_flag=True,
              help="In slide PDFs, a page of speaker notes after each slide that has notes.")
def export(talks: Repeated, include: Repeated, bibs: Repeated, out: str, jobs: int | None, quiet: bool,
           exports: str, slide_notes: bool) -> None:
    """Export TALKS as notebooks, DOCX, PDF and PPTX: `talks build --to` over the existing build
    (Sphinx rereads nothing that has not changed)."""
    _build(talks, (), include, bibs, out, False, jobs, quiet, exports, slide_notes)


def _export_formats(exports: str | None, talks: Sequence[str]) -> tuple[str, ...]:
    """--to, else the talk folder's lamd output switches, else conf.py's ``talks_exports``."""
    from .config import read_site_setting
    from .formats import parse_formats
    from .lamd import lamd_settings
    from .project import find_project_root, talk_folders

    if exports is None:
        project = find_project_root(talks[0] if talks else os.getcwd())
        first = os.path.abspath(talks[0]) if talks else ""
        folders = [first if os.path.isdir(first) else os.path.dirname(first)] if talks else \
            talk_folders(project) if project else []
        lamd = [s.value for f in folders for s in lamd_settings(f) if s.name == "exports"]
        chosen: Any = lamd[0] if lamd else read_site_setting(str(project), "talks_exports") \
            if project else None
    else:
        chosen = exports
    try:
        return parse_formats(chosen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from None


def _build(talks: Repeated, variants: Repeated, include: Repeated, bibs: Repeated, out: str, strict: bool,
           jobs: int | None, quiet: bool, exports: str | None, slide_notes: bool,
           diagrams: str | None = None, shard: Shard | None = None, timings: bool = False
           ) -> NoReturn:
    from pathlib import Path

    from tqdm import tqdm

    from .project import NoProject
    from .site.build import build_site
    from .site.discovery import find_talks
    from .site.options import SiteOptions
    from .site.publish import SiteBusy, TrackedState

    folders = [t for t in talks if os.path.isdir(t)]
    if folders and (len(folders) > 1 or len(talks) > 1):
        raise click.UsageError("name one folder of talks, or talk files, not both")
    if folders and not find_talks(Path(folders[0])):  # never replace a site with an empty one
        raise click.UsageError(f"{folders[0]} holds no talks (a folder of talks has its Markdown "
                               "files beside a _lamd.yml or _config.yml); the site is left as it is")
    options = SiteOptions(talks=[] if folders else list(talks), project=folders[0] if folders else None,
                          variants=tuple(variants) or VARIANTS,
                          include_roots=list(include), bib_files=list(bibs), out=out,
                          strict=strict, jobs=jobs, exports=_export_formats(exports, talks),
                          slide_notes=slide_notes, diagrams_dir=diagrams, shard=shard)
    bar = tqdm(total=0, unit="page", desc="building", disable=quiet or None, leave=False)
    totals: dict[str, int] = {}

    def progress(kind: str, variant: str, value: Any) -> None:
        # ``value`` is what ``kind`` says: a count of pages (total), a page's name (step),
        # whether the variant built (done)
        if kind == "total":
            totals[variant] = totals.get(variant, 0) + value
            bar.total = sum(totals.values())
            bar.refresh()
        elif kind == "step":
            bar.update(1)
        elif kind == "done":
            bar.set_postfix_str(f"{variant} {'done' if value else 'FAILED'}")

    try:  # no bar (--quiet, or no terminal): the workers need not report each page
        report = build_site(options, None if bar.disable else progress)
    except (SiteBusy, TrackedState) as exc:  # nothing was built: say what to do
        raise click.ClickException(f"{exc.strerror} ({exc.filename})") from None
    except NoProject as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write the site: {exc.filename}: {exc.strerror}") from None
    finally:
        bar.close()
    for line in report.warnings():
        if not (report.diagrams_missing and _names_a_diagram(line)):
            click.echo(line, err=True)
    if report.diagrams_missing:  # once, not once per diagram
        click.echo(f"warning: {report.diagrams_missing}", err=True)
    for variant, result in report.results.items():
        if not result.ok:
            click.echo(f"error: the {variant} build stopped: {result.crash}", err=True)
    for doc, problems in report.failed.items():
        click.echo(f"error: talk '{doc}' has errors; its pages are published with placeholders:"
                   if doc in report.published else f"error: talk '{doc}' failed:", err=True)
        for problem in problems:
            click.echo("  " + problem.replace("\n", "\n  "), err=True)
    for variant, doc in report.kept:
        click.echo(f"note: kept the last good {variant} page of '{doc}'", err=True)
    _report_exports(report.exports)
    for line in report.summary():
        click.echo(line, err=True)
    if timings:
        from .timings import report as timing_report

        for line in timing_report(report.timings):
            click.echo(line, err=True)
    read = {v: len(r.read) for v, r in report.results.items()}
    click.echo(f"{len(report.talks)} talk(s); documents read: "
               + ", ".join(f"{v} {n}" for v, n in read.items())
               + f"; site: {os.path.relpath(report.out)}/index.html", err=True)
    _report_size(report.out)
    sys.exit(0 if report.ok else 1)


@main.command("config")
@click.argument("talk", required=False, type=click.Path(exists=True, dir_okay=False))
@include_option
def show_config(talk: str | None, include: Repeated) -> None:
    """Print every effective setting for TALK (or this folder's project) and where it came from."""
    from dataclasses import fields

    from .config import SITE_SETTINGS, granted_roots, read_site_setting
    from .lamd import lamd_settings, refused_settings, settings_roots
    from .paths import ENV_VAR, path_mappings, user_file
    from .project import find_project_root, project_kind, talk_folders

    config = _config([talk] if talk else [], include)
    for option in fields(TalkConfig):
        if option.name != "sources":
            value = getattr(config, option.name)
            click.echo(f"talks_{option.name} = {value!r}    # {config.source_of(option.name)}")
    project = find_project_root(talk or os.getcwd())
    kind = f" ({project_kind(project)})" if project else ""
    click.echo(f"# project: {os.path.relpath(project) if project else 'none found'}{kind}")
    for name in SITE_SETTINGS:
        value = read_site_setting(str(project), name) if project else None
        click.echo(f"{name} = {value!r}    # {'conf.py' if value is not None else 'default'}")
    here = os.path.abspath(os.path.dirname(os.path.abspath(talk)) if talk else os.getcwd())
    folders = [str(f) for f in talk_folders(project)] if project else []
    # in one talk folder (or given one of its talks): that folder's settings alone
    folders = [here] if here in folders or talk else folders
    refused = []
    for folder in folders:
        click.echo(f"# lamd settings for the talks in {os.path.relpath(folder)}/")
        for setting in lamd_settings(folder):
            click.echo(f"{setting.name}: {setting.value!r}    # {setting.source}")
        refused += refused_settings(folder, settings_roots(folder, granted_roots(config)))
    mappings = path_mappings()
    click.echo(f"# path mappings ({ENV_VAR}, then {user_file()}): {len(mappings) or 'none'}")
    for mapping in mappings:
        click.echo(f"{mapping.prefix} = {mapping.target}    # {mapping.origin}")
    if project:
        _show_ci_sources(project)
    if refused:  # the settings name folders no build will read
        _print(list(dict.fromkeys(refused)))
        _exit(1)


def _show_ci_sources(project: Path) -> None:
    """The repositories the CI workflow checks out for the folders the settings name."""
    from .authoring.ci import LOCK, CiError, project_sources

    try:
        sources = project_sources(project, [])
    except CiError as exc:
        click.echo(f"# CI sources: {exc}")
        return
    click.echo(f"# CI sources ({LOCK.as_posix()}, else found from the lamd settings): "
               f"{len(sources) or 'none'}")
    for source in sources:
        pinned = f" at {source.commit}" if source.commit else ""
        origin = "the lamd settings' layout" if source.derived else LOCK.as_posix()
        click.echo(f"{source.written} = {source.spec}{pinned}    # {origin}")


def _report_exports(results: list[ExportResult]) -> None:
    if not results:
        return
    for result in results:
        _print(result.diagnostics)
    for line in export_summary(results):
        click.echo(line, err=True)


def export_summary(results: list[ExportResult]) -> list[str]:
    """The totals, then what was written, found incomplete and skipped, per format."""
    lines = []
    for fmt in FORMATS:
        counts = []
        for what, names in (("written", [r.doc for r in results if fmt in r.written]),
                            ("incomplete", [r.doc for r in results if fmt in r.incomplete]),
                            ("skipped", [r.doc for r in results if fmt in r.skipped])):
            if names:
                counts.append(f"{len(names)} {what}" + (f" ({', '.join(names)})"
                                                        if what != "written" else ""))
        if counts:
            lines.append(f"  {fmt}: {', '.join(counts)}")
    written = sum(len(r.written) for r in results)
    kept = sum(len(r.up_to_date) for r in results)
    incomplete = sum(len(r.incomplete) for r in results)
    failed = [r.doc for r in results if r.failed]
    return [f"exports: {written} written, {kept} up to date"
            + (f", {incomplete} incomplete" if incomplete else "")
            + (f", failed for {', '.join(failed)} (last good files kept)" if failed else ""),
            *lines]

if __name__ == "__main__":
    main()
