"""DC power flow, sensitivities and bridges: closed forms, re-solves and physical laws."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warmgrid.errors import InputError
from warmgrid.io.pandapower import from_pandapower_net
from warmgrid.power.dc import dc_flow, factorize, woodbury_flows
from warmgrid.power.network import compile_network
from warmgrid.power.topology import bridge_tree, bridges, islands


@pytest.fixture(scope="module")
def triangle():
    """Three buses in a triangle of equal lines, slack at bus 0, 90 MW load at bus 2."""
    n = pp.create_empty_network(sn_mva=100.0)
    b = [pp.create_bus(n, vn_kv=110.0) for _ in range(3)]
    pp.create_ext_grid(n, b[0])
    pp.create_load(n, b[2], p_mw=90.0)
    for i, j in ((0, 1), (1, 2), (0, 2)):
        pp.create_line_from_parameters(
            n,
            b[i],
            b[j],
            length_km=1.0,
            r_ohm_per_km=0.0,
            x_ohm_per_km=10.0,
            c_nf_per_km=0.0,
            max_i_ka=1.0,
        )
    return compile_network(from_pandapower_net(n, name="triangle", source="test"))


def test_triangle_closed_form(triangle):
    # equal impedances: 2/3 of the transfer takes the direct path, 1/3 the detour
    r = dc_flow(triangle)
    ids = list(triangle.branch_ids)
    f = dict(zip(ids, r.flow_mw, strict=True))
    assert f["line:2"] == pytest.approx(60.0, abs=1e-9)  # 0 -> 2 direct
    assert f["line:0"] == pytest.approx(30.0, abs=1e-9)  # 0 -> 1
    assert f["line:1"] == pytest.approx(30.0, abs=1e-9)  # 1 -> 2
    assert r.slack_p_mw[triangle.gen_slack][0] == pytest.approx(90.0, abs=1e-9)
    # loading = |p| / rate, rate = sqrt(3) * 110 kV * 1 kA
    assert r.loading_percent[2] == pytest.approx(60.0 / (np.sqrt(3) * 110.0) * 100, rel=1e-9)


def test_triangle_outage_sends_everything_round(triangle):
    r = dc_flow(triangle, triangle.state(["line:2"]))
    assert np.isnan(r.flow_mw[2])
    assert r.flow_mw[0] == pytest.approx(90.0, abs=1e-9)
    assert r.flow_mw[1] == pytest.approx(90.0, abs=1e-9)


def test_cutting_load_bus_darkens_it(triangle):
    r = dc_flow(triangle, triangle.state(["line:1", "line:2"]))
    assert r.dark_bus.tolist() == [False, False, True]
    assert r.flow_mw[0] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(r.theta_rad[2])
    assert r.slack_p_mw[triangle.gen_slack][0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("case", ["case9", "case118"])
def test_matches_pandapower_rundcpp(load, case):
    import pandapower.networks as pn

    ppn = getattr(pn, case)()
    pp.rundcpp(ppn)
    ref = np.concatenate([ppn.res_line.p_from_mw.to_numpy(), ppn.res_trafo.p_hv_mw.to_numpy()])
    net = compile_network(load(case))
    r = dc_flow(net)
    np.testing.assert_allclose(r.flow_mw, ref, atol=1e-6)
    np.testing.assert_allclose(
        r.slack_p_mw[net.gen_slack], ppn.res_ext_grid.p_mw.to_numpy(), atol=1e-6
    )


def _kcl_residual(net, r, st):
    """A^T·flow minus the bus injection (with the slack units at their balanced output)."""
    inj = net.bus_injection_mw(st)
    g = np.flatnonzero(net.gen_slack & st.effective(net).gen_on)
    np.add.at(inj, net.gen_bus[g], r.slack_p_mw[g] - net.gen_p_mw[g])
    flows = np.nan_to_num(r.flow_mw)
    out = np.zeros(net.n_bus)
    np.add.at(out, net.f, flows)
    np.subtract.at(out, net.t, flows)
    # phase shifters: DC flow on a branch is the same at both ends, so KCL is exact
    return (out - inj)[~r.dark_bus]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_flows_conserve_power_at_every_bus(net118, data):
    k = data.draw(st.integers(0, 4))
    out = data.draw(
        st.lists(st.integers(0, net118.n_branch - 1), min_size=k, max_size=k, unique=True)
    )
    scale = data.draw(st.floats(0.5, 1.5))
    stt = net118.state([net118.branch_ids[i] for i in out])
    inj = net118.bus_injection_mw(stt) * scale
    r = dc_flow(net118, stt, inj)
    # reuse the residual with the scaled injections
    g = np.flatnonzero(net118.gen_slack & stt.effective(net118).gen_on)
    inj2 = inj.copy()
    np.add.at(inj2, net118.gen_bus[g], r.slack_p_mw[g] - net118.gen_p_mw[g])
    flows = np.nan_to_num(r.flow_mw)
    bal = np.zeros(net118.n_bus)
    np.add.at(bal, net118.f, flows)
    np.subtract.at(bal, net118.t, flows)
    assert np.abs((bal - inj2)[~r.dark_bus]).max() < 1e-7
    # each energised island is balanced by its slack
    assert np.isfinite(r.flow_mw[stt.effective(net118).branch_on & ~r.dark_bus[net118.f]]).all()


def test_kcl_on_pegase_with_phase_shifters(net1354):
    st_ = net1354.base_state
    r = dc_flow(net1354)
    assert np.abs(_kcl_residual(net1354, r, st_)).max() < 1e-6


def test_balanced_mode_solves_generator_islands(load):
    # case9: line:6 is bus:1's only link; bus:1 holds a generator, so it is its own island
    net = compile_network(load("case9"))
    stt = net.state(["line:6", "line:3"])  # splits case9 into three islands
    isl = islands(net, stt)
    inj = net.bus_injection_mw(stt)
    # balance each island by scaling its loads (what the cascade engine does)
    for lab in range(isl.count):
        m = isl.label == lab
        pos, neg = inj[m & (inj > 0)].sum(), -inj[m & (inj < 0)].sum()
        if pos > 0 and neg > 0:
            inj[m & (inj < 0)] *= pos / neg
        else:
            inj[m] = 0.0
    r = dc_flow(net, stt, inj, energised="balanced")
    np.testing.assert_array_equal(r.dark_bus, isl.dark(need_slack=False))
    flows = np.nan_to_num(r.flow_mw)
    bal = np.zeros(net.n_bus)
    np.add.at(bal, net.f, flows)
    np.subtract.at(bal, net.t, flows)
    assert np.abs((bal - inj)[~r.dark_bus]).max() < 1e-9
    assert (r.slack_p_mw == 0).all()


def test_balanced_equals_slack_mode_when_balanced(net118):
    r0 = dc_flow(net118)
    inj = net118.bus_injection_mw()
    g = np.flatnonzero(net118.gen_slack)
    np.add.at(inj, net118.gen_bus[g], r0.slack_p_mw[g] - net118.gen_p_mw[g])
    r1 = dc_flow(net118, injection_mw=inj, energised="balanced")
    np.testing.assert_allclose(r1.flow_mw, r0.flow_mw, atol=1e-8)


def test_bad_arguments(net118):
    with pytest.raises(InputError, match="energised"):
        dc_flow(net118, energised="nope")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="shape"):
        dc_flow(net118, injection_mw=np.zeros(3))
    with pytest.raises(InputError, match="line:1"):
        net118.state(["line:1x"])


def test_ptdf_columns_match_perturbed_flows(net118):
    fac = factorize(net118)
    base = dc_flow(net118)
    buses = np.array([5, 40, 100])
    psi = fac.ptdf_columns(buses)
    for j, bus in enumerate(buses):
        inj = net118.bus_injection_mw()
        inj[bus] += 10.0
        d = dc_flow(net118, injection_mw=inj).flow_mw - base.flow_mw
        np.testing.assert_allclose(d, 10.0 * psi[:, j], atol=1e-9)
    rows = fac.ptdf_rows(np.array([3, 77]))
    np.testing.assert_allclose(rows[:, buses], psi[[3, 77]], atol=1e-12)


def test_lodf_and_woodbury_match_resolves(net1354):
    fac = factorize(net1354)
    base = dc_flow(net1354)
    br = bridges(net1354)
    rng = np.random.default_rng(3)
    cand = np.flatnonzero(~br)
    ks = rng.choice(cand, 8, replace=False)
    lodf = fac.lodf(ks)
    for j, k in enumerate(ks):
        ref = dc_flow(net1354, net1354.state([net1354.branch_ids[k]])).flow_mw
        post = base.flow_mw + lodf[:, j] * base.flow_mw[k]
        post[k] = np.nan
        np.testing.assert_allclose(post, ref, atol=1e-6)
    for _ in range(5):
        ks = rng.choice(cand, 3, replace=False)
        ref = dc_flow(net1354, net1354.state(list(net1354.branch_ids[ks]))).flow_mw
        got = woodbury_flows(fac, base.flow_mw, ks)
        if np.isnan(ref).sum() > 3:  # the set islands: Woodbury must refuse it
            assert got is None
        else:
            np.testing.assert_allclose(got, ref, atol=1e-6)
    # a bridge has an undefined LODF column
    kb = np.flatnonzero(br)[:2]
    assert np.isnan(fac.lodf(kb)).all()


@pytest.mark.parametrize("case", ["case118", "case1354pegase"])
def test_bridges_match_brute_force(load, case):
    net = compile_network(load(case))
    tree = bridge_tree(net)
    rng = np.random.default_rng(0)
    for k in rng.choice(net.n_branch, 120, replace=False):
        isl = islands(net, net.state([net.branch_ids[k]]))
        assert (isl.count > 1) == tree.is_bridge[k]
        if tree.is_bridge[k]:
            side = tree.cut_side(k)
            # the cut side is exactly one of the two islands, and not the slack's
            assert len(np.unique(isl.label[side])) == 1
            assert (isl.label == isl.label[side[0]]).sum() == len(side)
            slack_bus = net.gen_bus[net.gen_slack][0]
            tree_s = bridge_tree(net, roots=np.array([slack_bus]))
            assert slack_bus not in set(tree_s.cut_side(k).tolist())


def test_parallel_branches_are_not_bridges(triangle):
    # with line:2 out, line:0 and line:1 form a path: both are bridges
    st_ = triangle.state(["line:2"])
    assert bridges(triangle, st_).tolist() == [True, True, False]
    assert not bridges(triangle).any()


def test_factorisation_is_cached_per_topology(net118):
    a = factorize(net118)
    b = factorize(net118, net118.state([]))
    assert a.lu is b.lu
    c = factorize(net118, net118.state(["line:3"]))
    assert c.lu is not a.lu
