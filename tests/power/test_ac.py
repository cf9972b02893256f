"""AC power flow: physical laws, islands, reactive limits, options and failure reporting."""

from __future__ import annotations

import numpy as np
import pytest

from warmgrid.errors import InputError
from warmgrid.power import ac as acmod
from warmgrid.power.ac import DARK, PQ, PV, REF, ACOptions, ac_flow, make_ybus
from warmgrid.power.network import compile_network


def _bus_sums(net, r):
    """(n_bus,) complex: units − loads, and the power leaving by branches and shunts, MVA."""
    n = net.n_bus
    st = net.base_state
    units = np.zeros(n, dtype=complex)
    ok = np.isfinite(r.gen_p_mw)
    np.add.at(units, net.gen_bus[ok], r.gen_p_mw[ok] + 1j * r.gen_q_mvar[ok])
    ld = st.load_on & ~r.dark_bus[net.load_bus]
    np.subtract.at(units, net.load_bus[ld], net.load_p_mw[ld] + 1j * net.load_q_mvar[ld])
    out = np.zeros(n, dtype=complex)
    on = np.isfinite(r.p_from_mw)
    np.add.at(out, net.f[on], r.p_from_mw[on] + 1j * r.q_from_mvar[on])
    np.add.at(out, net.t[on], r.p_to_mw[on] + 1j * r.q_to_mvar[on])
    vm2 = np.nan_to_num(r.vm_pu[net.shunt_bus]) ** 2
    np.add.at(out, net.shunt_bus, (net.shunt_g_mw - 1j * net.shunt_b_mvar) * vm2)
    return units, out


@pytest.mark.parametrize("case", ["case9", "case118", "winter-city"])
def test_power_balance_at_every_bus(load, case):
    """Kirchhoff: at every bus, units − loads = branch flows out + shunt draw (1e-6 MVA)."""
    net = compile_network(load(case))
    for q_limits in (False, True):
        r = ac_flow(net, options=ACOptions(q_limits=q_limits))
        assert r.converged
        units, out = _bus_sums(net, r)
        live = ~r.dark_bus
        np.testing.assert_allclose(units[live], out[live], atol=1e-6, rtol=0)
        # and S = V · conj(Ybus V) reproduces the same injections
        v = np.nan_to_num(r.vm_pu * np.exp(1j * np.deg2rad(r.va_deg)))
        y = make_ybus(net, net.base_state.branch_on, live)
        s = v * np.conj(y @ v) * net.base_mva
        np.testing.assert_allclose(s[live], units[live], atol=1e-6, rtol=0)


def test_slack_absorbs_the_losses(net118):
    r = ac_flow(net118)
    st = net118.base_state
    gen_p = np.nansum(r.gen_p_mw)
    load_p = net118.load_p_mw[st.load_on].sum()
    shunt_p = np.sum(net118.shunt_g_mw * r.vm_pu[net118.shunt_bus] ** 2)
    losses = np.nansum(r.loss_mw)
    assert losses > 0
    assert gen_p - load_p - shunt_p == pytest.approx(losses, abs=1e-6)
    # only the slack unit's output moved from its set point
    slack = net118.gen_slack
    np.testing.assert_allclose(r.gen_p_mw[~slack], net118.gen_p_mw[~slack], atol=1e-12)
    assert r.bus_type[net118.gen_bus[slack]].tolist() == [REF]
    # PV buses hold their set points
    pv = r.bus_type == PV
    assert pv.any()
    held = np.zeros(net118.n_bus)
    held[net118.gen_bus] = net118.gen_vm_pu
    np.testing.assert_allclose(r.vm_pu[pv], held[pv], atol=1e-12)


def test_flat_and_dc_start_find_the_same_solution(net1354):
    a = ac_flow(net1354, options=ACOptions(init="dc"))
    b = ac_flow(net1354, options=ACOptions(init="flat"))
    assert a.converged
    assert b.converged
    np.testing.assert_allclose(a.vm_pu, b.vm_pu, atol=1e-8)
    np.testing.assert_allclose(a.va_deg, b.va_deg, atol=1e-6)


