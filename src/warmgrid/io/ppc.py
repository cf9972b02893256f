"""MATPOWER/PYPOWER case dicts ("ppc") to a :class:`~warmgrid.model.grid.Grid`.

Column indices follow the MATPOWER manual, Appendix B (Zimmerman & Murillo-Sánchez,
MATPOWER User's Manual, tables B-1 to B-3, and the dcline table of ``toggle_dcline``).
Ids follow docs/model.md, "Element ids and kinds": ``bus:<BUS_I>``, ``branch:<row,
1-based>``, ``gen:<row, 1-based>``; a bus's demand becomes ``load:<BUS_I>`` and its shunt
``shunt:<BUS_I>``.

An HVDC link (a row of ``mpc.dcline``; RTS-GMLC has one) becomes two units
``dcline:<row>:from`` and ``dcline:<row>:to`` (:mod:`warmgrid.io._dcline`) and the alias
``dcline:<row>`` naming both: the from end draws ``PF``, the to end gives MATPOWER's
``PT = PF − (LOSS0 + LOSS1 · PF)`` (the file's own PT, QF and QT, results of a solved
case, are not used), each holding ``VF``, ``VT`` within ``QMINF..QMAXF``,
``QMINT..QMAXT``, as ``toggle_dcline`` makes them. A link out of service (BR_STATUS 0)
is kept out of service.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError
from warmgrid.io._dcline import dcline_units, dcline_warning
from warmgrid.model.grid import Grid

__all__ = ["grid_from_ppc"]

# bus columns
BUS_I, BUS_TYPE, PD, QD, GS, BS, VM, VA, BASE_KV, VMAX, VMIN = 0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12
PV, REF, ISOLATED = 2, 3, 4
# branch columns
F_BUS, T_BUS, BR_R, BR_X, BR_B, RATE_A, TAP, SHIFT, BR_STATUS = 0, 1, 2, 3, 4, 5, 8, 9, 10
ANGMIN, ANGMAX = 11, 12
# gen columns
GEN_BUS, PG, QG, QMAX, QMIN, VG, GEN_STATUS, PMAX, PMIN = 0, 1, 2, 3, 4, 5, 7, 8, 9
# dcline columns (toggle_dcline's idx_dcline)
DC_F, DC_T, DC_STATUS, DC_PF, DC_VF, DC_VT = 0, 1, 2, 3, 7, 8
DC_QMINF, DC_QMAXF, DC_QMINT, DC_QMAXT, DC_LOSS0, DC_LOSS1 = 11, 12, 13, 14, 15, 16

#: Voltage set points a unit may hold, p.u.
VM_SET_RANGE = (0.5, 1.5)


#: Columns warmgrid reads (MATPOWER names), which must hold finite numbers; the others
#: (MBASE, ...) are not used and may hold NaN. ``inf`` is accepted where it means
#: "unlimited" (RATE_A, PMAX). Read leniently, outside this list: QG (NaN reads 0), QMAX and
#: QMIN (NaN reads as unlimited), VMAX and VMIN (NaN: no limit), and VG, which must be a
#: positive number only for units on PV and reference buses (the others read 1.0).
_USED = {
    "bus": {
        BUS_I: "BUS_I",
        BUS_TYPE: "BUS_TYPE",
        PD: "PD",
        QD: "QD",
        GS: "GS",
        BS: "BS",
        BASE_KV: "BASE_KV",
    },
    "branch": {
        F_BUS: "F_BUS",
        T_BUS: "T_BUS",
        BR_R: "BR_R",
        BR_X: "BR_X",
        BR_B: "BR_B",
        RATE_A: "RATE_A",
        TAP: "TAP",
        SHIFT: "SHIFT",
        BR_STATUS: "BR_STATUS",
    },
    "gen": {GEN_BUS: "GEN_BUS", PG: "PG", GEN_STATUS: "GEN_STATUS", PMAX: "PMAX", PMIN: "PMIN"},
    "dcline": {
        DC_F: "F_BUS",
        DC_T: "T_BUS",
        DC_STATUS: "BR_STATUS",
        DC_PF: "PF",
        DC_VF: "VF",
        DC_VT: "VT",
        DC_LOSS0: "LOSS0",
        DC_LOSS1: "LOSS1",
    },
}
_INF_OK = {("branch", RATE_A), ("gen", PMAX)}


def _table(ppc: dict[str, Any], key: str, min_cols: int, file: str) -> np.ndarray:
    if key not in ppc:
        raise InputError(f"the case has no '{key}' matrix", file=file, field=key)
    a = np.asarray(ppc[key])
    if a.ndim == 1 and a.size:
        a = a[None, :]
    if a.size == 0:
        a = np.zeros((0, min_cols))
    if a.ndim != 2 or a.shape[1] < min_cols:
        raise InputError(
            f"'{key}' needs at least {min_cols} columns, got {a.shape[-1] if a.ndim else 0}",
            file=file,
            row=1,
            field=key,
        )
    try:
        a = np.real(a).astype(float)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"'{key}' holds non-numeric values ({exc})", file=file, field=key
        ) from None
    used = _USED.get(key, {})
    cols = sorted(used)
    sub = a[:, cols]
    inf_ok = np.array([(key, c) in _INF_OK for c in cols], dtype=bool)
    bad = np.argwhere(np.isnan(sub) | (np.isinf(sub) & ~inf_ok) | (np.isinf(sub) & (sub < 0)))
    if len(bad):
        r, j = bad[0]
        c = cols[j]
        raise InputError(
            f"not a finite number: {a[r, c]}",
            file=file,
            row=int(r) + 1,
            field=f"{key} {used[c]} (column {c + 1})",
        )
    return a


def grid_from_ppc(ppc: dict[str, Any], *, name: str, source: str) -> Grid:
    """Build a grid from a MATPOWER case dict.

    Parameters
    ----------
    ppc : dict with ``baseMVA``, ``bus`` (n_bus, >=13), ``branch`` (n_branch, >=11) and
        ``gen`` (n_gen, >=10) arrays in MATPOWER units (MW, p.u., degrees).
    name : case name.
    source : the file, for error messages.

    Returns
    -------
    Grid
        With ``allow_negative_x=True``: published cases use negative series reactance.
    """
    base = float(np.real(ppc.get("baseMVA", 100.0)))
    bus = _table(ppc, "bus", 13, source)
    branch = _table(ppc, "branch", 11, source)
    gen = _table(ppc, "gen", 10, source)
    dcline = _table(ppc, "dcline", 17, source) if "dcline" in ppc else np.zeros((0, 17))
    if len(bus) == 0:
        raise InputError("the case has no buses", file=source, field="bus")
    bus_num = _bus_numbers(bus, source)
    bus_id = np.array([f"bus:{int(b)}" for b in bus_num], dtype=object)
    known = dict(zip(bus_num.astype(np.int64).tolist(), bus_id, strict=True))
    units = _gens(gen, bus, known, source)
    meta: dict[str, Any] = {"format": "matpower"}
    if len(dcline):
        units = pd.concat([units, _dclines(dcline, known, source)], ignore_index=True)
        meta["aliases"] = {
            f"dcline:{i}": [f"dcline:{i}:from", f"dcline:{i}:to"] for i in range(1, len(dcline) + 1)
        }
        meta["warnings"] = [dcline_warning(len(dcline))]
    return Grid(
        name=name,
        bus=_buses(bus, bus_id),
        branch=_branches(branch, known, source),
        gen=units,
        load=_loads(bus, bus_id),
        shunt=_shunts(bus, bus_id),
        base_mva=base,
        source=source,
        allow_negative_x=True,
        meta=meta,
    )


def _bus_numbers(bus: np.ndarray, source: str) -> np.ndarray:
    """(n_bus,) the BUS_I column, checked: integers, no duplicates."""
    bus_num = bus[:, BUS_I]
    if np.any(bus_num != np.round(bus_num)):
        r = int(np.flatnonzero(bus_num != np.round(bus_num))[0])
        raise InputError(
            f"bus number must be an integer, got {bus_num[r]}",
            file=source,
            row=r + 1,
            field="bus BUS_I",
        )
    uniq, _first, counts = np.unique(bus_num, return_index=True, return_counts=True)
    if (counts > 1).any():
        b = uniq[counts > 1][0]
        rows = np.flatnonzero(bus_num == b)
        raise InputError(
            f"duplicate bus number {int(b)} (rows {', '.join(str(r + 1) for r in rows[:5])})",
            file=source,
            row=int(rows[1]) + 1,
            field="bus BUS_I",
        )
    return bus_num


def _refs(
    col: np.ndarray, known: dict[int, str], table: str, field: str, source: str
) -> np.ndarray:
    """(n,) object, the bus id of each bus number in ``col``; an unknown one is an error
    naming its row and ``table field``."""
    out = np.empty(len(col), dtype=object)
    for i, b in enumerate(col.astype(np.int64).tolist()):
        if b not in known:
            raise InputError(
                f"refers to unknown bus {b}", file=source, row=i + 1, field=f"{table} {field}"
            )
        out[i] = known[b]
    return out


def _buses(bus: np.ndarray, bus_id: np.ndarray) -> pd.DataFrame:
    """The bus table: BASE_KV (1 where not > 0), VMIN and VMAX where finite and > 0."""
    return pd.DataFrame(
        {
            "id": bus_id,
            "vn_kv": np.where(bus[:, BASE_KV] > 0, bus[:, BASE_KV], 1.0),
            "vm_min_pu": np.where(
                np.isfinite(bus[:, VMIN]) & (bus[:, VMIN] > 0), bus[:, VMIN], np.nan
            ),
            "vm_max_pu": np.where(
                np.isfinite(bus[:, VMAX]) & (bus[:, VMAX] > 0), bus[:, VMAX], np.nan
            ),
            "in_service": bus[:, BUS_TYPE] != ISOLATED,
        }
    )


def _branches(branch: np.ndarray, known: dict[int, str], source: str) -> pd.DataFrame:
    """The branch table (``branch:<row>``; a transformer where TAP or SHIFT is set)."""
    tap = branch[:, TAP]
    return pd.DataFrame(
        {
            "id": [f"branch:{i + 1}" for i in range(len(branch))],
            "kind": np.where((tap != 0) | (branch[:, SHIFT] != 0), "trafo", "line"),
            "from_bus": _refs(branch[:, F_BUS], known, "branch", "F_BUS", source),
            "to_bus": _refs(branch[:, T_BUS], known, "branch", "T_BUS", source),
            "r_pu": branch[:, BR_R],
            "x_pu": branch[:, BR_X],
            "b_pu": branch[:, BR_B],
            "tap_ratio": np.where(tap == 0, 1.0, tap),
            "shift_deg": branch[:, SHIFT],
            "ang_min_deg": _angle(branch, ANGMIN, -360.0),
            "ang_max_deg": _angle(branch, ANGMAX, 360.0),
            "rate_mva": branch[:, RATE_A],
            "in_service": branch[:, BR_STATUS] > 0,
        }
    )


def _angle(branch: np.ndarray, col: int, none: float) -> np.ndarray:
    """ANGMIN or ANGMAX, degrees, clipped to ±360 (beyond means none); ``none`` where the
    column is absent or not finite."""
    if branch.shape[1] <= col:
        return np.full(len(branch), none)
    v = branch[:, col]
    return np.clip(np.where(np.isfinite(v), v, none), -360.0, 360.0)


def _gens(gen: np.ndarray, bus: np.ndarray, known: dict[int, str], source: str) -> pd.DataFrame:
    """The generator table (``gen:<row>``): units on PV and REF buses hold VG, units on
    REF buses are slack and hold the bus's VA (MATPOWER's ``bustypes`` and ``dcpf``)."""
    bus_num = bus[:, BUS_I]
    slack_bus = set(bus_num[bus[:, BUS_TYPE] == REF].astype(np.int64).tolist())
    pv_bus = set(bus_num[np.isin(bus[:, BUS_TYPE], (PV, REF))].astype(np.int64).tolist())
    bus_va = dict(zip(bus_num.astype(np.int64).tolist(), bus[:, VA].tolist(), strict=True))
    gen_bus = gen[:, GEN_BUS].astype(np.int64)
    # MATPOWER's bustypes: a unit holds its bus voltage when the bus is PV or REF
    vctl = np.array([b in pv_bus for b in gen_bus.tolist()], dtype=bool)
    vg = gen[:, VG]
    lo, hi = VM_SET_RANGE
    bad_vg = vctl & (gen[:, GEN_STATUS] > 0) & ~(np.isfinite(vg) & (vg >= lo) & (vg <= hi))
    if bad_vg.any():
        r = int(np.flatnonzero(bad_vg)[0])
        raise InputError(
            f"voltage set point of a unit on a PV or reference bus must be in {lo}–{hi} p.u., "
            f"got {vg[r]}",
            file=source,
            row=r + 1,
            field=f"gen VG (column {VG + 1})",
        )
    vg = np.where(np.isfinite(vg) & (vg > 0), vg, 1.0)
    qmin = np.where(np.isnan(gen[:, QMIN]), -np.inf, gen[:, QMIN])
    qmax = np.where(np.isnan(gen[:, QMAX]), np.inf, gen[:, QMAX])
    return pd.DataFrame(
        {
            "id": [f"gen:{i + 1}" for i in range(len(gen))],
            "bus": _refs(gen[:, GEN_BUS], known, "gen", "GEN_BUS", source),
            "kind": "thermal",
            "p_mw": gen[:, PG],
            "p_min_mw": np.minimum(gen[:, PMIN], gen[:, PMAX]),
            "p_max_mw": gen[:, PMAX],
            "slack": [b in slack_bus for b in gen_bus.tolist()],
            # MATPOWER's dcpf holds each reference bus at its VA column
            "va_deg": [bus_va.get(b, 0.0) for b in gen_bus.tolist()],
            "voltage_control": vctl,
            "vm_pu": vg,
            "q_mvar": np.nan_to_num(gen[:, QG], nan=0.0),
            "q_min_mvar": qmin,
            "q_max_mvar": qmax,
            "in_service": gen[:, GEN_STATUS] > 0,
        }
    )


def _loads(bus: np.ndarray, bus_id: np.ndarray) -> pd.DataFrame:
    """One load per bus with PD or QD (``load:<BUS_I>``)."""
    has_load = (bus[:, PD] != 0) | (bus[:, QD] != 0)
    return pd.DataFrame(
        {
            "id": [f"load:{int(b)}" for b in bus[has_load, BUS_I]],
            "bus": bus_id[has_load],
            "p_mw": bus[has_load, PD],
            "q_mvar": bus[has_load, QD],
        }
    )


def _shunts(bus: np.ndarray, bus_id: np.ndarray) -> pd.DataFrame:
    """One shunt per bus with GS or BS (``shunt:<BUS_I>``)."""
    has_shunt = (bus[:, GS] != 0) | (bus[:, BS] != 0)
    return pd.DataFrame(
        {
            "id": [f"shunt:{int(b)}" for b in bus[has_shunt, BUS_I]],
            "bus": bus_id[has_shunt],
            "g_mw": bus[has_shunt, GS],
            "b_mvar": bus[has_shunt, BS],
        }
    )


def _dclines(dc: np.ndarray, known: dict[int, str], source: str) -> pd.DataFrame:
    """The two units of each HVDC link (module docstring)."""
    lo, hi = VM_SET_RANGE
    on = dc[:, DC_STATUS] > 0
    for c, name in ((DC_VF, "VF"), (DC_VT, "VT")):
        bad = on & ~((dc[:, c] >= lo) & (dc[:, c] <= hi))
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"voltage set point must be in {lo}–{hi} p.u., got {dc[r, c]}",
                file=source,
                row=r + 1,
                field=f"dcline {name} (column {c + 1})",
            )
    pf = dc[:, DC_PF]
    pt = pf - (dc[:, DC_LOSS0] + dc[:, DC_LOSS1] * pf)
    q = tuple(dc[:, c] for c in (DC_QMINF, DC_QMAXF, DC_QMINT, DC_QMAXT))
    for (qlo, qhi), name in (((q[0], q[1]), "QMINF"), ((q[2], q[3]), "QMINT")):
        bad = qlo > qhi
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"reactive limits reversed: {qlo[r]} > {qhi[r]}",
                file=source,
                row=r + 1,
                field=f"dcline {name}",
            )
    return dcline_units(
        [f"dcline:{i + 1}" for i in range(len(dc))],
        list(_refs(dc[:, DC_F], known, "dcline", "F_BUS", source)),
        list(_refs(dc[:, DC_T], known, "dcline", "T_BUS", source)),
        (-pf, pt),
        (dc[:, DC_VF], dc[:, DC_VT]),
        q,  # type: ignore[arg-type]
        on,
    )
