"""pandapower networks (bundled cases and JSON files) to a :class:`Grid`.

Branch parameters are taken from pandapower's own conversion to its internal PYPOWER
case (``_pd2ppc``) with the options of ``rundcpp``, so transformer ratios, phase shifts
and the T-model reactance match pandapower exactly; element ids and set points come
from the element tables (``line:40``, ``trafo:3``, ``gen:2``, ``sgen:5``,
``ext_grid:0``, ``load:7``, ``shunt:4``). pandapower is imported lazily.
"""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError, closest, quoted
from warmgrid.model.grid import Grid

__all__ = [
    "bundled_case_names",
    "from_pandapower_net",
    "load_pandapower_case",
    "load_pandapower_json",
]

#: Element tables this importer does not map yet: a non-empty one is an error.
_UNSUPPORTED = (
    "trafo3w",
    "impedance",
    "ward",
    "xward",
    "dcline",
    "storage",
    "motor",
    "asymmetric_load",
    "asymmetric_sgen",
    "svc",
    "tcsc",
    "ssc",
    "vsc",
    "line_dc",
    "bus_dc",
)


#: Columns of pandapower's internal branch matrix beyond MATPOWER's (pandapower's
#: ``pypower/idx_brch.py``): asymmetric series parameters and the branch shunt conductance.
_BR_G, _BR_B_ASYM = 23, 25
_BR_ASYM = (21, 22, 24, 25)  # BR_R_ASYM, BR_X_ASYM, BR_G_ASYM, BR_B_ASYM


def _q_limits(tab: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) reactive limits, Mvar; NaN or absent reads as unlimited."""
    return _col(tab, "min_q_mvar", -np.inf), _col(tab, "max_q_mvar", np.inf)


def bundled_case_names() -> list[str]:
    """Names of the grids that ``pandapower.networks`` ships as power-system test cases.

    Read from the source of ``pandapower/networks/power_system_test_cases.py`` without
    importing pandapower, so ``warmgrid cases`` stays fast.
    """
    import importlib.util

    spec = importlib.util.find_spec("pandapower")
    if spec is None or not spec.submodule_search_locations:
        return []
    path = (
        Path(next(iter(spec.submodule_search_locations)))
        / "networks"
        / "power_system_test_cases.py"
    )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    names = re.findall(r"^def ((?:case|GB|iceland)\w*)\(", text, flags=re.MULTILINE)
    return sorted(set(names), key=_case_sort_key)


def _case_sort_key(name: str) -> tuple[int, str]:
    m = re.match(r"case(\d+)", name)
    return (int(m.group(1)) if m else 10**6, name)


def _quiet() -> Any:
    """Silence pandapower's import chatter (numba notices) and warnings."""
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    return warnings.catch_warnings()


def load_pandapower_case(name: str) -> Grid:
    """Load a bundled ``pandapower.networks`` case by name (``"case118"``)."""
    names = bundled_case_names()
    if name not in names:
        raise InputError(
            f"unknown case name {quoted(name)}{closest(name, names)} (warmgrid cases lists them)",
            file=name,
            field="case",
        )
    with _quiet():
        warnings.simplefilter("ignore")
        os.environ.setdefault("NUMBA_DISABLE_JIT", "0")
        import pandapower.networks as pn

        net = getattr(pn, name)()
    return from_pandapower_net(net, name=name, source=f"pandapower:{name}")


def load_pandapower_json(path: str | Path) -> Grid:
    """Load a pandapower network saved with ``pandapower.to_json``."""
    path = Path(path)
    with _quiet():
        warnings.simplefilter("ignore")
        import pandapower as pp

        try:
            net = pp.from_json(str(path))
        except Exception as exc:  # pandapower raises many types on bad JSON
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"not a readable pandapower JSON network ({msg[:160]})", file=str(path)
            ) from None
    return from_pandapower_net(net, name=path.stem, source=str(path))


