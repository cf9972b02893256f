"""pandapower importer: the branch table, from pandapower's internal branch matrix.

Parameters are pandapower's own (``_pd2ppc`` with ``rundcpp``'s options), so ratios,
phase shifts, T models and per-unit conversions match ``rundcpp`` and ``runpp``. One
row per internal branch, in pandapower's order:

* ``line:<i>``, ``trafo:<i>`` (kind ``line``, ``trafo``);
* a three-winding transformer as pandapower builds it, three two-winding branches around
  its star bus: ``trafo3w:<i>:hv`` (hv bus -> star), ``trafo3w:<i>:mv`` and
  ``trafo3w:<i>:lv`` (star -> mv, lv bus), kind ``trafo``, rated ``sn_hv_mva``,
  ``sn_mv_mva``, ``sn_lv_mva``;
* ``impedance:<i>`` (kind ``impedance``; ``rtf``/``xtf``/``gt``/``bt`` that differ from the
  from side's go to the ``*_asym_pu`` columns, as pandapower's ``BR_*_ASYM``). Its
  ``sn_mva`` is the base of its per-unit values, not a rating: it is unrated;
* ``xward:<i>:branch``, an extended ward's internal impedance to its voltage source
  (kind ``impedance``, unrated);
* ``switch:<i>``, a closed bus-bus switch with an impedance (``z_ohm > 0``; kind
  ``switch``, rated ``√3 · vn_kv · in_ka`` where ``in_ka`` is given).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError
from warmgrid.io._pp_buses import BusMap, col

__all__ = ["branches"]

#: Columns of pandapower's internal branch matrix (``pypower/idx_brch.py``).
_F, _T, _R, _X, _B, _TAP, _SHIFT, _STATUS = 0, 1, 2, 3, 4, 8, 9, 10
_R_ASYM, _X_ASYM, _G, _G_ASYM, _B_ASYM = 21, 22, 23, 24, 25

_SIDES = ("hv", "mv", "lv")


def branches(
    net: Any, rows_of: Any, ppc_br: np.ndarray, bm: BusMap, source: str
) -> pd.DataFrame | None:
    """The branch table (module docstring).

    Parameters
    ----------
    net : the pandapowerNet (after ``_pd2ppc``).
    rows_of : ``lookup["branch"]``, the internal row range ``(f, t)`` of each table.
    ppc_br : the internal branch matrix (real part).
    bm : the bus map.
    source : the file, for errors.
    """
    vn = pd.Series(net.bus["vn_kv"].to_numpy(dtype=float), index=net.bus.index)
    parts = []
    for kind in ("line", "trafo", "trafo3w", "impedance", "xward", "switch"):
        if kind not in rows_of:
            continue
        f, t = rows_of[kind]
        ids, kinds, rate, on, order = _table(net, kind, vn)
        if t - f != len(ids):
            raise InputError(
                f"unexpected internal branch layout for {kind}", file=source, field=kind
            )
        parts.append(_rows(ppc_br[f:t][order], ids, kinds, rate, on[order], bm))
    return pd.concat(parts, ignore_index=True) if parts else None


def _table(
    net: Any, kind: str, vn: pd.Series
) -> tuple[list[str], Any, np.ndarray, np.ndarray, np.ndarray]:
    """(ids, kinds, rating MVA, in service per internal row, order of the internal rows)."""
    if kind == "trafo3w":
        t3 = net.trafo3w
        n = len(t3)
        # internal rows: every hv winding, then every mv, then every lv; ours per transformer
        order = np.arange(3 * n).reshape(3, n).T.ravel()
        ids = [f"trafo3w:{i}:{s}" for i in t3.index for s in _SIDES]
        rate = np.column_stack([_trafo3w_rate(t3, vn, s) for s in _SIDES]).ravel()
        return ids, "trafo", rate, np.ones(3 * n, dtype=bool), order
    if kind == "switch":
        sw = net.switch[np.asarray(net._impedance_bb_switches, dtype=bool)]
        rate = np.sqrt(3.0) * vn.loc[sw["bus"]].to_numpy() * col(sw, "in_ka", 0.0)
        ids = [f"switch:{i}" for i in sw.index]
        return ids, "switch", rate, np.ones(len(sw), dtype=bool), np.arange(len(sw))
    tab = net[kind]
    on = tab["in_service"].to_numpy(dtype=bool)
    order = np.arange(len(tab))
    if kind == "line":
        return [f"line:{i}" for i in tab.index], "line", _line_rate(tab, vn), on, order
    if kind == "trafo":
        return [f"trafo:{i}" for i in tab.index], "trafo", _trafo_rate(tab, vn), on, order
    if kind == "impedance":
        return [f"impedance:{i}" for i in tab.index], "impedance", np.zeros(len(tab)), on, order
    ids = [f"xward:{i}:branch" for i in tab.index]
    return ids, "impedance", np.zeros(len(tab)), on, order


def _rows(
    br: np.ndarray, ids: list[str], kind: Any, rate: np.ndarray, on: np.ndarray, bm: BusMap
) -> pd.DataFrame:
    """Branch rows from internal rows ``br`` (already in our order)."""
    tap = br[:, _TAP]

    def extra(c: int) -> Any:
        return br[:, c] if br.shape[1] > c else 0.0

    return pd.DataFrame(
        {
            "id": ids,
            "kind": kind,
            "from_bus": [bm.ppc_to_id[int(v)] for v in br[:, _F]],
            "to_bus": [bm.ppc_to_id[int(v)] for v in br[:, _T]],
            "r_pu": br[:, _R],
            "x_pu": br[:, _X],
            "b_pu": br[:, _B],
            "g_pu": extra(_G),
            "tap_ratio": np.where(tap == 0, 1.0, tap),
            "shift_deg": br[:, _SHIFT],
            "rate_mva": np.nan_to_num(rate, nan=0.0),
            "r_asym_pu": extra(_R_ASYM),
            "x_asym_pu": extra(_X_ASYM),
            "g_asym_pu": extra(_G_ASYM),
            "b_asym_pu": extra(_B_ASYM),
            "in_service": on & (br[:, _STATUS] > 0),
        }
    )


def _line_rate(tab: pd.DataFrame, vn: pd.Series) -> np.ndarray:
    """(n_line,) rating of each line, MVA: √3 · vn_kv(from bus) · max_i_ka · df · parallel."""
    return (
        np.sqrt(3.0)
        * vn.loc[tab["from_bus"]].to_numpy()
        * tab["max_i_ka"].to_numpy(dtype=float)
        * col(tab, "df", 1.0)
        * col(tab, "parallel", 1.0)
    )


def _trafo_rate(tab: pd.DataFrame, vn: pd.Series) -> np.ndarray:
    """(n_trafo,) rating of each transformer, MVA, at the buses' nominal voltages:
    ``sn_mva · parallel · df / max(vn_hv_kv / vn_kv(hv bus), vn_lv_kv / vn_kv(lv bus))``."""
    hv_ratio = tab["vn_hv_kv"].to_numpy(dtype=float) / vn.loc[tab["hv_bus"]].to_numpy()
    lv_ratio = tab["vn_lv_kv"].to_numpy(dtype=float) / vn.loc[tab["lv_bus"]].to_numpy()
    parallel = col(tab, "parallel", 1.0)
    df = col(tab, "df", 1.0)
    return tab["sn_mva"].to_numpy(dtype=float) * parallel * df / np.maximum(hv_ratio, lv_ratio)


def _trafo3w_rate(t3: pd.DataFrame, vn: pd.Series, side: str) -> np.ndarray:
    """(n,) rating of one winding, MVA: ``sn_<side>_mva`` over the larger ratio of rated to
    bus voltage at its two ends (the star bus is at the hv bus's voltage and ratio)."""
    hv_ratio = t3["vn_hv_kv"].to_numpy(dtype=float) / vn.loc[t3["hv_bus"]].to_numpy()
    ratio = t3[f"vn_{side}_kv"].to_numpy(dtype=float) / vn.loc[t3[f"{side}_bus"]].to_numpy()
    return t3[f"sn_{side}_mva"].to_numpy(dtype=float) / np.maximum(hv_ratio, ratio)
