"""PyPSA networks (netCDF and CSV folder) against PyPSA's own numbers.

The networks are built with ``pypsa.Network().import_from_pypower_ppc`` from
pandapower's ``to_ppc`` (docs/sources.md, "Known pitfalls of the peer tools":
``import_from_pandapower_net`` gets transformers wrong), exported with PyPSA's own
writers, read back by warmgrid, and compared with PyPSA's counts, totals and linear power
flow ``n.lpf()``.
"""

from __future__ import annotations

import logging
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from warmgrid.errors import InputError
from warmgrid.io import load_grid

pypsa = pytest.importorskip("pypsa")
warnings.filterwarnings("ignore")
logging.getLogger("pypsa").setLevel(logging.ERROR)

# case300 has shunt conductance, phase shifters and negative reactances.
CASES = ["case30", "case118", "case300"]


@pytest.fixture(scope="module", params=CASES)
def exported(request, tmp_path_factory):
    import pandapower.networks as pn
    from pandapower.converter.pypower import to_ppc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ppc = to_ppc(getattr(pn, request.param)(), init="flat")
        n = pypsa.Network()
        n.import_from_pypower_ppc(ppc, overwrite_zero_s_nom=1e5)
        n.name = request.param
        folder = tmp_path_factory.mktemp("pypsa")
        n.export_to_netcdf(str(folder / f"{request.param}.nc"))
        n.export_to_csv_folder(str(folder / f"{request.param}_csv"))
        n.lpf()
    flows = pd.concat(
        [
            n.lines_t.p0.iloc[0].rename(lambda i: f"line:{i}"),
            n.transformers_t.p0.iloc[0].rename(lambda i: f"trafo:{i}"),
        ]
    )
    return n, flows, folder / f"{request.param}.nc", folder / f"{request.param}_csv"


@pytest.mark.parametrize("form", ["netcdf", "csv"])
def test_pypsa_network_matches_pypsa(exported, form, dc_flow) -> None:
    n, ref_flows, nc, csv = exported
    g = load_grid(nc if form == "netcdf" else csv)
    s = g.summary()
    assert g.meta["format"] == "pypsa"
    assert s["buses"] == len(n.buses)
    assert s["branches"] == len(n.lines) + len(n.transformers)
    assert s["transformers"] == len(n.transformers)
    assert s["generators"] == len(n.generators)
    assert s["loads"] == len(n.loads)
    assert s["total_load_mw"] == pytest.approx(n.loads["p_set"].sum(), rel=1e-12)
    cap = (n.generators["p_nom"] * n.generators["p_max_pu"]).sum()
    assert s["total_capacity_mw"] == pytest.approx(cap, rel=1e-12)
    flows = pd.Series(dc_flow(g), index=g.branch["id"])
    assert set(flows.index) == set(ref_flows.index)
    assert np.max(np.abs(flows[ref_flows.index] - ref_flows)) < 1e-6


def test_slack_is_the_one_pypsa_uses(exported) -> None:
    n, _, nc, _ = exported
    g = load_grid(nc)
    slack = g.gen[g.gen["slack"]]["id"].tolist()
    assert slack == [f"gen:{i}" for i in n.generators.index[n.generators["control"] == "Slack"]]


def test_garbage_nc_is_a_clean_error(tmp_path) -> None:
    p = tmp_path / "bad.nc"
    p.write_bytes(b"CDF\x01" + bytes(range(200)))
    with pytest.raises(InputError, match="not a readable PyPSA network") as ei:
        load_grid(p)
    assert ei.value.file == str(p)


def test_csv_folder_with_a_line_to_a_missing_bus(exported, tmp_path) -> None:
    import shutil

    _, _, _, csv = exported
    folder = tmp_path / "net"
    shutil.copytree(csv, folder)
    lines = pd.read_csv(folder / "lines.csv")
    lines.loc[0, "bus1"] = 99999
    lines.to_csv(folder / "lines.csv", index=False)
    with pytest.raises(InputError) as ei:
        load_grid(folder)
    assert ei.value.file == str(folder / "lines.csv")
    assert (ei.value.row, ei.value.field) == (str(lines.loc[0, "name"]), "lines.bus1")
    assert "99999" in str(ei.value)


def test_missing_pypsa_names_the_extra(exported, monkeypatch) -> None:
    _, _, nc, _ = exported
    monkeypatch.setitem(sys.modules, "pypsa", None)  # import pypsa now raises ImportError
    with pytest.raises(InputError, match=r"pip install warmgrid\[pypsa\]"):
        load_grid(nc)
