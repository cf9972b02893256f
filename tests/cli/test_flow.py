"""``warmgrid flow`` and ``warmgrid contingency``: the JSON contracts of docs/architecture.md."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from warmgrid.cli import main


def _run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_flow_json_matches_pandapower(capsys):
    import pandapower as pp
    import pandapower.networks as pn

    code, out, _ = _run(capsys, "flow", "case9", "--outage", "line:6", "--json")
    assert code == 0
    d = json.loads(out)
    assert set(d) >= {"branches", "islands", "dark_buses"}
    ids = [b["id"] for b in d["branches"]]
    assert "line:6" not in ids  # outaged branches are left out
    assert d["dark_buses"] == ["bus:1"]
    assert d["islands"] == 2
    ppn = pn.case9()
    ppn.line.loc[6, "in_service"] = False
    pp.rundcpp(ppn)
    for b in d["branches"]:
        kind, i = b["id"].split(":")
        assert kind == "line"
        assert b["p_mw"] == pytest.approx(ppn.res_line.p_from_mw[int(i)], abs=1e-6)
        assert b["loading_percent"] == pytest.approx(
            abs(b["p_mw"])
            / (ppn.line.max_i_ka[int(i)] * ppn.bus.vn_kv[ppn.line.from_bus[int(i)]] * np.sqrt(3))
            * 100,
            rel=1e-6,
        )


def test_flow_dark_island_branches_are_null(capsys, load):
    from warmgrid.power.dc import dc_flow
    from warmgrid.power.network import compile_network

    # find two outages that leave a branch inside an island without the slack
    net = compile_network(load("case9"))
    pick = None
    for i in range(net.n_branch):
        for j in range(i + 1, net.n_branch):
            ids = [net.branch_ids[i], net.branch_ids[j]]
            r = dc_flow(net, net.state(ids))
            inner = r.dark_bus[net.f] & r.dark_bus[net.t]
            inner[[i, j]] = False
            if inner.any():
                pick = ids
                break
        if pick:
            break
    assert pick is not None
    code, out, _ = _run(capsys, "flow", "case9", "-o", ",".join(pick), "--json")
    assert code == 0
    d = json.loads(out)
    nulls = [b for b in d["branches"] if b["p_mw"] is None]
    assert nulls
    assert all(b["loading_percent"] is None for b in nulls)
    dark = set(d["dark_buses"])
    for b in nulls:
        k = list(net.branch_ids).index(b["id"])
        assert net.bus_ids[net.f[k]] in dark


def test_flow_unknown_id_is_one_line_exit_2(capsys):
    code, _, err = _run(capsys, "flow", "case9", "--outage", "lien:6")
    assert code == 2
    assert "closest" in err
    assert "line:6" in err
    assert "Traceback" not in err


def test_contingency_json_contract(capsys, tmp_path):
    out_file = tmp_path / "v.csv"
    code, out, _ = _run(
        capsys, "contingency", "case118", "--threshold", "2", "--out", str(out_file), "--json"
    )
    assert code == 0
    d = json.loads(out)
    assert {"contingencies", "islanding", "with_overloads", "seconds", "worst"} <= set(d)
    assert d["contingencies"] == 186
    assert d["islanding"] == 9
    w = d["worst"][0]
    assert isinstance(w["outage"], list)
    assert w["max_loading_percent"] > 2
    v = pd.read_csv(out_file)
    assert len(v)
    assert (v["loading_percent"] > 2).all()
    assert v["contingency"].nunique() == d["with_overloads"]


def test_contingency_pairs_and_bad_k(capsys, tmp_path):
    code, out, _ = _run(
        capsys, "contingency", "case118", "--k", "2", "--candidates", "10", "--json"
    )
    assert code == 0
    assert json.loads(out)["contingencies"] == 45
    code, _, err = _run(capsys, "contingency", "case118", "--k", "3")
    assert code == 2
    assert "--k" in err
    f = tmp_path / "sets.txt"
    f.write_text("line:1, line:2\n# comment\nline:3 trafo:0\n")
    code, out, _ = _run(capsys, "contingency", "case118", "--sets", str(f), "--json")
    assert code == 0
    assert json.loads(out)["contingencies"] == 2


def test_flow_ac_json_matches_pandapower(capsys):
    import pandapower as pp
    import pandapower.networks as pn

    code, out, _ = _run(capsys, "flow", "case9", "--ac", "--outage", "line:3", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["converged"] is True
    assert d["model"] == "ac"
    assert {"iterations", "seconds", "buses", "branches", "units", "min_vm", "max_vm"} <= set(d)
    ppn = pn.case9()
    ppn.line.loc[3, "in_service"] = False
    pp.runpp(ppn, calculate_voltage_angles=True, numba=False)
    for b in d["buses"]:
        i = int(b["id"].split(":")[1])
        if np.isnan(ppn.res_bus.vm_pu[i]):  # line:3 cuts a dark spur off
            assert b["vm_pu"] is None
            assert b["id"] in d["dark_buses"]
            continue
        assert b["vm_pu"] == pytest.approx(ppn.res_bus.vm_pu[i], abs=1e-8)
        assert b["va_deg"] == pytest.approx(ppn.res_bus.va_degree[i], abs=1e-6)
    assert d["dark_buses"]
    assert "line:3" not in [b["id"] for b in d["branches"]]
    for b in d["branches"]:
        i = int(b["id"].split(":")[1])
        res = ppn.res_line.loc[i]
        for key in ("p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar", "loading_percent"):
            if b[key] is None:  # dark: pandapower reports 0 or NaN
                assert np.nan_to_num(res[key]) == 0.0
                continue
            assert b[key] == pytest.approx(res[key], abs=1e-6), key
    for u in d["units"]:
        kind, i = u["id"].split(":")
        res = ppn[f"res_{kind}"].loc[int(i)]
        for key in ("p_mw", "q_mvar"):
            if u[key] is None:  # a unit in a dark island: pandapower reports 0
                assert res[key] == 0.0
                continue
            assert u[key] == pytest.approx(res[key], abs=1e-6), (u["id"], key)


def test_flow_ac_text_prints_ids_literally(capsys, tmp_path, load):
    from warmgrid.io.tables import write_tables

    grid = load("case9")
    br = grid.branch.copy()
    br.loc[br["id"] == "line:0", "id"] = "line:[bold]0"
    folder = write_tables(grid.replace(branch=br), tmp_path / "c9")
    code, out, err = _run(capsys, "flow", str(folder), "--ac", "--q-limits", "--top", "9")
    assert code == 0, err
    assert "line:[bold]0" in out
    assert "converged in" in out
    assert "vm min" in out


def test_flow_ac_not_converged_is_one_line_exit_1(capsys):
    code, out, err = _run(capsys, "flow", "case11_iwamoto", "--ac", "--json")
    assert code == 1
    # a script reads converged: false, and no values (none would be an answer)
    res = json.loads(out)
    assert res["converged"] is False
    assert res["iterations"] == 10
    assert "buses" not in res
    assert res["max_mismatch_pu"] > 1e-8  # (the tolerance)
    assert len(err.strip().splitlines()) == 1
    assert "did not converge" in err
    assert "10 Newton iterations" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ("--q-limits",),  # needs --ac
        ("--ac", "--max-iter", "0"),
        ("--ac", "--outage", "line:99"),
    ],
)
def test_flow_ac_bad_input_exit_2(capsys, args):
    code, _, err = _run(capsys, "flow", "case9", *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_contingency_ac_verify_matches_pandapower(capsys):
    """``contingency --ac-verify 3``: each of the 3 worst DC contingencies re-solved in AC,
    its worst loading and the loading of the branch DC found worst equal pandapower's
    ``runpp`` with that element out (1e-4 %). On case30 AC finds a branch DC missed."""
    import pandapower as pp
    import pandapower.networks as pn

    code, out, _ = _run(capsys, "contingency", "case30", "--ac-verify", "3", "--json")
    assert code == 0
    d = json.loads(out)
    rows = d["ac_verify"]
    assert [r["outage"] for r in rows] == [w["outage"] for w in d["worst"][:3]]
    for r in rows:
        ppn = pn.case30()
        kind, idx = r["outage"][0].split(":")
        getattr(ppn, kind).loc[int(idx), "in_service"] = False
        pp.runpp(ppn, calculate_voltage_angles=True, numba=False)
        loading = {f"line:{i}": v for i, v in ppn.res_line.loading_percent.items()}
        loading |= {f"trafo:{i}": v for i, v in ppn.res_trafo.loading_percent.items()}
        rated = {k: v for k, v in loading.items() if np.isfinite(v)}
        worst = max(rated, key=rated.__getitem__)
        assert r["ac_converged"] is True
        assert r["ac_branch"] == worst
        assert r["ac_max_loading_percent"] == pytest.approx(rated[worst], abs=1e-4)
        assert r["ac_loading_on_dc_branch"] == pytest.approx(loading[r["dc_branch"]], abs=1e-4)
        assert r["min_vm_pu"] == pytest.approx(ppn.res_bus.vm_pu.min(), abs=1e-8)
    assert any(r["ac_branch"] != r["dc_branch"] for r in rows)
    code, out, _ = _run(capsys, "contingency", "case30", "--ac-verify", "2")
    assert code == 0
    assert "2 worst re-solved in AC" in out
    assert rows[0]["ac_branch"] in out


def test_flat_and_dc_starts_reach_the_same_solution(capsys):
    """``--init flat`` (1 p.u., 0°) and ``--init dc`` (the default) converge to the same
    voltages on case118; the flat start needs at least as many Newton iterations."""
    res = {}
    for init in ("dc", "flat"):
        code, out, err = _run(capsys, "flow", "case118", "--ac", "--init", init, "--json")
        assert code == 0, err
        res[init] = json.loads(out)
    vm_dc = np.array([b["vm_pu"] for b in res["dc"]["buses"]], dtype=float)
    vm_flat = np.array([b["vm_pu"] for b in res["flat"]["buses"]], dtype=float)
    np.testing.assert_allclose(vm_flat, vm_dc, atol=1e-9)
    assert res["flat"]["iterations"] >= res["dc"]["iterations"]
    code, _out, err = _run(capsys, "flow", "case118", "--init", "flat")
    assert code == 2
    assert "--init needs --ac" in err
