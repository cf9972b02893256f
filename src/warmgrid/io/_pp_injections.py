"""pandapower importer: units, loads and shunts.

Units, in this order: ``ext_grid:<i>`` (slack, kind ``external``), ``gen:<i>`` (voltage
control), ``sgen:<i>`` (kind ``static``, fixed P and Q), the two ends of each HVDC link
``dcline:<i>:from`` and ``dcline:<i>:to`` (kind ``dcline``), and the internal voltage
source of each extended ward ``xward:<i>:source`` (kind ``external``).

An HVDC link is what pandapower (``auxiliary._add_dcline_gens``) and MATPOWER
(``toggle_dcline``) make of it: two units holding their bus voltages (``vm_from_pu``,
``vm_to_pu``, reactive limits of each end) with fixed active set points, the sending end
``−|p_mw|`` and the receiving end ``|p_mw| · (1 − loss_percent/100) − loss_mw``
(``p_min = p_max`` = the set point; a negative ``p_mw`` sends from the to bus). A
withdrawal by a *unit* is never a customer: it is not demand, never shed and has no
people (``services = "auto"`` makes districts of loads only). An extended ward's source
holds ``vm_pu`` behind ``r_ohm + j x_ohm`` with no active power (pandapower gives it
``P = 0``, unlimited Q). See :mod:`warmgrid.io._dcline` for what an HVDC link's two units
do in each engine.

Loads: ``load:<i>`` and the constant-power part of each ward and extended ward
(``load:ward-<i>``, ``load:xward-<i>``: ``ps_mw``, ``qs_mvar``). Shunts: ``shunt:<i>`` and
the constant-impedance part of each ward (``shunt:ward-<i>``, ``shunt:xward-<i>``:
``pz_mw``, ``qz_mvar`` at 1 p.u.).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from warmgrid.io._dcline import dcline_units
from warmgrid.io._pp_buses import BusMap, col, q_limits

__all__ = ["loads", "shunts", "units"]


def units(net: Any, bm: BusMap) -> pd.DataFrame | None:
    """The generator table (module docstring)."""
    gens = []
    for table, build in (
        ("ext_grid", _ext_grids),
        ("gen", _gens),
        ("sgen", _sgens),
        ("dcline", _dclines),
        ("xward", _xward_sources),
    ):
        if table in net and len(net[table]):
            gens.append(build(net[table], bm))
    gen_df = pd.concat(gens, ignore_index=True) if gens else None
    if gen_df is not None:
        # columns one kind of unit does not set get the schema's defaults
        for c, default in (("va_deg", 0.0), ("vm_pu", 1.0), ("q_mvar", 0.0)):
            gen_df[c] = gen_df[c].fillna(default) if c in gen_df else default
    return gen_df


def _ext_grids(eg: pd.DataFrame, bm: BusMap) -> pd.DataFrame:
    """External grids: slack units holding ``vm_pu`` and ``va_degree``."""
    pmax = col(eg, "max_p_mw", np.inf)
    return pd.DataFrame(
        {
            "id": [f"ext_grid:{i}" for i in eg.index],
            "bus": bm.ids(eg["bus"]),
            "kind": "external",
            "p_mw": 0.0,
            "p_min_mw": np.minimum(np.maximum(col(eg, "min_p_mw", 0.0), 0.0), pmax),
            "p_max_mw": pmax,
            "slack": True,
            "va_deg": col(eg, "va_degree", 0.0),
            "voltage_control": True,
            "vm_pu": col(eg, "vm_pu", 1.0),
            # pandapower never enforces a slack's reactive limits in a power flow
            "q_min_mvar": -np.inf,
            "q_max_mvar": np.inf,
            "in_service": eg["in_service"].to_numpy(dtype=bool),
        }
    )


def _gens(g: pd.DataFrame, bm: BusMap) -> pd.DataFrame:
    """Voltage-controlling generators (``scaling`` applied to ``p_mw``)."""
    p = g["p_mw"].to_numpy(dtype=float) * col(g, "scaling", 1.0)
    pmax = col(g, "max_p_mw", np.nan)
    pmax = np.where(np.isnan(pmax), np.maximum(p, 0.0), pmax)
    pmin = np.minimum(col(g, "min_p_mw", 0.0), pmax)
    lo, hi = q_limits(g)
    return pd.DataFrame(
        {
            "id": [f"gen:{i}" for i in g.index],
            "bus": bm.ids(g["bus"]),
            "kind": "thermal",
            "p_mw": p,
            "p_min_mw": pmin,
            "p_max_mw": pmax,
            "slack": g["slack"].to_numpy(dtype=bool) if "slack" in g.columns else False,
            "voltage_control": True,
            "vm_pu": col(g, "vm_pu", 1.0),
            "q_min_mvar": lo,
            "q_max_mvar": hi,
            "in_service": g["in_service"].to_numpy(dtype=bool),
        }
    )


def _sgens(s: pd.DataFrame, bm: BusMap) -> pd.DataFrame:
    """Static generators: fixed P and Q (``scaling`` applied), no voltage control."""
    scale = col(s, "scaling", 1.0)
    p = s["p_mw"].to_numpy(dtype=float) * scale
    # pandapower (3.x) clips an sgen's q_mvar to its limits before the flow with
    # enforce_q_lims and then scales it; the limits are kept in the unit's own scale
    q = s["q_mvar"].to_numpy(dtype=float) if "q_mvar" in s.columns else np.zeros(len(s))
    lo, hi = q_limits(s)
    with np.errstate(invalid="ignore"):  # an unlimited side times a scaling of 0
        lo = np.where(np.isinf(lo), lo, lo * scale)
        hi = np.where(np.isinf(hi), hi, hi * scale)
    return pd.DataFrame(
        {
            "id": [f"sgen:{i}" for i in s.index],
            "bus": bm.ids(s["bus"]),
            "kind": "static",
            "p_mw": p,
            "p_min_mw": np.minimum(p, 0.0),
            "p_max_mw": np.maximum(p, 0.0),
            "slack": False,
            "voltage_control": False,
            "q_mvar": np.nan_to_num(q, nan=0.0) * scale,
            "q_min_mvar": np.minimum(lo, hi),
            "q_max_mvar": np.maximum(lo, hi),
            "in_service": s["in_service"].to_numpy(dtype=bool),
        }
    )


def _dcline_set_points(
    p_mw: np.ndarray, loss_percent: np.ndarray, loss_mw: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(P at the from end, P at the to end), MW injected, of HVDC links sending ``p_mw``
    from the from bus (not positive: from the to bus, as pandapower): the sending end
    draws ``|p_mw|``, the receiving end gives ``|p_mw| · (1 − loss_percent/100) − loss_mw``."""
    sent = np.abs(p_mw)
    received = sent * (1.0 - loss_percent / 100.0) - loss_mw
    forward = p_mw > 0
    return np.where(forward, -sent, received), np.where(forward, received, -sent)


