"""``warmgrid impact``: JSON keys, values against the API, one-line errors with exit 2."""

from __future__ import annotations

import json

import pytest

from warmgrid.cli import main
from warmgrid.power.cascade import cascade
from warmgrid.power.dispatch import max_load_delivery
from warmgrid.power.network import compile_network

SCEN = """
[grid]
case = "case118"
services = "none"
[damage]
elements = ["line:3", "line:7", "bus:12", "gen:2", "load:5"]
[impact]
mode = "mld"
"""


@pytest.fixture
def scen(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(SCEN, encoding="utf-8")
    return p


def _run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_mld_json(scen, capsys, load):
    code, out, _ = _run(capsys, "impact", str(scen), "--json")
    assert code == 0
    res = json.loads(out)
    assert {"served_mw", "shed_mw", "islands", "mode"} <= set(res)
    assert res["mode"] == "mld"
    net = compile_network(load("case118"))
    ref = max_load_delivery(net, net.state(["line:3", "line:7", "bus:12", "gen:2", "load:5"]))
    assert res["served_mw"] == pytest.approx(ref.served_mw, rel=1e-9)
    assert res["served_mw"] + res["shed_mw"] == pytest.approx(net.load_p_mw.sum())
    assert res["islands"] == ref.islands.count


def test_cascade_json(scen, capsys, load):
    code, out, _ = _run(capsys, "impact", str(scen), "--mode", "cascade", "--json")
    assert code == 0
    res = json.loads(out)
    assert res["mode"] == "cascade"
    assert isinstance(res["stages"], list)
    assert res["stages"][-1]["tripped"] == []
    net = compile_network(load("case118"))
    ref = cascade(net, net.state(["line:3", "line:7", "bus:12", "gen:2", "load:5"]))
    assert res["served_mw"] == pytest.approx(ref.served_mw, rel=1e-9)


def test_text_output(scen, capsys):
    code, out, _ = _run(capsys, "impact", str(scen))
    assert code == 0
    assert "served" in out


def test_unknown_element_one_line_exit_2(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text(
        '[grid]\ncase = "case118"\n[damage]\nelements = ["line:3", "lin:40"]\n', encoding="utf-8"
    )
    code, out, err = _run(capsys, "impact", str(p), "--json")
    assert code == 2
    assert out == ""
    line = err.strip()
    assert "\n" not in line
    assert str(p) in line
    assert "damage.elements" in line
    assert "lin:40" in line
    assert "line:40" in line


def test_unknown_key_exit_2(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text('[grid]\ncase = "case118"\n[damage]\nelement = ["line:3"]\n', encoding="utf-8")
    code, _, err = _run(capsys, "impact", str(p))
    assert code == 2
    assert "damage.element" in err
    assert "elements" in err


def test_bad_mode_exit_2(scen, capsys):
    code, _, err = _run(capsys, "impact", str(scen), "--mode", "best")
    assert code == 2
    assert "--mode" in err


def test_auto_services_people_follow_shed_load(tmp_path, capsys, load):
    """With the auto overlay, people are 2,000 per MW of each load, all individually heated:
    people without light at hour 0 = 2,000 x shed MW of the positive loads (MLD, equal weights)."""
    p = tmp_path / "auto.toml"
    p.write_text(
        SCEN.replace('services = "none"', 'services = "auto"') + "[horizon]\nhours = 6\n",
        encoding="utf-8",
    )
    code, out, _ = _run(capsys, "impact", str(p), "--json")
    assert code == 0
    res = json.loads(out)
    net = compile_network(load("case118"))
    ref = max_load_delivery(net, net.state(["line:3", "line:7", "bus:12", "gen:2", "load:5"]))
    pos = net.load_p_mw > 0
    shed_pos = float(((1.0 - ref.served_fraction) * net.load_p_mw)[pos].sum())
    assert res["people"]["without_power"] == pytest.approx(2000.0 * shed_pos, rel=1e-6)
    # individual heating only: people without heat are the people without light
    assert res["people"]["without_heat"] == pytest.approx(res["people"]["without_power"], rel=1e-9)
    assert res["population"] == pytest.approx(2000.0 * net.load_p_mw[pos].sum(), rel=1e-3)
    assert len(res["timeline"]) == 6
    assert len(res["areas"]) == int(pos.sum())
