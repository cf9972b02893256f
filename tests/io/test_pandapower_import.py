"""Bundled pandapower cases and pandapower JSON files against pandapower's own numbers.

For each grid: counts, total load, total capacity from pandapower's element tables,
and the DC branch flows of ``pandapower.rundcpp`` reproduced by an independent DC
power flow (tests/io/conftest.py) on the imported tables to 1e-6 MW.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from warmgrid.io import bundled_names, load_grid

warnings.filterwarnings("ignore")

CASES = ["case9", "case30", "case57", "case118", "case300", "case1354pegase", "case9241pegase"]


def _fresh_net(name: str):
    import pandapower.networks as pn

    return getattr(pn, name)()


def _check_against(grid, ref: dict, dc_flow) -> None:
    s = grid.summary()
    for key in ("buses", "branches", "generators", "loads"):
        assert s[key] == ref[key], key
    assert s["total_load_mw"] == pytest.approx(ref["total_load_mw"], rel=1e-12, abs=1e-9)
    assert s["total_capacity_mw"] == pytest.approx(ref["total_capacity_mw"], rel=1e-12, abs=1e-9)
    flows = pd.Series(dc_flow(grid), index=grid.branch["id"])
    on = grid.branch.set_index("id")["in_service"]
    assert set(on.index[on]) == set(ref["flows"].index)
    diff = (flows[ref["flows"].index] - ref["flows"]).abs()
    assert diff.max() < 1e-6, diff.idxmax()


@pytest.mark.parametrize("name", CASES)
def test_bundled_case_matches_pandapower(name: str, load, dc_flow, pp_reference) -> None:
    _check_against(load(name), pp_reference(_fresh_net(name)), dc_flow)


def test_case9241pegase_counts(load) -> None:
    s = load("case9241pegase").summary()
    assert (s["buses"], s["branches"]) == (9241, 16049)


def test_ids_follow_pandapower_tables(load) -> None:
    net = _fresh_net("case30")
    g = load("case30")
    assert list(g.bus["id"]) == [f"bus:{i}" for i in net.bus.index]
    assert list(g.branch["id"]) == [f"line:{i}" for i in net.line.index] + [
        f"trafo:{i}" for i in net.trafo.index
    ]
    assert g.gen["id"].iloc[0] == "ext_grid:0"
    assert bool(g.gen["slack"].iloc[0])


def test_cache_gives_the_same_grid(load) -> None:
    load("case118")  # writes the cache, if no test before did
    cached = load_grid("case118")
    assert cached.meta.get("cached") is True
    fresh = load_grid("case118", use_cache=False)
    for name, df in fresh.tables().items():
        pd.testing.assert_frame_equal(cached.tables()[name], df, check_dtype=False, obj=name)


def test_bundled_names_list_pandapower_cases() -> None:
    names = bundled_names()
    for n in ("case9", "case118", "case9241pegase", "GBnetwork", "case6470rte", "iceland"):
        assert n in names
    import pandapower.networks as pn

    assert all(callable(getattr(pn, n, None)) for n in names if n != "winter-city")


@pytest.fixture(scope="module")
def json_net(tmp_path_factory):
    """A modified case57 saved with pp.to_json: an outage, a static generator, scaled load."""
    import pandapower as pp

    net = _fresh_net("case57")
    net.line.loc[3, "in_service"] = False
    pp.create_sgen(net, bus=12, p_mw=25.0, q_mvar=0.0)
    net.load.loc[0, "scaling"] = 0.5
    path = tmp_path_factory.mktemp("ppjson") / "my_case57.json"
    pp.to_json(net, str(path))
    return path


def test_pandapower_json_matches_pandapower(json_net, dc_flow, pp_reference) -> None:
    import pandapower as pp

    grid = load_grid(json_net)
    assert grid.name == "my_case57"
    ref = pp_reference(pp.from_json(str(json_net)))
    _check_against(grid, ref, dc_flow)
    assert not bool(grid.branch.set_index("id").loc["line:3", "in_service"])
    assert "sgen:0" in set(grid.gen["id"])
    assert np.isclose(
        grid.load.set_index("id").loc["load:0", "p_mw"], _fresh_net("case57").load.p_mw[0] * 0.5
    )
