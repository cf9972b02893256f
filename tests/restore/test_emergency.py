"""Mobile generators and warming shelters: closed forms on a three-bus city, the coverage
MILP against an independent enumeration (scipy linprog for the shelter transport part),
greedy against brute force of the replays, and the laws (a generator at a dark boiler
house brings its heat back; more generators never worsen the best placement)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from scipy.optimize import linprog

from cities import small_city
from warmgrid.cli import main
from warmgrid.errors import InputError
from warmgrid.model.scenario import parse_scenario
from warmgrid.restore.emergency import (
    EmergencyProblem,
    Fleet,
    Placement,
    brute_force,
    coverage_milp,
    greedy,
    site,
)
from warmgrid.services.thermal import hours_below
from warmgrid.study.run import prepare
from warmgrid.timeline import Event, Simulator

# ----------------------------------------------------------------- a three-bus city


def small_sim(hours: int = 12) -> Simulator:
    """The three-bus city of ``tests/cities.py`` with 16-storey panel blocks."""
    grid, svc = small_city(archetype="panel16")
    return Simulator(grid, svc, np.full(hours, -20.0))


@pytest.fixture(scope="module")
def small():
    return small_sim()


def test_half_generator_at_boiler_gives_half_heat_and_cuts_ens(small):
    base = small.run(["line:ac"])
    tl = small.run(["line:ac"], [Event(2.0, "heat:boiler", "mobile_gen", 0.5)])
    assert np.all(base.heat[:, 0] == 0.0)
    # pumps at 0.5 of their load -> the boiler's heat at 0.5 (>= circulation_min: no drain)
    np.testing.assert_allclose(tl.heat[:2, 0], 0.0)
    np.testing.assert_allclose(tl.heat[2:, 0], 0.5, rtol=0, atol=1e-12)
    # the 0.5 MW it supplies counts as served: 10 steps x 0.5 MW
    ens0, ens1 = base.metrics()["energy_not_served_mwh"], tl.metrics()["energy_not_served_mwh"]
    assert ens0 - ens1 == pytest.approx(10 * 0.5, abs=1e-9)
    np.testing.assert_allclose(tl.served_mw - base.served_mw, [0, 0] + [0.5] * 10, atol=1e-9)


def test_generators_keep_water_and_hospital_past_their_buffers(small):
    base = small.run(["line:ac", "line:ab"])
    tl = small.run(
        ["line:ac", "line:ab"],
        [
            Event(0.0, "water:pump", "mobile_gen", 2.0),  # the whole pump load
            Event(0.0, "facility:hospital", "mobile_gen", 0.25),  # half: the hospital runs
        ],
    )
    assert base.water[3:, 0].max() == 0.0  # tanks last 3 h
    np.testing.assert_allclose(tl.water[:, 0], 1.0)
    assert not base.facility_ok[5:, 0].any()  # 5 h of diesel
    assert tl.facility_ok.all()
    assert tl.metrics()["facilities_past_backup"] == 0


def test_shelter_closed_form(small):
    base = small.run(["line:ac"])
    assert base.sheltered is None
    m0 = base.metrics()
    for thr in ("18c", "12c", "5c"):  # no shelter: unsheltered equals below
        assert m0[f"person_hours_below_{thr}_unsheltered"] == m0[f"person_hours_below_{thr}"]
    tl = small.run(["line:ac"], [Event(0.0, "area:one", "shelter", 3000.0)])
    m = tl.metrics()

    # identical homes: the keys of the metric dict and the temperatures do not change
    def same(d):
        return {k: v for k, v in d.items() if "unsheltered" not in k}

    assert same(m) == same(m0)
    hb = hours_below(tl.temp_c, small.thresholds_c, small.tau_h)[0]  # (n_thr,)
    cold = tl.temp_c[1:, 0] < small.shelter_below_c
    np.testing.assert_allclose(tl.sheltered[:, 0], np.where(cold, 3000.0, 0.0))
    for t, thr in enumerate(("18c", "12c", "5c")):
        # 12 °C and 5 °C lie below 18 °C: all their hours are spent while cold and sheltered
        if thr != "18c":
            assert m[f"person_hours_below_{thr}_unsheltered"] == pytest.approx(
                (10_000 - 3000) * hb[t], rel=1e-12
            )
    big = small.run(["line:ac"], [Event(0.0, "area:one", "shelter", 50_000.0)])
    assert big.metrics()["person_hours_below_12c_unsheltered"] == pytest.approx(0.0, abs=1e-6)


def test_bad_events_are_input_errors(small):
    with pytest.raises(InputError, match="heat:boiler"):
        small.run([], [Event(0.0, "heat:boilr", "mobile_gen", 1.0)])
    with pytest.raises(InputError, match="not an area"):
        small.run([], [Event(0.0, "heat:boiler", "shelter", 10.0)])
    with pytest.raises(InputError, match="kind"):
        small.run([], [Event(0.0, "line:ab", "teleport", 1.0)])
    with pytest.raises(InputError, match=">= 0"):
        small.run([], [Event(0.0, "load:homes", "mobile_gen", -1.0)])
    with pytest.raises(InputError):
        Fleet(generators=-1)


# ----------------------------------------------------------------- winter-city

DAMAGE = [
    "gen:chp-south-1",
    "gen:chp-south-2",
    "gen:chp-south-3",
    "substation:dniprova",
    "substation:kalynova",
]
GEN_SITES = [
    "heat:boiler-dniprova",
    "heat:boiler-akatsiia",
    "water:booster-verbivka",
    "water:booster-berezhany",
    "facility:hospital-01",
]
SHELTER_SITES = ["area:lukivka-7", "area:lukivka-8", "area:verbivka-4", "area:berezhany-16"]


@pytest.fixture(scope="module")
def city():
    sc = parse_scenario(
        {
            "grid": {"case": "winter-city"},
            "damage": {"elements": DAMAGE},
            "weather": {"outdoor_c": -18.0},
            "horizon": {"hours": 48},
        }
    )
    return prepare(sc).simulator


def problem(city, n_gen: int, n_sh: int, **kw) -> EmergencyProblem:
    fleet = Fleet(
        generators=n_gen,
        generator_mw=kw.pop("mw", 1.0),
        shelters=n_sh,
        shelter_capacity=2000.0,
        radius_km=3.0,
        deploy_h=kw.pop("deploy_h", 2.0),
    )
    return EmergencyProblem(
        city, DAMAGE, fleet, generator_sites=GEN_SITES, shelter_sites=SHELTER_SITES, **kw
    )


def enumerate_milp(p: EmergencyProblem) -> float:
    """Max over placements of Σ g_s + the shelters' transport LP (scipy linprog)."""
    g = p.generator_values()
    c, d = p.shelter_values()
    best = -np.inf
    for gs in itertools.combinations(range(len(g)), p.n_generators):
        for js in itertools.combinations(range(c.shape[0]), p.n_shelters):
            pairs = [(j, a) for j in js for a in range(len(d)) if c[j, a] > 0 and d[a] > 0]
            val = float(g[list(gs)].sum())
            if pairs:
                a_ub, b_ub = [], []
                for j in js:
                    a_ub.append([1.0 if jj == j else 0.0 for jj, _ in pairs])
                    b_ub.append(p.fleet.shelter_capacity)
                for a in sorted({a for _, a in pairs}):
                    a_ub.append([1.0 if aa == a else 0.0 for _, aa in pairs])
                    b_ub.append(d[a])
                r = linprog(-np.array([c[j, a] for j, a in pairs]), A_ub=a_ub, b_ub=b_ub)
                assert r.status == 0
                val += -r.fun
            best = max(best, val)
    return best


