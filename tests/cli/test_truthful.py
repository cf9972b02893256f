"""Truthful on a user's own grid, through the real CLI: stated assumptions and the
options that set them, findable ids, and warnings about the data as it is."""

from __future__ import annotations

import json

import pytest

from warmgrid.cli import main


def _json(capsys, *args: str) -> dict | list:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def _scenario(tmp_path, text: str):
    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_auto_services_are_stated_and_set_by_the_scenario(tmp_path, capsys, load) -> None:
    base = '[grid]\ncase = "case30"\n[damage]\nelements = ["line:3"]\n[horizon]\nhours = 4\n'
    res = _json(capsys, "impact", _scenario(tmp_path, base), "--json")
    (auto,) = [a for a in res["assumptions"] if a.startswith('services = "auto"')]
    assert "2,000 people per MW" in auto
    assert "panel9" in auto
    assert any("no [weather]" in a for a in res["assumptions"])
    pos = load("case30").load
    mw = float(pos.loc[pos["p_mw"] > 0, "p_mw"].sum())
    assert res["population"] == pytest.approx(2000 * mw, abs=len(pos))
    custom = base + '[services]\npeople_per_mw = 500\narchetype = "brick5"\n'
    res2 = _json(capsys, "impact", _scenario(tmp_path, custom), "--json")
    assert res2["population"] == pytest.approx(500 * mw, abs=len(pos))
    assert any("500 people per MW" in a and "brick5" in a for a in res2["assumptions"])
    assert set(res2["archetypes"]) == {"brick5"}
    # people are whole numbers everywhere
    assert isinstance(res2["population"], int)
    assert all(isinstance(a["population"], int) for a in res2["areas"])
    # and the text output says it in one line each
    code = main(["impact", _scenario(tmp_path, custom)])
    out = capsys.readouterr().out.replace("\n", " ")
    assert code == 0
    assert "assumed: services" in out


def test_unknown_archetype_in_services_section(tmp_path, capsys) -> None:
    p = _scenario(
        tmp_path,
        '[grid]\ncase = "case9"\n[services]\narchetype = "panel99"\n[horizon]\nhours = 2\n',
    )
    code = main(["impact", p])
    err = capsys.readouterr().err
    assert code == 2
    assert "panel99" in err
    assert "closest: panel9" in err


def test_default_repair_hours_are_stated(frost_strike_restore) -> None:
    res = frost_strike_restore
    (note,) = [a for a in res["assumptions"] if a.startswith("repair hours")]
    assert "gen 36 h ×4" in note
    assert "substation 72 h ×2" in note


def test_elements_lists_every_id_with_kind_and_bus(capsys) -> None:
    rows = _json(capsys, "elements", "frost-strike", "--json")
    by_id = {r["id"]: r for r in rows}
    assert by_id["substation:dniprova"]["kind"] == "substation"
    assert by_id["substation:dniprova"]["members"]
    assert by_id["gen:ext-obrii"]["kind"] == "external"
    assert by_id["gen:ext-obrii"]["general"] == "gen"
    areas = [r for r in rows if r["kind"] == "area"]
    assert len(areas) == 100
    assert sum(r["people"] for r in areas) > 3_000_000
    assert {r["kind"] for r in rows} >= {"bus", "line", "gen", "load", "heat", "water", "facility"}
    only = _json(capsys, "elements", "case118", "--kind", "branch", "--json")
    assert {r["general"] for r in only} == {"branch"}
    assert {r["kind"] for r in only} == {"line", "trafo"}
    # a bus's name is its MATPOWER number: bus:12 is bus 13
    buses = {r["id"]: r for r in _json(capsys, "elements", "case118", "--kind", "bus", "--json")}
    assert buses["bus:12"]["name"] == "13"


def test_unknown_id_points_to_warmgrid_elements(tmp_path, capsys) -> None:
    p = _scenario(tmp_path, '[grid]\ncase = "case118"\n[damage]\nelements = ["substation:S4"]\n')
    code = main(["impact", p])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown element id 'substation:S4'" in err
    assert f"warmgrid elements {p} lists them" in err
    code = main(["elements", "case118", "--kind", "substaton"])
    err = capsys.readouterr().err
    assert code == 2
    assert "closest: substation" in err


