"""The `asbuilt` command line. Each area adds its own sub-application here once it works."""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="asbuilt: the as-built record of installed IP-camera systems.",
)


@app.callback()
def _root() -> None:
    """asbuilt: the as-built record of installed IP-camera systems."""


@app.command()
def version() -> None:
    """Print the asbuilt version."""
    from agent import __version__

    typer.echo(__version__)


def main() -> None:
    app()
