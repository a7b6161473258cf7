"""Command-line entry point: argument parsing and wiring only."""

from __future__ import annotations

import typer

from contval import __version__

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


def main() -> None:
    app()
