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


def console() -> Any:
    """A rich console on stdout."""
    from rich.console import Console

    return Console()
