"""pandapower's full element set vs pandapower ``rundcpp`` and ``runpp`` (issue 12, point 6).

Three-winding transformers, impedances (asymmetric, and out of service), wards, extended
wards, HVDC links and switches of every kind, on ``mv_oberrhein``, the CIGRE HV, MV (with
its photovoltaic and wind generators) and LV networks, and a hand-made net with every
element type (tests/pp_elements.py), intact and after damage named by the new ids
(aliases included). Tolerances are the other validation tests': DC 1e-6 MW (and 1e-6° in
angle), AC 1e-6 p.u. in vm, 1e-5° in va, 1e-4 MW/Mvar at both ends of every branch that
pandapower reports and in the output of every unit, 1e-4 % in line and transformer
loading; the same buses dark.

What warmgrid's model is, and where pandapower must be asked for it:

* **Open switches at a line or transformer take the branch out of service**, so pandapower
  runs with ``neglect_open_switch_branches=True``. Its default instead keeps the branch
  energised from its other end through an auxiliary bus (the open end's charging current
  flows): :func:`test_pandapower_default_keeps_open_ended_branches` measures that
  difference (up to 9e-4 p.u. in vm on mv_oberrhein).
* **Out-of-service impedances.** The issue notes that pandapower 3.5.6 keeps an
  ``impedance`` in service when the file marks it out of service. The hand-made net holds
  one out of service and pandapower leaves it out here (these tests would fail
  otherwise), so no departure is needed; :func:`test_impedance_out_of_service_is_absent`
  checks warmgrid against MATPOWER's formulation (a branch with ``BR_STATUS = 0`` is
  absent from the admittance matrix) without pandapower.
* **Damage of a ward or an extended ward** takes out its constant-power load (and an
  extended ward's branch and source); its constant-impedance part is a shunt, which no
  damage takes out in warmgrid, so the reference keeps it as a pandapower shunt.
* A three-winding transformer's loading is not compared: pandapower rates each winding
  at its outer end only, warmgrid a branch at both ends.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from pp_elements import bus_positions, every_element_net, reference, run
from warmgrid.io.pandapower import from_pandapower_net
from warmgrid.power.ac import ACOptions, ac_flow
from warmgrid.power.dc import dc_flow
from warmgrid.power.network import Network, compile_network


def _net(name: str):
    import pandapower.networks as pn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "every_element":
            return every_element_net()
        if name == "create_cigre_network_mv":
            return pn.create_cigre_network_mv(with_der="pv_wind")
        return getattr(pn, name)()


#: Cases and whether the reactive limits bind anything (then solved with and without).
CASES = {
    "every_element": True,
    "mv_oberrhein": False,
    "create_cigre_network_hv": True,
    "create_cigre_network_mv": False,
    "create_cigre_network_lv": False,
}

_KEPT: dict[str, tuple] = {}


def _pair(name: str) -> tuple[Network, object]:
    """warmgrid's compiled network and the pandapower net (kept: read once per process)."""
    if name not in _KEPT:
        ppn = _net(name)
        net = compile_network(from_pandapower_net(copy.deepcopy(ppn), name=name, source=name))
        _KEPT[name] = (net, ppn)
    return _KEPT[name]


def _ends(net: Network, ref: dict, mine: dict[str, np.ndarray], msg: str) -> float:
    """Largest |Δ| over the branch ends pandapower reports (0 where warmgrid has NaN)."""
    row = {b: k for k, b in enumerate(net.branch_ids.tolist())}
    worst = 0.0
    for (bid, end), pq in ref["ends"].items():
        k = row[bid]
        for key, want in zip(("p", "q"), pq, strict=True):
            got = mine.get(f"{key}_{end}")
            if got is None:
                continue
            if np.isnan(got[k]):  # out of service or dark: pandapower reports 0 or NaN
                assert abs(np.nan_to_num(want)) < 1e-9, f"{msg}: {bid} {end} {key}"
                continue
            worst = max(worst, abs(got[k] - want))
    return worst


def _units(net: Network, ref: dict, p: np.ndarray, q: np.ndarray | None, msg: str) -> float:
    pos = {g: k for k, g in enumerate(net.gen_ids.tolist())}
    worst = 0.0
    for gid, (want_p, want_q) in ref["units"].items():
        k = pos[gid]
        if np.isnan(p[k]):
            assert abs(np.nan_to_num(want_p)) < 1e-9, f"{msg}: {gid}"
            continue
        worst = max(worst, abs(p[k] - want_p))
        if q is not None:
            worst = max(worst, abs(q[k] - want_q))
    return worst


