"""MATPOWER ``.m`` files against pandapower's numbers.

pandapower only writes ``.mat``, so this test writes the ``.m`` itself from
``pandapower.converter.pypower.to_ppc`` (MATPOWER manual, Appendix B column layout,
bus numbers made 1-based as MATPOWER files have them). Counts and totals are checked
against the ppc arrays, and the DC flows of the imported grid against pandapower's
``rundcpp`` on the network the file was written from.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from warmgrid.io import load_grid

warnings.filterwarnings("ignore")

CASES = ["case9", "case118", "case300", "case1354pegase"]


def _rows(a: np.ndarray, ncol: int, fmt: str = "{:.17g}") -> str:
    return "\n".join(
        "\t" + "\t".join(fmt.format(v) for v in row[:ncol]) + ";" for row in np.real(a)
    )


def write_m(ppc: dict, path: Path, name: str) -> Path:
    """Write a MATPOWER version-2 case file from ppc arrays (bus numbers + 1)."""
    bus = np.real(ppc["bus"]).copy()
    branch = np.real(ppc["branch"]).copy()
    gen = np.real(ppc["gen"]).copy()
    bus[:, 0] += 1
    branch[:, :2] += 1
    gen[:, 0] += 1
    text = (
        f"function mpc = {name}\n% written by the warmgrid test suite from pandapower's to_ppc\n"
        "mpc.version = '2';\n\n%% system MVA base\nmpc.baseMVA = "
        f"{float(np.real(ppc['baseMVA'])):g};\n\n"
        "%% bus data\n%\tbus_i\ttype\tPd\tQd\tGs\tBs\tarea\tVm\tVa\tbaseKV\tzone\tVmax\tVmin\n"
        f"mpc.bus = [\n{_rows(bus, 13)}\n];\n\n"
        "%% generator data\n"
        f"mpc.gen = [\n{_rows(gen, 21)}\n];\n\n"
        "%% branch data  % fbus tbus r x b rateA rateB rateC ratio angle status angmin angmax\n"
        f"mpc.branch = [\n{_rows(branch, 13)}\n];\n"
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=CASES)
def m_case(request, tmp_path_factory):
    import pandapower.networks as pn
    from pandapower.converter.pypower import to_ppc

    net = getattr(pn, request.param)()
    ppc = to_ppc(net, init="flat", calculate_voltage_angles=True)
    path = write_m(ppc, tmp_path_factory.mktemp("m") / f"{request.param}.m", request.param)
    return request.param, net, ppc, path


def test_counts_and_totals_match_the_file(m_case) -> None:
    name, _, ppc, path = m_case
    g = load_grid(path)
    s = g.summary()
    bus, gen, branch = (np.real(ppc[k]) for k in ("bus", "gen", "branch"))
    assert s["name"] == name
    assert (s["buses"], s["branches"], s["generators"]) == (len(bus), len(branch), len(gen))
    assert s["loads"] == int(((bus[:, 2] != 0) | (bus[:, 3] != 0)).sum())
    assert s["total_load_mw"] == pytest.approx(bus[:, 2].sum(), rel=1e-12)
    on = gen[:, 7] > 0
    assert s["total_capacity_mw"] == pytest.approx(
        gen[on, 8][np.isfinite(gen[on, 8])].sum(), rel=1e-12
    )
    assert list(g.bus["id"][:3]) == [f"bus:{int(b) + 1}" for b in bus[:3, 0]]
    assert g.branch["id"].iloc[-1] == f"branch:{len(branch)}"


def test_dc_flow_matches_pandapower_rundcpp(m_case, dc_flow) -> None:
    import pandapower as pp

    _, net, _, path = m_case
    g = load_grid(path)
    pp.rundcpp(net)
    ref = np.r_[net.res_line["p_from_mw"].to_numpy(), net.res_trafo["p_hv_mw"].to_numpy()]
    on = g.branch["in_service"].to_numpy()
    assert on.sum() == net.line["in_service"].sum() + net.trafo["in_service"].sum()
    mine = dc_flow(g)
    assert np.max(np.abs(mine[on] - ref[on])) < 1e-6


def test_a_matpower_case_from_its_published_numbers(tmp_path, dc_flow) -> None:
    """case9 as published with MATPOWER: Pd total 315 MW, three generators."""
    text = """function mpc = case9
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
	1	3	0	0	0	0	1	1	0	345	1	1.1	0.9;
	2	2	0	0	0	0	1	1	0	345	1	1.1	0.9;
	3	2	0	0	0	0	1	1	0	345	1	1.1	0.9;
	4	1	0	0	0	0	1	1	0	345	1	1.1	0.9;
	5	1	90	30	0	0	1	1	0	345	1	1.1	0.9;
	6	1	0	0	0	0	1	1	0	345	1	1.1	0.9;
	7	1	100	35	0	0	1	1	0	345	1	1.1	0.9;
	8	1	0	0	0	0	1	1	0	345	1	1.1	0.9;
	9	1	125	50	0	0	1	1	0	345	1	1.1	0.9;
];
mpc.gen = [
	1	72.3	27.03	300	-300	1.04	100	1	250	10	0	0	0	0	0	0	0	0	0	0	0;
	2	163	6.54	300	-300	1.025	100	1	300	10	0	0	0	0	0	0	0	0	0	0	0;
	3	85	-10.95	300	-300	1.025	100	1	270	10	0	0	0	0	0	0	0	0	0	0	0;
];
mpc.branch = [
	1	4	0	0.0576	0	250	250	250	0	0	1	-360	360;
	4	5	0.017	0.092	0.158	250	250	250	0	0	1	-360	360;
	5	6	0.039	0.17	0.358	150	150	150	0	0	1	-360	360;
	3	6	0	0.0586	0	300	300	300	0	0	1	-360	360;
	6	7	0.0119	0.1008	0.209	150	150	150	0	0	1	-360	360;
	7	8	0.0085	0.072	0.149	250	250	250	0	0	1	-360	360;
	8	2	0	0.0625	0	250	250	250	0	0	1	-360	360;
	8	9	0.032	0.161	0.306	250	250	250	0	0	1	-360	360;
	9	4	0.01	0.085	0.176	250	250	250	0	0	1	-360	360;
];
"""
    p = tmp_path / "case9.m"
    p.write_text(text)
    g = load_grid(p)
    s = g.summary()
    assert (s["buses"], s["branches"], s["generators"], s["loads"]) == (9, 9, 3, 3)
    assert s["total_load_mw"] == 315.0
    assert s["total_capacity_mw"] == 820.0
    assert g.gen.set_index("id").loc["gen:1", "slack"]
    # DC flow: the slack takes 315 - 163 - 85 = 67 MW, all of it through branch 1 (bus 1 -> 4).
    flows = pd.Series(dc_flow(g), index=g.branch["id"])
    assert flows["branch:1"] == pytest.approx(67.0, abs=1e-9)
    assert flows["branch:4"] == pytest.approx(
        85.0, abs=1e-9
    )  # gen 3 leaves through its only branch
    assert flows["branch:7"] == pytest.approx(-163.0, abs=1e-9)


@pytest.mark.parametrize(
    ("complete_rows", "mid_row", "row"), [(7, True, 8), (7, False, 8), (0, False, 1)]
)
def test_truncated_file_names_the_matrix_row(tmp_path, complete_rows, mid_row, row) -> None:
    """Cut inside a row: that row is incomplete; cut between rows: the next one is missing."""
    import pandapower.networks as pn
    from pandapower.converter.pypower import to_ppc

    from warmgrid.errors import InputError

    text = write_m(to_ppc(pn.case9(), init="flat"), tmp_path / "full.m", "full").read_text()
    lines = text.splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if ln.startswith("mpc.branch"))
    cut = "".join(lines[: start + 1 + complete_rows])
    if mid_row:
        cut += lines[start + 1 + complete_rows][:20]
    p = tmp_path / "cut.m"
    p.write_text(cut)
    with pytest.raises(InputError, match="truncated") as ei:
        load_grid(p)
    assert (ei.value.file, ei.value.row, ei.value.field) == (str(p), row, "branch")