def _geo_xy(geo: pd.Series | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if geo is None:
        return x, y
    for i, g in enumerate(geo.tolist()):
        if isinstance(g, str) and g:
            try:
                c = json.loads(g).get("coordinates")
                x[i], y[i] = float(c[0]), float(c[1])
            except (ValueError, TypeError, IndexError, AttributeError):
                pass
    return x, y


def _col(df: pd.DataFrame, name: str, default: float) -> np.ndarray:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce").fillna(default).to_numpy(dtype=float)
    return np.full(len(df), default, dtype=float)


def from_pandapower_net(net: Any, *, name: str, source: str) -> Grid:
    """Convert a pandapowerNet to a Grid (the net is not modified in its tables).

    Raises
    ------
    InputError
        If the net holds element types this importer does not map, or if pandapower
        cannot build its internal case from it.
    """
    _check_supported(net, source)
    lookup, ppc_bus, ppc_br = _internal_case(net, source)
    bus_lookup = np.asarray(lookup["bus"])
    bus_df, ppc_to_id, vn_bus = _buses(net.bus, bus_lookup)
    grid = Grid(
        name=name,
        bus=bus_df,
        branch=_branches(net, lookup["branch"], ppc_br, ppc_to_id, vn_bus, source),
        gen=_units(net),
        load=_loads(net.load),
        shunt=_shunts(net.shunt, vn_bus),
        base_mva=float(net.sn_mva),
        source=source,
        allow_negative_x=True,
        meta={"format": "pandapower"},
    )
    _check_injections(grid, ppc_bus, bus_lookup, source)
    return grid


def _check_supported(net: Any, source: str) -> None:
    """Raise for element tables and switches the importer does not map, or no buses."""
    for t in _UNSUPPORTED:
        if (
            t in net
            and hasattr(net[t], "__len__")
            and len(net[t])
            and bool(np.any(net[t].get("in_service", True)))
        ):
            raise InputError(
                f"element table '{t}' is not supported by the pandapower importer yet",
                file=source,
                field=t,
            )
    sw = net.get("switch")
    if sw is not None and len(sw) and bool((sw["et"] == "b").any() & sw["closed"].any()):
        raise InputError(
            "closed bus-bus switches are not supported yet (fuse the buses first)",
            file=source,
            field="switch",
        )
    if len(net.bus) == 0:
        raise InputError("the network has no buses", file=source, field="bus")


def _internal_case(net: Any, source: str) -> tuple[Any, np.ndarray, np.ndarray]:
    """pandapower's internal case with ``rundcpp``'s options (``_pd2ppc``).

    Returns
    -------
    lookup : ``net._pd2ppc_lookups`` (``"bus"``: internal bus of each pandapower bus,
        ``"branch"``: row range of each branch table).
    ppc_bus : (n_ppc_bus, n_col) the internal bus matrix (real part).
    ppc_br : (n_ppc_branch, n_col) the internal branch matrix (real part).
    """
    from pandapower.auxiliary import _init_rundcpp_options
    from pandapower.powerflow import _pd2ppc

    try:
        _init_rundcpp_options(
            net,
            trafo_model="t",
            trafo_loading="current",
            recycle=None,
            check_connectivity=False,
            switch_rx_ratio=2,
            trafo3w_losses="hv",
        )
        ppc, _ = _pd2ppc(net)
    except Exception as exc:  # pandapower raises bare exceptions on bad data
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"pandapower could not build the case ({msg[:160]})", file=source
        ) from None
    ppc_bus = np.real(ppc["bus"])
    ppc_br = np.real(ppc["branch"])
    if ppc_br.shape[1] > _BR_B_ASYM and np.any(ppc_br[:, list(_BR_ASYM)]):
        raise InputError(
            "branches with different from- and to-side parameters are not supported yet",
            file=source,
            field="trafo",
        )
    return net._pd2ppc_lookups, ppc_bus, ppc_br


