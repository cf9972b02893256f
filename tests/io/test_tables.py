"""The native tables format: CSV and Parquet round trips give identical grids and flows.

The reference for the flows is pandapower's ``rundcpp`` on the source case, so a
round trip that lost a tap, a shift or a sign would show.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from warmgrid.errors import InputError
from warmgrid.io import load_grid
from warmgrid.io.tables import read_tables, write_tables


@pytest.fixture(scope="module", params=["case118", "case300"])
def grid(request, load):
    return load(request.param)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_gives_an_identical_grid_and_flows(grid, fmt, tmp_path, dc_flow) -> None:
    folder = write_tables(grid, tmp_path / "g", fmt=fmt)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{t}.{fmt}" for t in grid.tables()] + ["grid.toml"]
    )
    back = load_grid(folder)
    # negative impedances stay allowed only where the tables have some
    br = grid.branch
    negative = bool((br["x_pu"] < 0).any() or (br["r_pu"] < 0).any())
    assert (back.name, back.base_mva, back.allow_negative_x) == (
        grid.name,
        grid.base_mva,
        grid.allow_negative_x and negative,
    )
    for name, df in grid.tables().items():
        pd.testing.assert_frame_equal(back.tables()[name], df, check_dtype=False, obj=name)
    np.testing.assert_array_equal(dc_flow(back), dc_flow(grid))
    assert back.summary() | {"source": ""} == grid.summary() | {"source": ""}


def test_round_trip_flows_match_pandapower(load, tmp_path, dc_flow, pp_reference) -> None:
    import pandapower.networks as pn

    g = load("case300")
    ref = pp_reference(pn.case300())["flows"]
    for fmt in ("csv", "parquet"):
        back = read_tables(write_tables(g, tmp_path / fmt, fmt=fmt))
        flows = pd.Series(dc_flow(back), index=back.branch["id"])[ref.index]
        assert np.max(np.abs(flows - ref)) < 1e-6


def test_infinite_capacity_and_missing_coordinates_survive_csv(tmp_path) -> None:
    from warmgrid.model.grid import Grid

    g = Grid(
        name="tiny",
        bus=pd.DataFrame({"id": ["bus:a", "bus:b"], "vn_kv": [110.0, 110.0], "x": [1.5, math.nan]}),
        branch=pd.DataFrame(
            {"id": ["line:1"], "from_bus": ["bus:a"], "to_bus": ["bus:b"], "x_pu": [0.1]}
        ),
        gen=pd.DataFrame(
            {"id": ["ext_grid:0"], "bus": ["bus:a"], "p_max_mw": [math.inf], "slack": [True]}
        ),
        load=pd.DataFrame({"id": ["load:1"], "bus": ["bus:b"], "p_mw": [10.0]}),
    )
    back = read_tables(write_tables(g, tmp_path / "tiny"))
    assert back.gen["p_max_mw"].iloc[0] == math.inf
    assert back.bus["x"].iloc[0] == 1.5
    assert math.isnan(back.bus["x"].iloc[1])
    assert bool(back.gen["slack"].iloc[0])


def test_write_is_atomic_and_refuses_to_overwrite(load, tmp_path) -> None:
    g = load("case9")
    folder = write_tables(g, tmp_path / "g")
    with pytest.raises(InputError, match="already exists"):
        write_tables(g, folder)
    write_tables(g, folder, fmt="parquet", overwrite=True)
    assert (folder / "bus.parquet").exists()
    assert not (folder / "bus.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["g"]  # no temporary folder left behind


def test_errors_name_the_table_file(load, tmp_path) -> None:
    folder = write_tables(load("case9"), tmp_path / "g")
    br = pd.read_csv(folder / "branch.csv")
    br.loc[2, "x_pu"] = -0.2
    br.to_csv(folder / "branch.csv", index=False)
    (folder / "grid.toml").write_text("name = 'g'\n")  # negative x is refused by default
    with pytest.raises(InputError, match="negative reactance") as ei:
        read_tables(folder)
    assert ei.value.file == str(folder / "branch.csv")
    assert ei.value.row == br.loc[2, "id"]
    assert ei.value.field == "branch.x_pu"
    (folder / "grid.toml").write_text("name = 'g'\nallow_negative_x = true\n")
    assert read_tables(folder).branch["x_pu"].iloc[2] == -0.2


def test_both_csv_and_parquet_of_one_table_is_an_error(load, tmp_path) -> None:
    folder = write_tables(load("case9"), tmp_path / "g")
    pd.read_csv(folder / "load.csv").to_parquet(folder / "load.parquet")
    with pytest.raises(InputError, match="keep one"):
        read_tables(folder)


def test_a_missing_required_table_is_an_error(load, tmp_path) -> None:
    folder = write_tables(load("case9"), tmp_path / "g")
    (folder / "gen.csv").unlink()
    with pytest.raises(InputError, match="missing table 'gen'") as ei:
        read_tables(folder)
    assert ei.value.field == "gen"
