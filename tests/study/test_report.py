"""`warmgrid report` and `warmgrid restore --report/--csv`: impact JSON, restore JSON and
Monte Carlo runs to self-contained HTML pages (inline SVG, no request), user strings
escaped, the plan's table as CSV; bad input."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta

import numpy as np
import pytest

from warmgrid.cli import main


def _offline(page: str) -> bool:
    """Nothing in the page fetches anything: no img/link/iframe, no src or href, no URL."""
    return not re.search(r"<(img|link|iframe)\b|\b(src|href)=|https?://", page)


_SHORT = None  # set by the short_scenario fixture


@pytest.fixture(scope="module", autouse=True)
def short_scenario(tmp_path_factory):
    """A short frost-strike with a start, for the impact and plan pages."""
    global _SHORT
    p = tmp_path_factory.mktemp("short") / "short.toml"
    p.write_text(
        'name = "short"\n[grid]\ncase = "winter-city"\n[damage]\n'
        'elements = ["gen:chp-south-1", "substation:kalynova"]\n[weather]\n'
        'outdoor_c = -18.0\n[horizon]\nhours = 24\nstart = "2026-01-10T18:00"\n'
        '[repair]\ncrews = 1\nhours = { "gen:chp-south-1" = 6.0, '
        '"substation:kalynova" = 8.0 }\n',
        encoding="utf-8",
    )
    _SHORT = p
    return p


@pytest.fixture(scope="module")
def mc_store(tmp_path_factory, scenario_file):
    root = tmp_path_factory.mktemp("mc")
    store = root / "r.duckdb"
    args = ["montecarlo", str(scenario_file), "--samples", "12", "--seed", "3"]
    assert main([*args, "--scheduler", "synchronous", "--store", str(store), "--json"]) == 0
    return store


def test_montecarlo_report(mc_store, tmp_path, capsys):
    capsys.readouterr()
    assert main(["runs", "--store", str(mc_store), "--json"]) == 0
    run = json.loads(capsys.readouterr().out)[0]["run"]
    out = tmp_path / "mc.html"
    # 12 samples: no element is drawn 5 times (the default --min-samples, as montecarlo's)
    assert main(["report", run, "--store", str(mc_store), "-o", str(out)]) == 0
    assert "No element was drawn in at least 5 samples" in out.read_text(encoding="utf-8")
    args = ["report", run, "--store", str(mc_store), "-o", str(out), "--min-samples", "1"]
    assert main(args) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count('class="chart hist-chart"') == 4  # one histogram per outcome
    assert 'id="chart-exceed"' in page
    assert 'id="chart-crit"' in page
    assert "person-hours indoors below 12 °C" in page  # labels, not column names
    assert "person_hours_below_12c" not in page.split('<script type="application/json"')[0]
    assert _offline(page)
    # the quantiles printed are the store's: check the p50 of people without heat by numpy
    from warmgrid.study.store import Store

    v = Store(mc_store).samples(run)["people_without_heat_peak"].to_numpy(dtype=float)
    assert f"{np.quantile(v, 0.5):,.0f}" in page


def test_impact_report_from_json(tmp_path):
    assert main(["demo", "--out", str(tmp_path / "d"), "--json"]) == 0
    out = tmp_path / "impact.html"
    assert main(["report", str(tmp_path / "d" / "impact.json"), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    for chart in ('id="map"', 'id="chart-people"', 'id="chart-temp"'):
        assert chart in page
    assert _offline(page)
    assert page == (tmp_path / "d" / "report.html").read_text(encoding="utf-8")
    # every crossing time is shown with the fast–slow band of the JSON, in whole hours
    res = json.loads((tmp_path / "d" / "impact.json").read_text(encoding="utf-8"))
    t12 = next(t for t in res["thresholds"] if t["key"] == "12c")
    lo, hi = t12["first_area_below_h_range"]
    assert f"first homes after {t12['first_area_below_h']:.0f} h ({lo:.0f}–{hi:.0f} h)" in page
    a = min(res["areas"], key=lambda a: a["min_temp_c"])
    lo, hi = a["hours_to_12c_range"]
    assert f"{a['hours_to_12c']:.0f} ({lo:.0f}–{hi:.0f})" in page


def test_user_strings_are_escaped(tmp_path):
    """A scenario, a district and a warning holding markup print as text, and none can
    close the page's data block or script."""
    from warmgrid.report import render_json

    assert main(["demo", "--scenario", str(_SHORT), "--out", str(tmp_path / "d"), "--json"]) == 0
    res = json.loads((tmp_path / "d" / "impact.json").read_text(encoding="utf-8"))
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    res["scenario"] = evil
    res["warnings"] = [f"w {evil}"]
    res["areas"][0]["name"] = evil
    res["map"]["areas"][0]["name"] = evil
    kind, page = render_json(res)
    assert kind == "impact"
    assert evil not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    data = page.split('<script type="application/json" id="wg-data">')[1].split("</script>")[0]
    assert "<" not in data
    assert json.loads(data)["map"]["areas"][0]["name"] == evil
    assert page.count("<script") == 2  # the data block and the page's own script