def _buses(
    b: pd.DataFrame, bus_lookup: np.ndarray
) -> tuple[pd.DataFrame, dict[int, str], pd.Series]:
    """The bus table, the id of each internal bus (its first pandapower bus) and ``vn_kv``
    per pandapower bus index.

    Parameters
    ----------
    b : pandapower's ``bus`` table.
    bus_lookup : (max bus index + 1,) internal bus of each pandapower bus.
    """
    bx, by = _geo_xy(b["geo"] if "geo" in b.columns else None, len(b))
    bus_df = pd.DataFrame(
        {
            "id": [f"bus:{i}" for i in b.index],
            "name": b["name"].astype(object).where(b["name"].notna(), "").astype(str).to_numpy()
            if "name" in b.columns
            else "",
            "vn_kv": b["vn_kv"].to_numpy(dtype=float),
            "x": bx,
            "y": by,
            "zone": b["zone"].astype(object).where(b["zone"].notna(), "").astype(str).to_numpy()
            if "zone" in b.columns
            else "",
            "vm_min_pu": _col(b, "min_vm_pu", np.nan),
            "vm_max_pu": _col(b, "max_vm_pu", np.nan),
            "in_service": b["in_service"].to_numpy(dtype=bool),
        }
    )
    ppc_to_id: dict[int, str] = {}
    for pd_idx in b.index:
        ppc_to_id.setdefault(int(bus_lookup[pd_idx]), f"bus:{pd_idx}")
    vn_bus = pd.Series(b["vn_kv"].to_numpy(dtype=float), index=b.index)
    return bus_df, ppc_to_id, vn_bus


