"""Robust in a user's hands, through the real CLI.

Usage errors, Ctrl-C and SIGTERM, a lost set of Dask workers, damaged or foreign results
stores, markup in user text, values that must be refused, file modes, and the local Dask
cluster's exposure. Each case runs ``warmgrid.cli.main`` with the process's file
descriptors captured, or the installed ``warmgrid`` script in a subprocess where a
signal or the real entry point matters. Every failure must be one line on stderr with
the documented exit code and no traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from cli_helpers import WARMGRID
from cli_helpers import one_line as _one_line
from cli_helpers import run as _run


def _md5(p: Path) -> str:
    return hashlib.md5(p.read_bytes()).hexdigest()


# ------------------------------------------------------------------ usage errors
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nosuchcmd"], ["no such command 'nosuchcmd'", "impact", "montecarlo"]),
        (["impakt", "frost-strike"], ["closest: impact"]),
        (["restore", "frost-strike", "--crews", "two"], ["--crews", "whole number", "'two'"]),
        (["restore", "frost-strike", "--crews", "0"], ["--crews", "must be >= 1", "'0'"]),
        (["restore", "frost-strike", "--method", "best"], ["--method", "'auto'", "'local'"]),
        (["impact"], ["missing argument", "scenario"]),
        (["impact", "frost-strike", "--bogus"], ["no such option: --bogus"]),
        (["impact", "frost-strike", "--mod", "mld"], ["--mod", "--mode"]),
        (["impact", "frost-strike", "--mode", "best"], ["--mode", "'mld'", "'cascade'"]),
        (["contingency", "case9", "--threshold", "nan"], ["--threshold", "'nan'"]),
        (["contingency", "case9", "--k", "3"], ["--k", "must be <= 2", "'3'"]),
        (["montecarlo", "frost-strike-mc", "-n", "-5"], ["--samples", "'-5'"]),
        (["report", "x.json"], ["missing option", "--out"]),
        (["export", "case9", "x", "--format", "xlsx"], ["--format", "'csv'", "'parquet'"]),
        # a missing value names the command and the values it takes
        (["impact", "frost-strike", "--mode"], ["warmgrid impact:", "--mode", "mld, cascade"]),
        (["restore", "frost-strike", "--method"], ["warmgrid restore:", "auto", "greedy"]),
        # a long value is shortened, the valid values stay in view
        (["restore", "frost-strike", "--method", "q" * 120_000], ["120,000 characters", "'rule'"]),
        (
            ["montecarlo", "frost-strike-mc", "-n", "2", "--metric", "bogus"],
            ["'bogus'", "one of:", "person_hours_below_12c", "energy_not_served_mwh"],
        ),
        # a path the system refuses is the user's input: one line, exit 2
        (["impact", "x" * 300], ["File name too long", "300 characters"]),
        (["info", "y" * 300 + ".m"], ["File name too long"]),
        (["demo", "--out", "/proc/warmgrid-nope"], ["/proc/warmgrid-nope"]),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(capfd, args, words) -> None:
    code, out, err = _run(capfd, *args)
    assert code == 2
    line = _one_line(err)
    assert line.startswith("warmgrid")
    for w in words:
        assert w in line, line
    assert out == ""


def test_bare_warmgrid_prints_help_on_stderr_and_exits_2(capfd) -> None:
    code, out, err = _run(capfd)
    assert code == 2
    assert "Usage: warmgrid" in err
    assert "impact" in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize("args", [["nosuchcmd"], ["restore", "frost-strike", "--crews", "two"], []])
def test_usage_errors_through_the_console_script(args) -> None:
    p = subprocess.run([WARMGRID, *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    if args:
        assert len(p.stderr.strip().splitlines()) == 1


def test_help_and_version_exit_0(capfd) -> None:
    code, out, _ = _run(capfd, "--version")
    assert code == 0
    assert out.startswith("warmgrid ")
    code, out, _ = _run(capfd, "impact", "--help")
    assert code == 0
    assert "--mode" in out
    assert "mld|cascade" in out


# ------------------------------------------------------------------ interrupts


def test_resume_without_samples_finishes_the_run(tmp_path, capfd, scenario_file) -> None:
    from warmgrid.study.montecarlo import RunStopped, run_montecarlo

    store = tmp_path / "s.duckdb"

    def stop(done, total):
        if done >= 4:
            raise KeyboardInterrupt

    with pytest.raises(RunStopped) as e:
        run_montecarlo(
            scenario_file, 10, seed=1, scheduler="synchronous", store=store, batch=2, progress=stop
        )
    run = e.value.run
    code, out, err = _run(
        capfd,
        *["montecarlo", str(scenario_file), "--store", str(store), "--resume", run],
        *["--scheduler", "synchronous", "--json"],
    )
    assert code == 0, err
    res = json.loads(out)
    assert (res["samples_done"], res["complete"], res["new_samples"]) == (10, True, 6)
    code, _, err = _run(capfd, "montecarlo", str(scenario_file), "--store", str(store))
    assert code == 2
    assert "--samples" in _one_line(err)


# ------------------------------------------------------------------ results stores
def _stores(tmp: Path) -> dict[str, Path]:
    import sqlite3

    import duckdb

    good = tmp / "good.duckdb"
    con = duckdb.connect(str(good))
    from warmgrid.study.store import _SCHEMA

    for sql in _SCHEMA:
        con.execute(sql)
    con.execute("INSERT INTO runs VALUES ('r1','s','t','h','z',10,1,now(),now(),false,'0')")
    con.execute("CHECKPOINT")
    con.close()
    raw = good.read_bytes()
    out = {}
    out["truncated"] = tmp / "truncated.duckdb"
    out["truncated"].write_bytes(raw[:5000])
    corrupt = bytearray(raw)
    for off in range(12288, len(corrupt), 4096):
        corrupt[off + 100 : off + 164] = os.urandom(64)
    out["corrupt"] = tmp / "corrupt.duckdb"
    out["corrupt"].write_bytes(bytes(corrupt))
    out["sqlite"] = tmp / "sqlite.duckdb"
    c = sqlite3.connect(out["sqlite"])
    c.execute("CREATE TABLE runs(x)")
    c.commit()
    c.close()
    for name, tables in (
        ("foreign_runs", "CREATE TABLE runs(a INT); CREATE TABLE samples(b INT)"),
        ("other_tables", "CREATE TABLE measurements(a INT)"),
        ("a_sequence", "CREATE SEQUENCE seq"),
        ("a_macro", "CREATE MACRO plus1(a) AS a + 1"),
        ("a_schema", "CREATE SCHEMA elsewhere"),
    ):
        out[name] = tmp / f"{name}.duckdb"
        con = duckdb.connect(str(out[name]))
        for sql in tables.split(";"):
            con.execute(sql)
        con.close()
    out["text"] = tmp / "text.duckdb"
    out["text"].write_text("not a database\n")
    return out


def test_damaged_or_foreign_stores_are_refused_untouched(tmp_path, capfd, scenario_file) -> None:
    for name, path in _stores(tmp_path).items():
        before = _md5(path)
        for args in (
            ["runs", "--store", str(path)],
            ["runs", "--store", str(path), "--json"],
            ["montecarlo", str(scenario_file), "-n", "2", "--scheduler", "synchronous"],
            ["report", "r1", "-o", str(tmp_path / f"{name}.html")],
        ):
            if args[0] != "runs":
                args = [*args, "--store", str(path)]
            code, _out, err = _run(capfd, *args)
            assert code == 2, (name, args, err)
            line = _one_line(err)
            assert str(path.name) in line, line
            assert _md5(path) == before, (name, args)
        assert not (tmp_path / f"{name}.html").exists()
        assert sorted(tmp_path.glob(f"{name}.duckdb*")) == [path]  # no WAL left beside it


def test_a_damaged_block_anywhere_is_refused_or_harmless(tmp_path, capfd, scenario_file) -> None:
    """A real store, 64 bytes of noise in each of its blocks in turn (index blocks too,
    which a read never loads): a new run either is refused with one line, the file
    unchanged, or (noise in free space) goes through and the store reads whole."""
    from warmgrid.study.store import Store

    good = tmp_path / "good.duckdb"
    args = ["montecarlo", str(scenario_file), "-n", "12", "--seed", "1"]
    assert _run(capfd, *args, "--scheduler", "synchronous", "--store", str(good))[0] == 0
    raw = good.read_bytes()
    refused = 0
    for b in range((len(raw) - 12288) // 262144):
        p = tmp_path / f"b{b}.duckdb"
        bad = bytearray(raw)
        off = 12288 + b * 262144 + 5008
        bad[off : off + 64] = os.urandom(64)
        p.write_bytes(bytes(bad))
        before = _md5(p)
        code, _out, err = _run(
            capfd,
            "montecarlo",
            str(scenario_file),
            "-n",
            "2",
            "--scheduler",
            "synchronous",
            "--store",
            str(p),
        )
        if code == 2:
            assert p.name in _one_line(err)
            assert _md5(p) == before, b
            refused += 1
        else:
            assert code == 0, err
            runs = Store(p).runs()
            assert len(runs) == 2
            assert all(r["complete"] for r in runs)
            assert sum(len(Store(p).samples(r["run"])) for r in runs) == 14
    assert refused >= 2  # the table data and its indexes were hit


def test_duckdb_never_installs_or_loads_extensions(tmp_path) -> None:
    from warmgrid.study.store import Store

    st = Store(tmp_path / "x.duckdb")
    with st.writer() as con:
        got = con.execute(
            "SELECT current_setting('autoinstall_known_extensions'), "
            "current_setting('autoload_known_extensions')"
        ).fetchone()
    assert got == (False, False)


# ------------------------------------------------------------------ markup in user text
MARKUP = "frost [/bold] [red]x[/red] :smile:"


def test_markup_in_names_prints_literally(tmp_path, capfd) -> None:
    code, _, err = _run(capfd, "export", "winter-city", str(tmp_path / "wc"), "--json")
    assert code == 0, err
    areas = tmp_path / "wc" / "services" / "areas.csv"
    lines = areas.read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    for i in range(1, len(lines)):  # every district gets a name with markup in it
        row = lines[i].split(",")
        row[head.index("name")] = f"[/bold] d{i} [b]"
        lines[i] = ",".join(row)
    areas.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sc = tmp_path / "m.toml"
    sc.write_text(
        f'name = "{MARKUP}"\n[grid]\ncase = "wc/grid"\nservices = "wc/services"\n'
        '[damage]\nelements = ["gen:chp-south-1", "gen:chp-south-2", "gen:chp-south-3", '
        '"substation:dniprova"]\n[horizon]\nhours = 12\n'
        '[hazard]\nmodel = "random_k"\nk = 1\n',
        encoding="utf-8",
    )
    store = tmp_path / "m.duckdb"
    for args in (
        ["impact", str(sc)],
        ["restore", str(sc), "--crews", "2", "--method", "greedy"],
        ["montecarlo", str(sc), "-n", "3", "--scheduler", "synchronous", "--store", str(store)],
        ["runs", "--store", str(store)],
    ):
        code, out, err = _run(capfd, *args)
        assert code == 0, (args, err)
        assert "Traceback" not in err
        flat = out.replace("\n", "")
        assert "[/bold]" in flat, args
    code, out, _ = _run(capfd, "impact", str(sc))
    assert out.count("[/bold]") >= 2  # the scenario's name and a district's name


# ------------------------------------------------------------------ values
BASE = '[grid]\ncase = "winter-city"\n[damage]\nelements = ["gen:chp-south-1"]\n'


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("[thresholds]\nindoor_c = [nan]", "thresholds.indoor_c"),
        ("[thresholds]\nindoor_c = [18.0, 500.0]", "thresholds.indoor_c"),
        ("[freeze]\ndrain_below_c = nan", "freeze.drain_below_c"),
        ("[freeze]\ndrain_after_h = inf", "freeze.drain_after_h"),
        ("[freeze]\nrefill_h = 1e9", "freeze.refill_h"),
        ("[repair]\ncrews = 1000000000000", "repair.crews"),
        ('[repair]\nhours = { "gen:chp-south-1" = inf }', "repair.hours"),
        ("[repair]\nbudget_s = nan", "repair.budget_s"),
        ("[weather]\noutdoor_c = nan", "weather.outdoor_c"),
        ("[impact]\ntrip_factor = inf", "impact.trip_factor"),
        ("[emergency]\ngenerators = 10000000", "emergency.generators"),
        ("[emergency]\nshelter_capacity = nan", "emergency.shelter_capacity"),
        ('[hazard]\nmodel = "random_k"\nk = 2\nweights_by_kind = { gen = nan }', "hazard"),
        ('[hazard]\nmodel = "fragility"\nprob_by_kind = { gen = 2.0 }', "hazard.prob_by_kind"),
        (
            '[hazard]\nmodel = "fragility"\nprob_by_kind = { gen = 0.5 }\n'
            "footprint = { center_xy = [1e308, -1e308], radius_km = 5 }",
            "hazard.footprint.center_xy",
        ),
        (
            '[hazard]\nmodel = "fragility"\nprob_by_kind = { gen = 0.5 }\n'
            "footprint = { center_xy = [200.0, 50.0], radius_km = 5, lonlat = true }",
            "hazard.footprint",
        ),
        # values of the wrong type are refused, not coerced
        ("[repair]\ncrews = true", "repair.crews"),
        ('[repair]\ncrews = "3"', "repair.crews"),
        ('[repair]\nhours = { "gen:chp-south-1" = true }', "repair.hours"),
        ('[impact]\nac_check = "yes"', "impact.ac_check"),
        ('[hazard]\nmodel = "random_k"\nk = true', "hazard.k"),
        # a start that is not a plausible date and time
    ],
)
def test_bad_scenario_numbers_are_refused(tmp_path, capfd, extra, field) -> None:
    p = tmp_path / "s.toml"
    p.write_text(BASE + extra + "\n", encoding="utf-8")
    for cmd in ("impact", "restore"):
        code, _out, err = _run(capfd, cmd, str(p))
        assert code == 2, err
        line = _one_line(err)
        assert "s.toml" in line, line
        assert field in line, line


def test_header_only_load_table_is_refused(tmp_path, capfd, load) -> None:
    from warmgrid.io.tables import write_tables

    folder = write_tables(load("case9"), tmp_path / "g")
    (folder / "load.csv").write_text("id,bus,p_mw\n", encoding="utf-8")
    code, _, err = _run(capfd, "info", str(folder))
    assert code == 2
    line = _one_line(err)
    assert "load.csv" in line
    assert "no rows" in line


def test_report_on_an_incomplete_json_and_into_a_new_folder(tmp_path, capfd) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"people": {}, "timeline": [{"hour": 0}]}), encoding="utf-8")
    code, _, err = _run(capfd, "report", str(bad), "-o", str(tmp_path / "r.html"))
    assert code == 2
    assert "bad.json" in _one_line(err)
    assert "people_without_power" in err
    assert not (tmp_path / "r.html").exists()
    code, _, err = _run(capfd, "demo", "--out", str(tmp_path / "d"), "--json")
    assert code == 0, err
    target = tmp_path / "new" / "deeper" / "r.html"
    code, _, err = _run(capfd, "report", str(tmp_path / "d" / "impact.json"), "-o", str(target))
    assert code == 0, err
    assert target.stat().st_size > 1000
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = _run(
        capfd, "report", str(tmp_path / "d" / "impact.json"), "-o", str(blocker / "r.html")
    )
    assert code == 2
    assert "in the way" in _one_line(err)


def test_outputs_get_the_usual_modes(tmp_path, capfd) -> None:
    old = os.umask(0o022)
    try:
        code, _, err = _run(capfd, "demo", "--out", str(tmp_path / "d"), "--json")
        assert code == 0, err
        code, _, err = _run(capfd, "export", "case9", str(tmp_path / "e"), "--json")
        assert code == 0, err
        code, _, err = _run(
            capfd,
            "contingency",
            "case9",
            "--threshold",
            "1",
            "--out",
            str(tmp_path / "v.csv"),
            "--json",
        )
        assert code == 0, err
    finally:
        os.umask(old)
    for f in ("d/impact.json", "d/report.html", "e/grid/bus.csv", "v.csv"):
        assert stat.S_IMODE((tmp_path / f).stat().st_mode) == 0o644, f
    for d in ("d", "e", "e/grid"):
        assert stat.S_IMODE((tmp_path / d).stat().st_mode) == 0o755, d
    code, _, err = _run(capfd, "export", "case9", str(tmp_path / "e"))
    assert code == 2
    assert "--overwrite" in _one_line(err)


def test_n2_that_would_not_fit_in_memory_is_refused(capfd) -> None:
    code, _, err = _run(capfd, "contingency", "case9241pegase", "--k", "2", "--candidates", "20000")
    assert code == 2
    line = _one_line(err)
    assert "--candidates" in line
    assert "GB" in line


def test_long_ids_are_shortened_in_messages(tmp_path, capfd) -> None:
    p = tmp_path / "long.toml"
    p.write_text(BASE.replace("gen:chp-south-1", "x" * 200_000), encoding="utf-8")
    code, _, err = _run(capfd, "impact", str(p))
    assert code == 2
    line = _one_line(err)
    assert len(line) < 600
    assert "200,000 characters" in line


def test_hazard_errors_name_the_file(tmp_path, capfd) -> None:
    p = tmp_path / "hz.toml"
    p.write_text(
        '[grid]\ncase = "winter-city"\n[hazard]\nmodel = "random_k"\nk = 2\n'
        "weights_by_kind = { genx = 1.0 }\n",
        encoding="utf-8",
    )
    code, _, err = _run(
        capfd,
        "montecarlo",
        str(p),
        "-n",
        "2",
        "--scheduler",
        "synchronous",
        "--store",
        str(tmp_path / "h.duckdb"),
    )
    assert code == 2
    line = _one_line(err)
    assert "hz.toml" in line
    assert "genx" in line
    assert not (tmp_path / "h.duckdb").exists()


CASE3 = """function mpc = case3
mpc.baseMVA = 100;
mpc.bus = [
	1	3	0	0	0	0	1	1	0	110	1	1.1	0.9;
	2	1	50	10	0	0	1	1	0	110	1	1.1	0.9;
	2	1	40	5	0	0	1	1	0	110	1	1.1	0.9;
];
mpc.gen = [
	1	0	0	300	-300	1	100	1	200	0;
];
mpc.branch = [
	1	2	0.01	0.1	0	100	100	100	0	0	1;
	2	1	0.01	0.1	0	100	100	100	0	0	1;
];
"""


def test_duplicate_matpower_bus_is_named(tmp_path, capfd) -> None:
    p = tmp_path / "dup.m"
    p.write_text(CASE3, encoding="utf-8")
    code, _, err = _run(capfd, "info", str(p))
    assert code == 2
    line = _one_line(err)
    assert "dup.m" in line
    assert "duplicate bus number 2" in line
    assert "row 3" in line


@pytest.mark.parametrize(
    ("horizon", "words"),
    [
        ("hours = true", ["horizon.hours"]),
        ("hours = 6\nstart = 1700000000", ["horizon.start", "date and time"]),
        ("hours = 6\nstart = 9999-12-31T23:00:00", ["horizon.start", "1900"]),
    ],
)
def test_horizon_of_the_wrong_type_or_year_is_refused(tmp_path, capfd, horizon, words) -> None:
    p = tmp_path / "s.toml"
    p.write_text(BASE + f"[horizon]\n{horizon}\n")
    code, _out, err = _run(capfd, "impact", str(p))
    assert code == 2, err
    line = _one_line(err)
    for w in ["s.toml", *words]:
        assert w in line, line


def test_weather_mixing_offsets_sets_not_utf8_and_bad_schedulers(tmp_path, capfd) -> None:
    """Inputs that used to end in an internal error (exit 1): each is one line, exit 2."""
    w = tmp_path / "w.csv"
    w.write_text("time,outdoor_c\n2026-02-03T00:00+00:00,-20\n2026-02-03T01:00,-21\n")
    p = tmp_path / "s.toml"
    p.write_text(
        '[grid]\ncase = "winter-city"\n[damage]\nelements = ["gen:chp-south-1"]\n'
        '[weather]\ncsv = "w.csv"\n[horizon]\nhours = 2\n'
    )
    code, _out, err = _run(capfd, "impact", str(p))
    assert code == 2, err
    line = _one_line(err)
    assert "w.csv, row 3, field 'time'" in line, line
    sets = tmp_path / "sets.txt"
    sets.write_bytes(b"line:1\nline:2\xff\n")
    code, _out, err = _run(capfd, "contingency", "case9", "--sets", str(sets))
    assert code == 2, err
    assert "sets.txt, row 2: not UTF-8 text" in _one_line(err)
    for addr in ("tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:abc", "inproc://x"):
        args = ["montecarlo", "frost-strike-mc", "-n", "2", "--scheduler", addr]
        code, _out, err = _run(capfd, *args, "--store", str(tmp_path / "m.duckdb"))
        assert code == 2, err
        assert "--scheduler" in _one_line(err)
    assert not (tmp_path / "m.duckdb").exists()


def test_report_of_a_deeply_nested_json_and_export_onto_the_current_folder(
    tmp_path, capfd, monkeypatch
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"people": {}, "timeline": ' + "[" * 100_000 + "]" * 100_000 + "}")
    p = subprocess.run(
        [WARMGRID, "report", str(deep), "-o", str(tmp_path / "x.html")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2, p.stderr
    assert "deep.json" in _one_line(p.stderr)
    assert not (tmp_path / "x.html").exists()
    here = tmp_path / "here"
    here.mkdir()
    (here / "keep.txt").write_text("mine")
    monkeypatch.chdir(here)
    for target in (".", "", str(tmp_path)):
        code, _out, err = _run(capfd, "export", "case9", target, "--overwrite")
        assert code == 2, err
        assert "is the current folder or holds it" in _one_line(err)
        assert sorted(x.name for x in here.iterdir()) == ["keep.txt"]


def test_grid_toml_round_trips_a_quoted_name_and_refuses_wrong_types(tmp_path, capfd) -> None:
    from warmgrid.io import load_grid
    from warmgrid.io.tables import write_tables

    grid = load_grid("case9")
    out = tmp_path / "g"
    write_tables(grid.replace(name='q"x\\y'), out)
    assert load_grid(str(out)).name == 'q"x\\y'
    toml = out / "grid.toml"
    text = toml.read_text(encoding="utf-8")
    for line, field in (
        ('allow_negative_x = "no"', "allow_negative_x"),
        ("base_mva = true", "base_mva"),
        ('base_mva = "100"', "base_mva"),
    ):
        key = line.split(" =")[0]
        kept = [x for x in text.splitlines() if not x.startswith(key + " =")]
        toml.write_text("\n".join([line, *kept]) + "\n", encoding="utf-8")
        code, _out, err = _run(capfd, "info", str(out))
        assert code == 2, err
        assert f"grid.toml, field '{field}'" in _one_line(err)


def test_metric_of_a_threshold_the_scenario_leaves_out_is_refused(tmp_path, capfd) -> None:
    p = tmp_path / "s.toml"
    p.write_text(
        BASE
        + '[horizon]\nhours = 6\n[thresholds]\nindoor_c = [18.0]\n[hazard]\nmodel = "random_k"\n'
        "k = 1\n"
    )
    store = tmp_path / "m.duckdb"
    for metric in ([], ["--metric", "first_area_below_12c_h"]):
        args = ["montecarlo", str(p), "-n", "2", "--scheduler", "synchronous"]
        code, _out, err = _run(capfd, *args, "--store", str(store), *metric)
        assert code == 2, err
        line = _one_line(err)
        for words in ("field '--metric'", "12 °C threshold", "(18 °C)"):
            assert words in line, line
    assert not store.exists()