def test_restore_report_and_csv(tmp_path, capsys):
    """`restore --report --csv`: the plan's page and its table; `report` of the restore
    JSON writes the same page."""
    html, table = tmp_path / "plan.html", tmp_path / "plan.csv"
    args = ["restore", str(_SHORT), "--json", "--report", str(html), "--csv", str(table)]
    assert main(args) == 0
    res = json.loads(capsys.readouterr().out)
    page = html.read_text(encoding="utf-8")
    assert 'id="gantt"' in page
    assert page.count('class="bar"') == len(res["plan"])
    assert _offline(page)
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert [r["element_id"] for r in rows] == [p["element"] for p in res["plan"]]
    for r, p in zip(rows, res["plan"], strict=True):
        assert int(r["crew"]) == p["crew"] + 1
        assert float(r["start_h"]) == p["start_h"]
        assert float(r["end_h"]) == p["end_h"]
        assert int(r["people_back_heat"]) == p["people_back"]["heat"]
        t0 = datetime(2026, 1, 10, 18) + timedelta(hours=p["start_h"])
        assert r["start"] == f"{t0:%Y-%m-%d %H:%M}"
    (tmp_path / "r.json").write_text(json.dumps(res), encoding="utf-8")
    out = tmp_path / "again.html"
    assert main(["report", str(tmp_path / "r.json"), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == page


@pytest.mark.parametrize(("flag", "name"), [("--report", "plan.pdf"), ("--csv", "plan.txt")])
def test_restore_bad_output_names(tmp_path, capfd, flag, name):
    code = main(["restore", str(_SHORT), flag, str(tmp_path / name)])
    err = capfd.readouterr().err.strip()
    assert code == 2
    assert flag in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["no-such-run", "-o", "{tmp}/x.html"], "no results store"),
        (["{tmp}/missing.json", "-o", "{tmp}/x.html"], "no such JSON file"),
        (["{tmp}/bad.json", "-o", "{tmp}/x.html"], "not an impact result"),
        (["{tmp}/bad.json", "-o", "{tmp}/x.pdf"], "must end in .html"),
    ],
)
def test_bad_input(tmp_path, capfd, args, needle):
    (tmp_path / "bad.json").write_text('{"a": 1}', encoding="utf-8")
    code = main([a.replace("{tmp}", str(tmp_path)) for a in ["report", *args]])
    err = capfd.readouterr().err.strip()
    assert code == 2
    assert needle in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "x.html").exists()


def test_unknown_run_names_closest(mc_store, tmp_path, capfd):
    code = main(["report", "nope", "--store", str(mc_store), "-o", str(tmp_path / "x.html")])
    err = capfd.readouterr().err.strip()
    assert code == 2
    assert "nope" in err
    assert "field 'RUN'" in err  # the argument it came from, not an option report lacks
    assert not (tmp_path / "x.html").exists()