def test_numpy_jacobian_equals_the_numba_kernel(net118, monkeypatch):
    """The fallback without numba fills the same Jacobian values."""
    y = make_ybus(net118, net118.base_state.branch_on)
    rng = np.random.default_rng(3)
    v = (1 + 0.05 * rng.standard_normal(net118.n_bus)) * np.exp(
        0.2j * rng.standard_normal(net118.n_bus)
    )
    ibus = y @ v
    ref = np.flatnonzero(net118.gen_slack)
    pv = np.setdiff1d(np.unique(net118.gen_bus), net118.gen_bus[ref])
    pq = np.setdiff1d(np.arange(net118.n_bus), np.concatenate([pv, net118.gen_bus[ref]]))
    pvpq = np.concatenate([pv, pq])
    jac = acmod._Jacobian(y, pvpq, pq)
    fast = jac.fill(y, v, ibus).toarray()
    monkeypatch.setattr(acmod, "HAVE_NUMBA", False)
    slow = jac.fill(y, v, ibus).toarray()
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    # and both are the derivative: compare with central differences of the mismatch
    sbus = np.zeros(net118.n_bus, dtype=complex)
    va, vm = np.angle(v), np.abs(v)

    def mis(x):
        a, m = va.copy(), vm.copy()
        a[pvpq] = x[: len(pvpq)]
        m[pq] = x[len(pvpq) :]
        return acmod._mismatch(y, m * np.exp(1j * a), sbus, pvpq, pq)[1]

    x0 = np.concatenate([va[pvpq], vm[pq]])
    for k in rng.choice(len(x0), 5, replace=False):
        e = np.zeros_like(x0)
        e[k] = 1e-6
        col = (mis(x0 + e) - mis(x0 - e)) / 2e-6
        np.testing.assert_allclose(slow[:, k], col, atol=1e-5)


def test_islanding_outage_darkens_the_island_without_slack(load):
    net = compile_network(load("case9"))
    r = ac_flow(net, net.state(["line:6"]))  # cuts bus 1 (with its generator) off
    assert r.converged
    assert net.bus_ids[r.dark_bus].tolist() == ["bus:1"]
    assert r.bus_type[r.dark_bus].tolist() == [DARK]
    assert np.isnan(r.vm_pu[r.dark_bus]).all()
    g = list(net.gen_ids).index("gen:0")
    assert net.bus_ids[net.gen_bus[g]] == "bus:1"
    assert np.isnan(r.gen_p_mw[g])
    # "balanced": the island's unit becomes its slack and holds its set point
    b = ac_flow(net, net.state(["line:6"]), options=ACOptions(energised="balanced"))
    assert b.converged
    assert not b.dark_bus.any()
    bus1 = list(net.bus_ids).index("bus:1")
    assert b.bus_type[bus1] == REF
    assert b.vm_pu[bus1] == pytest.approx(net.gen_vm_pu[g])
    assert b.gen_p_mw[g] == pytest.approx(0.0, abs=1e-9)  # nothing else in its island
    np.testing.assert_allclose(b.vm_pu[~r.dark_bus], r.vm_pu[~r.dark_bus], atol=1e-12)


def test_outages_are_masks(net118):
    net = net118
    before = (net.r_pu.copy(), net.base_state.branch_on.copy(), net.gen_q_mvar.copy())
    ac_flow(net, net.state(["line:3", "gen:0"]), options=ACOptions(q_limits=True))
    np.testing.assert_array_equal(before[0], net.r_pu)
    np.testing.assert_array_equal(before[1], net.base_state.branch_on)
    np.testing.assert_array_equal(before[2], net.gen_q_mvar)


def test_q_limits_switch_units_to_pq(load):
    net = compile_network(load("case118"))
    free = ac_flow(net)
    held = ac_flow(net, options=ACOptions(q_limits=True))
    assert held.converged
    assert held.q_rounds > 1
    lim = held.q_limited
    assert lim.any()
    hi = np.isclose(held.gen_q_mvar[lim], net.gen_qmax_mvar[lim])
    lo = np.isclose(held.gen_q_mvar[lim], net.gen_qmin_mvar[lim])
    assert (hi | lo).all()
    assert (held.bus_type[net.gen_bus[lim]] == PQ).all()
    # every other voltage-controlling unit is inside its limits
    ok = np.isfinite(held.gen_q_mvar) & ~lim & ~net.gen_slack
    assert np.all(held.gen_q_mvar[ok] <= net.gen_qmax_mvar[ok] + 1e-9)
    assert np.all(held.gen_q_mvar[ok] >= net.gen_qmin_mvar[ok] - 1e-9)
    # the limited units violated a limit in the free solve
    out = (free.gen_q_mvar[lim] > net.gen_qmax_mvar[lim]) | (
        free.gen_q_mvar[lim] < net.gen_qmin_mvar[lim]
    )
    assert out.all()