def _internal(net: Network, ref: dict, vm, va: np.ndarray) -> tuple[float, float]:
    pos = {b: k for k, b in enumerate(net.bus_ids.tolist())}
    dv = da = 0.0
    for bid, (want_vm, want_va) in ref["internal"].items():
        k = pos[bid]
        if np.isnan(want_va) or np.isnan(va[k]):
            assert np.isnan(want_va), bid
            assert np.isnan(va[k]), bid
            continue
        da = max(da, abs(va[k] - want_va))
        if vm is not None:
            dv = max(dv, abs(vm[k] - want_vm))
    return dv, da


def check_dc(net: Network, ppn, ids: list[str], msg: str) -> dict[str, float]:
    """warmgrid's DC flow with ``ids`` out against ``rundcpp`` on ``ppn``."""
    assert run(ppn, ac=False), msg
    ref = reference(ppn)
    r = dc_flow(net, net.state(ids))
    pdb = bus_positions(net, ppn)
    np.testing.assert_array_equal(r.dark_bus[pdb], np.isnan(ref["va"]), err_msg=msg)
    live = ~np.isnan(ref["va"])
    va = np.rad2deg(r.theta_rad)
    err = {"va": float(np.max(np.abs(va[pdb][live] - ref["va"][live]), initial=0.0))}
    err["va"] = max(err["va"], _internal(net, ref, None, va)[1])
    err["p"] = _ends(net, ref, {"p_from": r.flow_mw, "p_to": -r.flow_mw}, msg)
    slack = np.where(net.gen_slack, r.slack_p_mw, net.gen_p_mw)
    on = net.state(ids).effective(net).gen_on & ~r.dark_bus[net.gen_bus]
    err["unit_p"] = _units(net, ref, np.where(on, slack, np.nan), None, msg)
    for key, e in err.items():
        assert e <= 1e-6, f"{msg}: max |Δ{key}| = {e:.3g}"
    return err


def check_ac(net: Network, ppn, ids: list[str], q_limits: bool, msg: str) -> dict[str, float]:
    """warmgrid's AC flow with ``ids`` out against ``runpp`` on ``ppn``."""
    r = ac_flow(net, net.state(ids), options=ACOptions(q_limits=q_limits))
    assert run(ppn, ac=True, q_limits=q_limits), msg
    assert r.converged, msg
    ref = reference(ppn)
    pdb = bus_positions(net, ppn)
    np.testing.assert_array_equal(r.dark_bus[pdb], np.isnan(ref["vm"]), err_msg=msg)
    live = ~np.isnan(ref["vm"])
    err = {
        "vm": float(np.max(np.abs(r.vm_pu[pdb][live] - ref["vm"][live]), initial=0.0)),
        "va": float(np.max(np.abs(r.va_deg[pdb][live] - ref["va"][live]), initial=0.0)),
    }
    dv, da = _internal(net, ref, r.vm_pu, r.va_deg)
    err["vm"], err["va"] = max(err["vm"], dv), max(err["va"], da)
    mine = {"p_from": r.p_from_mw, "q_from": r.q_from_mvar, "p_to": r.p_to_mw, "q_to": r.q_to_mvar}
    err["pq"] = _ends(net, ref, mine, msg)
    err["unit_pq"] = _units(net, ref, r.gen_p_mw, r.gen_q_mvar, msg)
    err["loading"] = _loading(net, ppn, r.loading_percent)
    tol = {"vm": 1e-6, "va": 1e-5, "pq": 1e-4, "unit_pq": 1e-4, "loading": 1e-4}
    for key, e in err.items():
        assert e <= tol[key], f"{msg}: max |Δ{key}| = {e:.3g}"
    return err


def _loading(net: Network, ppn, loading: np.ndarray) -> float:
    """Largest |Δ| in line and transformer loading, %, where both have one."""
    row = {b: k for k, b in enumerate(net.branch_ids.tolist())}
    worst = 0.0
    for table in ("line", "trafo"):
        res = ppn[f"res_{table}"]
        for i in ppn[table].index:
            mine, want = loading[row[f"{table}:{i}"]], res.loc[i, "loading_percent"]
            if np.isfinite(mine) and np.isfinite(want):
                worst = max(worst, abs(mine - want))
    return worst


@pytest.mark.parametrize("case", CASES)
def test_intact_matches_pandapower(case):
    net, ppn = _pair(case)
    # every switch is an id (an alias, or a branch of its own); fused buses are aliases
    ids = set(net.aliases) | set(net.branch_ids.tolist())
    assert {f"switch:{i}" for i in ppn.switch.index} <= ids
    assert net.n_bus + sum(a.startswith("bus:") for a in net.aliases) == len(ppn.bus) + len(
        ppn.trafo3w
    ) + len(ppn.xward)
    check_dc(net, copy.deepcopy(ppn), [], f"{case} DC")
    for q_limits in (False, True) if CASES[case] else (False,):
        check_ac(net, copy.deepcopy(ppn), [], q_limits, f"{case} AC q_limits={q_limits}")


