"""Command-line entry point: argument parsing and wiring only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from contval import __version__
from contval.exitcodes import ExitCode

app = typer.Typer(
    name="contval",
    help="Continuous validation: flows under load and chaos, baselines, a verdict to gate on.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print contval's version."""
    typer.echo(__version__)


@app.command()
def validate(
    suite: Annotated[Path, typer.Argument(help="The suite file to check.", show_default=False)],
) -> None:
    """Check a suite file and report every error at once as file:line:col: message."""
    from contval.spec import SuiteInvalid, load_suite, summarize

    try:
        loaded = load_suite(suite)
    except SuiteInvalid as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        count = len(exc.errors)
        typer.echo(f"{count} error{'s' if count != 1 else ''} in {suite}", err=True)
        raise typer.Exit(ExitCode.INVALID_INPUT) from None
    for line in summarize(loaded):
        typer.echo(line)


@app.command()
def schema() -> None:
    """Print the JSON Schema of suite files (for editor completion and checks)."""
    from contval.spec import suite_json_schema_text

    typer.echo(suite_json_schema_text())


def main() -> None:
    app()
