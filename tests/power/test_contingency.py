"""Contingency screening cross-checked against direct DC re-solves of each outage."""

from __future__ import annotations

import numpy as np
import pytest

import warmgrid.power._fast as fast
import warmgrid.power.dc as dcmod
from warmgrid.errors import InputError
from warmgrid.power.contingency import n_minus_1, n_minus_k, n_minus_k_pairs, post_outage_flows
from warmgrid.power.dc import dc_flow
from warmgrid.power.network import compile_network
from warmgrid.power.topology import bridges


def _direct(net, ids, thr=100.0, worsening=1.0):
    """Max loading, violation count, dark buses and lost load of one outage, re-solved.

    A violation: above ``thr`` after the outage, and within it before, or above it before
    and worse by more than ``worsening`` points (None: every loading above ``thr``).
    """
    base = dc_flow(net)
    r = dc_flow(net, net.state(list(ids)))
    ld = np.nan_to_num(r.loading_percent)
    base_ld = np.nan_to_num(base.loading_percent)
    limit = np.full(net.n_branch, thr)
    if worsening is not None:
        limit = np.where(base_ld > thr, base_ld + worsening, thr)
    newly = r.dark_bus & ~base.dark_bus
    load = np.zeros(net.n_bus)
    np.add.at(
        load, net.load_bus, np.maximum(net.load_p_mw, 0.0)
    )  # demand: a negative load is no lost load
    np.add.at(load, net.shunt_bus, np.maximum(net.shunt_g_mw, 0.0))
    return ld.max(), int((ld > limit).sum()), int(newly.sum()), load[newly].sum(), r


@pytest.fixture(scope="module")
def n1_1354(net1354):
    return n_minus_1(net1354)


def test_n1_counts_and_islanding(net1354, n1_1354):
    r = n1_1354
    assert r.count == net1354.n_branch
    br = bridges(net1354)
    ids = [o[0] for o in r.outages]
    flagged = {i for i, isl in zip(ids, r.islanding, strict=True) if isl}
    assert flagged == set(net1354.branch_ids[br].tolist())
    s = r.summary()
    assert s["contingencies"] == net1354.n_branch
    assert s["islanding"] == int(br.sum())


def test_n1_matches_direct_resolves(net1354, n1_1354):
    r = n1_1354
    rng = np.random.default_rng(7)
    isl = np.flatnonzero(r.islanding)
    sample = np.concatenate(
        [
            rng.choice(np.flatnonzero(~r.islanding), 25, replace=False),
            rng.choice(isl, 15, replace=False),
        ]
    )
    for i in sample:
        mx, nover, ndark, lost, _ = _direct(net1354, r.outages[i])
        assert r.max_loading_percent[i] == pytest.approx(mx, abs=1e-7)
        assert r.n_overloaded[i] == nover
        assert r.dark_buses[i] == ndark
        assert r.lost_load_mw[i] == pytest.approx(lost, abs=1e-7)


def test_worst_per_branch_and_violations_brute_force(net118):
    thr = 40.0
    r = n_minus_1(net118, threshold_percent=thr, worsening_pp=None)
    worst = np.zeros(net118.n_branch)
    rows = []
    for i, o in enumerate(r.outages):
        d = np.nan_to_num(dc_flow(net118, net118.state(list(o))).loading_percent)
        worst = np.maximum(worst, d)
        for b in np.flatnonzero(d > thr):
            rows.append((i, net118.branch_ids[b], d[b]))
    np.testing.assert_allclose(r.branch_worst_loading_percent, worst, atol=1e-8)
    v = r.violations
    assert len(v) == len(rows)
    got = sorted(zip(v["contingency"], v["branch"].astype(str), v["loading_percent"], strict=True))
    for (a, b, c), (x, y, z) in zip(got, sorted(rows), strict=True):
        assert (a, b) == (x, y)
        assert c == pytest.approx(z, abs=1e-8)
    # the contingency named as the worst for a branch does produce that loading
    for b in np.flatnonzero(worst > 0)[:10]:
        c = r.branch_worst_contingency[b]
        d = np.nan_to_num(dc_flow(net118, net118.state(list(r.outages[c]))).loading_percent)
        assert d[b] == pytest.approx(worst[b], abs=1e-8)


