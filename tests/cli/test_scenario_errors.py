"""Bad scenario inputs (issue 5, point 7): one line naming file, row and field; exit 2;
nothing written. The scenarios use an exported copy of winter-city, as a user would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from warmgrid.cli import main

WEATHER = "time,outdoor_c\n" + "".join(f"2026-02-03T{h:02d}:00,-20.0\n" for h in range(24))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("city")
    assert main(["export", "winter-city", str(root / "wc")]) == 0
    return root / "wc"


def scenario(
    folder: Path,
    city: Path,
    *,
    weather: str = WEATHER,
    hours: int = 12,
    extra: str = "",
    services: str | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weather.csv").write_text(weather, encoding="utf-8")
    svc = services or str(city / "services")
    p = folder / "s.toml"
    p.write_text(
        f'[grid]\ncase = "{city / "grid"}"\nservices = "{svc}"\n'
        '[damage]\nelements = ["gen:chp-south-1"]\n'
        '[weather]\ncsv = "weather.csv"\n'
        f"[horizon]\nhours = {hours}\n{extra}",
        encoding="utf-8",
    )
    return p


def run_bad(capfd, path: Path, out: Path) -> str:
    code = main(["demo", "--scenario", str(path), "--out", str(out)])
    err = capfd.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert not out.exists(), "nothing may be written on bad input"
    return err


def test_good_copy_runs(tmp_path, city, capfd):
    p = scenario(tmp_path / "ok", city)
    out = tmp_path / "out"
    assert main(["demo", "--scenario", str(p), "--out", str(out), "--json"]) == 0
    capfd.readouterr()
    assert (out / "impact.json").exists()
    assert (out / "report.html").exists()


def test_weather_gap(tmp_path, city, capfd):
    w = WEATHER.replace("2026-02-03T05:00,-20.0\n", "")
    err = run_bad(capfd, scenario(tmp_path / "s", city, weather=w), tmp_path / "out")
    assert "weather.csv" in err
    assert "row 7" in err
    assert "'time'" in err


def test_weather_missing_value(tmp_path, city, capfd):
    w = WEATHER.replace("2026-02-03T05:00,-20.0", "2026-02-03T05:00,")
    err = run_bad(capfd, scenario(tmp_path / "s", city, weather=w), tmp_path / "out")
    assert "weather.csv" in err
    assert "row 7" in err
    assert "outdoor_c" in err


def test_weather_text_in_numbers(tmp_path, city, capfd):
    w = WEATHER.replace("2026-02-03T03:00,-20.0", "2026-02-03T03:00,minus twenty")
    err = run_bad(capfd, scenario(tmp_path / "s", city, weather=w), tmp_path / "out")
    assert "row 5" in err
    assert "outdoor_c" in err
    assert "minus twenty" in err


def test_weather_in_kelvin(tmp_path, city, capfd):
    w = WEATHER.replace(",-20.0", ",253.15")
    err = run_bad(capfd, scenario(tmp_path / "s", city, weather=w), tmp_path / "out")
    assert "Kelvin" in err
    assert "row 2" in err


def test_weather_fahrenheit_column(tmp_path, city, capfd):
    w = WEATHER.replace("outdoor_c", "outdoor_f")
    err = run_bad(capfd, scenario(tmp_path / "s", city, weather=w), tmp_path / "out")
    assert "outdoor_f" in err
    assert "row 1" in err


def test_weather_too_short_for_horizon(tmp_path, city, capfd):
    err = run_bad(capfd, scenario(tmp_path / "s", city, hours=48), tmp_path / "out")
    assert "weather.csv" in err
    assert "48 h" in err


def test_horizon_zero(tmp_path, city, capfd):
    err = run_bad(capfd, scenario(tmp_path / "s", city, hours=0), tmp_path / "out")
    assert "s.toml" in err
    assert "horizon.hours" in err


def _edited_services(tmp_path: Path, city: Path, table: str, old: str, new: str) -> Path:
    svc = tmp_path / "svc"
    shutil.copytree(city / "services", svc)
    p = svc / f"{table}.csv"
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return svc


def test_area_names_missing_heat_source(tmp_path, city, capfd):
    svc = _edited_services(tmp_path, city, "areas", "heat:chp-north", "heat:chp-nort")
    err = run_bad(capfd, scenario(tmp_path / "s", city, services=str(svc)), tmp_path / "out")
    assert "areas.csv" in err
    assert "heat_sources" in err
    assert "heat:chp-north" in err


def test_negative_population(tmp_path, city, capfd):
    areas = (city / "services" / "areas.csv").read_text(encoding="utf-8").splitlines()
    pop = areas[1].split(",")[2]
    svc = _edited_services(tmp_path, city, "areas", f",{pop},", f",-{pop},")
    err = run_bad(capfd, scenario(tmp_path / "s", city, services=str(svc)), tmp_path / "out")
    assert "areas.csv" in err
    assert "population" in err
    assert areas[1].split(",")[0] in err


def test_unknown_damage_element(tmp_path, city, capfd):
    p = scenario(tmp_path / "s", city)
    p.write_text(
        p.read_text(encoding="utf-8").replace("gen:chp-south-1", "gen:chp-suoth-1"),
        encoding="utf-8",
    )
    err = run_bad(capfd, p, tmp_path / "out")
    assert "damage.elements" in err
    assert "gen:chp-south-1" in err


def test_services_options_without_an_invented_overlay(tmp_path, city, capfd):
    """[services] only sets how "auto" invents people: with the city's own tables (or a
    bundled case's own overlay) it would be ignored, so it is refused, never silently."""
    p = scenario(tmp_path, city, extra="[services]\npeople_per_mw = 500\n")
    err = run_bad(capfd, p, tmp_path / "out")
    assert "field 'services'" in err
    assert str(p) in err
    q = tmp_path / "wc.toml"
    q.write_text('[grid]\ncase = "winter-city"\n[services]\npeople_per_mw = 500\n', "utf-8")
    assert main(["impact", str(q)]) == 2
    assert "winter-city has its own overlay" in capfd.readouterr().err
