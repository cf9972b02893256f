"""MATPOWER ``mpc.dcline`` vs pandapower's converter and flows (issue 12, point 7).

A hand-made 5-bus MATPOWER case with two HVDC links (one out of service) is read by
warmgrid and by pandapower's ``from_mpc``. pandapower 3.5.6's converter drops
``mpc.dcline``, so the reference adds each row with ``create_dcline`` as MATPOWER
defines it (``toggle_dcline``): ``p_mw = PF``, ``loss_mw = LOSS0``, ``loss_percent =
100 · LOSS1`` (so ``PT = PF − (LOSS0 + LOSS1 · PF)``), ``VF``, ``VT`` and the reactive
limits of each end, then runs ``rundcpp`` and ``runpp``. The tolerances are the other
validation tests'. (For a link sending backwards, ``PF < 0``, MATPOWER's linear loss
model and pandapower's ``|p_mw|``-based one differ; tests/io/test_matpower_dcline.py
checks warmgrid's against MATPOWER's formula.) RTS-GMLC is a published case with one
such link.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from warmgrid.io import load_grid
from warmgrid.power.ac import ACOptions, ac_flow
from warmgrid.power.dc import dc_flow
from warmgrid.power.network import compile_network

CASE5_DC = """function mpc = case5dc
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
	1	3	0	0	0	0	1	1.02	0	230	1	1.1	0.9;
	2	2	60	20	0	0	1	1	0	230	1	1.1	0.9;
	3	1	90	30	0	10	1	1	0	230	1	1.1	0.9;
	4	1	70	25	0	0	1	1	0	230	1	1.1	0.9;
	5	1	80	20	0	0	1	1	0	230	1	1.1	0.9;
];
mpc.gen = [
	1	0	0	300	-300	1.02	100	1	400	0;
	2	120	0	80	-60	1.01	100	1	200	0;
];
mpc.branch = [
	1	2	0.01	0.08	0.02	250	250	250	0	0	1	-360	360;
	1	3	0.02	0.12	0.03	250	250	250	0	0	1	-360	360;
	2	3	0.015	0.10	0.02	250	250	250	0	0	1	-360	360;
	2	4	0.02	0.11	0.02	250	250	250	0	0	1	-360	360;
	3	4	0.01	0.07	0.01	250	250	250	0	0	1	-360	360;
	4	5	0.02	0.09	0.02	250	250	250	0	0	1	-360	360;
	1	5	0.03	0.15	0.03	250	250	250	0	0	1	-360	360;
];
%	fbus	tbus	status	Pf	Pt	Qf	Qt	Vf	Vt	Pmin	Pmax	QminF	QmaxF	QminT	QmaxT	loss0	loss1
mpc.dcline = [
	3	5	1	30	28.9	0	0	1.0	1.01	0	60	-20	20	-20	8	0.5	0.02;
	2	4	0	10	9.9	0	0	1.01	1.0	0	60	-20	20	-20	20	0.1	0.0;
];
"""


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    path = tmp_path_factory.mktemp("dcline") / "case5dc.m"
    path.write_text(CASE5_DC, encoding="utf-8")
    return path


def _pandapower(path):
    """pandapower's net of the file, the links added as MATPOWER defines them."""
    import pandapower as pp
    from pandapower.converter.matpower import from_mpc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = from_mpc(str(path), f_hz=50)
    assert len(net.dcline) == 0  # the converter drops mpc.dcline
    rows = [
        # F T status PF VF VT QMINF QMAXF QMINT QMAXT LOSS0 LOSS1
        (3, 5, 1, 30.0, 1.0, 1.01, -20, 20, -20, 8, 0.5, 0.02),
        (2, 4, 0, 10.0, 1.01, 1.0, -20, 20, -20, 20, 0.1, 0.0),
    ]
    for f, t, on, pf, vf, vt, qminf, qmaxf, qmint, qmaxt, loss0, loss1 in rows:
        pp.create_dcline(
            net, f - 1, t - 1, p_mw=pf, loss_percent=100 * loss1, loss_mw=loss0,
            vm_from_pu=vf, vm_to_pu=vt, min_q_from_mvar=qminf, max_q_from_mvar=qmaxf,
            min_q_to_mvar=qmint, max_q_to_mvar=qmaxt, in_service=bool(on),
        )  # fmt: skip
    return net


