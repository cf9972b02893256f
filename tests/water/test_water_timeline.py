"""The hydraulic water network coupled to the power timeline, end to end.

Net3's two pumps are powered by two loads of case9. A damage cuts both loads; one comes
back at hour 45. Through the scenario, the study and the one timeline, the pumps that
lose power must be exactly the ones a direct, independently built WNTR run closes, and
every junction's delivered demand over 72 h must equal that run's.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

wntr = pytest.importorskip("wntr")

from warmgrid.cli import main  # noqa: E402
from warmgrid.model.events import Event  # noqa: E402
from warmgrid.model.scenario import load_scenario  # noqa: E402
from warmgrid.study.run import prepare  # noqa: E402
from warmgrid.water.network import network_path  # noqa: E402

REQ_M = 28.43 * 0.3048 / 0.4333  # 28.43 psi, a value WNTR writes exactly (see the WNTR test)


def _scenario(tmp_path):
    wn = wntr.network.WaterNetworkModel(str(network_path("Net3")))
    rows = "\n".join(f"area:0,{j},1" for j in wn.junction_name_list)
    (tmp_path / "aj.csv").write_text("area,junction,share\n" + rows + "\n", encoding="utf-8")
    p = tmp_path / "net3.toml"
    p.write_text(
        f"""
[grid]
case = "case9"
[damage]
elements = ["bus:4", "bus:6"]
[horizon]
hours = 72
[water]
inp = "Net3"
pump_power = {{ "10" = "load:0", "335" = "load:1" }}
required_pressure_m = {REQ_M!r}
area_junctions = "aj.csv"
""",
        encoding="utf-8",
    )
    return p


def _wntr_reference(tmp_path, monkeypatch):
    """Pump 335 closed throughout, pump 10 closed until hour 45 (its status then, in the
    run with every pump powered, is closed; its timer re-opens it at hour 49)."""
    wn = wntr.network.WaterNetworkModel(str(network_path("Net3")))
    wn.options.hydraulic.demand_model = "PDD"
    wn.options.hydraulic.required_pressure = REQ_M
    wn.options.hydraulic.minimum_pressure = 0.0
    wn.options.time.duration = 72 * 3600
    for name, ctrl in list(wn.controls()):
        target = ctrl.actions()[0].target()[0].name
        if target == "335":
            wn.remove_control(name)
        elif target == "10" and ctrl.condition._threshold < 45 * 3600:
            wn.remove_control(name)
    wn.get_link("335").initial_status = wntr.network.LinkStatus.Closed
    wn.get_link("10").initial_status = wntr.network.LinkStatus.Closed
    monkeypatch.chdir(tmp_path)
    return wntr.sim.EpanetSimulator(wn).run_sim()


def test_net3_through_the_timeline_equals_wntr(tmp_path, monkeypatch):
    sc = load_scenario(_scenario(tmp_path))
    sim = prepare(sc, absolute=True).simulator
    tl = sim.run(["bus:4", "bus:6"], [Event(45.0, "bus:4")])
    res = tl.water_detail.result
    on = res.pump_on
    assert not on[:45, res.pumps.index("10")].any()
    assert on[45:, res.pumps.index("10")].all()
    assert not on[:, res.pumps.index("335")].any()
    ref = _wntr_reference(tmp_path, monkeypatch)
    cols = list(res.junctions)
    want = ref.node["demand"][cols].to_numpy() * 3600.0
    np.testing.assert_allclose(res.demand_m3h, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())
    # the area's water is the demand-weighted share delivered, and it is what the
    # timeline counts
    share = res.delivered_m3h.sum(axis=1) / res.expected_m3h.sum(axis=1)
    np.testing.assert_allclose(tl.water_detail.areas.fraction[:, 0], np.clip(share, 0, 1))
    np.testing.assert_array_equal(tl.water[:, 0], np.where(share < 0.5, 0.0, 1.0))


def test_impact_json_water_object_and_junction_detail(tmp_path, capsys):
    p = _scenario(tmp_path)
    assert main(["impact", str(p), "--json", "--water-detail"]) == 0
    res = json.loads(capsys.readouterr().out)
    w = res["water"]
    assert w["model"] == "hydraulic"
    assert w["network"] == "Net3"
    assert w["hydraulic_runs"] >= 2  # the damaged pattern and the all-powered baseline
    assert set(w["worst_pressure_m"]) == {a["id"] for a in res["areas"]}
    assert len(w["junctions"]) == 92
    assert all(len(v) == 72 for v in w["junctions"].values())
    assert any("pump runs while" in a for a in res["assumptions"])
    assert main(["impact", str(p), "--json"]) == 0
    assert "junctions" not in json.loads(capsys.readouterr().out)["water"]


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ('"10" = "load:0"', ['"1O" = "load:0"', "no pump '1O'", "closest: 10"]),
        ('"335" = "load:1"', ['"335" = "load:9"', "unknown grid element", "load:9"]),
    ],
)
def test_bad_water_links_are_one_line(tmp_path, capfd, edit, words):
    p = _scenario(tmp_path)
    p.write_text(p.read_text().replace(edit, words[0]), encoding="utf-8")
    code = main(["impact", str(p)])
    err = capfd.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    for w in words[1:]:
        assert w in err, err
