"""The scenario TOML model: every contract key, strict keys with suggestions, paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from warmgrid.errors import InputError
from warmgrid.model.scenario import (
    BUNDLED_SCENARIOS_DIR,
    bundled_scenarios,
    load_scenario,
    parse_scenario,
)

FULL = """
name = "test"
[grid]
case = "case118"
services = "none"
[damage]
elements = ["line:3", "bus:12", "substation:S4"]
[impact]
mode = "cascade"
trip_factor = 1.2
[weather]
csv = "weather.csv"
[horizon]
hours = 48
start = "2026-02-03T00:00"
[repair]
crews = 2
hours = { "line:3" = 8.0 }
[thresholds]
indoor_c = [18, 12, 5]
"""


def _write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_all_contract_keys(tmp_path):
    sc = load_scenario(_write(tmp_path, FULL))
    assert sc.name == "test"
    assert sc.grid.case == "case118"
    assert sc.grid.services == "none"
    assert sc.damage.elements == ["line:3", "bus:12", "substation:S4"]
    assert sc.impact.mode == "cascade"
    assert sc.impact.trip_factor == 1.2
    assert sc.weather.csv == "weather.csv"
    assert sc.weather.outdoor_c is None
    assert sc.weather_csv_path == (tmp_path / "weather.csv").resolve()
    assert sc.horizon.hours == 48
    assert sc.horizon.start.isoformat() == "2026-02-03T00:00:00"
    assert sc.repair.crews == 2
    assert sc.repair.hours == {"line:3": 8.0}
    assert sc.thresholds.indoor_c == [18.0, 12.0, 5.0]
    assert sc.case_path == "case118"  # a bundled name stays a name


def test_defaults(tmp_path):
    sc = load_scenario(_write(tmp_path, '[grid]\ncase = "case9"\n', "mini.toml"))
    assert sc.name == "mini"
    assert sc.grid.services == "auto"
    assert sc.damage.elements == []
    assert sc.impact.mode == "mld"
    assert sc.impact.trip_factor == 1.0
    assert sc.weather.outdoor_c == -20.0
    assert sc.horizon.hours == 72
    assert sc.horizon.start is None
    assert sc.thresholds.indoor_c == [18.0, 12.0, 5.0]


def test_relative_case_path_resolves_against_the_toml_folder(tmp_path):
    sub = tmp_path / "grids"
    sub.mkdir()
    (sub / "my.m").write_text("function mpc = my\n", encoding="utf-8")
    other = tmp_path / "scen"
    other.mkdir()
    sc = load_scenario(_write(other, '[grid]\ncase = "../grids/my.m"\nservices = "ov.json"\n'))
    assert Path(sc.case_path) == (sub / "my.m").resolve()
    assert Path(sc.services_path) == (other / "ov.json").resolve()


@pytest.mark.parametrize(
    ("text", "key", "suggest"),
    [
        ('[grid]\ncase = "case9"\nservics = "auto"\n', "grid.servics", "services"),
        ('[grid]\ncase = "case9"\n[impakt]\nmode = "mld"\n', "impakt", "impact"),
        (
            '[grid]\ncase = "case9"\n[impact]\ntrip_factr = 1.1\n',
            "impact.trip_factor",
            "trip_factor",
        ),
        ('[grid]\ncase = "case9"\n[horizon]\nhour = 3\n', "horizon.hour", "hours"),
    ],
)
def test_unknown_key_names_file_key_and_closest(tmp_path, text, key, suggest):
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert str(p.resolve()) in msg or str(p) in msg
    assert suggest in msg
    assert e.value.field.split(".")[0] == key.split(".")[0]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[grid]\ncase = "case9"\n[impact]\nmode = "mdl"\n', "impact.mode"),
        ('[grid]\ncase = "case9"\n[impact]\ntrip_factor = 0\n', "impact.trip_factor"),
        ('[grid]\ncase = "case9"\n[horizon]\nhours = -3\n', "horizon.hours"),
        ('[grid]\ncase = "case9"\n[repair]\ncrews = 0\n', "repair.crews"),
        ('[grid]\ncase = "case9"\n[repair]\nhours = { "line:3" = -1 }\n', "repair.hours"),
        ('[grid]\ncase = "case9"\n[weather]\noutdoor_c = -5\ncsv = "w.csv"\n', "weather"),
        ('[grid]\ncase = "case9"\n[weather]\noutdoor_c = -500\n', "weather.outdoor_c"),
        ('[grid]\ncase = "case9"\n[damage]\nelements = "line:3"\n', "damage.elements"),
        ("[damage]\nelements = []\n", "grid"),
    ],
)
def test_bad_values(tmp_path, text, field):
    with pytest.raises(InputError) as e:
        load_scenario(_write(tmp_path, text))
    assert e.value.field == field
    assert e.value.file.endswith("s.toml")


def test_toml_syntax_error(tmp_path):
    with pytest.raises(InputError, match="TOML syntax"):
        load_scenario(_write(tmp_path, "[grid\ncase = 1\n"))


def test_bundled_name_works_where_a_path_does():
    names = bundled_scenarios()
    assert "frost-strike" in names
    sc = load_scenario("frost-strike")
    assert sc.source == (BUNDLED_SCENARIOS_DIR / "frost-strike.toml").resolve()
    assert sc.weather_csv_path is not None
    assert sc.weather_csv_path.exists()


def test_unknown_scenario_name_suggests():
    with pytest.raises(InputError, match="frost-strike"):
        load_scenario("frost-strik")


def test_parse_from_dict_extends_per_section():
    sc = parse_scenario({"grid": {"case": "case9"}, "damage": {"elements": ["gen:1"]}})
    assert sc.damage.elements == ["gen:1"]
    assert sc.name == "scenario"