def test_non_convergence_is_reported_not_answered(load):
    net = compile_network(load("case11_iwamoto"))
    r = ac_flow(net, options=ACOptions(max_iter=7))
    assert not r.converged
    assert r.iterations == 7
    assert r.max_mismatch_pu > 1e-8
    for a in (r.vm_pu, r.va_deg, r.p_from_mw, r.q_to_mvar, r.gen_p_mw, r.loading_percent):
        assert np.isnan(a).all()


def test_loading_is_null_for_unrated_branches_never_zero(load):
    grid = load("case9")
    br = grid.branch.copy()
    br.loc[0, "rate_mva"] = 0.0  # 0 means unlimited
    net = compile_network(grid.replace(branch=br))
    r = ac_flow(net)
    assert np.isnan(r.loading_percent[0])
    assert np.all(r.loading_percent[1:] > 0)


def test_tables_round_trip_keeps_the_ac_columns(load, tmp_path):
    """The Parquet cache of bundled cases and CSV tables carry the AC columns exactly."""
    from warmgrid.io.tables import read_tables, write_tables

    grid = load("GBreducednetwork")  # static units with reactive limits, branch conductance
    a = ac_flow(compile_network(grid), options=ACOptions(q_limits=True))
    for fmt in ("csv", "parquet"):
        back = read_tables(write_tables(grid, tmp_path / fmt, fmt=fmt))
        b = ac_flow(compile_network(back), options=ACOptions(q_limits=True))
        np.testing.assert_allclose(b.vm_pu, a.vm_pu, atol=1e-12)
        np.testing.assert_allclose(b.q_from_mvar, a.q_from_mvar, atol=1e-9)


def test_options_are_checked(net118):
    for bad in (
        ACOptions(tol_pu=0.0),
        ACOptions(max_iter=0),
        ACOptions(init="warm"),  # type: ignore[arg-type]
        ACOptions(energised="all"),  # type: ignore[arg-type]
    ):
        with pytest.raises(InputError):
            ac_flow(net118, options=bad)


def test_matpower_case_reads_voltage_control_and_limits(tmp_path):
    """A MATPOWER file: PV/REF buses make voltage-controlling units; VG, QMIN, QMAX kept."""
    from warmgrid.io import load_grid

    text = """function mpc = case3
mpc.baseMVA = 100;
mpc.bus = [
	1	3	0	0	0	0	1	1.02	0	110	1	1.1	0.9;
	2	2	50	10	0	5	1	1	0	110	1	1.1	0.9;
	3	1	40	5	0	0	1	1	0	110	1	1.1	0.9;
];
mpc.gen = [
	1	0	0	300	-300	1.02	100	1	200	0;
	2	30	0	15	-10	1.01	100	1	50	0;
	3	5	2	0	0	0	100	1	10	0;
];
mpc.branch = [
	1	2	0.01	0.1	0.02	100	100	100	0	0	1	-360	360;
	2	3	0.01	0.1	0.02	100	100	100	0	0	1	-360	360;
	1	3	0.01	0.1	0.02	100	100	100	0	0	1	-360	360;
];
"""
    path = tmp_path / "case3.m"
    path.write_text(text)
    grid = load_grid(path)
    g = grid.gen
    assert g["voltage_control"].tolist() == [True, True, False]
    assert g["vm_pu"].tolist() == [1.02, 1.01, 1.0]
    assert g["q_min_mvar"].tolist() == [-300, -10, 0]
    assert g["q_mvar"].tolist() == [0, 0, 2]
    assert grid.bus["vm_max_pu"].tolist() == [1.1] * 3
    net = compile_network(grid)
    r = ac_flow(net, options=ACOptions(q_limits=True))
    assert r.converged
    units, out = _bus_sums(net, r)
    np.testing.assert_allclose(units, out, atol=1e-6)
    assert r.vm_pu[0] == pytest.approx(1.02)
    bad = path.with_name("bad.m")
    bad.write_text(
        text.replace("2	30	0	15	-10	1.01", "2	30	0	15	-10	0")
    )
    with pytest.raises(InputError, match="VG"):
        load_grid(bad)


