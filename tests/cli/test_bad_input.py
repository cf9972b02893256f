"""Bad input through the real CLI: one line on stderr naming file, row and field; exit 2.

Each case builds a broken file (or names something that is not a grid), runs
``warmgrid info`` on it and checks the exit code, that stderr is exactly one line
naming the file (and the row and field where the problem sits inside the file), and
that no traceback reaches the user. A few run through the installed console script
in a subprocess, the rest through ``warmgrid.cli.main`` with the process's file
descriptors captured (so stray warnings or log lines would show too).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from warmgrid.cli import main
from warmgrid.io.tables import write_tables

CASE3 = """function mpc = case3
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
	1	3	0	0	0	0	1	1	0	110	1	1.1	0.9;
	2	1	50	10	0	0	1	1	0	110	1	1.1	0.9;
	3	1	40	5	0	0	1	1	0	110	1	1.1	0.9;
];
mpc.gen = [
	1	0	0	300	-300	1	100	1	200	0	0	0	0	0	0	0	0	0	0	0	0;
];
mpc.branch = [
	1	2	0.01	0.1	0	100	100	100	0	0	1	-360	360;
	2	3	0.01	0.1	0	100	100	100	0	0	1	-360	360;
	1	3	0.01	0.1	0	100	100	100	0	0	1	-360	360;
];
"""


def _m(tmp: Path, old: str | None = None, new: str = "", *, text: str | None = None) -> Path:
    body = CASE3 if text is None else text
    if old is not None:
        assert old in body
        body = body.replace(old, new, 1)
    p = tmp / "bad_case.m"
    p.write_text(body, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def tables_template(tmp_path_factory, load) -> Path:
    return write_tables(load("case9"), tmp_path_factory.mktemp("tpl") / "case9_tables")


def _tables(
    tmp: Path,
    template: Path,
    table: str,
    edit: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    raw: bytes | None = None,
) -> Path:
    import shutil

    folder = tmp / "grid_tables"
    shutil.copytree(template, folder)
    (folder / "grid.toml").write_text('name = "g"\n')  # native defaults: negative x refused
    if raw is not None:
        (folder / f"{table}.csv").write_bytes(raw)
    else:
        df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        edit(df).to_csv(folder / f"{table}.csv", index=False)
    return folder


def _set(row: int, col: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[row, col] = value
        return df

    return edit


# (kind, make(tmp, template) -> (argument, file shown), row, field); row/field None: the
# problem is the whole file (it does not exist, is a folder, is not text), no row to name.
CASES = [
    (
        "truncated .m",
        lambda t, _: _m(t, text=CASE3[: CASE3.index("2\t3\t0.01") + 5]),
        "2",
        "branch",
    ),
    (
        "wrong column count in .m",
        lambda t, _: _m(t, "2\t1\t50\t10\t0\t0\t1\t1\t0\t110\t1\t1.1\t0.9;", "2 1 50 10;"),
        "2",
        "bus",
    ),
    (
        "text in a number in .m",
        lambda t, _: _m(t, "2\t3\t0.01\t0.1", "2\t3\t0.01\tabc"),
        "2",
        "branch column 4",
    ),
    (
        "NaN in .m",
        lambda t, _: _m(t, "2\t3\t0.01\t0.1", "2\t3\t0.01\tNaN"),
        "2",
        "branch BR_X (column 4)",
    ),
    ("huge number in .m", lambda t, _: _m(t, "2\t1\t50", "2\t1\t1e400"), "2", "bus PD (column 3)"),
    ("unknown bus in .m", lambda t, _: _m(t, "2\t3\t0.01", "2\t7\t0.01"), "2", "branch T_BUS"),
    (
        "zero reactance in .m",
        lambda t, _: _m(t, "1\t3\t0.01\t0.1", "1\t3\t0.01\t0"),
        "branch:3",
        "branch.x_pu",
    ),
    (
        "binary .m",
        lambda t, _: _write(t / "bin.m", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256))),
        "3",
        None,
    ),
    ("empty .m", lambda t, _: _write(t / "empty.m", b""), "1", None),
    ("empty .json", lambda t, _: _write(t / "empty.json", b""), "1", None),
    ("not-a-network .json", lambda t, _: _write(t / "net.json", b'{"a": [1, 2'), None, None),
    ("missing file", lambda t, _: t / "no_such_case.m", None, None),
    ("directory instead of a file", lambda t, _: _mkdir(t / "case.m"), None, None),
    ("unknown case name", lambda t, _: "case9242pegase", None, "case"),
    ("unknown file type", lambda t, _: _write(t / "grid.xlsx", b"PK\x03\x04"), None, None),
    (
        "wrong column count in CSV",
        lambda t, tpl: _tables(t, tpl, "load", raw=b"id,bus,p_mw\nload:1,bus:4\n"),
        "2",
        "p_mw",
    ),
    (
        "non-UTF-8 garbage in CSV",
        lambda t, tpl: _tables(
            t, tpl, "load", raw="id,bus,p_mw\nload:1,bus:4,9\xe9\n".encode("latin-1")
        ),
        "2",
        "p_mw",
    ),
    ("binary CSV", lambda t, tpl: _tables(t, tpl, "bus", raw=b"id,vn_kv\x00\x01\x02"), "1", None),
    (
        "negative reactance in tables",
        lambda t, tpl: _tables(t, tpl, "branch", _set(2, "x_pu", "-0.05")),
        "line:2",
        "branch.x_pu",
    ),
    (
        "zero reactance in tables",
        lambda t, tpl: _tables(t, tpl, "branch", _set(1, "x_pu", "0")),
        "line:1",
        "branch.x_pu",
    ),
    (
        "unknown bus in tables",
        lambda t, tpl: _tables(t, tpl, "branch", _set(0, "to_bus", "bus:77")),
        "line:0",
        "branch.to_bus",
    ),
    (
        "text in a number in tables",
        lambda t, tpl: _tables(t, tpl, "load", _set(1, "p_mw", "ninety")),
        "load:1",
        "load.p_mw",
    ),
    (
        "NaN in tables",
        lambda t, tpl: _tables(t, tpl, "branch", _set(3, "x_pu", "nan")),
        "line:3",
        "branch.x_pu",
    ),
    (
        "huge number in tables",
        lambda t, tpl: _tables(t, tpl, "load", _set(0, "p_mw", "1e400")),
        "load:0",
        "load.p_mw",
    ),
    (
        "duplicate id in tables",
        lambda t, tpl: _tables(t, tpl, "load", _set(1, "id", "load:0")),
        "load:0",
        "load.id",
    ),
    (
        "p_min > p_max in tables",
        lambda t, tpl: _tables(t, tpl, "gen", _set(1, "p_min_mw", "1e5")),
        "gen:0",
        "gen.p_min_mw",
    ),
    (
        "unicode in a bool in tables",
        lambda t, tpl: _tables(t, tpl, "bus", _set(0, "in_service", "ДА ✓")),
        "bus:0",
        "bus.in_service",
    ),
]


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


def _mkdir(p: Path) -> Path:
    p.mkdir()
    return p


def _check(rc: int, out: str, err: str, shown: str, row: str | None, field: str | None) -> None:
    assert rc == 2, err
    assert "Traceback" not in err
    assert "Traceback" not in out
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("warmgrid: error: ")
    assert shown in line, line
    if row is not None:
        assert f"row {row}" in line, line
    if field is not None:
        assert f"field {field!r}" in line, line
    assert out == ""


@pytest.mark.parametrize(("kind", "make", "row", "field"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_clean_line(
    kind, make, row, field, tmp_path, tables_template, capfd
) -> None:
    arg = make(tmp_path, tables_template)
    rc = main(["info", str(arg)])
    out, err = capfd.readouterr()
    shown = Path(arg).name
    if "tables" in kind or "CSV" in kind:  # the error names the table file inside the folder
        shown = "grid_tables/"
    _check(rc, out, err, shown, row, field)


def test_at_least_twelve_kinds() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("which", [0, 13, 18])
def test_bad_input_through_the_console_script(which, tmp_path, tables_template) -> None:
    kind, make, row, field = CASES[which]
    arg = make(tmp_path, tables_template)
    exe = Path(sys.executable).parent / "warmgrid"
    proc = subprocess.run([str(exe), "info", str(arg)], capture_output=True, text=True, timeout=120)
    shown = "grid_tables/" if "tables" in kind else Path(arg).name
    _check(proc.returncode, proc.stdout, proc.stderr, shown, row, field)


def test_unknown_case_suggests_close_names(capfd) -> None:
    assert main(["info", "case9242pegase"]) == 2
    assert "case9241pegase" in capfd.readouterr().err


def test_a_problem_list_reports_how_many_more(tmp_path, tables_template, capfd) -> None:
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[0, "x_pu"] = "0"
        df.loc[1, "x_pu"] = "-1"
        return df

    folder = _tables(tmp_path, tables_template, "branch", edit)
    assert main(["info", str(folder)]) == 2
    err = capfd.readouterr().err
    assert "(and 1 more problem)" in err
    assert err.count("\n") == 1
