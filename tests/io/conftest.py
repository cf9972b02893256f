"""Helpers for the importer tests: an independent DC power flow with scipy.

The DC model is MATPOWER's (manual, section 3.7; ``makeBdc``/``dcpf``):
``b = 1/(x·tap)``, ``Pf = b·(θf − θt − shift)``, ``Bbus·θ = P − Aᵀ·Pfinj`` with the
angle of the slack bus fixed at 0. It is written here from the grid tables (not from
``warmgrid.power``), so it checks the importers, not our own engine.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spl


def dc_flow_mw(grid, *, shunt_g: bool = True) -> np.ndarray:
    """Branch flows at the from end, MW, for the in-service branches (NaN for others).

    One connected network with one slack bus (the first in-service slack generator's).
    """
    bus = grid.bus
    pos = {b: i for i, b in enumerate(bus["id"])}
    br = grid.branch
    on = br["in_service"].to_numpy(dtype=bool)
    f = br["from_bus"].map(pos).to_numpy()[on]
    t = br["to_bus"].map(pos).to_numpy()[on]
    b = 1.0 / (br["x_pu"].to_numpy(dtype=float)[on] * br["tap_ratio"].to_numpy(dtype=float)[on])
    shift = np.deg2rad(br["shift_deg"].to_numpy(dtype=float)[on])
    nb, nl = len(bus), int(on.sum())
    a = sp.csr_matrix(
        (np.r_[np.ones(nl), -np.ones(nl)], (np.r_[np.arange(nl), np.arange(nl)], np.r_[f, t])),
        shape=(nl, nb),
    )
    bf = sp.diags(b) @ a
    bbus = (a.T @ bf).tocsc()
    pfinj = -b * shift
    p = np.zeros(nb)
    g = grid.gen[grid.gen["in_service"]]
    np.add.at(p, g["bus"].map(pos).to_numpy(), g["p_mw"].to_numpy(dtype=float))
    ld = grid.load[grid.load["in_service"]]
    np.add.at(p, ld["bus"].map(pos).to_numpy(), -ld["p_mw"].to_numpy(dtype=float))
    if shunt_g and len(grid.shunt):
        sh = grid.shunt[grid.shunt["in_service"]]
        np.add.at(p, sh["bus"].map(pos).to_numpy(), -sh["g_mw"].to_numpy(dtype=float))
    p = p / grid.base_mva - a.T @ pfinj
    ref = pos[g[g["slack"]]["bus"].iloc[0]]
    keep = np.arange(nb) != ref
    theta = np.zeros(nb)
    theta[keep] = spl.spsolve(bbus[keep][:, keep].tocsc(), p[keep])
    out = np.full(len(br), np.nan)
    out[on] = (bf @ theta + pfinj) * grid.base_mva
    return out


@pytest.fixture(scope="session")
def dc_flow():
    """The independent DC flow function (see module docstring)."""
    return dc_flow_mw


def pandapower_reference(net) -> dict:
    """Counts, totals and ``rundcpp`` branch flows from pandapower's own tables.

    Flows are a Series indexed by warmgrid id (``line:<i>``, ``trafo:<i>``), MW at the
    from (hv) end, for the branches pandapower has in service.
    """
    import pandapower as pp

    def on(df):
        return df[df["in_service"].astype(bool)]

    def p_scaled(df):
        return df["p_mw"] * (df["scaling"] if "scaling" in df.columns else 1.0)

    gen = on(net.gen)
    capacity = float(gen["max_p_mw"].fillna(p_scaled(gen).clip(lower=0)).sum())
    capacity += float(p_scaled(on(net.sgen)).clip(lower=0).sum())
    if "max_p_mw" in net.ext_grid.columns:
        eg = on(net.ext_grid)["max_p_mw"]
        capacity += float(eg[np.isfinite(eg)].sum())
    pp.rundcpp(net)
    line_on = net.line["in_service"].to_numpy(dtype=bool)
    trafo_on = net.trafo["in_service"].to_numpy(dtype=bool)
    import pandas as pd

    flows = pd.concat(
        [
            pd.Series(
                net.res_line["p_from_mw"].to_numpy()[line_on],
                index=[f"line:{i}" for i in net.line.index[line_on]],
            ),
            pd.Series(
                net.res_trafo["p_hv_mw"].to_numpy()[trafo_on],
                index=[f"trafo:{i}" for i in net.trafo.index[trafo_on]],
            ),
        ]
    )
    return {
        "buses": len(net.bus),
        "branches": len(net.line) + len(net.trafo),
        "generators": len(net.ext_grid) + len(net.gen) + len(net.sgen),
        "loads": len(net.load),
        "total_load_mw": float(p_scaled(on(net.load)).sum()),
        "total_capacity_mw": capacity,
        "flows": flows,
    }


@pytest.fixture(scope="session")
def pp_reference():
    """The pandapower reference function (see :func:`pandapower_reference`)."""
    return pandapower_reference