CASE_DCLINE = """function mpc = c
mpc.baseMVA = 100;
mpc.bus = [
	1	3	0	0	0	0	1	1	0	110	1	1.1	0.9;
	2	1	50	0	0	0	1	1	0	110	1	1.1	0.9;
	3	1	-20	0	0	0	1	1	0	110	1	1.1	0.9;
];
mpc.gen = [
	1	300	0	300	-300	1	100	1	400	0;
];
mpc.branch = [
	1	2	0.01	0.1	0	100	100	100	0	0	1;
	2	3	0.01	-0.05	0	100	100	100	0	0	1;
];
mpc.dcline = [
	1	3	1	10	9.8	0	0	1	1	0	20	-10	10	-10	10	0.1	0.01;
];
mpc.gencost = [
	2	0	0	2	1	0;
];
mpc.dcbus = [
	1	1	0	0	0	0	1	100	1	1.1	0.9;
];
"""


def test_matpower_data_as_it_is_gets_warnings(tmp_path, capsys) -> None:
    p = tmp_path / "c.m"
    p.write_text(CASE_DCLINE, encoding="utf-8")
    info = _json(capsys, "info", str(p), "--json")
    ws = " | ".join(info["warnings"])
    assert "1 HVDC link(s) (dcline) modelled as two units" in ws
    assert "1 branch(es) of c have a negative series reactance" in ws
    # a table warmgrid does not read is named, never dropped silently (costs are fine)
    assert "c.m: mpc.dcbus not represented" in ws
    assert "gencost" not in ws
    # the dispatch that does not balance is said by info and contingency too
    assert "does not balance its load" in ws
    cont = _json(capsys, "contingency", str(p), "--json")
    assert any("does not balance its load" in w for w in cont["warnings"])
    flow = _json(capsys, "flow", str(p), "--json")
    ws = " | ".join(flow["warnings"])
    # the file dispatches 300 MW against 30 MW of load: the slack takes the difference
    assert "does not balance its load" in ws
    assert "270 MW too much" in ws
    assert "slack" in ws
    # the negative load is an injection: served never exceeds the (positive) demand
    sc = tmp_path / "s.toml"
    sc.write_text('[grid]\ncase = "c.m"\n[horizon]\nhours = 2\n', encoding="utf-8")
    res = _json(capsys, "impact", str(sc), "--json")
    assert res["demand_mw"] == pytest.approx(50.0)
    assert res["baseline"]["served_mw"] == pytest.approx(50.0)
    assert res["baseline"]["shed_mw"] == pytest.approx(0.0)
    assert any("redispatches" in w for w in res["warnings"])
    assert res["population"] == 100_000  # 50 MW x 2,000 people/MW; the injection has none
    cas = _json(capsys, "impact", str(sc), "--mode", "cascade", "--json")
    assert cas["demand_mw"] == pytest.approx(50.0)
    assert 0.0 <= cas["baseline"]["served_mw"] <= 50.0 + 1e-9
    assert cas["baseline"]["shed_mw"] >= 0.0
    assert any("pro rata" in w for w in cas["warnings"])


def test_unrated_branches_have_no_loading(capsys) -> None:
    res = _json(capsys, "flow", "case9", "--json")
    assert all(b["loading_percent"] is not None for b in res["branches"])
    res = _json(capsys, "flow", "case11_iwamoto", "--json")
    unrated = [b for b in res["branches"] if b["loading_percent"] is None]
    assert unrated, "case11_iwamoto carries no ratings"
    assert all(b["p_mw"] is not None for b in unrated)


def test_unrated_branches_have_no_loading_in_contingency(capsys) -> None:
    """case11_iwamoto rates none of its branches: no contingency has a loading (null,
    not 0 %), and the text prints a dash."""
    res = _json(capsys, "contingency", "case11_iwamoto", "--json")
    assert res["worst"]
    for w in res["worst"]:
        assert w["branch"] is None
        assert w["max_loading_percent"] is None
    # a negative load cut off is a lost injection, not lost load
    assert all(w["lost_load_mw"] >= 0.0 for w in res["worst"])
    assert main(["contingency", "case11_iwamoto"]) == 0
    rows = [r.split("│") for r in capsys.readouterr().out.splitlines() if r.startswith("│ line")]
    assert rows
    assert {r[2].strip() for r in rows} == {"-"}  # max loading %: none


def test_an_external_grid_without_a_set_point_is_the_balance(capsys) -> None:
    """pandapower's ext_grid has no set point: its output is the balance by definition,
    so a bundled case's dispatch is never said not to balance (a MATPOWER slack with a
    PG is, above)."""
    for case in ("case9", "case118"):
        for cmd in (["flow", case, "--json"], ["info", case, "--json"]):
            res = _json(capsys, *cmd)
            assert not any("does not balance" in w for w in res["warnings"]), (case, cmd)
