"""winter-city: determinism, ballpark figures, and a physically sound intact grid."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse.linalg as spl

from warmgrid.errors import InputError
from warmgrid.examples.winter_city import (
    frost_strike_weather,
    generate,
    winter_city,
    winter_city_grid,
)
from warmgrid.model.grid import Grid
from warmgrid.model.services import Services, split_ids
from warmgrid.power.network import compile_network
from warmgrid.power.topology import islands

_TABLES = ("areas", "heat", "water", "facilities")


@pytest.fixture(scope="module")
def city():
    return winter_city()


@pytest.fixture(scope="module")
def net(city):
    grid, svc = city
    return compile_network(grid, groups=svc.groups())


def test_same_seed_regenerates_identical_tables(city):
    grid, svc = city
    t0 = time.perf_counter()
    grid2, svc2 = generate.__wrapped__(2026)  # bypass the memo: a fresh generation
    assert time.perf_counter() - t0 < 2.0  # budget 1 s; slack for a loaded CI machine
    for name, df in grid.tables().items():
        pd.testing.assert_frame_equal(df, grid2.tables()[name])
    for name in _TABLES:
        pd.testing.assert_frame_equal(getattr(svc, name), getattr(svc2, name))
    assert svc.substations == svc2.substations
    assert winter_city(2026) is city  # memoised


def test_other_seed_gives_another_city(city):
    grid, svc = city
    grid2, svc2 = winter_city(7)
    assert not svc.areas["population"].equals(svc2.areas["population"])
    assert not grid.bus[["x", "y"]].equals(grid2.bus[["x", "y"]])
    assert set(svc.substations) == set(
        svc2.substations
    )  # same skeleton, so damage lists carry over


def test_population_and_element_counts(city):
    grid, svc = city
    assert 3.0e6 <= svc.areas["population"].sum() <= 3.3e6
    assert (svc.areas["population"] > 0).all()
    assert len(svc.areas) == 100
    assert svc.heat["kind"].value_counts().to_dict() == {"boiler": 20, "chp": 3}
    assert len(svc.water) == 20
    assert (svc.facilities["kind"] == "hospital").sum() == 30
    assert (
        svc.facilities["backup_h"] == 120.0
    ).all()  # 5 days, Ukrainian state emergency commission
    assert 30 <= (grid.bus["vn_kv"] == 110.0).sum() <= 45
    assert 6 <= (grid.bus["vn_kv"] == 330.0).sum() <= 10


def test_demand_and_supply(city):
    grid, _ = city
    load = grid.load.loc[grid.load["in_service"], "p_mw"].sum()
    assert 1000.0 <= load <= 1700.0
    gen = grid.gen
    ext = gen[gen["kind"] == "external"]
    assert 4 <= len(ext) <= 6
    assert ext["p_max_mw"].between(200.0, 450.0).all()
    assert gen["slack"].sum() == 1
    assert np.isfinite(gen["p_max_mw"]).all()
    cap = gen["p_max_mw"].sum()
    assert load <= cap <= 1.5 * load  # a modest reserve
    # the set points balance the load, each unit within its limits
    assert gen["p_mw"].sum() == pytest.approx(load, abs=1e-6)
    assert (gen["p_mw"] <= gen["p_max_mw"]).all()
    assert (gen["p_mw"] >= gen["p_min_mw"]).all()
    chp = gen[gen["kind"] == "chp"]
    plant = chp["id"].str.rsplit("-", n=1).str[0]
    assert sorted(chp.groupby(plant)["p_max_mw"].sum()) == [120.0, 500.0, 700.0]


def test_tables_revalidate(city):
    """The generated tables pass the same validation as a user's, unchanged, and a broken
    copy of them does not."""
    grid, svc = city
    regrid = Grid(name=grid.name, base_mva=grid.base_mva, **grid.tables())
    for name, df in grid.tables().items():
        pd.testing.assert_frame_equal(regrid.tables()[name], df)
    resvc = Services.build(
        regrid, substations=svc.substations, **{t: getattr(svc, t) for t in _TABLES}
    )
    for t in _TABLES:
        pd.testing.assert_frame_equal(getattr(resvc, t), getattr(svc, t))
    broken = svc.areas.copy()
    broken.loc[0, "load"] = "load:nowhere"
    with pytest.raises(InputError, match="unknown load 'load:nowhere'"):
        Services.build(
            regrid,
            substations=svc.substations,
            **{**{t: getattr(svc, t) for t in _TABLES}, "areas": broken},
        )


def test_every_area_has_power_water_and_heat_rules(city):
    grid, svc = city
    loads = grid.load.set_index("id")
    areas = svc.areas
    assert areas["load"].isin(loads.index).all()
    assert (loads.loc[areas["load"], "p_mw"].to_numpy() > 0).all()
    assert loads.loc[areas["load"], "in_service"].all()
    served = {a for s in svc.water["areas"] for a in split_ids(s)}
    assert served == set(areas["id"])
    houses = areas["archetype"] == "house"
    dh = areas["heat_sources"].str.len() > 0
    assert not dh[houses].any()
    assert (areas.loc[houses, "individual_heating_share"] == 1.0).all()
    assert 0.85 <= dh[~houses].mean() <= 0.95
    assert (areas["needs_local_power"] == (areas["archetype"] == "modern")).all()
    boilers = svc.heat[svc.heat["kind"] == "boiler"]
    assert (boilers["backup_h"] > 0).sum() == round(2 * len(boilers) / 3)
    heated = {h for s in areas["heat_sources"] for h in split_ids(s)}
    assert heated == set(svc.heat["id"])  # every heat source heats some area
    for gens in svc.heat.loc[svc.heat["kind"] == "chp", "gens"]:
        assert (grid.gen.set_index("id").loc[split_ids(gens), "kind"] == "chp").all()


def test_everything_has_map_coordinates(city):
    grid, svc = city
    for df in (grid.bus, svc.areas, svc.heat, svc.water, svc.facilities):
        xy = df[["x", "y"]].to_numpy(dtype=float)
        assert np.isfinite(xy).all()
        assert ((xy >= 0.0) & (xy <= 30.0)).all()


def test_intact_dc_flow_within_ratings(city, net):
    grid, _ = city
    st = net.base_state
    isl = islands(net, st)
    assert isl.count == 1
    bbus = net.bbus(st.branch_on)
    p = net.bus_injection_mw(st) / net.base_mva
    ref = net.gen_bus[net.gen_slack][0]
    keep = np.arange(net.n_bus) != ref
    theta = np.zeros(net.n_bus)
    theta[keep] = spl.spsolve(bbus[keep][:, keep].tocsc(), p[keep])
    flow = net.bf(st.branch_on) @ theta * net.base_mva
    # Kirchhoff: the flows leaving each bus equal its injection (set points balance, so
    # the slack bus closes too)
    np.testing.assert_allclose(net.incidence.T @ flow, p * net.base_mva, atol=1e-6)
    rate = grid.branch["rate_mva"].to_numpy(dtype=float)
    assert (rate > 0).all()
    assert np.isfinite(rate).all()
    assert np.max(np.abs(flow) / rate) <= 1.0


def test_single_branch_outages_never_island_but_strikes_cut_load(city, net):
    _, svc = city
    base = net.base_state
    for b in net.branch_ids:
        assert islands(net, base.without(net, [b])).count == 1, b
    ring = [
        k for k, v in svc.substations.items() if len(v) == 2 and not k.startswith("substation:chp")
    ]
    assert 6 <= len(ring) <= 8
    for sub in ring:
        st = base.without(net, [sub]).effective(net)
        dark = islands(net, st).dark()
        lost = ~st.load_on | dark[net.load_bus]
        assert net.load_p_mw[lost].sum() > 0, sub


def test_load_grid_gives_the_default_city(city):
    from warmgrid.io import load_grid

    assert load_grid("winter-city") is city[0]
    assert winter_city_grid() is city[0]


def test_frost_strike_weather():
    w = frost_strike_weather()
    assert list(w.columns) == ["time", "outdoor_c"]
    assert len(w) == 168
    assert w["time"].iloc[0] == pd.Timestamp("2026-02-03T00:00")
    assert (w["time"].diff().dropna() == pd.Timedelta(hours=1)).all()
    day1 = w.iloc[:24]
    assert day1["outdoor_c"].min() == -20.0
    assert day1["outdoor_c"].max() == -16.0
    assert day1["time"].dt.hour[day1["outdoor_c"].idxmin()] in (4, 5)
    assert day1["time"].dt.hour[day1["outdoor_c"].idxmax()] in (14, 15)
    assert w["outdoor_c"].between(-20.0, -16.0).all()
