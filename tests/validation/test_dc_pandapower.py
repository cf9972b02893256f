"""DC flows after single and double branch outages vs pandapower ``rundcpp``.

For each case: 50 random single and 20 random double outages (a quarter of the singles
and doubles forced to include a bridge, so islanding outages are always covered). The
elements are set out of service on a copy of the pandapower net and ``rundcpp`` is run.
The energised (slack) island must match to 1e-6 MW; the rest must be dark in both
(pandapower reports NaN angles on its buses and 0 MW on its branches).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from warmgrid.power.dc import dc_flow
from warmgrid.power.network import compile_network
from warmgrid.power.topology import bridges

CASES = ["case118", "case1354pegase", "case2869pegase"]


def _set(ppn, ids, value):
    for e in ids:
        kind, idx = e.split(":")
        ppn[kind].loc[int(idx), "in_service"] = value


@pytest.mark.parametrize("case", CASES)
def test_outages_match_pandapower(load, case, rundcpp_flows):
    import pandapower.networks as pn

    net = compile_network(load(case))
    ppn = copy.deepcopy(getattr(pn, case)())
    assert ppn.bus.index.tolist() == [int(b.split(":")[1]) for b in net.bus_ids]
    rng = np.random.default_rng(2024)
    br = np.flatnonzero(bridges(net))
    nb = np.flatnonzero(~bridges(net))
    nbr = min(12, len(br))
    singles = [[k] for k in rng.choice(nb, 50 - nbr, replace=False)] + [
        [k] for k in rng.choice(br, nbr, replace=False)
    ]
    doubles = [list(rng.choice(nb, 2, replace=False)) for _ in range(15)] + [
        [rng.choice(br), rng.choice(nb)] for _ in range(5)
    ]
    n_island = 0
    for out in singles + doubles:
        ids = [str(net.branch_ids[k]) for k in out]
        _set(ppn, ids, False)
        try:
            ref, ref_dark = rundcpp_flows(ppn)
        finally:
            _set(ppn, ids, True)
        r = dc_flow(net, net.state(ids))
        np.testing.assert_array_equal(r.dark_bus, ref_dark, err_msg=f"{case} {ids}")
        live = ~np.isnan(r.flow_mw)
        np.testing.assert_allclose(
            r.flow_mw[live], ref[live], atol=1e-6, rtol=0, err_msg=f"{case} {ids}"
        )
        # branches we leave out are out of service or dark: pandapower gives 0 or NaN
        assert np.all(np.nan_to_num(ref[~live]) == 0.0)
        assert np.isnan(r.flow_mw[out]).all()
        n_island += bool(r.dark_bus.any())
    assert n_island >= nbr + 5  # the forced bridges island the grid
