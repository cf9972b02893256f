"""winter-city's water network: pressures with every pump on, districts that dry first
when their station stops, and fewer pumps never delivering more water."""

from __future__ import annotations

import numpy as np
import pytest

from warmgrid.examples.winter_city import winter_city
from warmgrid.examples.winter_city_water import M3_PER_PERSON_DAY, winter_city_water
from warmgrid.water import area_map_from_table, area_water
from warmgrid.water.network import check_grid_targets
from water_helpers import outage


def _district(svc, model, station: str) -> set[str]:
    """Junctions (main and upper floors) of the areas a main station supplies."""
    areas = svc.water.set_index("id").loc[f"water:{station}", "areas"].split(";")
    names = [a.split(":", 1)[1] for a in areas]
    return {j for j in model.junctions if j in names or j.removesuffix("-upper") in names}


def test_deterministic_and_linked_to_the_grid(city_water):
    cw, model, svc = city_water
    assert winter_city_water(2026).inp == cw.inp
    assert winter_city_water(7).inp != cw.inp
    grid, _ = winter_city()
    assert set(cw.pump_power) == set(model.pumps)
    assert len(model.pumps) == 20
    check_grid_targets(cw.pump_power, grid.load["id"])
    assert cw.pump_power["north-works"] == "load:water-north-works"
    amap = area_map_from_table(cw.area_junctions, svc.areas["id"], model.junctions)
    assert amap.covered.all()
    assert (amap.share.sum(axis=0) == 1).all()
    base = model.baseline(72)
    day = base.expected_m3h[:24].sum()
    assert day == pytest.approx(svc.population * M3_PER_PERSON_DAY, rel=1e-4)  # .inp rounding
    assert 0.6e6 < day < 0.8e6  # about 0.7 M m³ per day


def test_all_pumps_on_pressure_between_25_and_60(city_water):
    _, model, _ = city_water
    base = model.baseline(72)
    assert base.min_pressure_m.min() >= 25.0
    assert base.pressure_m.max() <= 60.0
    assert np.allclose(base.service, 1.0)
    assert base.warnings == ()
    assert (base.tank_level_m > 0.5).all()  # no tank runs dry in normal operation


@pytest.mark.parametrize("station", ["wells-vyshnia", "river-works"])
def test_pressure_falls_in_the_cut_district_first(city_water, station):
    _, model, svc = city_water
    res = model.run(outage(model, [(station, 0, 72)]))
    district = _district(svc, model, station)
    low = res.min_pressure_m < 25.0
    first = int(np.argmax(low.any(axis=1)))
    assert low.any()
    assert first >= 6
    hit = [model.junctions[j] for j in np.flatnonzero(low[first])]
    lowest = model.junctions[int(np.argmin(res.min_pressure_m[first]))]
    assert lowest in district
    assert sum(j in district for j in hit) >= 0.9 * len(hit)
    base = model.baseline(72)
    drop = (base.min_pressure_m - res.min_pressure_m)[: first + 1]
    inside = [j for j, name in enumerate(model.junctions) if name in district]
    outside = [j for j, name in enumerate(model.junctions) if name not in district]
    assert drop[:, inside].max() > drop[:, outside].max()  # the deepest fall is inside
    assert drop[-1, inside].mean() > 10.0 * drop[-1, outside].mean()  # and most of it


@pytest.mark.parametrize(
    ("fewer", "more"),
    [
        ([("wells-vyshnia", 0, 72)], []),
        ([("river-works", 0, 72)], [("river-works", 0, 24)]),
        ([("wells-vyshnia", 0, 72), ("river-works", 6, 72)], [("wells-vyshnia", 0, 72)]),
    ],
)
def test_fewer_pumps_never_deliver_more(city_water, fewer, more):
    """Cutting sources (main stations, to the end of the horizon) never raises any
    junction's delivered water, to EPANET's accuracy."""
    _, model, svc = city_water
    a = model.run(outage(model, more))
    b = model.run(outage(model, fewer))
    assert (b.delivered_m3h <= a.delivered_m3h + 1e-4).all()
    assert b.delivered_m3h.sum() < a.delivered_m3h.sum()
    amap = area_map_from_table(_table(city_water), svc.areas["id"], model.junctions)
    pop = svc.areas["population"].to_numpy()
    wa, wb = area_water(a, amap, pop), area_water(b, amap, pop)
    assert (wb.people_without >= wa.people_without).all()


def test_stopped_booster_can_leave_more_for_its_neighbours(city_water):
    """Not a theorem per junction: a booster that stops (or trips) no longer draws on a
    stressed main zone, so nearby lower floors may get a little more; the city as a
    whole never gets more water."""
    _, model, _ = city_water
    a = model.run(outage(model, [("wells-vyshnia", 0, 72)]))
    b = model.run(outage(model, [("wells-vyshnia", 0, 72), ("booster-verbivka", 0, 72)]))
    assert b.delivered_m3h.sum() < a.delivered_m3h.sum()
    upper = [j for j, name in enumerate(model.junctions) if name.endswith("-upper")]
    assert (b.delivered_m3h[:, upper] <= a.delivered_m3h[:, upper] + 1e-4).all()


def _table(city_water):
    return city_water[0].area_junctions
