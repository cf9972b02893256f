"""Helpers for the water tests: the one-pump, one-tank network and outage matrices."""

from __future__ import annotations

import numpy as np

DEMAND_M3H = 36.0
HOURS_OF_WATER = 10.4
VOLUME_M3 = DEMAND_M3H * HOURS_OF_WATER
DEPTH_M = 4.0
DIAMETER_M = float(np.sqrt(4.0 * VOLUME_M3 / DEPTH_M / np.pi))


def tiny_inp(pump: str = "~@Pump-1", junction: str = "J[1]") -> str:
    """The one-pump, one-tank network (CMH units), with odd EPANET ids."""
    return f"""[TITLE]
one pump, one tank
[JUNCTIONS]
{junction} 0 {DEMAND_M3H}
[RESERVOIRS]
R1 0
[TANKS]
T1 40 {DEPTH_M} 0 {DEPTH_M} {DIAMETER_M:.6f} 0
[PIPES]
P1 T1 {junction} 100 300 130 0 Open
[PUMPS]
{pump} R1 T1 HEAD C1
[CURVES]
C1 60 55
[OPTIONS]
UNITS CMH
[TIMES]
DURATION 24:00
HYDRAULIC TIMESTEP 1:00
[COORDINATES]
{junction} 1 1
T1 0 1
R1 0 0
[END]
"""


def outage(model, cuts, hours: int = 72) -> np.ndarray:
    """(hours, n_pumps) powered matrix with each (pump, h0, h1) unpowered in [h0, h1)."""
    on = np.ones((hours, len(model.pumps)), dtype=bool)
    for pump, h0, h1 in cuts:
        on[h0:h1, model.pumps.index(pump)] = False
    return on
