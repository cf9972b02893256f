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


def reference_mld(
    grid,
    damage: list[str],
    weights: dict[str, float] | None = None,
    *,
    unit_minimums: str = "continuous",
    total: bool = False,
) -> float:
    """max Σ w P x (+ M Σ u) with explicit flow variables f, angles θ, outputs p,
    fractions x and commitments u.

    Rows: f_k − base·b_k·(θ_f − θ_t) = −base·b_k·shift_k;  Σp − ΣPx − Σ_out f + Σ_in f = G;
    angmin_k ≤ θ_f − θ_t ≤ angmax_k as inequality rows on the angles (MATPOWER: 0 or
    ±360° or beyond mean none); with ``unit_minimums="continuous"``, per unit with
    ``0 < p_min`` and finite ``p_max``: p − p_min·u ≥ 0, p − p_max·u ≤ 0, 0 ≤ u ≤ 1, each
    u rewarded by M = 10·max(w·P) (PowerModelsRestoration's ``objective_max_loadability``).
    A load with P <= 0 (a negative load) is a fixed injection: it moves into G with its
    sign and gets no variable. Returns Σ w P x, or the whole objective with ``total``.
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
    pmin = gen["p_min_mw"].to_numpy(dtype=float)[G]
    C = (
        np.flatnonzero((pmin > 0) & np.isfinite(pmax[G]))
        if unit_minimums == "continuous"
        else np.zeros(0, dtype=int)
    )
    nc = len(C)
    # columns: θ (nb), f (nk), p (ng), x (nl), u (nc)
    n = nb + nk + ng + nl + nc
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
    # inequality rows: angle differences (both sides), then the commitment rows
    ub_rows, b_ub = [], []
    for col, default in (("ang_min_deg", -360.0), ("ang_max_deg", 360.0)):
        lim = br[col].to_numpy(dtype=float)[K] if col in br else np.full(nk, default)
        has = (lim != 0) & (np.abs(lim) < 360)
        sign = -1.0 if col == "ang_min_deg" else 1.0  # −(θf − θt) ≤ −angmin
        for j in np.flatnonzero(has):
            row = np.zeros(n)
            row[fk[j]] += sign
            row[tk[j]] -= sign
            ub_rows.append(row)
            b_ub.append(sign * np.deg2rad(lim[j]))
    pcol, ucol = nb + nk + C, nb + nk + ng + nl + np.arange(nc)
    for j in range(nc):
        lo_row, up_row = np.zeros(n), np.zeros(n)
        lo_row[pcol[j]], lo_row[ucol[j]] = -1.0, pmin[C[j]]  # p_min u − p ≤ 0
        up_row[pcol[j]], up_row[ucol[j]] = 1.0, -pmax[G][C[j]]  # p − p_max u ≤ 0
        ub_rows += [lo_row, up_row]
        b_ub += [0.0, 0.0]
    a_ub = sp.csr_matrix(np.array(ub_rows)) if ub_rows else None
    bounds = [(None, None)] * nb
    for i in np.flatnonzero(~live):
        bounds[i] = (0.0, 0.0)
    for isl in live_lab:
        bounds[int(np.flatnonzero(lab == isl)[0])] = (0.0, 0.0)
    bounds += [(-r, r) if np.isfinite(r) else (None, None) for r in rate]
    bounds += [(0.0, p) if np.isfinite(p) else (0.0, None) for p in np.maximum(pmax[G], 0)]
    bounds += [(0.0, 1.0)] * (nl + nc)
    c = np.zeros(n)
    c[nb + nk + ng : nb + nk + ng + nl] = -w * P
    c[nb + nk + ng + nl :] = -10.0 * max(float(np.max(w * P, initial=0.0)), 1.0)
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=np.array(b_ub) if ub_rows else None,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs-ds",
    )
    assert res.status == 0, res.message
    if total:
        return -res.fun
    return float(w * P @ res.x[nb + nk + ng : nb + nk + ng + nl])


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


def _mld_total(net, r, w=None) -> float:
    """warmgrid's whole MLD objective: Σ w P x + M Σ u over the units with a minimum."""
    from warmgrid.power.dispatch import mld_model

    w = np.ones(len(net.load_ids)) if w is None else w
    model = mld_model(net, w)  # the cached model of the solve: its reward is the state's
    return r.weighted_served_mw + model._w_commit * float(r.commitment[model.commit].sum())


