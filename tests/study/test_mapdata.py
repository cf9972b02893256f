"""The map's hourly layers in the impact and restore JSON (study/mapdata.py): every change
list expands back to the replay's own hourly figures, the power states follow the repairs,
and ``warmgrid impact --json`` and ``demo`` write the same JSON."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from warmgrid.cli import main
from warmgrid.model.scenario import load_scenario
from warmgrid.study.run import impact

SCEN = """
name = "map-test"
[grid]
case = "winter-city"
[damage]
elements = ["gen:chp-south-1", "gen:chp-south-2", "gen:chp-south-3", "substation:kalynova"]
[weather]
outdoor_c = -18.0
[horizon]
hours = 24
start = "2026-01-10T18:00"
[repair]
crews = 2
hours = { "gen:chp-south-1" = 6.0, "gen:chp-south-2" = 6.0, "gen:chp-south-3" = 4.0, "substation:kalynova" = 10.0 }
"""


def dense(changes, n):
    """A ``[[hour, value], ...]`` change list as one value per hour 0..n-1."""
    out, j, v = [], 0, None
    for k in range(n):
        while j < len(changes) and changes[j][0] <= k:
            v = changes[j][1]
            j += 1
        out.append(v)
    return out


@pytest.fixture(scope="module")
def scen(tmp_path_factory):
    p = tmp_path_factory.mktemp("map") / "map-test.toml"
    p.write_text(SCEN, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def result(scen):
    return impact(load_scenario(scen))


def test_impact_area_rows_are_the_replays_columns(result):
    """Each area's row of the impact JSON, read back area by area from the replay (the
    rows are built for all areas at once)."""
    from warmgrid.metrics import threshold_key
    from warmgrid.power.elements import catalogue

    tl, sim = result.timeline, result.study.simulator
    res = result.to_json()
    areas = sim.services.areas
    assert [a["id"] for a in res["areas"]] == areas["id"].tolist()
    assert tl.band is not None  # an impact carries the fast-slow range
    for i, a in enumerate(res["areas"]):
        assert a["name"] == (areas["name"].iloc[i] or areas["id"].iloc[i])
        assert a["population"] == round(float(areas["population"].iloc[i]))
        assert a["min_temp_c"] == float(tl.temp_c[:, i].min())
        assert a["end_temp_c"] == float(tl.temp_c[-1, i])
        for key, arr in (("heat", tl.heat), ("power", tl.light), ("water", tl.water)):
            want = sum(1.0 - float(x) for x in arr[:, i]) * tl.dt_h
            assert a[f"hours_without_{key}"] == pytest.approx(want, abs=1e-9)
        assert a["drained"] == bool(tl.drained[:, i].any())
        for j, key in enumerate(threshold_key(t) for t in tl.thresholds_c):
            crossing = tl.crossing_h[i, j]
            assert a[f"hours_to_{key}"] == (float(crossing) if np.isfinite(crossing) else None)
            assert a[f"hours_below_{key}"] == float(tl.hours_below[i, j])
            fast, slow = tl.band["fast"][0][i, j], tl.band["slow"][0][i, j]
            assert a[f"hours_to_{key}_range"] == [
                float(x) if np.isfinite(x) else None for x in (fast, slow)
            ]
    # the damaged elements are named as the grid's catalogue names them
    names = {e.id: e.name for e in catalogue(sim.net, sim.grid)}
    detail = {d["id"]: d["name"] for d in res["damage_detail"]}
    assert detail["substation:kalynova"] == names["substation:kalynova"] + " substation"
    assert detail["gen:chp-south-1"] == names["gen:chp-south-1"]


def test_impact_map_expands_to_the_replay(result):
    tl = result.timeline
    res = result.to_json()
    m = res["map"]
    n = len(tl.hours)
    assert m["n_hours"] == n
    assert m["dt_h"] == 1.0
    assert len(m["areas"]) == len(res["areas"])
    assert len(m["t_out_c"]) == n
    for i, a in enumerate(m["areas"]):
        assert a["name"] == res["areas"][i]["name"]
        assert a["archetype"] == res["areas"][i]["archetype"]
        temps = dense(a["temp_c"], n + 1)
        np.testing.assert_allclose(temps, np.round(tl.temp_c[:, i], 1))
        for key, arr in (("light_pct", tl.light), ("heat_pct", tl.heat), ("water_pct", tl.water)):
            np.testing.assert_array_equal(dense(a[key], n), np.rint(arr[:, i] * 100))
        assert dense(a["drained"], n) == tl.drained[:, i].astype(int).tolist()
        # a change list holds only changes
        for key in ("temp_c", "light_pct", "heat_pct", "water_pct", "drained"):
            vals = [v for _, v in a[key]]
            assert all(x != y for x, y in itertools.pairwise(vals))
            assert a[key][0][0] == 0


def test_impact_map_states(result):
    res = result.to_json()
    m = res["map"]
    # no repair: one power state, the damage all along, the buses dark as the MLD says
    assert len(m["power"]) == 1
    st = m["power"][0]
    assert st["hour"] == 0
    assert st["damaged"] == res["damage"]
    assert sorted(st["dark"]) == sorted(b["id"] for b in m["buses"] if b["dark"])
    assert sorted(st["out"]) == sorted(b["id"] for b in m["branches"] if b["out"])
    assert {d["id"] for d in m["damage"]} == set(res["damage"])
    assert all(d["back_h"] is None for d in m["damage"])
    # CHP SOUTH has lost its three units: its peak boilers give part of its heat
    south = next(h for h in m["heat_sources"] if h["id"] == "heat:chp-south")
    assert 0 < south["available_pct"][0][1] < 100
    assert {s for w in m["water_stations"] for _, s in w["state"]} <= {"pumps", "tanks", "dry"}
    assert {s for f in m["facilities"] for _, s in f["state"]} <= {"mains", "backup", "down"}
    # the header's context
    assert res["start"] == "2026-01-10T18:00:00"
    assert res["weather"] == {"outdoor_min_c": -18.0, "outdoor_max_c": -18.0}
    kinds = {d["id"]: d["kind"] for d in res["damage_detail"]}
    assert kinds == {
        "gen:chp-south-1": "gen",
        "gen:chp-south-2": "gen",
        "gen:chp-south-3": "gen",
        "substation:kalynova": "substation",
    }
    assert next(d for d in res["damage_detail"] if d["id"] == "substation:kalynova")[
        "name"
    ].endswith("substation")


def test_restore_map_follows_the_repairs(scen, capsys):
    code = main(["restore", str(scen), "--json", "--generators", "1", "--shelters", "1"])
    out = capsys.readouterr().out
    assert code == 0
    res = json.loads(out)
    m = res["map"]
    ends = {r["element"]: r["end_h"] for r in res["plan"]}
    assert {d["id"]: d["back_h"] for d in m["damage"]} == ends
    for st in m["power"]:
        assert set(st["damaged"]) == {e for e, h in ends.items() if h > st["hour"]}
    assert m["power"][-1]["damaged"] == []
    assert m["power"][-1]["out"] == []
    assert m["n_hours"] == res["horizon_h"]
    assert res["weather"]["outdoor_min_c"] == -18.0
    units = m["units"]
    assert {u["kind"] for u in units} == {"generator", "shelter"}
    assert all(u["x"] is not None and u["name"] for u in units)


def test_impact_json_and_demo_are_the_same(scen, tmp_path, capsys):
    assert main(["impact", str(scen), "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert main(["demo", "--scenario", str(scen), "--out", str(tmp_path), "--json"]) == 0
    capsys.readouterr()
    b = json.loads((tmp_path / "impact.json").read_text(encoding="utf-8"))
    for key in ("seconds", "seconds_power"):  # wall times
        a.pop(key)
        b.pop(key)
    assert a == b
