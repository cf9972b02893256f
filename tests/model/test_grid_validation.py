"""The table validator: every problem found at once, each naming file, row and field.

Hypothesis builds small valid grids, applies random corruptions (text, NaN, 1e400,
zero or negative reactance, unknown buses, duplicate ids, dropped columns, p_min >
p_max, ...) and checks that validation either succeeds or raises an InputError whose
every problem names the file, the row and the field, never another exception. The
same holds when the tables go through CSV files and the native reader.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warmgrid.errors import InputError
from warmgrid.io.tables import read_tables
from warmgrid.model.grid import Grid, validate_tables
from warmgrid.model.schema import TABLES


def _valid_tables(n_bus: int, n_extra: int, seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    buses = [f"bus:{i}" for i in range(n_bus)]
    f = list(range(n_bus - 1)) + [int(rng.integers(0, n_bus - 1)) for _ in range(n_extra)]
    t = list(range(1, n_bus)) + [
        int(rng.integers(f[k] + 1, n_bus)) for k in range(n_bus - 1, len(f))
    ]
    return {
        "bus": pd.DataFrame({"id": buses, "vn_kv": rng.uniform(10, 400, n_bus)}),
        "branch": pd.DataFrame(
            {
                "id": [f"line:{k}" for k in range(len(f))],
                "from_bus": [buses[i] for i in f],
                "to_bus": [buses[j] for j in t],
                "x_pu": rng.uniform(0.01, 0.5, len(f)),
                "rate_mva": rng.uniform(50, 500, len(f)),
            }
        ),
        "gen": pd.DataFrame(
            {
                "id": ["gen:0", "gen:1"],
                "bus": [buses[0], buses[-1]],
                "p_mw": [0.0, 50.0],
                "p_min_mw": [0.0, 10.0],
                "p_max_mw": [math.inf, 100.0],
                "slack": [True, False],
            }
        ),
        "load": pd.DataFrame(
            {
                "id": [f"load:{i}" for i in range(1, n_bus)],
                "bus": buses[1:],
                "p_mw": rng.uniform(0, 80, n_bus - 1),
            }
        ),
        "shunt": pd.DataFrame(
            {"id": ["shunt:0"], "bus": [buses[0]], "g_mw": [1.0], "b_mvar": [5.0]}
        ),
    }


_BAD_VALUES = [
    float("nan"),
    "abc",
    "1e400",
    "-1e400",
    "",
    None,
    "inf",
    0,
    0.0,
    -1,
    -1e300,
    1e300,
    "é\u2028ü",
    "bus:nowhere",
    True,
    "1,5",
    " ",
    "0x10",
    "--3",
    "∞",
]
_CORRUPTIONS = ("value", "drop_column", "duplicate_id", "swap_pmin", "extra_column", "empty_table")
_FILE_OF = {t: f"{t}.csv" for t in TABLES}


@st.composite
def corrupted(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    tables = _valid_tables(
        draw(st.integers(2, 6)), draw(st.integers(0, 4)), draw(st.integers(0, 2**16))
    )
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(_CORRUPTIONS))
        tname = draw(st.sampled_from(list(TABLES)))
        df = tables[tname].astype(object)
        if kind == "value" and len(df):
            col = draw(st.sampled_from([c.name for c in TABLES[tname]]))
            row = draw(st.integers(0, len(df) - 1))
            if col not in df.columns:
                df[col] = [c.default for c in TABLES[tname] if c.name == col] * len(df)
            df.loc[row, col] = draw(st.sampled_from(_BAD_VALUES))
        elif kind == "drop_column" and len(df.columns) > 1:
            df = df.drop(columns=[draw(st.sampled_from(list(df.columns)))])
        elif kind == "duplicate_id" and len(df):
            others = [t for t in TABLES if len(tables[t]) and "id" in tables[t].columns]
            if others:
                other = tables[draw(st.sampled_from(others))]
                df.loc[draw(st.integers(0, len(df) - 1)), "id"] = other["id"].iloc[0]
        elif kind == "swap_pmin" and tname == "gen":
            df.loc[1, "p_min_mw"] = 500.0
        elif kind == "extra_column":
            df["note"] = "x"
        elif kind == "empty_table":
            df = df.iloc[0:0]
        tables[tname] = df
    return tables


def _check_error(err: InputError, files: set[str] | None) -> None:
    assert err.problems
    for p in err.problems:
        assert p.file, p
        assert p.row is not None, p
        assert str(p.row) != "", p
        assert p.field, p
        if files is not None:
            assert Path(p.file).name in files, p
    assert "\n" not in str(err)


def test_the_uncorrupted_tables_validate() -> None:
    out = validate_tables(_valid_tables(5, 3, 1), source="ok")
    assert list(out["branch"].columns) == [c.name for c in TABLES["branch"]]
    assert out["branch"]["tap_ratio"].eq(1.0).all()  # defaults filled
    assert out["gen"]["p_max_mw"].iloc[0] == math.inf  # inf allowed for p_max


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
def test_validator_raises_only_input_error_with_file_row_field(
    tables: dict[str, pd.DataFrame],
) -> None:
    try:
        Grid(name="fuzz", source="fuzz.csv", **tables)
    except InputError as err:
        _check_error(err, None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
def test_tables_folder_raises_only_input_error_naming_the_table_file(
    tables: dict[str, pd.DataFrame],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, df in tables.items():
            df.to_csv(folder / _FILE_OF[name], index=False)
        try:
            grid = read_tables(folder)
        except InputError as err:
            _check_error(err, {*_FILE_OF.values(), folder.name})
        else:  # what was accepted round-trips the numbers
            assert len(grid.bus) == len(tables["bus"])


@pytest.mark.parametrize(
    ("table", "column", "value", "message"),
    [
        ("branch", "x_pu", 0.0, "must not be 0"),
        ("branch", "x_pu", -0.1, "negative reactance"),
        ("branch", "x_pu", "1e400", "not a valid float"),
        ("branch", "x_pu", float("nan"), "not a valid float"),
        ("branch", "to_bus", "bus:99", "unknown bus"),
        ("branch", "rate_mva", -5.0, "must be >= 0"),
        ("load", "p_mw", "twelve", "not a valid float"),
        ("gen", "in_service", "maybe", "not a valid bool"),
        ("branch", "kind", "cable", "must be one of"),
        ("branch", "r_pu", -0.01, "negative resistance"),
        ("gen", "vm_pu", 1.7, "must be <= 1.5"),
        ("gen", "vm_pu", 0.3, "must be >= 0.5"),
    ],
)
def test_each_problem_names_row_and_field(
    table: str, column: str, value: object, message: str
) -> None:
    tables = _valid_tables(4, 0, 0)
    df = tables[table].astype(object)
    if column not in df.columns:
        df[column] = [c.default for c in TABLES[table] if c.name == column] * len(df)
    df.loc[1, column] = value
    tables[table] = df
    with pytest.raises(InputError, match=message) as ei:
        Grid(name="t", source="grid.csv", **tables)
    assert ei.value.file == "grid.csv"
    assert ei.value.row == df["id"].iloc[1]
    assert ei.value.field == f"{table}.{column}"


def test_every_problem_is_reported_at_once() -> None:
    tables = _valid_tables(4, 0, 0)
    tables["branch"].loc[0, "x_pu"] = 0.0
    tables["load"].loc[0, "bus"] = "bus:42"
    tables["gen"].loc[1, "p_min_mw"] = 200.0
    tables["shunt"].loc[0, "id"] = "bus:1"
    with pytest.raises(InputError) as ei:
        Grid(name="t", source="s", **tables)
    fields = {p.field for p in ei.value.problems}
    assert {"branch.x_pu", "load.bus", "gen.p_min_mw", "shunt.id"} <= fields
    assert "more problems" in str(ei.value)


def test_negative_reactance_is_accepted_only_when_allowed() -> None:
    tables = _valid_tables(3, 0, 0)
    tables["branch"].loc[0, "x_pu"] = -0.05
    with pytest.raises(InputError, match="negative reactance"):
        Grid(name="t", **tables)
    g = Grid(name="t", allow_negative_x=True, **tables)
    assert g.branch["x_pu"].iloc[0] == -0.05
    assert any("negative series reactance" in w for w in g.warnings())


def test_negative_resistance_is_accepted_only_when_allowed_and_always_said() -> None:
    """A negative series resistance (published network equivalents have them: 224 in
    case145) is refused in the native tables unless allowed, and said when accepted."""
    tables = _valid_tables(3, 0, 0)
    tables["branch"]["r_pu"] = 0.01
    tables["branch"].loc[0, "r_pu"] = -0.02
    with pytest.raises(InputError, match="negative resistance"):
        Grid(name="t", **tables)
    g = Grid(name="t", allow_negative_x=True, **tables)
    assert any("1 branch(es) of t have a negative series resistance" in w for w in g.warnings())
