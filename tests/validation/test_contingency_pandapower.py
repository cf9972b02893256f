"""N-1 screening (LODF and bridge handling) vs pandapower ``rundcpp`` re-solves.

A sample of single-branch outages on case1354pegase, islanding ones included: the
maximum post-contingency loading (|p| / rate on the same ratings), the overload count
and the dark bus count must match the flows pandapower computes with the branch out.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from warmgrid.power.contingency import n_minus_1
from warmgrid.power.network import compile_network


@pytest.fixture(scope="module")
def case1354(load):
    import pandapower.networks as pn

    return compile_network(load("case1354pegase")), copy.deepcopy(pn.case1354pegase())


def test_n1_sample_matches_pandapower(case1354):
    import pandapower as pp

    net, ppn = case1354
    r = n_minus_1(net, threshold_percent=90.0, worsening_pp=None)
    rng = np.random.default_rng(5)
    sample = np.concatenate(
        [
            rng.choice(np.flatnonzero(~r.islanding), 20, replace=False),
            rng.choice(np.flatnonzero(r.islanding), 10, replace=False),
        ]
    )
    for i in sample:
        (bid,) = r.outages[i]
        kind, idx = bid.split(":")
        ppn[kind].loc[int(idx), "in_service"] = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pp.rundcpp(ppn)
            flow = np.concatenate(
                [ppn.res_line.p_from_mw.to_numpy(), ppn.res_trafo.p_hv_mw.to_numpy()]
            )
            dark = int(ppn.res_bus.va_degree.isna().sum())
        finally:
            ppn[kind].loc[int(idx), "in_service"] = True
        ld = np.nan_to_num(np.abs(flow) / net.rate_mw * 100.0)
        assert r.max_loading_percent[i] == pytest.approx(ld.max(), abs=1e-6)
        assert r.n_overloaded[i] == int((ld > 90.0).sum())
        assert r.dark_buses[i] == dark
        assert r.islanding[i] == (dark > 0)
        # each reported violation carries the flow pandapower computes
        v = r.violations[r.violations["contingency"] == i]
        b = np.array([list(net.branch_ids).index(x) for x in v["branch"].astype(str)], dtype=int)
        np.testing.assert_allclose(v["p_mw"].to_numpy(), flow[b], atol=1e-6)


def test_base_case_overloads_alone_give_no_violation(case1354):
    """case1354pegase has branches above their rating before any outage. An outage whose
    only overloads (by pandapower's flows) are those, each worse by at most 1 point, must
    count no violation; the others count exactly the new or worsened ones."""
    import pandapower as pp

    net, ppn = case1354
    r = n_minus_1(net)  # 100 %, worsening 1 point
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.rundcpp(ppn)
    base_flow = np.concatenate(
        [ppn.res_line.p_from_mw.to_numpy(), ppn.res_trafo.p_hv_mw.to_numpy()]
    )
    base = np.nan_to_num(np.abs(base_flow) / net.rate_mw * 100.0)
    assert (base > 100.0).sum() > 10
    assert len(r.base_overloads()) == int((base > 100.0).sum())
    pos = {o[0]: i for i, o in enumerate(r.outages)}
    only_base = counted = 0
    rng = np.random.default_rng(11)
    for i in rng.choice(len(r.outages), 40, replace=False):
        (bid,) = r.outages[i]
        kind, idx = bid.split(":")
        ppn[kind].loc[int(idx), "in_service"] = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pp.rundcpp(ppn)
            flow = np.concatenate(
                [ppn.res_line.p_from_mw.to_numpy(), ppn.res_trafo.p_hv_mw.to_numpy()]
            )
        finally:
            ppn[kind].loc[int(idx), "in_service"] = True
        ld = np.nan_to_num(np.abs(flow) / net.rate_mw * 100.0)
        over = ld > 100.0
        new_or_worse = over & ((base <= 100.0) | (ld > base + 1.0))
        assert r.n_overloaded[pos[bid]] == int(new_or_worse.sum())
        if over.any() and not new_or_worse.any():
            only_base += 1
            assert r.n_overloaded[pos[bid]] == 0
        counted += int(new_or_worse.any())
    assert only_base > 0
    assert counted > 0