def test_ids_and_set_points(case):
    grid = load_grid(case)
    g = grid.gen.set_index("id")
    assert g.index.tolist() == [
        "gen:1",
        "gen:2",
        "dcline:1:from",
        "dcline:1:to",
        "dcline:2:from",
        "dcline:2:to",
    ]
    assert g.loc["dcline:1:from", "p_mw"] == -30.0
    assert g.loc["dcline:1:to", "p_mw"] == pytest.approx(30.0 - (0.5 + 0.02 * 30.0))
    assert not g.loc["dcline:2:to", "in_service"]
    assert grid.meta["aliases"]["dcline:1"] == ["dcline:1:from", "dcline:1:to"]
    assert grid.summary()["total_load_mw"] == pytest.approx(300.0)  # links are not demand


def test_dc_matches_pandapower(case):
    import pandapower as pp

    net = compile_network(load_grid(case))
    ppn = _pandapower(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.rundcpp(ppn)
    r = dc_flow(net)
    np.testing.assert_allclose(np.rad2deg(r.theta_rad), ppn.res_bus.va_degree, atol=1e-6)
    np.testing.assert_allclose(r.flow_mw, ppn.res_line.p_from_mw, atol=1e-6)
    assert r.slack_p_mw[0] == pytest.approx(ppn.res_ext_grid.p_mw[0], abs=1e-6)


@pytest.mark.parametrize("q_limits", [False, True])
def test_ac_matches_pandapower(case, q_limits):
    import pandapower as pp

    net = compile_network(load_grid(case))
    ppn = _pandapower(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(ppn, calculate_voltage_angles=True, enforce_q_lims=q_limits, numba=False)
    r = ac_flow(net, options=ACOptions(q_limits=q_limits))
    assert r.converged
    np.testing.assert_allclose(r.vm_pu, ppn.res_bus.vm_pu, atol=1e-6)
    np.testing.assert_allclose(r.va_deg, ppn.res_bus.va_degree, atol=1e-5)
    for mine, theirs in (
        (r.p_from_mw, ppn.res_line.p_from_mw),
        (r.q_from_mvar, ppn.res_line.q_from_mvar),
        (r.p_to_mw, ppn.res_line.p_to_mw),
        (r.q_to_mvar, ppn.res_line.q_to_mvar),
    ):
        np.testing.assert_allclose(mine, theirs, atol=1e-4)
    dc = ppn.res_dcline.loc[0]  # what each end draws
    np.testing.assert_allclose(
        [r.gen_p_mw[2], r.gen_q_mvar[2], r.gen_p_mw[3], r.gen_q_mvar[3]],
        [-dc.p_from_mw, -dc.q_from_mvar, -dc.p_to_mw, -dc.q_to_mvar],
        atol=1e-4,
    )
    np.testing.assert_allclose(
        r.gen_q_mvar[:2], [ppn.res_ext_grid.q_mvar[0], ppn.res_gen.q_mvar[0]], atol=1e-4
    )
    if q_limits:  # the receiving end is held at its QMAXT
        assert r.gen_q_mvar[3] == pytest.approx(8.0)


def test_mld_holds_the_link_or_takes_it_out(case):
    """Maximum load delivery holds both ends of an HVDC link at their set points (the
    sending end draws PF = 30 MW, the receiving end gives PT = 30 − (0.5 + 0.02·30) =
    28.9 MW), and takes the link out, both ends at 0, when an end's bus is out; the MW
    balance closes either way."""
    from warmgrid.power.dispatch import max_load_delivery

    net = compile_network(load_grid(str(case)))
    ends = {x: i for i, x in enumerate(net.gen_ids.tolist()) if x.startswith("dcline:1:")}
    for out, expect in (([], (-30.0, 28.9)), (["bus:5"], (0.0, 0.0))):
        r = max_load_delivery(net, net.state(out))
        got = (r.gen_p_mw[ends["dcline:1:from"]], r.gen_p_mw[ends["dcline:1:to"]])
        assert got == pytest.approx(expect, abs=1e-9)
        assert r.gen_p_mw.sum() == pytest.approx(r.served_mw + r.shunt_mw, abs=1e-6)