def _dclines(dc: pd.DataFrame, bm: BusMap) -> pd.DataFrame:
    """HVDC links: two units each (module docstring)."""
    p = _dcline_set_points(
        dc["p_mw"].to_numpy(dtype=float), col(dc, "loss_percent", 0.0), col(dc, "loss_mw", 0.0)
    )
    q = tuple(
        col(dc, c, np.nan)
        for c in ("min_q_from_mvar", "max_q_from_mvar", "min_q_to_mvar", "max_q_to_mvar")
    )
    return dcline_units(
        [f"dcline:{i}" for i in dc.index],
        bm.ids(dc["from_bus"]),
        bm.ids(dc["to_bus"]),
        p,
        (col(dc, "vm_from_pu", 1.0), col(dc, "vm_to_pu", 1.0)),
        q,  # type: ignore[arg-type]
        dc["in_service"].to_numpy(dtype=bool),
    )


def _xward_sources(xw: pd.DataFrame, bm: BusMap) -> pd.DataFrame:
    """The internal voltage source of each extended ward, at its own bus."""
    return pd.DataFrame(
        {
            "id": [f"xward:{i}:source" for i in xw.index],
            "bus": [f"bus:xward-{i}" for i in xw.index],
            "kind": "external",
            "p_mw": 0.0,
            "p_min_mw": 0.0,
            "p_max_mw": 0.0,
            "slack": False,
            "voltage_control": True,
            "vm_pu": col(xw, "vm_pu", 1.0),
            "q_min_mvar": -np.inf,
            "q_max_mvar": np.inf,
            "in_service": xw["in_service"].to_numpy(dtype=bool),
        }
    )


def loads(net: Any, bm: BusMap) -> pd.DataFrame:
    """The load table: loads (``scaling`` applied to P and Q), then the constant-power part
    of each ward and extended ward."""
    ld = net.load
    parts = [
        pd.DataFrame(
            {
                "id": [f"load:{i}" for i in ld.index],
                "bus": bm.ids(ld["bus"]),
                "p_mw": ld["p_mw"].to_numpy(dtype=float) * col(ld, "scaling", 1.0),
                "q_mvar": ld["q_mvar"].to_numpy(dtype=float) * col(ld, "scaling", 1.0),
                "in_service": ld["in_service"].to_numpy(dtype=bool),
            }
        )
    ]
    for table in ("ward", "xward"):
        if table in net and len(net[table]):
            w = net[table]
            parts.append(
                pd.DataFrame(
                    {
                        "id": [f"load:{table}-{i}" for i in w.index],
                        "bus": bm.ids(w["bus"]),
                        "p_mw": w["ps_mw"].to_numpy(dtype=float),
                        "q_mvar": w["qs_mvar"].to_numpy(dtype=float),
                        "in_service": w["in_service"].to_numpy(dtype=bool),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def shunts(net: Any, bm: BusMap) -> pd.DataFrame | None:
    """The shunt table: shunts at the buses' nominal voltage (``(vn_kv(bus) / vn_kv)² ·
    step`` times the rated P and Q), then the constant-impedance part of each ward and
    extended ward (None when there is none)."""
    parts = []
    sh = net.shunt
    if len(sh):
        vb = bm.kv(sh["bus"])
        vn_sh = col(sh, "vn_kv", np.nan)
        ratio = (vb / np.where(np.isnan(vn_sh), vb, vn_sh)) ** 2 * col(sh, "step", 1.0)
        parts.append(
            pd.DataFrame(
                {
                    "id": [f"shunt:{i}" for i in sh.index],
                    "bus": bm.ids(sh["bus"]),
                    "g_mw": sh["p_mw"].to_numpy(dtype=float) * ratio,
                    "b_mvar": -sh["q_mvar"].to_numpy(dtype=float) * ratio,
                    "in_service": sh["in_service"].to_numpy(dtype=bool),
                }
            )
        )
    for table in ("ward", "xward"):
        if table in net and len(net[table]):
            w = net[table]
            parts.append(
                pd.DataFrame(
                    {
                        "id": [f"shunt:{table}-{i}" for i in w.index],
                        "bus": bm.ids(w["bus"]),
                        "g_mw": w["pz_mw"].to_numpy(dtype=float),
                        "b_mvar": -w["qz_mvar"].to_numpy(dtype=float),
                        "in_service": w["in_service"].to_numpy(dtype=bool),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True) if parts else None
