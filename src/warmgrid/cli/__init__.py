"""The ``warmgrid`` command line (typer).

Each command lives in its own module and only parses, calls the public API, and prints
or writes. Heavy libraries are imported inside the commands, so ``warmgrid --help``
answers fast. Every :class:`~warmgrid.errors.InputError` becomes one line on stderr and
exit code 2; no traceback reaches the user.
"""

from __future__ import annotations

import sys

import click
import typer

from warmgrid import __version__
from warmgrid.errors import InputError, WarmgridError

app = typer.Typer(
    name="warmgrid",
    help="Power-grid outages and the light, heat and water that depend on them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"warmgrid {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Power-grid outages and the light, heat and water that depend on them."""


# Command modules register themselves on `app` when imported.
from warmgrid.cli import demo, flow, grids, impact, report, restore, study  # noqa: E402,F401


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 failure, 2 bad input)."""
    try:
        app(args=argv, standalone_mode=False, prog_name="warmgrid")
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        typer.echo("warmgrid: aborted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return 2
    except InputError as e:
        typer.echo(f"warmgrid: error: {e}", err=True)
        return 2
    except WarmgridError as e:
        typer.echo(f"warmgrid: error: {e}", err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("warmgrid: interrupted", err=True)
        return 130
    return 0


def _entry() -> None:  # pragma: no cover - console script
    sys.exit(main())