def _open(i: int):
    def change(p):
        p.switch.loc[i, "closed"] = False

    return change


def _out(table: str, *idx: int, z_part: bool = False):
    """Take pandapower elements out; for a ward, keep its constant-impedance part as a
    shunt (warmgrid's damage never takes out a shunt)."""

    def change(p):
        import pandapower as pp

        for i in idx:
            p[table].loc[i, "in_service"] = False
            if z_part:
                w = p[table].loc[i]
                vn = p.bus.loc[w["bus"], "vn_kv"]
                pp.create_shunt(p, w["bus"], q_mvar=w["qz_mvar"], p_mw=w["pz_mw"], vn_kv=vn)

    return change


def _dead_buses(*idx: int):
    """Buses out, with every branch at them: warmgrid's dead bus takes its branches out
    (pandapower would keep a line energised from its live end through an auxiliary bus)."""

    def change(p):
        p.bus.loc[list(idx), "in_service"] = False
        for table, cols in (("line", ("from_bus", "to_bus")), ("trafo", ("hv_bus", "lv_bus"))):
            at = p[table][list(cols)].isin(idx).any(axis=1)
            p[table].loc[at, "in_service"] = False

    return change


#: Damage on the hand-made net (warmgrid ids) and the same change made in pandapower.
OUTAGES = {
    "switch:3": _open(3),  # a closed line switch: the line out
    "switch:2": _open(2),  # a bus-bus switch with an impedance: the branch out
    "switch:6": _open(6),  # a three-winding transformer's switch: its lv winding out
    "trafo3w:0:lv": _open(6),
    "switch:1": lambda p: None,  # an open bus-bus switch: nothing changes
    "switch:0": _dead_buses(1, 6),  # a fused bus-bus switch: both sections out
    "bus:6": _dead_buses(1, 6),  # a fused-away bus names the fused bus
    "trafo3w:0": _out("trafo3w", 0),  # bus 5 is left dark
    "impedance:0": _out("impedance", 0),
    "dcline:0": _out("dcline", 0),
    "ward:0": _out("ward", 0, z_part=True),
    "xward:0": _out("xward", 0, z_part=True),
}


@pytest.mark.parametrize("element", OUTAGES)
def test_damage_by_new_ids_matches_pandapower(element):
    net, ppn = _pair("every_element")
    p = copy.deepcopy(ppn)
    OUTAGES[element](p)
    check_dc(net, copy.deepcopy(p), [element], f"{element} DC")
    for q_limits in (False, True):
        check_ac(net, copy.deepcopy(p), [element], q_limits, f"{element} AC {q_limits}")


def test_pandapower_default_keeps_open_ended_branches():
    """pandapower's default ``runpp`` energises a line behind an open switch from its
    other end (an auxiliary bus); warmgrid takes it out, like pandapower's
    ``neglect_open_switch_branches``. The difference is the open ends' charging."""
    import pandapower as pp

    net, ppn = _pair("mv_oberrhein")
    p = copy.deepcopy(ppn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(p, calculate_voltage_angles=True, numba=False)
    r = ac_flow(net)
    dv = np.max(np.abs(r.vm_pu[bus_positions(net, ppn)] - p.res_bus.vm_pu.to_numpy()))
    assert 1e-4 < dv < 2e-3


def test_impedance_out_of_service_is_absent():
    """MATPOWER's formulation: a branch with BR_STATUS 0 is absent. The out-of-service
    impedance of the hand-made net changes nothing against the net without it."""
    net, ppn = _pair("every_element")
    p = copy.deepcopy(ppn)
    p.impedance = p.impedance.drop(index=1)
    without = compile_network(from_pandapower_net(p, name="w", source="w"))
    assert "impedance:1" not in without.branch_ids.tolist()
    a, b = ac_flow(net), ac_flow(without)
    np.testing.assert_allclose(a.vm_pu, b.vm_pu, atol=1e-12)
    np.testing.assert_allclose(a.gen_q_mvar, b.gen_q_mvar, atol=1e-9)
    d, e = dc_flow(net), dc_flow(without)
    keep = net.branch_ids != "impedance:1"
    np.testing.assert_allclose(d.flow_mw[keep], e.flow_mw, atol=1e-9)
