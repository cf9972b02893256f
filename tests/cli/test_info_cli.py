"""``warmgrid info``, ``cases``, ``--version`` and a ``--help`` that imports nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from warmgrid import __version__
from warmgrid.cli import main

EXE = Path(sys.executable).parent / "warmgrid"
CONTRACT = {"name", "buses", "branches", "generators", "loads", "total_load_mw"}


def _json(capsys) -> object:
    return json.loads(capsys.readouterr().out)


def test_info_json_case9241pegase_through_the_console_script(load) -> None:
    """Counts of the published PEGASE case (Josz et al. 2016: 9,241 buses, 16,049 branches)."""
    grid = load("case9241pegase")  # converts once and fills the session's Parquet cache
    proc = subprocess.run(
        [str(EXE), "info", "case9241pegase", "--json"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert CONTRACT <= set(out)
    assert (out["name"], out["buses"], out["branches"]) == ("case9241pegase", 9241, 16049)
    s = grid.summary()
    assert (out["generators"], out["loads"]) == (s["generators"], s["loads"])
    assert out["total_load_mw"] == pytest.approx(s["total_load_mw"], rel=1e-12)


def test_info_json_matches_pandapower_case9(capsys) -> None:
    import pandapower.networks as pn

    net = pn.case9()
    assert main(["info", "case9", "--json"]) == 0
    out = _json(capsys)
    assert out["buses"] == len(net.bus)
    assert out["branches"] == len(net.line) + len(net.trafo)
    assert out["generators"] == len(net.gen) + len(net.ext_grid) + len(net.sgen)
    assert out["loads"] == len(net.load)
    assert out["total_load_mw"] == pytest.approx(net.load.p_mw.sum())


def test_info_human_readable(capsys) -> None:
    assert main(["info", "case9"]) == 0
    out = capsys.readouterr().out
    for word in ("buses", "branches", "generators", "total load", "315.0 MW"):
        assert word in out


def test_info_of_a_path(tmp_path, load, capsys) -> None:
    from warmgrid.io.tables import write_tables

    folder = write_tables(load("case30"), tmp_path / "mygrid", fmt="parquet")
    assert main(["info", str(folder), "--json"]) == 0
    out = _json(capsys)
    assert (out["name"], out["buses"]) == ("case30", 30)


def test_cases_lists_the_bundled_ones(capsys) -> None:
    assert main(["cases", "--json"]) == 0
    names = _json(capsys)
    assert {"case9", "case118", "case9241pegase", "GBnetwork"} <= set(names)


def test_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"warmgrid {__version__}"


def test_help_imports_no_heavy_library() -> None:
    """``warmgrid --help`` must answer fast: pandapower, PyPSA and Dask stay unimported."""
    code = (
        "import json, sys\n"
        "from warmgrid.cli import main\n"
        "rc = main(['--help'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pandapower', 'pypsa', 'dask', 'distributed',"
        " 'numba', 'matplotlib', 'pypowsybl', 'highspy', 'duckdb'})\n"
        "print(json.dumps([rc, heavy]), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rc, heavy = json.loads(proc.stderr.strip().splitlines()[-1])
    assert rc == 0
    assert heavy == [], f"--help imported {heavy}"
    assert "Usage" in proc.stdout
    assert "info" in proc.stdout


def test_help_through_the_console_script() -> None:
    proc = subprocess.run([str(EXE), "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert "cases" in proc.stdout
    assert "info" in proc.stdout