#: PowerModelsRestoration's test case ``case3_mld.m`` (test/data, BSD licence): three
#: buses, 200 MW of load, 140 MW of units, every branch limited to ±30° of angle difference.
CASE3_MLD = """function mpc = case3_mld
mpc.version = '2';
mpc.baseMVA = 100.0;
mpc.bus = [
1 3 0.0 0.0 0.0 0.0 1 1.0 0.0 240.0 1 1.1 0.9;
2 2 100.0 50.0 0.0 0.0 1 1.0 0.0 240.0 1 1.1 0.9;
3 2 100.0 50.0 0.0 0.0 1 1.0 0.0 240.0 1 1.1 0.9;
];
mpc.gen = [
1 0.0 0.0 1000.0 -1000.0 1.0 100.0 1 100.0 0.0 0 0 0 0 0 0 0 0 0 0 0;
3 0.0 0.0 1000.0 -1000.0 1.0 100.0 1 40.0 0.0 0 0 0 0 0 0 0 0 0 0 0;
];
mpc.branch = [
1 3 0.065 0.62 0.0 30.0 0.0 0.0 0.0 0.0 1 -30.0 30.0;
3 2 0.025 0.75 0.0 30.0 0.0 0.0 0.0 0.0 1 -30.0 30.0;
1 2 0.042 0.9 0.0 60.0 0.0 0.0 0.0 0.0 1 -30.0 30.0;
];
"""


@pytest.mark.parametrize("out", [[], ["branch:1"], ["branch:2"], ["branch:3"]])
def test_angle_difference_limits(tmp_path, out):
    """PowerModelsRestoration's case3_mld: the ±30° limits are honoured as the reference
    LP's angle rows have them; with branch 1 or 2 out, the 30° limit on branch 3 (x 0.9)
    caps its flow at 100·(π/6)/0.9 = 58.2 MW, below its 60 MW rating."""
    from warmgrid.io import load_grid

    p = tmp_path / "case3_mld.m"
    p.write_text(CASE3_MLD, encoding="utf-8")
    grid = load_grid(str(p))
    net = compile_network(grid)
    r = max_load_delivery(net, net.state(out))
    assert r.served_mw == pytest.approx(reference_mld(grid, out), rel=1e-9)
    live = np.isfinite(r.theta_rad)
    d = r.theta_rad[net.f] - r.theta_rad[net.t]
    on = np.isfinite(r.flow_mw) & live[net.f]
    assert np.all(np.abs(d[on]) <= np.pi / 6 + 1e-9)
    none = grid.replace(branch=grid.branch.assign(ang_min_deg=-360.0, ang_max_deg=360.0))
    free = max_load_delivery(compile_network(none), net.state(out))
    assert free.served_mw == pytest.approx(reference_mld(none, out), rel=1e-9)
    if out in (["branch:1"], ["branch:2"]):
        assert free.served_mw - r.served_mw == pytest.approx(60 - 100 * (np.pi / 6) / 0.9)
    else:
        assert free.served_mw == pytest.approx(r.served_mw)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("case", ["case24_ieee_rts", "case2869pegase"])
def test_unit_minimums_continuous_and_relaxed(load, case, seed):
    """Both ways of treating unit minimums against the reference LP (the whole objective,
    commitment reward included, and the served load); every unit runs within
    [p_min·u, p_max·u], and relaxing the minimums never serves less."""
    grid = load(case)
    net = compile_network(grid)
    dmg = _damage(grid, seed, 6 if case == "case24_ieee_rts" else 20, 3, 1)
    st = net.state(dmg)
    cont = max_load_delivery(net, st)
    relax = max_load_delivery(net, st, unit_minimums="relaxed")
    assert relax.served_mw == pytest.approx(reference_mld(grid, dmg, unit_minimums="relaxed"))
    assert _mld_total(net, cont) == pytest.approx(reference_mld(grid, dmg, total=True), rel=1e-7)
    assert relax.served_mw >= cont.served_mw - 1e-6
    u = cont.commitment
    pmin = np.maximum(net.gen_pmin_mw, 0.0)
    assert np.all(cont.gen_p_mw >= pmin * u - 1e-6)
    assert np.all(cont.gen_p_mw <= np.nan_to_num(net.gen_pmax_mw, posinf=1e12) * u + 1e-6)
