"""winter-city's geography: the box, the river and its banks (km, ``x`` east, ``y`` north).

The city lies in a 30 × 30 km box centred on (15, 15); a river runs north to south through
the middle at ``x = 17 + 1.2 sin(y / 5)``, the right (west) bank below it. See
:mod:`warmgrid.examples.winter_city`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["river_x"]

_CENTRE = np.array([15.0, 15.0])


def river_x(y: np.ndarray | float) -> np.ndarray:
    """x (km) of the river at northing ``y`` (km); x below it is the right (west) bank."""
    return 17.0 + 1.2 * np.sin(np.asarray(y, dtype=float) / 5.0)


def _bank(xy: np.ndarray) -> np.ndarray:
    """(n,) "R" or "L" for (n, 2) points."""
    return np.where(xy[:, 0] < river_x(xy[:, 1]), "R", "L")


def _off_river(xy: np.ndarray, bank: np.ndarray, gap: float = 0.4) -> np.ndarray:
    """Mirror points onto their bank and keep them ``gap`` km off the water, inside the box."""
    out = xy.copy()
    rx = river_x(out[:, 1])
    sign = np.where(bank == "R", -1.0, 1.0)
    d = (out[:, 0] - rx) * sign  # > 0 on the right side
    out[:, 0] = rx + sign * np.maximum(np.abs(d), gap)
    return np.clip(out, 0.5, 29.5)


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, m) distances between (n, 2) and (m, 2) points."""
    return np.hypot(*(a[:, None, :] - b[None, :, :]).transpose(2, 0, 1))
