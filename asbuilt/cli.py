"""The `asbuilt` command line. Each area mounts its own sub-command here once it works.

A sub-command whose optional dependencies are not installed (a collector-only install has no scanner
libraries, an on-site box no web stack) is left out of `asbuilt --help` instead of failing.
"""

from __future__ import annotations

import importlib

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
    from asbuilt import __version__

    typer.echo(__version__)


# (module, attribute, name, kind): "command" mounts a function, "group" a Typer sub-application.
MOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("agent.scan_cli", "scan", "scan", "command"),
    ("agent.record_cli", "record", "record", "command"),
    ("agent.service_cli", "app", "agent", "group"),
    ("collector.cli", "collector_app", "collector", "group"),
    ("lab.cli", "lab_app", "lab", "group"),
    ("asbuilt.demo", "demo", "demo", "command"),
)


def _mount() -> None:
    for module_name, attribute, name, kind in MOUNTS:
        try:
            target = getattr(importlib.import_module(module_name), attribute)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in {"asbuilt", "agent", "collector", "drivers", "lab"}:
                if exc.name == module_name:
                    continue  # not written yet in this checkout
                raise
            continue  # an optional dependency of this sub-command is not installed
        if kind == "command":
            app.command(name)(target)
        else:
            app.add_typer(target, name=name)


_mount()


def main() -> None:
    app()
