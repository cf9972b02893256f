"""HVDC links (pandapower ``dcline``, MATPOWER ``mpc.dcline``) as two units.

Each link becomes two units of kind ``dcline``, ``<id>:from`` and ``<id>:to``, as
pandapower (``auxiliary._add_dcline_gens``) and MATPOWER (``toggle_dcline``) model it:
each holds its bus voltage within its own reactive limits, and each has a fixed active
set point (``p_min = p_max = p_mw``), negative at the sending end. ``<id>`` itself is an
alias naming both.

Why units, not loads: a load with ``p_mw > 0`` is a customer (it is shed by maximum load
delivery, counted as demand and, with ``services = "auto"``, made into a district of
people), and a load with ``p_mw <= 0`` is a fixed injection; a link's sending end is
neither, and both ends must hold a voltage in the AC flow. As units, the DC and AC flows
and the cascade hold both set points exactly (tests/validation/test_elements_pandapower.py)
and neither end is demand or people. Maximum load delivery holds both set points while
both ends are energised and takes the link out when either is not
(:mod:`warmgrid.power.dispatch`); :func:`dcline_warning` says so in every output of a
grid with a link.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["dcline_units", "dcline_warning"]


def dcline_warning(n: int) -> str:
    """What an output must say about ``n`` HVDC links (module docstring)."""
    return (
        f"{n} HVDC link(s) (dcline) modelled as two units with fixed set points: flows, "
        "cascades and maximum load delivery hold both ends (none redispatches a link), and "
        "a link with an end out or dark carries nothing"
    )


def dcline_units(
    ids: list[str],
    from_bus: list[str],
    to_bus: list[str],
    p: tuple[np.ndarray, np.ndarray],
    vm: tuple[np.ndarray, np.ndarray],
    q: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    on: np.ndarray,
) -> pd.DataFrame:
    """The two units of each HVDC link ``<id>:from``, ``<id>:to`` (interleaved), fixed at
    ``p`` (from, to), holding ``vm`` (from, to) within ``q`` (min from, max from, min to,
    max to; NaN: unlimited). Shared by the pandapower and MATPOWER importers."""

    def both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.column_stack([a, b]).ravel()

    lo = both(q[0], q[2])
    hi = both(q[1], q[3])
    p_set = both(*p)
    return pd.DataFrame(
        {
            "id": [f"{i}:{end}" for i in ids for end in ("from", "to")],
            "bus": both(np.asarray(from_bus, dtype=object), np.asarray(to_bus, dtype=object)),
            "kind": "dcline",
            "p_mw": p_set,
            "p_min_mw": p_set,
            "p_max_mw": p_set,
            "slack": False,
            "va_deg": 0.0,
            "voltage_control": True,
            "vm_pu": both(*vm),
            "q_mvar": 0.0,
            "q_min_mvar": np.where(np.isnan(lo), -np.inf, lo),
            "q_max_mvar": np.where(np.isnan(hi), np.inf, hi),
            "in_service": np.repeat(np.asarray(on, dtype=bool), 2),
        }
    )
