"""Uncontrolled cascade: closed-form balancing, DC flows against an independent solve,
trip rule, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spl
from scipy.sparse.csgraph import connected_components

from warmgrid.errors import InputError
from warmgrid.power.cascade import balance_islands, cascade
from warmgrid.power.network import compile_network
from warmgrid.power.topology import islands


@pytest.fixture(scope="module")
def net9(load):
    return compile_network(load("case9"))


def reference_flows(net, state, gen_p, load_mw):
    """Independent DC flow: per island, reduced Laplacian from the branch arrays, spsolve."""
    st = state.effective(net)
    on = st.branch_on
    n = net.n_bus
    b = 1.0 / (net.x_pu * net.tap)
    f, t = net.f[on], net.t[on]
    bb = b[on]
    lap = sp.coo_matrix(
        (
            np.concatenate([bb, bb, -bb, -bb]),
            (np.concatenate([f, t, f, t]), np.concatenate([f, t, t, f])),
        ),
        shape=(n, n),
    ).tocsr()
    pf = -b * net.shift_rad
    inj = np.zeros(n)
    np.add.at(inj, net.gen_bus, gen_p)
    np.subtract.at(inj, net.load_bus, load_mw)
    _, lab = connected_components(
        sp.coo_matrix((np.ones(on.sum()), (f, t)), shape=(n, n)), directed=False
    )
    live = np.zeros(n, dtype=bool)
    live[net.gen_bus[gen_p != 0]] = True
    live_lab = np.unique(lab[live & st.bus_on])
    shunt_live = np.isin(lab[net.shunt_bus], live_lab) & st.bus_on[net.shunt_bus]
    np.subtract.at(inj, net.shunt_bus[shunt_live], net.shunt_g_mw[shunt_live])
    p = inj / net.base_mva
    ainj = np.zeros(n)
    np.add.at(ainj, f, pf[on])
    np.subtract.at(ainj, t, pf[on])
    p = p - ainj
    th = np.zeros(n)
    for i in live_lab:
        buses = np.flatnonzero((lab == i) & st.bus_on)
        rest = buses[1:]
        if len(rest):
            th[rest] = spl.spsolve(lap[rest][:, rest].tocsc(), p[rest])
    flow = np.full(net.n_branch, np.nan)
    k = np.flatnonzero(on & np.isin(lab[net.f], live_lab))
    flow[k] = (b[k] * (th[net.f[k]] - th[net.t[k]]) + pf[k]) * net.base_mva
    return flow


def test_balance_proportional_to_capacity(net9):
    """case9: the deficit is shared by the units in proportion to p_max (none saturates)."""
    st = net9.base_state
    gen_p, frac, live = balance_islands(net9, st, islands(net9, st))
    deficit = net9.load_p_mw.sum() - net9.gen_p_mw.sum()
    expect = net9.gen_p_mw + deficit * net9.gen_pmax_mw / net9.gen_pmax_mw.sum()
    assert np.all(expect <= net9.gen_pmax_mw)
    assert np.allclose(gen_p, expect)
    assert np.all(frac == 1.0)
    assert live.all()


def test_under_frequency_shedding(net9):
    """Two of three units out: the last runs at p_max and every load is cut by one factor."""
    st = net9.state([str(net9.gen_ids[0]), str(net9.gen_ids[1])])
    st = st.effective(net9)
    gen_p, frac, _live = balance_islands(net9, st, islands(net9, st))
    cap = net9.gen_pmax_mw[2]
    assert cap < net9.load_p_mw.sum()
    assert gen_p[2] == pytest.approx(cap)
    assert np.allclose(frac, cap / net9.load_p_mw.sum())


def test_surplus_lowers_units_in_proportion(net9):
    """Loads out: units with output come down in proportion to capacity, not below 0."""
    st = net9.state([str(net9.load_ids[0])]).effective(net9)
    gen_p, _frac, _ = balance_islands(net9, st, islands(net9, st))
    assert gen_p.sum() == pytest.approx(net9.load_p_mw[1:].sum())
    assert np.all(gen_p >= 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_cascade_stages_and_flows(net1354, seed):
    rng = np.random.default_rng(seed)
    dmg = [str(e) for e in rng.choice(net1354.branch_ids, 20, replace=False)]
    st = net1354.state(dmg)
    r = cascade(net1354, st, trip_factor=1.0)
    assert r.converged
    assert len(r.stages) >= 2
    assert r.stages[-1].tripped == ()
    # stable end: no branch above its rating
    on = ~np.isnan(r.flow_mw)
    assert np.all(np.abs(r.flow_mw[on]) <= net1354.rate_mw[on] + 1e-6)
    # flows equal an independent DC solve of the final state with the balanced injections
    ref = reference_flows(net1354, r.state, r.gen_p_mw, r.served_fraction * net1354.load_p_mw)
    assert np.allclose(np.nan_to_num(r.flow_mw), np.nan_to_num(ref), atol=1e-6)
    # power balance per island
    lab = r.islands.label
    for i in np.unique(lab[~r.dark_bus]):
        g = r.gen_p_mw[lab[net1354.gen_bus] == i].sum()
        d = (r.served_fraction * net1354.load_p_mw)[lab[net1354.load_bus] == i].sum()
        sh = net1354.shunt_g_mw[lab[net1354.shunt_bus] == i].sum()
        assert g == pytest.approx(d + sh, abs=1e-6)
    # every branch trips at most once; the last stage is the final state
    assert len(set(r.tripped)) == len(r.tripped)
    assert r.stages[-1].served_mw == pytest.approx(r.served_mw)


def test_trip_rule_first_stage(net1354):
    """Stage 0 trips exactly the branches whose balanced DC flow exceeds trip_factor · rate."""
    st = net1354.state([str(net1354.branch_ids[5])])
    r = cascade(net1354, st, trip_factor=1.3, max_stages=1)
    eff = st.effective(net1354)
    gen_p, frac, _ = balance_islands(net1354, eff, islands(net1354, eff))
    ref = reference_flows(net1354, eff, gen_p, frac * net1354.load_p_mw)
    expect = set(
        net1354.branch_ids[np.abs(np.nan_to_num(ref)) > 1.3 * net1354.rate_mw + 1e-6].tolist()
    )
    assert set(r.stages[0].tripped) == expect
    assert not r.converged or not expect


def test_deterministic_and_monotone_in_trip_factor(net1354):
    st = net1354.state([str(b) for b in net1354.branch_ids[:10]])
    a = cascade(net1354, st, trip_factor=1.0)
    b = cascade(net1354, st, trip_factor=1.0)
    assert a.tripped == b.tripped
    assert a.served_mw == b.served_mw
    assert np.array_equal(np.nan_to_num(a.flow_mw), np.nan_to_num(b.flow_mw))
    assert cascade(net1354, st, trip_factor=100.0).tripped == []


def test_bad_trip_factor(net9):
    with pytest.raises(InputError, match="trip_factor"):
        cascade(net9, trip_factor=0.0)
