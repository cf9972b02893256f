"""warmgrid: power-grid outages and the light, heat and water that depend on them.

The public API is imported lazily (no heavy imports at ``import warmgrid``)::

    >>> import warmgrid
    >>> warmgrid.__version__
    '0.1.0'
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API = {
    "load_grid": "warmgrid.io",
    "Grid": "warmgrid.model.grid",
    "Network": "warmgrid.power.network",
    "State": "warmgrid.power.network",
    "compile_network": "warmgrid.power.network",
    "InputError": "warmgrid.errors",
    "WarmgridError": "warmgrid.errors",
    "InfeasibleError": "warmgrid.errors",
    "ConvergenceError": "warmgrid.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    mod = _API.get(name)
    if mod is None:
        raise AttributeError(f"module 'warmgrid' has no attribute {name!r}")
    return getattr(import_module(mod), name)


def __dir__() -> list[str]:
    return sorted(__all__)
