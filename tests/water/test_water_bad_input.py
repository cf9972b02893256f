"""Bad water input: one InputError naming the file, the row and the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from warmgrid.errors import InputError
from warmgrid.model.scenario import parse_scenario
from warmgrid.water import HydraulicModel, area_map_from_table, read_area_junctions
from warmgrid.water.network import check_grid_targets
from water_helpers import tiny_inp


def test_unparsable_inp_names_the_file(tmp_path):
    p = tmp_path / "garbage.inp"
    p.write_text("this is not an EPANET file\n")
    with pytest.raises(InputError) as e:
        HydraulicModel(p)
    assert e.value.file == str(p)
    assert "not a valid EPANET .inp file" in str(e.value)
    assert "\n" not in str(e.value)


def test_bad_line_names_the_line(tmp_path):
    p = tmp_path / "bad.inp"
    p.write_text(tiny_inp().replace("J[1] 0 36.0", "J[1] zero 36.0"))
    with pytest.raises(InputError) as e:
        HydraulicModel(p)
    assert e.value.row == 4
    assert "zero" in str(e.value)
    assert "[JUNCTIONS]" in str(e.value)


def test_missing_file_and_bundled_names(tmp_path):
    with pytest.raises(InputError, match="closest: Net3"):
        HydraulicModel("Net33")
    with pytest.raises(InputError, match="no such EPANET"):
        HydraulicModel(tmp_path / "nope.inp")


def test_unknown_pump_names_it_and_the_closest(tmp_path):
    p = tmp_path / "tiny.inp"
    p.write_text(tiny_inp())
    with pytest.raises(InputError) as e:
        HydraulicModel(p, pump_power={"~@Pump-2": "load:x"}, source="city.inp")
    assert e.value.row == "~@Pump-2"
    assert e.value.field == "water.pump_power"
    assert e.value.file == "city.inp"
    assert "closest: ~@Pump-1" in str(e.value)


def test_unknown_grid_target():
    with pytest.raises(InputError) as e:
        check_grid_targets({"P1": "load:water-1x"}, ["load:water-1", "bus:3"], file="s.toml")
    assert e.value.row == "P1"
    assert "closest: load:water-1" in str(e.value)


def test_bad_pdd_pressures(tmp_path):
    p = tmp_path / "tiny.inp"
    p.write_text(tiny_inp())
    with pytest.raises(InputError, match="must exceed minimum_pressure_m"):
        HydraulicModel(p, required_pressure_m=10, minimum_pressure_m=10)
    with pytest.raises(InputError, match="must be >= 0"):
        HydraulicModel(p, minimum_pressure_m=-1)


def test_negative_pressure_with_every_pump_powered_is_bad_input(tmp_path):
    """A junction 60 m above a tank at 44 m: the network cannot serve it normally."""
    p = tmp_path / "high.inp"
    p.write_text(tiny_inp().replace("J[1] 0 36.0", "J[1] 60 36.0"))
    with HydraulicModel(p) as model, pytest.raises(InputError) as e:
        model.run(np.ones((6, 1), dtype=bool))
    msg = str(e.value)
    assert e.value.row == "J[1]"
    assert e.value.field == "pressure"
    assert "hour 0" in msg
    assert "with every pump powered" in msg
    assert "\n" not in msg


def test_pump_on_shape(tmp_path):
    p = tmp_path / "tiny.inp"
    p.write_text(tiny_inp())
    with HydraulicModel(p) as model, pytest.raises(InputError, match="one column per pump"):
        model.run(np.ones((6, 2), dtype=bool))


def test_area_junctions_table_errors():
    table = pd.DataFrame(
        {
            "area": ["area:a", "area:b", "area:zz", "area:a"],
            "junction": ["J1", "J9", "J1", "J1"],
            "share": [0.6, 1.0, 0.5, 0.2],
        }
    )
    with pytest.raises(InputError) as e:
        area_map_from_table(table, ["area:a", "area:b"], ["J1", "J2"], source="aj.csv")
    rows = {(p.row, p.field) for p in e.value.problems}
    assert (2, "junction") in rows
    assert (3, "area") in rows
    assert (4, "junction") in rows
    assert e.value.file == "aj.csv"
    assert "closest: J2, J1" in str(e.value.problems[0])


def test_area_junctions_csv(tmp_path):
    p = tmp_path / "aj.csv"
    p.write_text("area,junction,share\narea:a,J1,0.7\narea:b,J1,0.3\narea:b,J2,1\n")
    amap = read_area_junctions(p, ["area:a", "area:b", "area:c"], ["J1", "J2"])
    np.testing.assert_allclose(amap.share, [[0.7, 0.0], [0.3, 1.0], [0.0, 0.0]])
    assert amap.covered.tolist() == [True, True, False]
    p.write_text("area,junction,share\narea:a,J1,0.7\narea:b,J1,0.5\n")
    with pytest.raises(InputError, match=r"sum to 1\.2"):
        read_area_junctions(p, ["area:a", "area:b"], ["J1"])
    with pytest.raises(InputError, match="no such area_junctions"):
        read_area_junctions(tmp_path / "none.csv", ["area:a"], ["J1"])


def test_scenario_water_section_errors(tmp_path):
    with pytest.raises(InputError) as e:
        parse_scenario(
            {"grid": {"case": "winter-city"}, "water": {"inp": "a.inp", "pump_powr": {}}},
            source="s.toml",
        )
    assert "closest: pump_power" in str(e.value)
    assert e.value.field == "water.pump_powr"
    s = parse_scenario(
        {"grid": {"case": "winter-city"}, "water": {"inp": "city.inp", "area_junctions": "a.csv"}},
        source=tmp_path / "s.toml",
    )
    assert s.water_area_junctions_path == (tmp_path / "a.csv").resolve()
    assert s.water_inp_path == "city.inp"  # not a file here: as given (a bundled name?)
    (tmp_path / "city.inp").write_text(tiny_inp())
    assert s.water_inp_path == str((tmp_path / "city.inp").resolve())
