"""What an extended-period hydraulic run returns (:class:`HydraulicResult`).

See :mod:`warmgrid.water.hydraulics` for how a run is made and what the values mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["HydraulicResult", "NegativePressure", "OutagePattern"]

#: (hour, unpowered pump ids) at each hour where the set changes, the first at hour 0.
OutagePattern = tuple[tuple[int, frozenset[str]], ...]


@dataclass(frozen=True)
class NegativePressure:
    """A junction whose pressure fell below zero (beyond the tolerance) in a run.

    Attributes
    ----------
    junction : EPANET junction id.
    hour : first hour (0-based step index) in which it happened.
    pressure_m : the lowest pressure over the horizon, m.
    """

    junction: str
    hour: int
    pressure_m: float

    def __str__(self) -> str:
        return f"junction {self.junction!r} at {self.pressure_m:.2f} m from hour {self.hour}"


@dataclass(frozen=True, eq=False)
class HydraulicResult:
    """One extended-period run. ``n_steps`` hours; "marks" are the hours 0 … n_steps.

    Attributes
    ----------
    hours : (n_steps,) start of each hour, h.
    junctions, tanks, pumps : EPANET ids, in the order of the array columns.
    delivered_m3h : (n_steps, n_junctions) delivered demand, mean over each hour, m³/h.
    expected_m3h : (n_steps, n_junctions) full (required) demand, mean over each hour, m³/h.
    min_pressure_m : (n_steps, n_junctions) lowest pressure in each hour, m: at the
        hour's start and at every EPANET step within it where some junction is short of
        its demand (steps where every junction gets its full demand are not read junction
        by junction, which halves a run's time; pressures there are above P_req).
    pressure_m : (n_steps + 1, n_junctions) pressure at each mark, m.
    demand_m3h : (n_steps + 1, n_junctions) delivered demand at each mark, m³/h (what
        EPANET and :class:`wntr.sim.EpanetSimulator` report).
    tank_level_m : (n_steps + 1, n_tanks) water depth above each tank's bottom, m.
    pump_flow_m3h : (n_steps + 1, n_pumps) flow through each pump at each mark, m³/h.
    pump_speed : (n_steps + 1, n_pumps) relative speed setting at each mark (0: off).
    pump_on : (n_steps, n_pumps) bool, the power pattern that was simulated.
    pattern : the cache key: hours where the set of unpowered pumps changes, with the set.
    negative_pressures : junctions below ``-negative_tol_m`` (see the module docstring).
    warnings : one line each: EPANET warnings and the negative-pressure summary.
    solves : EPANET hydraulic solves (time steps) in the run.
    """

    hours: np.ndarray
    junctions: tuple[str, ...]
    tanks: tuple[str, ...]
    pumps: tuple[str, ...]
    delivered_m3h: np.ndarray
    expected_m3h: np.ndarray
    min_pressure_m: np.ndarray
    pressure_m: np.ndarray
    demand_m3h: np.ndarray
    tank_level_m: np.ndarray
    pump_flow_m3h: np.ndarray
    pump_speed: np.ndarray
    pump_on: np.ndarray
    pattern: OutagePattern
    negative_pressures: tuple[NegativePressure, ...] = ()
    warnings: tuple[str, ...] = ()
    solves: int = 0

    @property
    def n_steps(self) -> int:
        return len(self.hours)

    @property
    def service(self) -> np.ndarray:
        """(n_steps, n_junctions) delivered / expected demand in [0, 1]; 1 where none is expected."""
        return _ratio(self.delivered_m3h, self.expected_m3h)

    def junction_frame(self) -> pd.DataFrame:
        """Long table, one row per (hour, junction): ``hour, junction, delivered_m3h,
        expected_m3h, pressure_m`` (at the hour's start) and ``min_pressure_m``."""
        n, m = self.delivered_m3h.shape
        return pd.DataFrame(
            {
                "hour": np.repeat(self.hours, m),
                "junction": np.tile(np.array(self.junctions, dtype=object), n),
                "delivered_m3h": self.delivered_m3h.ravel(),
                "expected_m3h": self.expected_m3h.ravel(),
                "pressure_m": self.pressure_m[:n].ravel(),
                "min_pressure_m": self.min_pressure_m.ravel(),
            }
        )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den clipped to [0, 1], 1 where den is (numerically) zero."""
    ok = den > 1e-9
    return np.clip(np.divide(num, den, out=np.ones_like(num), where=ok), 0.0, 1.0)
