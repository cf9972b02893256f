"""MLD against an independent LP: a flow-variable formulation built here from the Grid
tables (not from ``Network`` or ``warmgrid.power``) and solved by scipy's ``linprog``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from warmgrid.power.dispatch import max_load_delivery
from warmgrid.power.network import compile_network


def reference_mld(grid, damage: list[str], weights: dict[str, float] | None = None) -> float:
    """max Σ w P x with explicit flow variables f, angles θ, outputs p and fractions x.

    Rows: f_k − base·b_k·(θ_f − θ_t) = −base·b_k·shift_k;  Σp − ΣPx − Σ_out f + Σ_in f = G.
    A load with P <= 0 (a negative load) is a fixed injection: it moves into G with its
    sign and gets no variable.
    """
    bus, br, gen, load, sh = (
        grid.bus.copy(),
        grid.branch.copy(),
        grid.gen.copy(),
        grid.load.copy(),
        grid.shunt.copy(),
    )
    dmg = set(damage)
    for t in (bus, br, gen, load, sh):
        t["in_service"] = t["in_service"].astype(bool) & ~t["id"].isin(dmg)
    pos = {b: i for i, b in enumerate(bus["id"])}
    nb = len(bus)
    bon = bus["in_service"].to_numpy()
    f = br["from_bus"].map(pos).to_numpy()
    t = br["to_bus"].map(pos).to_numpy()
    kon = br["in_service"].to_numpy() & bon[f] & bon[t]
    adj = sp.coo_matrix((np.ones(kon.sum()), (f[kon], t[kon])), shape=(nb, nb))
    _, lab = connected_components(adj, directed=False)
    gb = gen["bus"].map(pos).to_numpy()
    gon = gen["in_service"].to_numpy() & bon[gb]
    pmax = gen["p_max_mw"].to_numpy(dtype=float)
    live_lab = set(lab[gb[gon & (pmax > 0)]].tolist())
    live = bon & np.isin(lab, list(live_lab))
    kon &= live[f]
    gon &= live[gb]
    lb = load["bus"].map(pos).to_numpy()
    p_all = load["p_mw"].to_numpy(dtype=float)
    fon = load["in_service"].to_numpy() & live[lb] & (p_all <= 0)
    lon = load["in_service"].to_numpy() & live[lb] & (p_all > 0)
    sb = sh["bus"].map(pos).to_numpy()
    son = sh["in_service"].to_numpy() & live[sb]

    base = grid.base_mva
    K, G, L = np.flatnonzero(kon), np.flatnonzero(gon), np.flatnonzero(lon)
    nk, ng, nl = len(K), len(G), len(L)
    x = br["x_pu"].to_numpy(dtype=float)[K]
    tap = br["tap_ratio"].to_numpy(dtype=float)[K]
    b = 1.0 / (x * tap)
    shift = np.deg2rad(br["shift_deg"].to_numpy(dtype=float)[K])
    rate = br["rate_mva"].to_numpy(dtype=float)[K]
    rate = np.where((rate > 0) & np.isfinite(rate), rate, np.inf)
    P = load["p_mw"].to_numpy(dtype=float)[L]
    w = np.ones(nl) if weights is None else load["id"].map(weights).to_numpy(dtype=float)[L]
    # columns: θ (nb), f (nk), p (ng), x (nl)
    n = nb + nk + ng + nl
    fk, tk = f[K], t[K]
    r1 = np.arange(nk)
    ohm = sp.coo_matrix(
        (
            np.concatenate([np.ones(nk), -base * b, base * b]),
            (np.concatenate([r1, r1, r1]), np.concatenate([nb + r1, fk, tk])),
        ),
        shape=(nk, n),
    )
    kcl = sp.coo_matrix(
        (
            np.concatenate([-np.ones(nk), np.ones(nk), np.ones(ng), -P]),
            (
                np.concatenate([fk, tk, gb[G], lb[L]]),
                np.concatenate(
                    [nb + r1, nb + r1, nb + nk + np.arange(ng), nb + nk + ng + np.arange(nl)]
                ),
            ),
        ),
        shape=(nb, n),
    )
    gsh = np.zeros(nb)
    np.add.at(gsh, sb[son], sh["g_mw"].to_numpy(dtype=float)[son])
    np.add.at(gsh, lb[fon], p_all[fon])
    keep = np.flatnonzero(live)
    a_eq = sp.vstack([ohm, kcl.tocsr()[keep]]).tocsc()
    b_eq = np.concatenate([-base * b * shift, gsh[keep]])
    bounds = [(None, None)] * nb
    for i in np.flatnonzero(~live):
        bounds[i] = (0.0, 0.0)
    for isl in live_lab:
        bounds[int(np.flatnonzero(lab == isl)[0])] = (0.0, 0.0)
    bounds += [(-r, r) if np.isfinite(r) else (None, None) for r in rate]
    bounds += [(0.0, p) if np.isfinite(p) else (0.0, None) for p in np.maximum(pmax[G], 0)]
    bounds += [(0.0, 1.0)] * nl
    c = np.zeros(n)
    c[nb + nk + ng :] = -w * P
    res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs-ds")
    assert res.status == 0, res.message
    return -res.fun


def _damage(grid, seed: int, k_branch: int, k_gen: int, k_bus: int) -> list[str]:
    rng = np.random.default_rng(seed)
    out = list(rng.choice(grid.branch["id"].to_numpy(), k_branch, replace=False))
    out += list(rng.choice(grid.gen["id"].to_numpy(), k_gen, replace=False))
    out += list(rng.choice(grid.bus["id"].to_numpy(), k_bus, replace=False))
    return [str(e) for e in out]


CASES = [("case118", 8), ("case1354pegase", 20), ("case2869pegase", 20)]


@pytest.mark.parametrize(("case", "k"), CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_objective_matches_independent_lp(load, case, k, seed):
    grid = load(case)
    net = compile_network(grid)
    dmg = _damage(grid, seed, k, 2, 2)
    ref = reference_mld(grid, dmg)
    r = max_load_delivery(net, net.state(dmg))
    assert r.weighted_served_mw == pytest.approx(ref, rel=1e-6)
    assert r.served_mw == pytest.approx(ref, rel=1e-6)
    # all limits upfront gives the same optimum as lazy generation
    r_full = max_load_delivery(net, net.state(dmg), lazy=False)
    assert r_full.served_mw == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("case", ["case118", "case1354pegase"])
def test_weighted_objective_matches_independent_lp(load, case):
    grid = load(case)
    net = compile_network(grid)
    rng = np.random.default_rng(7)
    w = rng.choice([1.0, 2.0, 5.0, 10.0], size=len(net.load_ids))
    dmg = _damage(grid, 3, 15, 3, 1)
    ref = reference_mld(grid, dmg, dict(zip(net.load_ids.tolist(), w, strict=True)))
    r = max_load_delivery(net, net.state(dmg), weights=w)
    assert r.weighted_served_mw == pytest.approx(ref, rel=1e-6)
    assert r.weighted_served_mw == pytest.approx(float((w * r.load_served_mw).sum()), rel=1e-9)


def _with_negative_loads(grid, seed: int, share: float):
    """The grid with a random share of its loads turned into negative loads (injections
    of 5-30 % of their former demand), as the PEGASE and RTE cases have."""
    rng = np.random.default_rng(seed)
    load = grid.load.copy()
    k = max(1, int(share * len(load)))
    idx = rng.choice(len(load), k, replace=False)
    col = load.columns.get_loc("p_mw")
    load.iloc[idx, col] = -rng.uniform(0.05, 0.3, k) * load["p_mw"].to_numpy()[idx].clip(1.0)
    return grid.replace(load=load)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("case", "k"), [("case118", 8), ("case1354pegase", 20)])
def test_negative_loads_are_fixed_injections(load, case, k, seed):
    """Against the reference LP with negative loads as fixed injections: same optimum;
    served never above the (positive) demand, shed never negative, negative loads never
    served, shed or weighed."""
    grid = _with_negative_loads(load(case), seed, 0.2)
    net = compile_network(grid)
    dmg = _damage(grid, seed, k, 2, 1)
    ref = reference_mld(grid, dmg)
    r = max_load_delivery(net, net.state(dmg))
    assert r.served_mw == pytest.approx(ref, rel=1e-6)
    neg = net.load_p_mw <= 0
    demand = net.load_p_mw[~neg].sum()
    assert r.demand_mw == pytest.approx(demand, rel=1e-12)
    assert 0.0 <= r.served_mw <= r.demand_mw + 1e-9
    assert r.shed_mw >= 0.0
    assert np.all(r.load_served_mw[neg] == 0.0)
    assert r.injection_mw > 0.0
    assert r.served_mw == pytest.approx(r.load_served_mw.sum(), rel=1e-12)