@pytest.mark.parametrize("worsening", [0.5, 1.0, 5.0])
def test_violations_against_the_base_case_brute_force(net118, worsening):
    """A base-case overload counts only when an outage makes it worse by more than the
    margin; a branch within its rating before counts as soon as it crosses the threshold."""
    thr = 1.0  # case118's ratings are generous: at 1 % about 10 % of branches are "overloaded"
    r = n_minus_1(net118, threshold_percent=thr, worsening_pp=worsening)
    base = np.nan_to_num(dc_flow(net118).loading_percent)
    assert {b["branch"] for b in r.base_overloads()} == set(net118.branch_ids[base > thr].tolist())
    assert (base > thr).sum() > 5  # the case has base overloads at this threshold
    rows = set()
    for i, o in enumerate(r.outages):
        d = np.nan_to_num(dc_flow(net118, net118.state(list(o))).loading_percent)
        hit = np.flatnonzero((d > thr) & ((base <= thr) | (d > base + worsening)))
        assert r.n_overloaded[i] == len(hit)
        rows |= {(i, net118.branch_ids[b]) for b in hit}
    v = r.violations
    assert set(zip(v["contingency"], v["branch"].astype(str), strict=True)) == rows
    np.testing.assert_allclose(
        v["base_loading_percent"].to_numpy(),
        base[[list(net118.branch_ids).index(b) for b in v["branch"].astype(str)]],
        atol=1e-9,
    )
    everything = n_minus_1(net118, threshold_percent=thr, worsening_pp=None)
    assert r.n_violations < everything.n_violations


def test_violations_stream_to_a_file_and_match_memory(net118, tmp_path):
    import pandas as pd

    kept = n_minus_1(net118, threshold_percent=1.0)
    assert kept.n_violations > 100
    for name in ("v.parquet", "v.csv"):
        out = tmp_path / name
        r = n_minus_1(net118, threshold_percent=1.0, keep_violations=False, violations_out=out)
        assert r.n_violations == kept.n_violations == len(kept.violations)
        with pytest.raises(ValueError, match="not kept"):
            _ = r.violations
        df = pd.read_parquet(out) if name.endswith("parquet") else pd.read_csv(out)
        a = df.sort_values(["contingency", "branch"]).reset_index(drop=True)
        b = kept.violations.astype({"outage": str, "branch": str})
        b = b.sort_values(["contingency", "branch"]).reset_index(drop=True)
        assert list(a["outage"]) == list(b["outage"])
        assert list(a["branch"]) == list(b["branch"])
        np.testing.assert_allclose(a["loading_percent"], b["loading_percent"], atol=1e-9)


def test_numpy_and_numba_paths_agree(net1354, n1_1354, monkeypatch):
    monkeypatch.setattr(fast, "HAVE_NUMBA", False)
    monkeypatch.setattr(dcmod, "HAVE_NUMBA", False)
    r = n_minus_1(net1354)
    np.testing.assert_allclose(r.max_loading_percent, n1_1354.max_loading_percent, atol=1e-8)
    np.testing.assert_array_equal(r.n_overloaded, n1_1354.n_overloaded)
    np.testing.assert_allclose(
        r.branch_worst_loading_percent, n1_1354.branch_worst_loading_percent, atol=1e-8
    )
    assert len(r.violations) == len(n1_1354.violations)


def test_generator_outages_slack_pickup(net118):
    r = n_minus_1(net118, branches=[], generators="slack", threshold_percent=1.0)
    assert r.count == int((~net118.gen_slack).sum())
    for i in range(0, r.count, 9):
        mx, nover, *_ = _direct(net118, r.outages[i], thr=1.0)
        assert r.max_loading_percent[i] == pytest.approx(mx, abs=1e-8)
        assert r.n_overloaded[i] == nover


