"""Maximum load delivery: physical laws, closed forms and monotonicity properties."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warmgrid.errors import InputError
from warmgrid.power.cascade import cascade
from warmgrid.power.dispatch import max_load_delivery
from warmgrid.power.network import compile_network


def _random_damage(net, seed, k):
    rng = np.random.default_rng(seed)
    return [str(e) for e in rng.choice(net.branch_ids, k, replace=False)]


def check_physics(net, r, tol=1e-5):
    """Bus balance (KCL), island balance, bounds and limits of an MLD solution."""
    inj = np.zeros(net.n_bus)
    np.add.at(inj, net.gen_bus, r.gen_p_mw)
    np.subtract.at(inj, net.load_bus, r.load_served_mw)
    live = ~r.dark_bus
    np.subtract.at(inj, net.shunt_bus[live[net.shunt_bus]], net.shunt_g_mw[live[net.shunt_bus]])
    on = ~np.isnan(r.flow_mw)
    out = np.zeros(net.n_bus)
    np.add.at(out, net.f[on], r.flow_mw[on])
    np.subtract.at(out, net.t[on], r.flow_mw[on])
    scale = max(1.0, np.abs(inj).max())
    assert np.allclose(inj[live], out[live], atol=tol * scale)
    lab = r.islands.label
    for i in np.unique(lab[live]):
        assert abs(inj[lab == i].sum()) < tol * scale
    # dark buses give and take nothing
    assert np.all(r.gen_p_mw[r.dark_bus[net.gen_bus]] == 0)
    assert np.all(r.load_served_mw[r.dark_bus[net.load_bus]] == 0)
    assert np.all(np.abs(r.flow_mw[on]) <= net.rate_mw[on] + 1e-5)
    assert np.all(r.gen_p_mw >= -1e-7)
    assert np.all(r.gen_p_mw <= net.gen_pmax_mw + 1e-6)
    assert np.all((r.served_fraction >= 0) & (r.served_fraction <= 1))
    # DC law: flow = base · b · (θf − θt − shift)
    th = r.theta_rad
    dc = net.base_mva * net.b_pu[on] * (th[net.f[on]] - th[net.t[on]] - net.shift_rad[on])
    assert np.allclose(dc, r.flow_mw[on], atol=1e-6 * scale)


def test_undamaged_case118_serves_all(net118):
    r = max_load_delivery(net118)
    assert r.served_mw == pytest.approx(net118.load_p_mw.sum(), rel=1e-9)
    assert r.shed_mw == pytest.approx(0.0, abs=1e-6)
    check_physics(net118, r)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_power_balance_in_every_island(net1354, seed):
    st_ = net1354.state(_random_damage(net1354, seed, 25))
    r = max_load_delivery(net1354, st_)
    check_physics(net1354, r)
    assert r.islands.count >= 1


def test_unlimited_network_closed_form(net1354):
    """Without branch limits each island serves min(demand, capacity − shunt)."""
    net = replace(net1354, rate_mw=np.full(net1354.n_branch, np.inf))
    # take out most units so capacity is short somewhere
    gens = [str(g) for g in net.gen_ids[::2]]
    st_ = net.state([*gens, *_random_damage(net, 5, 30)])
    r = max_load_delivery(net, st_)
    eff = st_.effective(net)
    lab = r.islands.label
    expect = 0.0
    for i in np.flatnonzero(r.islands.has_gen):
        cap = net.gen_pmax_mw[eff.gen_on & (lab[net.gen_bus] == i)].sum()
        dem = net.load_p_mw[eff.load_on & (lab[net.load_bus] == i)].sum()
        shunt = net.shunt_g_mw[lab[net.shunt_bus] == i].sum()
        expect += min(dem, cap - shunt)
    assert r.served_mw == pytest.approx(expect, rel=1e-9)


def test_priority_weights_serve_the_heavy_loads_first(net118):
    """With capacity for only part of the load, weight-10 loads are served before weight-1."""
    net = replace(
        net118, rate_mw=np.full(net118.n_branch, np.inf), gen_pmax_mw=net118.gen_pmax_mw * 0.3
    )
    cap = net.gen_pmax_mw.sum()
    w = np.ones(len(net.load_ids))
    heavy = np.arange(len(w)) % 3 == 0
    w[heavy] = 10.0
    assert net.load_p_mw[heavy].sum() < cap < net.load_p_mw.sum()
    r = max_load_delivery(net, weights=w)
    assert np.allclose(r.served_fraction[heavy], 1.0)
    assert r.served_mw == pytest.approx(cap, rel=1e-9)
    assert r.weighted_served_mw == pytest.approx(
        10 * net.load_p_mw[heavy].sum() + (cap - net.load_p_mw[heavy].sum()), rel=1e-9
    )


def test_bad_weights(net118):
    with pytest.raises(InputError, match="weights"):
        max_load_delivery(net118, weights=np.ones(3))
    with pytest.raises(InputError, match="weights"):
        max_load_delivery(net118, weights=-np.ones(len(net118.load_ids)))


@pytest.mark.parametrize(
    ("case", "seed"), [("case118", 0), ("case118", 1), ("case1354pegase", 0), ("case1354pegase", 1)]
)
def test_mld_serves_at_least_cascade(load, case, seed):
    net = compile_network(load(case))
    st_ = net.state(_random_damage(net, seed, 8 if case == "case118" else 20))
    m = max_load_delivery(net, st_)
    c = cascade(net, st_, trip_factor=1.0)
    assert m.served_mw >= c.served_mw - 1e-6


# ---------------------------------------------------------------- properties (hypothesis)
_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(data=st.data())
def test_more_unit_and_load_damage_never_raises_mld(net118, data):
    """Taking a unit or a load out fixes its variable at 0: the optimum cannot rise."""
    ids = [*net118.gen_ids.tolist(), *net118.load_ids.tolist()]
    small = data.draw(st.lists(st.sampled_from(ids), max_size=6, unique=True))
    extra = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6, unique=True))
    a = max_load_delivery(net118, net118.state(small))
    b = max_load_delivery(net118, net118.state([*small, *extra]))
    assert b.served_mw <= a.served_mw + 1e-6


@_SETTINGS
@given(data=st.data())
def test_more_branch_and_bus_damage_never_raises_mld_without_limits(net118, data):
    """Branch and bus outages only split islands when no limit binds, so MLD cannot rise.

    With binding limits this is not a theorem: opening a line can raise the DC optimum
    (Braess's paradox; the basis of optimal transmission switching, Fisher, O'Neill and
    Ferris, IEEE Trans. Power Syst. 23(3), 2008), so the property is checked unlimited.
    """
    net = replace(
        net118, rate_mw=np.full(net118.n_branch, np.inf), gen_pmax_mw=net118.gen_pmax_mw * 0.5
    )
    ids = [*net.branch_ids.tolist(), *net.bus_ids.tolist(), *net.gen_ids.tolist()]
    small = data.draw(st.lists(st.sampled_from(ids), max_size=15, unique=True))
    extra = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=15, unique=True))
    a = max_load_delivery(net, net.state(small))
    b = max_load_delivery(net, net.state([*small, *extra]))
    assert b.served_mw <= a.served_mw + 1e-6


@_SETTINGS
@given(scale=st.lists(st.floats(0.0, 1.0), min_size=99, max_size=99))
def test_no_damage_serves_all_when_feasible(net118, scale):
    """Undamaged case118 with any load scaled down (≤ its secure base): all load served.

    Without limits (the DC flow of any scaling is then feasible) whenever capacity suffices.
    """
    net = replace(net118, rate_mw=np.full(net118.n_branch, np.inf))
    s = np.asarray(scale)
    st_ = replace(net.base_state, load_scale=s)
    r = max_load_delivery(net, st_)
    assert r.served_mw == pytest.approx(float((net.load_p_mw * s).sum()), rel=1e-9, abs=1e-9)


# ---------------------------------------------------------------- the persistent LP
def _bits(r):
    """Every array of an MLD result, NaN included, for a bit-for-bit comparison."""
    return [
        np.nan_to_num(a, nan=-7.0).tobytes()
        for a in (r.served_fraction, r.gen_p_mw, r.flow_mw, r.theta_rad, r.load_served_mw)
    ]


def test_a_state_gives_the_same_bits_whatever_was_solved_before(net1354):
    """Each state starts from the same basis on a cleared solver, so its answer does not
    depend on the states solved before it in the process (the reason a Monte Carlo gives
    the same samples on any number of workers and batch sizes)."""
    from warmgrid.power import dispatch

    states = [net1354.state(_random_damage(net1354, s, 20)) for s in range(6)]

    def solve(order):
        dispatch._MODELS.pop(net1354, None)  # a fresh model, as in a new worker process
        return {i: _bits(max_load_delivery(net1354, states[i])) for i in order}

    first = solve(range(6))
    for order in ([5, 3, 1, 0, 2, 4], [2, 2, 0, 5, 1, 3, 4, 0]):
        again = solve(order)
        assert all(again[i] == first[i] for i in again)


def test_one_model_per_network_and_weights(net118):
    """The LP is built once per (network, weights); other weights get their own model, and
    the compatibility arguments of the lazy formulation change nothing."""
    from warmgrid.power import dispatch

    dmg = net118.state(_random_damage(net118, 3, 8))
    a = max_load_delivery(net118, dmg)
    models = dict(dispatch._MODELS[net118])
    w = np.linspace(1.0, 2.0, len(net118.load_ids))
    b = max_load_delivery(net118, dmg, weights=w)
    assert len(dispatch._MODELS[net118]) == len(models) + 1
    c = max_load_delivery(net118, dmg, lazy=False, monitor=np.arange(5))
    assert _bits(c) == _bits(a)
    assert b.weighted_served_mw >= a.served_mw - 1e-6  # weights >= 1
    assert a.rounds == 1
    assert set(a.binding) <= set(np.flatnonzero(np.isfinite(net118.rate_mw)))


def test_load_scale_only_moves_bounds(net118):
    """Served load is in MW columns, so a load scaling is a bound change on the same model:
    half the demand everywhere, unlimited branches, all of it served."""
    net = replace(net118, rate_mw=np.full(net118.n_branch, np.inf))
    st_ = replace(net.base_state, load_scale=np.full(len(net.load_ids), 0.5))
    r = max_load_delivery(net, st_)
    assert r.served_mw == pytest.approx(0.5 * net.load_p_mw.sum(), rel=1e-9)
    assert np.allclose(r.served_fraction[net.load_p_mw > 0], 1.0)
    check_physics(net, max_load_delivery(net, net.state(_random_damage(net, 1, 10))))


def test_highs_model_hands_over_only_changed_bounds():
    """HighsModel.set_bounds passes HiGHS the entries that differ from the last ones; the
    model ends up with exactly the bounds given (checked against a fresh model)."""
    import scipy.sparse as sp

    from warmgrid.solve.highs import HighsModel, LinearProgram

    rng = np.random.default_rng(0)
    a = sp.random(6, 8, density=0.5, random_state=1, format="csc") + sp.eye(6, 8, format="csc")
    lp = LinearProgram(
        c=rng.uniform(1, 2, 8),
        a=a,
        row_lower=np.full(6, -np.inf),
        row_upper=np.full(6, 5.0),
        lower=np.zeros(8),
        upper=np.full(8, 3.0),
        maximize=True,
    )
    live = HighsModel(lp)
    for _ in range(4):
        up = rng.choice([0.0, 1.0, 3.0, np.inf], 8)
        rup = rng.choice([1.0, 5.0, np.inf], 6)
        live.set_bounds(np.zeros(8), up, np.full(6, -np.inf), rup)
        got = live.solve()
        fresh = HighsModel(replace(lp, upper=up, row_upper=rup)).solve()
        assert got.status is fresh.status
        if got.status.ok:
            assert got.objective == pytest.approx(fresh.objective, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_fast_islands_are_topologys(net1354, seed):
    """The MLD's own island finder gives topology.islands' labels exactly."""
    from warmgrid.power._mld_lp import _Graph, _islands
    from warmgrid.power.topology import islands

    rng = np.random.default_rng(seed)
    out = [*_random_damage(net1354, seed, 60)]
    out += [str(b) for b in rng.choice(net1354.bus_ids, 10, replace=False)]
    st_ = net1354.state(out).effective(net1354)
    a, b = islands(net1354, st_), _islands(net1354, st_, _Graph(net1354))
    assert a.count == b.count > 1
    for f in ("label", "has_slack", "has_gen"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
