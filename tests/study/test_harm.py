"""Harm against the pre-damage state: the invariants that make the figures truthful.

* With no damage, every harm figure is 0, on every bundled case and on winter-city, in
  both modes, whatever the case cannot serve before any damage.
* Damage to an element already out of service adds no harm.
* Harm is never negative and never more than the absolute figure.
* Served MW never exceeds the demand, shed MW is never negative (negative loads are
  fixed injections), on every bundled case.
"""

from __future__ import annotations

import numpy as np
import pytest

from warmgrid.io import bundled_names
from warmgrid.model.scenario import parse_scenario
from warmgrid.study.run import impact

HARM_PEOPLE = ("without_power", "without_heat", "without_water")


def _scenario(case: str, damage: list[str], hours: int = 2, **extra):
    return parse_scenario(
        {
            "name": f"{case}-harm",
            "grid": {"case": case, "services": "auto"},
            "damage": {"elements": damage},
            "weather": {"outdoor_c": -20.0},
            "horizon": {"hours": hours},
            **extra,
        }
    )


def _assert_no_harm(res: dict) -> None:
    assert res["people"] == dict.fromkeys(HARM_PEOPLE, 0)
    assert res["people_at_start"] == dict.fromkeys(HARM_PEOPLE, 0)
    assert res["shed_mw"] == 0.0
    m = res["metrics"]
    for k, v in m.items():
        if k.endswith("_range"):  # the fast-slow band of the building calibrations
            assert v in ([0.0, 0.0], [None, None]), k
        elif k.startswith(("person_hours", "energy_not_served", "facilities")):
            assert v == 0, k
        elif k.startswith("first_area_below_"):
            assert v is None, k
    assert all(r["people_without_power"] == 0 for r in res["timeline"])
    assert all(r["shed_mw"] == 0.0 for r in res["timeline"])


def _assert_served_within_demand(res: dict) -> None:
    b = res["baseline"]
    assert 0.0 <= b["served_mw"] <= b["demand_mw"] * (1 + 1e-12) + 1e-9
    assert b["shed_mw"] >= 0.0
    assert b["shed_mw"] == pytest.approx(b["demand_mw"] - b["served_mw"], abs=1e-6)
    assert 0.0 <= res["served_mw"] <= res["demand_mw"] * (1 + 1e-12) + 1e-9


@pytest.mark.parametrize("mode", ["mld", "cascade"])
@pytest.mark.parametrize("case", bundled_names())
def test_no_damage_no_harm_on_every_bundled_case(case, mode):
    res = impact(_scenario(case, []), mode=mode).to_json()
    _assert_no_harm(res)
    _assert_served_within_demand(res)
    assert res["counting"] == "harm over the pre-damage state"
    # what the case cannot serve before any damage is said, not counted
    if res["baseline"]["shed_mw"] > 0.5:
        assert any(w.startswith("before any damage") for w in res["warnings"])
    # and --absolute counts it from zero: the baseline's own people
    people = all(isinstance(v, int) for v in res["people"].values())
    assert people


def test_absolute_counts_what_exists_before_the_damage():
    """case1354pegase cannot serve all its load within its ratings even undamaged: the
    harm of no damage is 0, the absolute figures are the baseline's."""
    sc = _scenario("case1354pegase", [])
    rel = impact(sc).to_json()
    ab = impact(sc, absolute=True).to_json()
    assert rel["baseline"]["shed_mw"] > 1000.0
    _assert_no_harm(rel)
    assert ab["counting"] == "absolute"
    assert ab["shed_mw"] == pytest.approx(ab["baseline"]["shed_mw"])
    assert ab["people"] == ab["baseline"]["people"]
    assert ab["people"]["without_power"] > 1_000_000
    assert any("figures below include it" in w for w in ab["warnings"])


@pytest.mark.parametrize("mode", ["mld", "cascade"])
def test_damage_to_an_element_already_out_adds_no_harm(load, mode):
    grid = load("case6470rte")
    out = grid.gen.loc[~grid.gen["in_service"].astype(bool), "id"].tolist()
    assert out, "case6470rte has units out of service in the file"
    res = impact(_scenario("case6470rte", out[:3]), mode=mode).to_json()
    _assert_no_harm(res)


def test_harm_is_between_zero_and_the_absolute_figure():
    """Random damage on winter-city: hour by hour, the people without each service that
    the damage adds are >= 0 and <= the absolute count, and the harm plus the baseline
    covers the absolute count."""
    rng = np.random.default_rng(3)
    from warmgrid.study.run import prepare

    study = prepare(parse_scenario({"grid": {"case": "winter-city"}, "horizon": {"hours": 24}}))
    sim = study.simulator
    pool = [*sim.net.branch_ids.tolist(), *sim.net.gen_ids.tolist(), *sim.net.groups]
    base = sim.baseline()
    for _ in range(4):
        dmg = [str(x) for x in rng.choice(pool, 4, replace=False)]
        rel = sim.run(dmg)
        sim.relative = False
        ab = sim.run(dmg)
        sim.relative = True
        for s in ("power", "heat", "water"):
            r = getattr(rel, f"people_without_{s}")
            a = getattr(ab, f"people_without_{s}")
            b = getattr(base, f"people_without_{s}")
            assert np.all(r >= -1e-9)
            assert np.all(r <= a + 1e-6)
            assert np.all(r + b >= a - 1e-6)
        assert np.all(rel.shed_mw >= 0.0)
        assert np.all(rel.shed_mw <= ab.shed_mw + 1e-9)


@pytest.mark.parametrize("case", ["case1354pegase", "case2869pegase"])
def test_shed_and_people_are_counted_the_same_way(case):
    """The shed MW of the harm is counted load by load, as the people are: the MW each
    load had before the damage and lost (a load served now that was shed before offsets
    nothing), checked against the absolute replays; and people without power at an hour
    imply shed MW at that hour."""
    from warmgrid.study.run import prepare

    rng = np.random.default_rng(7)
    sc = _scenario(case, [], impact={"mode": "cascade"})
    rel = prepare(sc).simulator
    ab = prepare(sc, absolute=True).simulator
    base = ab.run([])
    net = ab.net
    pos = np.maximum(net.load_p_mw, 0.0)
    checked = 0
    for _ in range(4):
        damage = [str(x) for x in rng.choice(net.branch_ids, size=30, replace=False)]
        tl, now = rel.run(damage), ab.run(damage)
        lost = np.clip(base.load_frac - now.load_frac, 0.0, None) @ pos
        np.testing.assert_allclose(tl.shed_mw, lost, rtol=1e-12, atol=1e-9)
        dark = tl.people_without_power > 0
        assert np.all(tl.shed_mw[dark] > 0)
        checked += int(dark.any())
    assert checked  # some damage darkened someone
