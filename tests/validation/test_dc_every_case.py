"""DC flows on EVERY bundled pandapower case vs pandapower ``rundcpp`` (issue 3, point 2).

For each case: the intact flows, then three random single-branch outages, one of them a
bridge where the case has one (so an islanding outage is covered on every case). The
slack island must match to 1e-6 MW and the same buses must be dark.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from warmgrid.io.pandapower import bundled_case_names, from_pandapower_net
from warmgrid.power.dc import dc_flow
from warmgrid.power.network import compile_network
from warmgrid.power.topology import bridges


@pytest.mark.parametrize("case", bundled_case_names())
def test_every_bundled_case_matches_rundcpp(case, rundcpp_flows):
    import pandapower.networks as pn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ppn = getattr(pn, case)()
    grid = from_pandapower_net(copy.deepcopy(ppn), name=case, source=case)
    net = compile_network(grid)
    # pandapower's branch order in our tables: lines then trafos
    assert net.branch_ids.tolist() == [f"line:{i}" for i in ppn.line.index] + [
        f"trafo:{i}" for i in ppn.trafo.index
    ]

    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    br = bridges(net)
    picks = [None, *rng.choice(net.n_branch, size=2, replace=False).tolist()]
    if len(br):
        picks[-1] = int(rng.choice(br))
    for k in picks:
        ids = [] if k is None else [str(net.branch_ids[k])]
        p = copy.deepcopy(ppn)
        for e in ids:
            kind, idx = e.split(":")
            p[kind].loc[int(idx), "in_service"] = False
        ref, ref_dark = rundcpp_flows(p)
        res = dc_flow(net, net.state(ids))
        np.testing.assert_array_equal(res.dark_bus, ref_dark, err_msg=f"{case} {ids}: dark buses")
        live = np.isfinite(res.flow_mw)
        # branches out or in dark islands: pandapower reports 0 MW there
        assert np.all(np.abs(ref[~live]) < 1e-9), f"{case} {ids}"
        np.testing.assert_allclose(
            res.flow_mw[live], ref[live], atol=1e-6, rtol=0, err_msg=f"{case} {ids}"
        )