@pytest.mark.parametrize(("n_gen", "n_sh"), [(1, 1), (2, 2), (3, 1), (0, 3)])
def test_milp_optimum_equals_enumeration(city, n_gen, n_sh):
    p = problem(city, n_gen, n_sh)
    sol = coverage_milp(p)
    ref = enumerate_milp(p)
    assert sol.objective == pytest.approx(ref, rel=1e-9)
    assert len(sol.placement.generators) == n_gen
    assert len(sol.placement.shelters) == n_sh


@pytest.mark.parametrize(("n_gen", "n_sh"), [(1, 1), (2, 2), (2, 1)])
def test_greedy_and_milp_never_beat_brute_force(city, n_gen, n_sh):
    p = problem(city, n_gen, n_sh)
    b = brute_force(p)
    # brute force is the min over an independent enumeration of sim.run replays
    ref = min(
        p.score(Placement.of(g, s))["total"]
        for g in itertools.combinations(GEN_SITES, n_gen)
        for s in itertools.combinations(SHELTER_SITES, n_sh)
    )
    assert b.total == ref
    evs = p.events(b.placement)
    assert b.total == pytest.approx(
        sum(
            w * city.run(DAMAGE, evs, shelter_radius_km=3.0).metrics()[k]
            for k, w in p.weights.items()
        ),
        rel=1e-12,
    )
    assert greedy(p).total >= b.total - 1e-6 * abs(b.total)
    from warmgrid.restore.emergency import milp

    assert milp(p).total >= b.total - 1e-6 * abs(b.total)
    assert b.total <= p.no_action()["total"]


