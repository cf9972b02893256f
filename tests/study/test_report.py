"""`warmgrid report`: impact JSON and Monte Carlo runs to self-contained HTML; bad input."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from warmgrid.cli import main


def _images(page: str) -> int:
    return page.count("data:image/png;base64,")


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
    assert main(["report", run, "--store", str(mc_store), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert _images(page) == 3  # histograms, exceedance, criticality
    assert not re.search(r"(src|href)=\"https?://", page)
    # the quantiles printed are the store's: check the p50 of people without heat by numpy
    from warmgrid.study.store import Store

    v = Store(mc_store).samples(run)["people_without_heat_peak"].to_numpy(dtype=float)
    assert f"{np.quantile(v, 0.5):,.0f}" in page


def test_impact_report_from_json(tmp_path):
    assert main(["demo", "--out", str(tmp_path / "d"), "--json"]) == 0
    out = tmp_path / "impact.html"
    assert main(["report", str(tmp_path / "d" / "impact.json"), "-o", str(out)]) == 0
    assert _images(out.read_text(encoding="utf-8")) == 3  # people, temperatures, map


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
    assert not (tmp_path / "x.html").exists()
