"""AC verification of the DC answer (issue 12, point 4): the voltages it ends with hold
by Kirchhoff's laws and within the limits the damage is judged by, it sheds only what
the damage makes necessary, and the impact reports it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from warmgrid.cli import main
from warmgrid.power.ac import make_ybus
from warmgrid.power.ac_check import VM_TOL, ac_check, baseline
from warmgrid.power.engine import solve_power
from warmgrid.power.network import compile_network

#: case300 losing its three largest units: DC still serves every MW, AC does not hold.
CASE300_DAMAGE = ["gen:30", "gen:10", "gen:60"]


@pytest.fixture(scope="module")
def net300(load):
    return compile_network(load("case300"))


@pytest.mark.parametrize(
    "case", ["case9", "case30", "case118", "case300", "case_illinois200", "winter-city"]
)
def test_no_damage_no_extra_shedding(load, case):
    """Harm against the undamaged grid: the check of the undamaged grid sheds nothing and
    reports no bus outside its limits, even on cases that hold buses outside them before
    any damage or converge only without reactive limits (case300, said in the note)."""
    net = compile_network(load(case))
    out = solve_power(net, [], mode="mld", weights=None, ac_check=True)
    ck = out.ac
    assert ck.checked
    assert ck.converged
    assert ck.extra_shed_mw == 0.0
    assert ck.outside == []
    np.testing.assert_array_equal(out.load_frac, out.detail.served_fraction)
    assert ck.note in ("", baseline(net).note)
    if case == "case300":  # diverges after PV->PQ switching in pandapower too
        assert "reactive limits off" in ck.note


def test_a_case_that_never_converges_is_not_checked(load):
    """case11_iwamoto defeats Newton's method undamaged: no check, the DC answer stands."""
    net = compile_network(load("case11_iwamoto"))
    out = solve_power(net, [], mode="mld", weights=None, ac_check=True)
    assert not out.ac.checked
    assert out.ac.extra_shed_mw == 0.0
    np.testing.assert_array_equal(out.load_frac, out.detail.served_fraction)
    assert "does not converge" in out.ac.note


def _injections(net, st, r, scale):
    """(n_bus,) units − loads from the result, and S = V·conj(Y·V), MVA (live buses)."""
    units = np.zeros(net.n_bus, dtype=complex)
    ok = np.isfinite(r.gen_p_mw)
    np.add.at(units, net.gen_bus[ok], r.gen_p_mw[ok] + 1j * r.gen_q_mvar[ok])
    ld = ~r.dark_bus[net.load_bus]
    p = net.load_p_mw * scale
    q = net.load_q_mvar * scale
    np.subtract.at(units, net.load_bus[ld], p[ld] + 1j * q[ld])
    live = ~r.dark_bus
    v = np.nan_to_num(r.vm_pu * np.exp(1j * np.deg2rad(r.va_deg)))
    return (
        units,
        v * np.conj(make_ybus(net, st.effective(net).branch_on, live) @ v) * net.base_mva,
        live,
    )


def test_final_flow_holds_kirchhoff_and_the_limits(net300):
    """The damaged case300's check: the final flow balances at every bus (1e-6 MVA), no
    live bus is below both its limit and its undamaged voltage, and the extra MW shed is
    exactly the served fraction it took from the DC answer."""
    dc = solve_power(net300, CASE300_DAMAGE, mode="mld", weights=None)
    st = net300.base_state.without(net300, CASE300_DAMAGE)
    ck = ac_check(net300, st, dc.load_frac)
    assert ck.checked
    assert ck.converged
    assert ck.extra_shed_mw > 0  # DC serves everything; AC does not hold without shedding
    assert np.all(ck.load_frac <= dc.load_frac + 1e-12)
    assert np.all(ck.load_frac >= 0)
    took = (dc.load_frac - ck.load_frac) * np.maximum(net300.load_p_mw, 0)
    assert took.sum() == pytest.approx(ck.extra_shed_mw, rel=1e-9)
    scale = np.where(net300.load_p_mw > 0, ck.load_frac, 1.0)
    units, s, live = _injections(net300, st, ck.result, scale)
    np.testing.assert_allclose(s[live], units[live], atol=1e-6, rtol=0)
    base = baseline(net300).vm_pu
    lo = np.minimum(np.nan_to_num(net300.bus_vm_min_pu, nan=-np.inf), base)
    vm = ck.result.vm_pu
    assert np.all(vm[live] >= lo[live] - VM_TOL)
    assert ck.min_vm[1] == pytest.approx(np.min(vm[live]))


def test_priorities_move_the_shedding(net300):
    """Raising the weight of the loads the check shed first moves most of the shedding
    onto others (voltage is local: some of them must still go)."""
    out = solve_power(net300, CASE300_DAMAGE, mode="mld", weights=None, ac_check=True)
    first = (out.detail.served_fraction - out.load_frac) > 1e-9
    assert first.any()
    w = np.where(first, 10.0, 1.0)
    out2 = solve_power(net300, CASE300_DAMAGE, mode="mld", weights=w, ac_check=True)
    assert out2.ac.converged
    took = (out2.detail.served_fraction - out2.load_frac) * np.maximum(net300.load_p_mw, 0)
    took1 = (out.detail.served_fraction - out.load_frac) * np.maximum(net300.load_p_mw, 0)
    assert took[first].sum() < took1[first].sum()
    assert took[~first].sum() > 0


def test_impact_reports_the_check(tmp_path, capsys):
    """``[impact] ac_check`` through the real CLI: the JSON's ``ac`` object, served MW net
    of the extra shedding, and the text line."""
    p = tmp_path / "s.toml"
    base = (
        f'[grid]\ncase = "case300"\n[damage]\nelements = {json.dumps(CASE300_DAMAGE)}\n'
        "[horizon]\nhours = 2\n"
    )
    p.write_text(base, encoding="utf-8")
    assert main(["impact", str(p), "--json"]) == 0
    dc = json.loads(capsys.readouterr().out)
    assert dc["ac"] is None
    p.write_text(base + "[impact]\nac_check = true\n", encoding="utf-8")
    assert main(["impact", str(p), "--json"]) == 0
    ac = json.loads(capsys.readouterr().out)
    assert ac["ac"]["checked"]
    assert ac["ac"]["converged"]
    extra = ac["ac"]["extra_shed_mw"]
    assert extra > 0
    assert ac["served_mw"] == pytest.approx(dc["served_mw"] - extra, abs=1e-6)
    assert "reactive limits off" in ac["ac"]["note"]
    assert main(["impact", str(p)]) == 0
    text = capsys.readouterr().out
    assert f"AC check: holds after {extra:,.0f} MW more shed" in text