def test_generator_outages_pro_rata(net118):
    r = n_minus_1(net118, branches=[], generators="pro_rata")
    pmax = np.where(np.isfinite(net118.gen_pmax_mw), net118.gen_pmax_mw, 0.0) * ~net118.gen_slack
    for i in range(0, r.count, 11):
        (gid,) = r.outages[i]
        g = list(net118.gen_ids).index(gid)
        inj = net118.bus_injection_mw()
        inj[net118.gen_bus[g]] -= net118.gen_p_mw[g]
        share = pmax.copy()
        share[g] = 0.0
        np.add.at(inj, net118.gen_bus, net118.gen_p_mw[g] * share / share.sum())
        d = dc_flow(net118, injection_mw=inj)
        assert r.max_loading_percent[i] == pytest.approx(np.nanmax(d.loading_percent), abs=1e-8)


def test_pairs_match_direct(net1354):
    rng = np.random.default_rng(11)
    br = bridges(net1354)
    cands = list(
        net1354.branch_ids[
            np.concatenate(
                [
                    rng.choice(np.flatnonzero(~br), 8, replace=False),
                    rng.choice(np.flatnonzero(br), 3, replace=False),
                ]
            )
        ]
    )
    r = n_minus_k_pairs(net1354, cands)
    assert r.count == 55
    for i in range(r.count):
        mx, _nover, ndark, lost, d = _direct(net1354, r.outages[i])
        assert r.max_loading_percent[i] == pytest.approx(mx, abs=1e-7)
        assert r.dark_buses[i] == ndark
        assert r.lost_load_mw[i] == pytest.approx(lost, abs=1e-7)
        f = post_outage_flows(net1354, r.outages[i])
        np.testing.assert_array_equal(np.isnan(f), np.isnan(d.flow_mw))
        np.testing.assert_allclose(f, d.flow_mw, atol=1e-6)


def test_two_edge_cut_falls_back_exactly(load):
    # case9 is a ring: no bridges among the ring lines, but any two of them cut it
    net = compile_network(load("case9"))
    ring = [b for b in net.branch_ids if not bridges(net)[list(net.branch_ids).index(b)]]
    sets = [(ring[0], ring[2]), (ring[1], ring[4]), ("line:0", "gen:1")]
    r = n_minus_k(net, sets)
    for i, s in enumerate(sets):
        mx, _nover, ndark, *_ = _direct(net, s)
        assert r.max_loading_percent[i] == pytest.approx(mx, abs=1e-8)
        assert r.dark_buses[i] == ndark
        assert r.islanding[i] == (ndark > 0)


def test_default_pairs_use_most_loaded_candidates(net118):
    r = n_minus_k_pairs(net118, 6)
    assert r.count == 15
    for i in range(r.count):
        mx, *_ = _direct(net118, r.outages[i])
        assert r.max_loading_percent[i] == pytest.approx(mx, abs=1e-8)


def test_unknown_ids_name_the_closest(net118):
    with pytest.raises(InputError, match="closest: line:99"):
        n_minus_k(net118, [("line:1", "line:9999")])
    with pytest.raises(InputError, match="not a branch"):
        n_minus_1(net118, branches=["bus:1"])


def test_n1_from_a_damaged_state(net1354):
    # pre-outage state with a bridge and a meshed line already out: N-1 on top of it
    br = np.flatnonzero(bridges(net1354))
    nb = np.flatnonzero(~bridges(net1354))
    pre = [str(net1354.branch_ids[br[3]]), str(net1354.branch_ids[nb[10]])]
    st = net1354.state(pre)
    r = n_minus_1(net1354, st)
    base = dc_flow(net1354, st)
    assert r.count == int((st.effective(net1354).branch_on & ~base.dark_bus[net1354.f]).sum())
    rng = np.random.default_rng(2)
    for i in rng.choice(r.count, 25, replace=False):
        d = dc_flow(net1354, st.without(net1354, r.outages[i]))
        assert r.max_loading_percent[i] == pytest.approx(np.nanmax(d.loading_percent), abs=1e-7)
        assert r.dark_buses[i] == int((d.dark_bus & ~base.dark_bus).sum())