def test_fixed_order_lu_solves_like_superlu():
    import scipy.sparse as sp
    import scipy.sparse.linalg as spl

    from warmgrid.power._fast import lu_numeric, lu_solve_vec, lu_symbolic

    rng = np.random.default_rng(5)
    n = 400
    a = sp.random(n, n, density=0.008, random_state=2)
    a = (a + a.T + 8 * sp.eye(n)).tocsr()  # structurally symmetric, with its diagonal
    a.sort_indices()
    a.data *= 1 + 0.5 * rng.standard_normal(a.nnz)  # values not symmetric
    ip, ix = a.indptr.astype(np.int64), a.indices.astype(np.int64)
    lp, li, up, ui = lu_symbolic(ip, ix)
    lx, ux, work = np.zeros(len(li)), np.zeros(len(ui)), np.zeros(n)
    assert lu_numeric(ip, ix, a.data, lp, li, lx, up, ui, ux, work)
    assert not work.any()
    b = rng.standard_normal(n)
    x = lu_solve_vec(lp, li, lx, up, ui, ux, b.copy())
    np.testing.assert_allclose(x, spl.spsolve(a.tocsc(), b), rtol=1e-10, atol=1e-12)
    # a zero pivot in the fixed order is reported, not divided by
    z = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    lp, li, up, ui = lu_symbolic(z.indptr.astype(np.int64), z.indices.astype(np.int64))
    ok = lu_numeric(
        z.indptr.astype(np.int64),
        z.indices.astype(np.int64),
        z.data,
        lp,
        li,
        np.zeros(len(li)),
        up,
        ui,
        np.zeros(len(ui)),
        np.zeros(2),
    )
    assert not ok


def test_superlu_path_without_numba_gives_the_same_flow(net118, monkeypatch):
    """Without numba: numpy Jacobian values and SuperLU (ordering reused), same answer."""
    fast = ac_flow(net118, options=ACOptions(q_limits=True))
    monkeypatch.setattr(acmod, "HAVE_NUMBA", False)
    slow = ac_flow(net118, options=ACOptions(q_limits=True))
    assert slow.converged
    assert slow.q_rounds == fast.q_rounds
    np.testing.assert_allclose(slow.vm_pu, fast.vm_pu, atol=1e-10)
    np.testing.assert_allclose(slow.p_from_mw, fast.p_from_mw, atol=1e-7)


def test_tiny_pivot_falls_back_to_superlu(net118, monkeypatch):
    """When the fixed-order LU meets a tiny pivot, that iteration pivots with SuperLU."""
    if not acmod.HAVE_NUMBA:
        pytest.skip("the fixed-order LU needs numba")
    ref = ac_flow(net118)
    monkeypatch.setattr(acmod, "lu_numeric", lambda *a: False)
    r = ac_flow(net118)
    assert r.converged
    np.testing.assert_allclose(r.vm_pu, ref.vm_pu, atol=1e-10)


def test_warm_start_finds_the_same_flow_in_fewer_iterations(net1354):
    """Warm-started from the pre-outage flow, an outage's flow is the cold-started one
    (1e-9 p.u.), reached in no more Newton iterations."""
    pre = ac_flow(net1354)
    st = net1354.base_state.without(net1354, [str(net1354.branch_ids[10])])
    cold = ac_flow(net1354, st)
    warm = ac_flow(net1354, st, start=pre)
    assert cold.converged
    assert warm.converged
    np.testing.assert_allclose(warm.vm_pu, cold.vm_pu, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(warm.va_deg, cold.va_deg, atol=1e-7, equal_nan=True)
    assert warm.iterations <= cold.iterations
