"""pandapower importer: checks of the net before and after the conversion.

Before: every element's bus (and every switch's element) exists, voltage set points lie
in 0.5–1.5 p.u., voltage limits are ordered, and the impedances pandapower divides by are
not zero (or negative where that means nothing: a transformer's short-circuit voltage, a
length, a rated power). Each failure is one :class:`InputError` naming the table, the
element and the pandapower field. After: the imported loads, static generators and shunts
add up to pandapower's own bus injections (an element type the importer did not map would
make them differ).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError
from warmgrid.io._pp_buses import BusMap, col
from warmgrid.model.grid import Grid

__all__ = ["check_injections", "check_net"]

#: Bus columns of each element table.
_BUS_COLUMNS = {
    "line": ("from_bus", "to_bus"),
    "trafo": ("hv_bus", "lv_bus"),
    "trafo3w": ("hv_bus", "mv_bus", "lv_bus"),
    "impedance": ("from_bus", "to_bus"),
    "load": ("bus",),
    "sgen": ("bus",),
    "gen": ("bus",),
    "ext_grid": ("bus",),
    "shunt": ("bus",),
    "ward": ("bus",),
    "xward": ("bus",),
    "dcline": ("from_bus", "to_bus"),
    "switch": ("bus",),
}

#: Voltage set points: table -> columns, p.u.
_SET_POINTS = {
    "ext_grid": ("vm_pu",),
    "gen": ("vm_pu",),
    "xward": ("vm_pu",),
    "dcline": ("vm_from_pu", "vm_to_pu"),
}
VM_SET_RANGE = (0.5, 1.5)

#: Values that must be > 0: table -> columns (only rows in service are checked).
_POSITIVE = {
    "line": ("length_km",),
    "trafo": ("sn_mva", "vn_hv_kv", "vn_lv_kv"),
    "trafo3w": (
        "sn_hv_mva",
        "sn_mv_mva",
        "sn_lv_mva",
        "vn_hv_kv",
        "vn_mv_kv",
        "vn_lv_kv",
        "vk_hv_percent",
        "vk_mv_percent",
        "vk_lv_percent",
    ),
    "impedance": ("sn_mva",),
}


def _tables(net: Any) -> list[str]:
    return [t for t in _BUS_COLUMNS if t in net and hasattr(net[t], "__len__") and len(net[t])]


def _fail(message: str, source: str, table: str, row: Any, field: str) -> None:
    raise InputError(message, file=source, row=f"{table}:{row}", field=f"{table}.{field}")


def check_net(net: Any, source: str) -> None:
    """Raise for the first problem of the net (module docstring)."""
    buses = set(net.bus.index.tolist())
    for t in _tables(net):
        tab = net[t]
        for c in _BUS_COLUMNS[t]:
            bad = ~tab[c].isin(buses).to_numpy()
            if bad.any():
                i = tab.index[bad][0]
                _fail(f"refers to unknown bus {tab.loc[i, c]}", source, t, i, c)
    if "switch" in net and len(net.switch):
        _check_switches(net, source)
    _check_values(net, source)


def _check_switches(net: Any, source: str) -> None:
    """Each switch names a known element of its type, at a bus of that element."""
    sw = net.switch
    kinds = {"b": "bus", "l": "line", "t": "trafo", "t3": "trafo3w"}
    for i, r in sw.iterrows():
        et = str(r["et"])
        if et not in kinds:
            _fail(f"unknown element type {et!r} (b, l, t or t3)", source, "switch", i, "et")
        table = kinds[et]
        if r["element"] not in net[table].index:
            _fail(f"refers to unknown {table} {r['element']}", source, "switch", i, "element")
        if et == "b":
            if float(r.get("z_ohm", 0.0) or 0.0) < 0:
                _fail(f"must be >= 0, got {r['z_ohm']}", source, "switch", i, "z_ohm")
            continue
        ends = [int(net[table].loc[r["element"], c]) for c in _BUS_COLUMNS[table]]
        if int(r["bus"]) not in ends:
            _fail(
                f"bus {r['bus']} is not a bus of {table} {r['element']}",
                source,
                "switch",
                i,
                "bus",
            )


def _in_service(tab: pd.DataFrame) -> np.ndarray:
    return (
        tab["in_service"].to_numpy(dtype=bool) if "in_service" in tab else np.ones(len(tab), bool)
    )


def _check_values(net: Any, source: str) -> None:
    """Set points in range, limits ordered, impedances that can be divided by."""
    lo, hi = VM_SET_RANGE
    for t, cols in _SET_POINTS.items():
        if t not in net or not len(net[t]):
            continue
        on = _in_service(net[t])
        for c in cols:
            v = col(net[t], c, 1.0)
            bad = on & ~((v >= lo) & (v <= hi))
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                msg = f"voltage set point must be in {lo}–{hi} p.u., got {v[k]}"
                _fail(msg, source, t, net[t].index[k], c)
    vmin, vmax = col(net.bus, "min_vm_pu", -np.inf), col(net.bus, "max_vm_pu", np.inf)
    if (vmin > vmax).any():
        k = int(np.flatnonzero(vmin > vmax)[0])
        msg = f"min_vm_pu {vmin[k]} > max_vm_pu {vmax[k]}"
        _fail(msg, source, "bus", net.bus.index[k], "min_vm_pu")
    for t, cols in _POSITIVE.items():
        if t not in net or not len(net[t]):
            continue
        on = _in_service(net[t])
        for c in cols:
            v = col(net[t], c, np.nan)
            bad = on & ~(v > 0)
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                _fail(f"must be > 0, got {v[k]}", source, t, net[t].index[k], c)
    _check_impedances(net, source)


def _check_impedances(net: Any, source: str) -> None:
    """A transformer's ``|vkr|`` below its ``|vk|`` (pandapower's reactance is
    ``sign(vk) · √(vk² − vkr²)``: a negative ``vk``, published as a three-winding star
    point, is accepted), and a series reactance for the DC model where pandapower takes
    one straight from the table (``impedance``, ``xward``)."""
    for t, pairs in (
        ("trafo", (("vkr_percent", "vk_percent"),)),
        ("trafo3w", tuple((f"vkr_{s}_percent", f"vk_{s}_percent") for s in ("hv", "mv", "lv"))),
    ):
        if t not in net or not len(net[t]):
            continue
        on = _in_service(net[t])
        for r, z in pairs:
            vr, vz = col(net[t], r, 0.0), col(net[t], z, np.nan)
            bad = on & ~(np.abs(vr) < np.abs(vz))
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                msg = f"|{r}| must be below |{z}| ({vz[k]}: no reactance left), got {vr[k]}"
                _fail(msg, source, t, net[t].index[k], r)
    for t, x in (("impedance", "xft_pu"), ("xward", "x_ohm")):
        if t not in net or not len(net[t]):
            continue
        v = col(net[t], x, np.nan)
        bad = _in_service(net[t]) & ~(np.abs(v) > 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            msg = f"series reactance must not be 0 (the DC model divides by it), got {v[k]}"
            _fail(msg, source, t, net[t].index[k], x)


def check_injections(grid: Grid, ppc_bus: np.ndarray, bm: BusMap, source: str) -> None:
    """Check that loads, static generators and shunts add up to pandapower's bus P, Q, G and B.

    A mismatch means an element type the importer did not map; it is an error rather
    than a silently different grid.
    """
    n = ppc_bus.shape[0]
    pos = bm.position()

    def at(df: pd.DataFrame, column: str, sign: float = 1.0) -> np.ndarray:
        out = np.zeros(n)
        np.add.at(out, [pos[b] for b in df["bus"]], sign * df[column].to_numpy(dtype=float))
        return out

    ld = grid.load[grid.load["in_service"]]
    sg = grid.gen[(grid.gen["kind"] == "static") & grid.gen["in_service"]]
    sh = grid.shunt[grid.shunt["in_service"]]
    mine = {
        2: at(ld, "p_mw") + at(sg, "p_mw", -1.0),
        3: at(ld, "q_mvar") + at(sg, "q_mvar", -1.0),
        4: at(sh, "g_mw"),
        5: at(sh, "b_mvar"),
    }
    on = ppc_bus[:, 1] != 4
    worst = max(
        (float(np.abs(v - ppc_bus[:, c])[on].max(initial=0.0)) for c, v in mine.items()),
        default=0.0,
    )
    if worst > 1e-6:
        raise InputError(
            "bus injections do not match pandapower's (an element type is not mapped)",
            file=source,
            field="load",
        )
