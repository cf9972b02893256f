"""The hydraulic model's bookkeeping: cache by outage pattern, pickling, areas."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from warmgrid.water import (
    HydraulicModel,
    area_map_from_table,
    area_water,
    nearest_area_map,
    pump_on_matrix,
)
from water_helpers import tiny_inp


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "tiny.inp"
    p.write_text(tiny_inp())
    with HydraulicModel(p, pump_power={"~@Pump-1": "load:pump"}) as model:
        yield model


def test_cache_by_outage_pattern(tiny):
    a = np.ones((24, 1), dtype=bool)
    a[5:9] = False
    b = a.copy()
    assert tiny.pattern(a) == ((0, frozenset()), (5, frozenset({"~@Pump-1"})), (9, frozenset()))
    r1 = tiny.run(a)
    assert tiny.hydraulic_runs == 2  # the pattern and the all-powered run it resumes from
    assert tiny.run(b) is r1
    assert tiny.run(a[:1], hours=24) is not r1
    assert tiny.hydraulic_runs == 2  # a[:1] is all-powered over 24 h: the cached baseline
    tiny.run(a[:12])  # another horizon is another run (and its baseline)
    assert tiny.hydraulic_runs == 4


def test_runs_do_not_depend_on_history(tiny):
    on = np.ones((24, 1), dtype=bool)
    on[3:15] = False
    first = tiny.run(on)
    tiny.clear_cache()
    tiny.run(np.zeros((24, 1), dtype=bool))
    again = tiny.run(on)
    assert again is not first
    np.testing.assert_array_equal(again.delivered_m3h, first.delivered_m3h)
    np.testing.assert_array_equal(again.pressure_m, first.pressure_m)


def test_pickle_reopens(tiny):
    on = np.zeros((12, 1), dtype=bool)
    r = tiny.run(on)
    clone = pickle.loads(pickle.dumps(tiny))
    np.testing.assert_array_equal(clone.run(on).delivered_m3h, r.delivered_m3h)
    assert clone.pump_power == tiny.pump_power
    clone.close()


def test_pump_on_matrix_and_assumptions(tiny):
    on = tiny.pump_on({"load:pump": np.array([1.0, 0.6, 0.4, 0.0])}, 4)
    assert on[:, 0].tolist() == [True, True, False, False]
    free = pump_on_matrix(["A", "B"], {"B": "bus:1"}, {"bus:1": np.zeros(3)}, 3)
    assert free[:, 0].all()
    assert not free[:, 1].any()
    assert "UNBALANCED CONTINUE" in tiny.assumptions[0]  # the file says nothing: STOP
    with HydraulicModel("Net1") as net1:
        assert "keep power throughout" in net1.assumptions[0]


def test_area_aggregation(tiny):
    res = tiny.run(np.zeros((24, 1), dtype=bool))
    amap = nearest_area_map(
        tiny.junctions, tiny.junction_xy, ["area:far", "area:near"], np.array([[9, 9], [1, 1.2]])
    )
    assert amap.share.tolist() == [[0.0], [1.0]]
    assert "nearest" in amap.assumptions[0]
    assert "1 area has no junction" in amap.assumptions[1]
    w = area_water(res, amap, np.array([100.0, 50.0]), service_share=0.5)
    assert w.fraction[:, 0].tolist() == [1.0] * 24  # no junction: counted as served
    assert w.people_without[:10].tolist() == [0.0] * 10
    assert w.people_without[10] == 50.0
    assert w.people_without[11] == 50.0
    assert np.isnan(w.worst_pressure_m[0])
    assert w.worst_pressure_m[1] == pytest.approx(res.min_pressure_m[:, 0].min())
    frame = res.junction_frame()
    assert len(frame) == 24
    assert set(frame.columns) >= {"hour", "junction", "delivered_m3h"}
    half = area_map_from_table(
        amap.table().assign(share=0.5), amap.areas, amap.junctions, source="t"
    )
    assert half.share[1, 0] == 0.5
