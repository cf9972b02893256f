"""MATPOWER ``mpc.dcline``: two units per link with MATPOWER's losses, and bad rows.

The flows are validated against pandapower in tests/validation/test_dcline_matpower.py.
"""

from __future__ import annotations

import pytest

from warmgrid.errors import InputError
from warmgrid.io import load_grid
from warmgrid.power.elements import element_kind
from warmgrid.power.network import compile_network

CASE = """function mpc = c
mpc.baseMVA = 100;
mpc.bus = [
	1	3	0	0	0	0	1	1	0	110	1	1.1	0.9;
	2	1	50	0	0	0	1	1	0	110	1	1.1	0.9;
	3	1	30	0	0	0	1	1	0	110	1	1.1	0.9;
];
mpc.gen = [
	1	80	0	300	-300	1	100	1	400	0;
];
mpc.branch = [
	1	2	0.01	0.1	0	100	100	100	0	0	1;
	2	3	0.01	0.1	0	100	100	100	0	0	1;
];
mpc.dcline = [
	{row}
];
"""

ROW = "1	3	1	{pf}	0	0	0	1	{vt}	0	20	-10	10	{qmint}	10	0.3	0.05;"


def _load(tmp_path, pf="10", vt="1", qmint="-10", row=None):
    path = tmp_path / "c.m"
    text = CASE.replace("{row}", row or ROW.format(pf=pf, vt=vt, qmint=qmint))
    path.write_text(text, encoding="utf-8")
    return load_grid(path)


@pytest.mark.parametrize("pf", [10.0, -10.0, 0.0])
def test_matpower_losses(tmp_path, pf) -> None:
    g = _load(tmp_path, pf=str(pf)).gen.set_index("id")
    assert g.loc["dcline:1:from", "p_mw"] == -pf
    # MATPOWER's PT = PF − (LOSS0 + LOSS1 · PF), whatever the direction
    assert g.loc["dcline:1:to", "p_mw"] == pytest.approx(pf - (0.3 + 0.05 * pf))
    assert (g.loc["dcline:1:from", "kind"], g.loc["dcline:1:to", "vm_pu"]) == ("dcline", 1.0)


def test_the_link_is_one_damageable_element(tmp_path) -> None:
    grid = _load(tmp_path)
    net = compile_network(grid)
    assert element_kind(net, "dcline:1") == "dcline"
    st = net.state(["dcline:1"])
    assert st.gen_on.tolist() == [True, False, False]
    assert any("HVDC link" in w for w in grid.warnings())
    assert grid.summary()["total_load_mw"] == 80.0


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"vt": "1.6"}, "dcline VT"),
        ({"vt": "0"}, "must be in 0.5–1.5 p.u., got 0.0"),
        ({"qmint": "12"}, "reactive limits reversed: 12.0 > 10.0"),
        (
            {"row": "1	3	1	10	0	0	0	1	1	0	20	-10	10;"},
            "needs at least 17",
        ),
        (
            {
                "row": "1	7	1	10	0	0	0	1	1	0	20	-10	10	-10	10	0	0;"
            },
            "unknown bus 7",
        ),
        (
            {
                "row": "1	3	1	x	0	0	0	1	1	0	20	-10	10	-10	10	0	0;"
            },
            "not a number",
        ),
    ],
)
def test_bad_rows_are_one_line_errors(tmp_path, kw, message) -> None:
    with pytest.raises(InputError, match=message) as err:
        _load(tmp_path, **kw)
    assert "\n" not in str(err.value)
    assert "dcline" in str(err.value)


def test_a_unit_voltage_set_point_out_of_range(tmp_path) -> None:
    path = tmp_path / "v.m"
    path.write_text(
        CASE.replace(
            "1	80	0	300	-300	1	100", "1	80	0	300	-300	1.6	100"
        ).replace("{row}", ROW.format(pf=10, vt=1, qmint=-10)),
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"must be in 0.5–1.5 p.u., got 1.6"):
        load_grid(path)