def test_more_generators_never_worsen_the_best_placement(city):
    totals = [brute_force(problem(city, n, 0)).total for n in range(len(GEN_SITES) + 1)]
    assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(totals)), totals
    assert totals[-1] < totals[0]
    shel = [brute_force(problem(city, 0, m)).total for m in range(len(SHELTER_SITES) + 1)]
    assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(shel)), shel


def test_generator_at_dark_boiler_brings_its_heat_back(city):
    s = city.services
    boiler = s.heat.set_index("id").loc["heat:boiler-dniprova"]
    pump_mw = city.net.load_p_mw[city.site_load["heat:boiler-dniprova"]]
    areas = s.areas[s.areas["heat_sources"] == "heat:boiler-dniprova"]
    assert len(areas)
    assert boiler["backup_h"] < 48
    ai = [city.area_pos[a] for a in areas["id"]]
    base = city.run(DAMAGE)
    tl = city.run(DAMAGE, [Event(0.0, "heat:boiler-dniprova", "mobile_gen", pump_mw)])
    # the source runs all along (availability 1): area heat follows the propagate rules
    ish = areas["individual_heating_share"].to_numpy()
    lt = tl.light[:, ai]
    dh = np.where(areas["needs_local_power"].to_numpy(), lt, 1.0)
    np.testing.assert_allclose(tl.heat[:, ai], (1 - ish) * dh + ish * lt, atol=1e-12)
    # every area it feeds (also with another source): heat back once its diesel ran out
    fed = s.areas[s.areas["heat_sources"].str.contains("heat:boiler-dniprova", regex=False)]
    fi = [city.area_pos[a] for a in fed["id"]]
    late = slice(int(boiler["backup_h"]) + 1, None)
    assert np.all(tl.heat[:, fi] >= base.heat[:, fi] - 1e-12)
    assert (tl.heat[late, fi] > base.heat[late, fi] + 0.1).any()


def test_site_auto_and_cli_json(city, tmp_path, capsys):
    p = problem(city, 1, 1)
    assert site(p).method == "brute"  # 20 placements
    toml = tmp_path / "s.toml"
    toml.write_text(
        """
[grid]
case = "winter-city"
[damage]
elements = ["gen:chp-south-1", "substation:dniprova"]
[weather]
outdoor_c = -18.0
[horizon]
hours = 24
[repair]
crews = 2
""",
        encoding="utf-8",
    )
    code = main(
        [
            "restore",
            str(toml),
            "--generators",
            "2",
            "--generator-mw",
            "1.5",
            "--shelters",
            "2",
            "--deploy-h",
            "3",
            "--siting",
            "milp",
            "--json",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    res = json.loads(out.out)
    em = res["emergency"]
    assert [g["mw"] for g in em["generators"]] == [1.5, 1.5]
    assert all(g["hour"] == 3.0 for g in em["generators"] + em["shelters"])
    assert len(em["shelters"]) == 2
    assert all(s["persons"] == 1000.0 for s in em["shelters"])
    assert em["objective"]["total"] <= em["without"]["total"]
    assert set(res) >= {"plan", "objective"}
    code = main(["restore", str(toml), "--generators", "-1", "--json"])
    assert code == 2
