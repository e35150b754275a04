"""The ``talks`` command: a thin shell over the library API.

Each command parses its options, calls the API and turns diagnostics into
output and an exit status.  Exit 0: no errors; 1: errors in the input;
2: the command was used wrongly.
"""
from __future__ import annotations

import json
import os
import sys

import click

from . import api
from .config import VARIANTS, TalkConfig, default_roots
from .diagnostics import Diagnostic, MacroError, Severity, has_errors


def _config(talks: list[str], include: tuple[str, ...], **extra) -> TalkConfig:
    """The include roots: the project's ``includes/`` folder, then each ``-I``."""
    roots: list[str] = []
    for talk in talks[:1]:
        roots.extend(default_roots(talk))
    roots.extend(os.path.abspath(d) for d in include)
    return TalkConfig(include_roots=list(dict.fromkeys(roots)), **extra)


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
files_argument = click.argument("files", nargs=-1, required=True,
                                type=click.Path(exists=True, dir_okay=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="talks-build-tools")
def main() -> None:
    """Build reveal.js decks, speaker notes and handouts from lamd talk sources."""


@main.command()
@files_argument
@click.option("--variant", type=click.Choice(VARIANTS), required=True)
@include_option
@click.option("--out", type=click.Path(file_okay=False),
              help="Write one .md file per talk here instead of printing the MyST.")
@click.option("--strict", is_flag=True, help="Stop at the first error.")
@click.option("--compat", is_flag=True, help="Expand macros inside HTML comments, as gpp does.")
def preprocess(files, variant, include, out, strict, compat):
    """Expand talks into MyST for one variant."""
    config = _config(list(files), include, strict=strict, clean_comments=not compat)
    failed = False
    if out:
        for _, diagnostics in api.write_myst(list(files), variant, config, out):
            _print(diagnostics)
            failed |= has_errors(diagnostics)
        sys.exit(1 if failed else 0)
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
    sys.exit(1 if failed else 0)


@main.command()
@files_argument
@include_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--compat", is_flag=True, help="Expand macros inside HTML comments, as gpp does.")
def check(files, include, fmt, compat):
    """Report every problem as FILE:LINE:COL: severity: message."""
    config = _config(list(files), include, clean_comments=not compat)
    diagnostics = api.check_talks(list(files), config)
    _print(diagnostics, "json" if fmt == "json" else "stdout")
    if fmt == "text":
        click.echo(_summary(diagnostics), err=True)
    sys.exit(1 if has_errors(diagnostics) else 0)


if __name__ == "__main__":
    main()
