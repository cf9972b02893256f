"""Helpers shared by the CLI commands: JSON output and the console."""

from __future__ import annotations

import json
import math
from typing import Any

import typer


def _clean(obj: Any) -> Any:
    """Make numpy scalars, NaN and inf JSON-safe (NaN -> null, inf -> "inf")."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None  # type: ignore[assignment]
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if np is not None:
        if isinstance(obj, np.ndarray):
            return _clean(obj.tolist())
        if isinstance(obj, np.generic):
            obj = obj.item()
    if isinstance(obj, float):
        if math.isnan(obj):
            return None
        if math.isinf(obj):
            return "inf" if obj > 0 else "-inf"
    return obj


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (NaN as null)."""
    typer.echo(json.dumps(_clean(obj), indent=2, allow_nan=False))


def console(*, stderr: bool = False) -> Any:
    """A rich console on stdout (or stderr) that prints every string literally.

    Markup, emoji codes and highlighting are off, so a user's scenario name, area name or
    element id holding ``[/bold]`` or ``:smile:`` prints as it is; style comes only from
    :func:`styled` and table styles.
    """
    from rich.console import Console

    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


def styled(*parts: Any) -> Any:
    """A rich ``Text`` from plain strings and ``(text, style)`` pairs, printed literally.

    >>> styled(("frost [/bold]", "bold"), " on winter-city").plain
    'frost [/bold] on winter-city'
    """
    from rich.text import Text

    return Text.assemble(*((str(p[0]), p[1]) if isinstance(p, tuple) else str(p) for p in parts))


def bold(text: Any) -> tuple[str, str]:
    """``(text, "bold")`` for :func:`styled`."""
    return (str(text), "bold")


def number(lo: float, hi: float, *, above: bool = False) -> Any:
    """A typer callback that accepts a finite number in ``[lo, hi]`` (``(lo, hi]`` when
    ``above``); None passes (an option left at its default of None)."""

    def check(value: float | None) -> float | None:
        if value is None:
            return value
        ok = math.isfinite(value) and (value > lo if above else value >= lo) and value <= hi
        if not ok:
            side = ">" if above else ">="
            raise typer.BadParameter(f"expected a number {side} {lo:g} and <= {hi:g}")
        return value

    return check
