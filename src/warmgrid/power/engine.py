"""The impact engines behind one name: maximum load delivery or an uncontrolled cascade.

:func:`solve_power` runs the engine a :class:`Mode` names on one set of elements out and
returns what the services need from it (:class:`PowerOutcome`); the timeline caches one
outcome per set of elements out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from warmgrid.errors import InputError
from warmgrid.power.network import Network

__all__ = ["Mode", "PowerOutcome", "mode_of", "solve_power"]


class Mode(StrEnum):
    """How the grid answers a damage."""

    #: the best operator response: maximum load delivery with priorities (an LP)
    MLD = "mld"
    #: nobody acts: islands balance by primary control and overloaded branches trip
    CASCADE = "cascade"


def mode_of(value: str | Mode) -> Mode:
    """``"mld"`` or ``"cascade"`` as a :class:`Mode`; anything else is an InputError."""
    try:
        return Mode(value)
    except ValueError:
        raise InputError(
            f"mode must be 'mld' or 'cascade', got {value!r}", field="impact.mode"
        ) from None


@dataclass(frozen=True)
class PowerOutcome:
    """What the power engine says about one set of elements out.

    Attributes
    ----------
    load_frac : (n_load,) served fraction of each load.
    gen_online : (n_gen,) bool, unit in service on an energised island.
    served_mw, shed_mw : totals, MW.
    islands : number of islands among in-service buses.
    dark_buses : number of buses without supply.
    detail : the engine's own result (:class:`~warmgrid.power.dispatch.MLDResult` or
        :class:`~warmgrid.power.cascade.CascadeResult`).
    ac : the AC verification (:class:`~warmgrid.power.ac_check.ACCheck`), when asked:
        ``load_frac`` and the totals then include its extra shedding.
    """

    load_frac: np.ndarray
    gen_online: np.ndarray
    served_mw: float
    shed_mw: float
    islands: int
    dark_buses: int
    detail: Any = None
    ac: Any = None


def solve_power(
    net: Network,
    outaged: Sequence[str],
    *,
    mode: str | Mode,
    weights: np.ndarray | None,
    trip_factor: float = 1.0,
    ac_check: bool = False,
    unit_minimums: str = "continuous",
) -> PowerOutcome:
    """Run the impact engine on one set of elements out (ids are checked on the way:
    an unknown one is an InputError naming the closest); with ``ac_check``, verify its
    answer in AC and shed more where voltages do not hold
    (:func:`warmgrid.power.ac_check.ac_check`)."""
    mode = mode_of(mode)
    state = net.base_state.without(net, list(outaged)) if outaged else net.base_state
    r: Any
    if mode is Mode.MLD:
        from warmgrid.power.dispatch import max_load_delivery

        r = max_load_delivery(net, state, weights=weights, unit_minimums=unit_minimums)
    else:
        from warmgrid.power.cascade import cascade

        r = cascade(net, state, trip_factor=trip_factor)
    dark = np.asarray(r.dark_bus, dtype=bool)
    online = state.effective(net).gen_on & ~dark[net.gen_bus]
    frac = np.asarray(r.served_fraction, dtype=float)
    served, shed, check = float(r.served_mw), float(r.shed_mw), None
    if ac_check:
        from warmgrid.power.ac_check import ac_check as verify

        check = verify(net, state, frac, weights)
        frac = check.load_frac
        served, shed = served - check.extra_shed_mw, shed + check.extra_shed_mw
    return PowerOutcome(
        load_frac=frac,
        gen_online=online,
        served_mw=served,
        shed_mw=shed,
        islands=int(r.islands.count),
        dark_buses=int(dark.sum()),
        detail=r,
        ac=check,
    )