def _branches(
    net: Any,
    rows_of: Any,
    ppc_br: np.ndarray,
    ppc_to_id: dict[int, str],
    vn_bus: pd.Series,
    source: str,
) -> pd.DataFrame | None:
    """The branch table: lines and two-winding transformers, parameters from ``ppc_br``.

    Parameters
    ----------
    net : the pandapowerNet.
    rows_of : ``lookup["branch"]``, the internal row range ``(f, t)`` of each table.
    ppc_br : the internal branch matrix.
    ppc_to_id : id of each internal bus.
    vn_bus : nominal voltage per pandapower bus, kV.
    source : the file, for errors.
    """
    rows = []
    for kind in ("line", "trafo"):
        if kind not in rows_of:
            continue
        f, t = rows_of[kind]
        tab = net[kind]
        if t - f != len(tab):
            raise InputError(
                f"unexpected internal branch layout for {kind}", file=source, field=kind
            )
        br = ppc_br[f:t]
        rate = _line_rate(tab, vn_bus) if kind == "line" else _trafo_rate(tab, vn_bus)
        tap = br[:, 8]
        rows.append(
            pd.DataFrame(
                {
                    "id": [f"{kind}:{i}" for i in tab.index],
                    "kind": kind,
                    "from_bus": [ppc_to_id[int(v)] for v in br[:, 0]],
                    "to_bus": [ppc_to_id[int(v)] for v in br[:, 1]],
                    "r_pu": br[:, 2],
                    "x_pu": br[:, 3],
                    "b_pu": br[:, 4],
                    "g_pu": br[:, _BR_G] if br.shape[1] > _BR_G else 0.0,
                    "tap_ratio": np.where(tap == 0, 1.0, tap),
                    "shift_deg": br[:, 9],
                    "rate_mva": np.nan_to_num(rate, nan=0.0),
                    "in_service": tab["in_service"].to_numpy(dtype=bool) & (br[:, 10] > 0),
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else None


def _line_rate(tab: pd.DataFrame, vn_bus: pd.Series) -> np.ndarray:
    """(n_line,) rating of each line, MVA: √3 · vn_kv(from bus) · max_i_ka · df · parallel."""
    return (
        np.sqrt(3.0)
        * vn_bus.loc[tab["from_bus"]].to_numpy()
        * tab["max_i_ka"].to_numpy(dtype=float)
        * _col(tab, "df", 1.0)
        * _col(tab, "parallel", 1.0)
    )


def _trafo_rate(tab: pd.DataFrame, vn_bus: pd.Series) -> np.ndarray:
    """(n_trafo,) rating of each transformer, MVA, at the buses' nominal voltages:
    ``sn_mva · parallel · df / max(vn_hv_kv / vn_kv(hv bus), vn_lv_kv / vn_kv(lv bus))``."""
    hv_ratio = tab["vn_hv_kv"].to_numpy(dtype=float) / vn_bus.loc[tab["hv_bus"]].to_numpy()
    lv_ratio = tab["vn_lv_kv"].to_numpy(dtype=float) / vn_bus.loc[tab["lv_bus"]].to_numpy()
    parallel = _col(tab, "parallel", 1.0)
    df = _col(tab, "df", 1.0)
    return tab["sn_mva"].to_numpy(dtype=float) * parallel * df / np.maximum(hv_ratio, lv_ratio)


def _units(net: Any) -> pd.DataFrame | None:
    """The generator table: ext_grid (slack), gen and sgen (static), in that order."""
    gens = []
    if len(net.ext_grid):
        gens.append(_ext_grids(net.ext_grid))
    if len(net.gen):
        gens.append(_gens(net.gen))
    if len(net.sgen):
        gens.append(_sgens(net.sgen))
    gen_df = pd.concat(gens, ignore_index=True) if gens else None
    if gen_df is not None:
        # columns one kind of unit does not set get the schema's defaults
        for col, default in (("va_deg", 0.0), ("vm_pu", 1.0), ("q_mvar", 0.0)):
            gen_df[col] = gen_df[col].fillna(default) if col in gen_df else default
    return gen_df


def _ext_grids(eg: pd.DataFrame) -> pd.DataFrame:
    """External grids: slack units holding ``vm_pu`` and ``va_degree``."""
    pmax = _col(eg, "max_p_mw", np.inf)
    return pd.DataFrame(
        {
            "id": [f"ext_grid:{i}" for i in eg.index],
            "bus": [f"bus:{v}" for v in eg["bus"]],
            "kind": "external",
            "p_mw": 0.0,
            "p_min_mw": np.minimum(np.maximum(_col(eg, "min_p_mw", 0.0), 0.0), pmax),
            "p_max_mw": pmax,
            "slack": True,
            "va_deg": _col(eg, "va_degree", 0.0),
            "voltage_control": True,
            "vm_pu": _col(eg, "vm_pu", 1.0),
            # pandapower never enforces a slack's reactive limits in a power flow
            "q_min_mvar": -np.inf,
            "q_max_mvar": np.inf,
            "in_service": eg["in_service"].to_numpy(dtype=bool),
        }
    )


def _gens(g: pd.DataFrame) -> pd.DataFrame:
    """Voltage-controlling generators (``scaling`` applied to ``p_mw``)."""
    p = g["p_mw"].to_numpy(dtype=float) * _col(g, "scaling", 1.0)
    pmax = _col(g, "max_p_mw", np.nan)
    pmax = np.where(np.isnan(pmax), np.maximum(p, 0.0), pmax)
    pmin = np.minimum(_col(g, "min_p_mw", 0.0), pmax)
    return pd.DataFrame(
        {
            "id": [f"gen:{i}" for i in g.index],
            "bus": [f"bus:{v}" for v in g["bus"]],
            "kind": "thermal",
            "p_mw": p,
            "p_min_mw": pmin,
            "p_max_mw": pmax,
            "slack": g["slack"].to_numpy(dtype=bool) if "slack" in g.columns else False,
            "voltage_control": True,
            "vm_pu": _col(g, "vm_pu", 1.0),
            "q_min_mvar": _q_limits(g)[0],
            "q_max_mvar": _q_limits(g)[1],
            "in_service": g["in_service"].to_numpy(dtype=bool),
        }
    )


def _sgens(s: pd.DataFrame) -> pd.DataFrame:
    """Static generators: fixed P and Q (``scaling`` applied), no voltage control."""
    p = s["p_mw"].to_numpy(dtype=float) * _col(s, "scaling", 1.0)
    # pandapower (3.x) clips an sgen's q_mvar to its limits before the flow with
    # enforce_q_lims and then scales it; the limits are kept in the unit's own scale
    q = s["q_mvar"].to_numpy(dtype=float) if "q_mvar" in s.columns else np.zeros(len(s))
    scale = _col(s, "scaling", 1.0)
    lo, hi = _q_limits(s)
    lo = np.where(np.isinf(lo), lo, lo * scale)
    hi = np.where(np.isinf(hi), hi, hi * scale)
    qlo, qhi = np.minimum(lo, hi), np.maximum(lo, hi)
    return pd.DataFrame(
        {
            "id": [f"sgen:{i}" for i in s.index],
            "bus": [f"bus:{v}" for v in s["bus"]],
            "kind": "static",
            "p_mw": p,
            "p_min_mw": np.minimum(p, 0.0),
            "p_max_mw": np.maximum(p, 0.0),
            "slack": False,
            "voltage_control": False,
            "q_mvar": np.nan_to_num(q, nan=0.0) * _col(s, "scaling", 1.0),
            "q_min_mvar": qlo,
            "q_max_mvar": qhi,
            "in_service": s["in_service"].to_numpy(dtype=bool),
        }
    )


def _loads(ld: pd.DataFrame) -> pd.DataFrame:
    """The load table (``scaling`` applied to P and Q)."""
    return pd.DataFrame(
        {
            "id": [f"load:{i}" for i in ld.index],
            "bus": [f"bus:{v}" for v in ld["bus"]],
            "p_mw": ld["p_mw"].to_numpy(dtype=float) * _col(ld, "scaling", 1.0),
            "q_mvar": ld["q_mvar"].to_numpy(dtype=float) * _col(ld, "scaling", 1.0),
            "in_service": ld["in_service"].to_numpy(dtype=bool),
        }
    )


def _shunts(sh: pd.DataFrame, vn_bus: pd.Series) -> pd.DataFrame | None:
    """The shunt table at the buses' nominal voltage: ``(vn_kv(bus) / vn_kv)² · step``
    times the rated P and Q (None when there are no shunts)."""
    if not len(sh):
        return None
    vn_sh = _col(sh, "vn_kv", np.nan)
    vb = vn_bus.loc[sh["bus"]].to_numpy()
    vn_sh = np.where(np.isnan(vn_sh), vb, vn_sh)
    ratio = (vb / vn_sh) ** 2 * _col(sh, "step", 1.0)
    return pd.DataFrame(
        {
            "id": [f"shunt:{i}" for i in sh.index],
            "bus": [f"bus:{v}" for v in sh["bus"]],
            "g_mw": sh["p_mw"].to_numpy(dtype=float) * ratio,
            "b_mvar": -sh["q_mvar"].to_numpy(dtype=float) * ratio,
            "in_service": sh["in_service"].to_numpy(dtype=bool),
        }
    )


def _check_injections(grid: Grid, ppc_bus: np.ndarray, bus_lookup: np.ndarray, source: str) -> None:
    """Check that loads, static generators and shunts add up to pandapower's bus P, Q, G and B.

    A mismatch means an element type the importer did not map; it is an error rather
    than a silently different grid.
    """
    n = ppc_bus.shape[0]
    pos = {f"bus:{i}": int(bus_lookup[i]) for i in range(len(bus_lookup)) if bus_lookup[i] >= 0}
    mine = np.zeros(n)
    ld = grid.load[grid.load["in_service"]]
    np.add.at(mine, [pos[b] for b in ld["bus"]], ld["p_mw"].to_numpy())
    sg = grid.gen[(grid.gen["kind"] == "static") & grid.gen["in_service"]]
    np.add.at(mine, [pos[b] for b in sg["bus"]], -sg["p_mw"].to_numpy())
    mine_q = np.zeros(n)
    np.add.at(mine_q, [pos[b] for b in ld["bus"]], ld["q_mvar"].to_numpy())
    np.add.at(mine_q, [pos[b] for b in sg["bus"]], -sg["q_mvar"].to_numpy())
    on = ppc_bus[:, 1] != 4
    diff = np.abs(mine - ppc_bus[:, 2])[on]
    diff_q = np.abs(mine_q - ppc_bus[:, 3])[on]
    gs = np.zeros(n)
    bs = np.zeros(n)
    sh = grid.shunt[grid.shunt["in_service"]]
    np.add.at(gs, [pos[b] for b in sh["bus"]], sh["g_mw"].to_numpy())
    np.add.at(bs, [pos[b] for b in sh["bus"]], sh["b_mvar"].to_numpy())
    diff_gs = np.abs(gs - ppc_bus[:, 4])[on]
    diff_bs = np.abs(bs - ppc_bus[:, 5])[on]
    worst = max(diff.max(), diff_q.max(), diff_gs.max(), diff_bs.max()) if diff.size else 0.0
    if worst > 1e-6:
        raise InputError(
            "bus injections do not match pandapower's (an element type is not mapped)",
            file=source,
            field="load",
        )
