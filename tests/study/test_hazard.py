"""Hazard samplers and random streams: statistics against closed forms and binomial bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from warmgrid.errors import InputError
from warmgrid.hazard import (
    Explicit,
    Footprint,
    Fragility,
    RandomK,
    hazard_context,
    hazard_from_scenario,
)
from warmgrid.rng import as_generator, sample_generator, spawn_streams


@pytest.fixture(scope="module")
def city():
    from warmgrid.examples.winter_city import winter_city

    return winter_city()


def _within_binomial(count: int, n: int, p: float, sigmas: float = 4.5) -> bool:
    sd = math.sqrt(n * p * (1 - p))
    return abs(count - n * p) <= sigmas * sd


# ---------------------------------------------------------------------------- rng


def test_streams_are_numpy_spawn_children():
    kids = np.random.SeedSequence(42).spawn(7)
    mine = spawn_streams(42, 4, start=3)
    for a, b in zip(kids[3:], mine, strict=True):
        assert a.generate_state(4).tolist() == b.generate_state(4).tolist()
    x = np.random.default_rng(kids[5]).random(3)
    assert np.array_equal(sample_generator(42, 5).random(3), x)
    assert not np.array_equal(sample_generator(42, 4).random(3), x)


def test_as_generator_normalises_and_rejects():
    g = np.random.default_rng(1)
    assert as_generator(g) is g
    assert as_generator(5).random() == np.random.default_rng(5).random()
    for bad in (-1, 2**63, 1.5, "7", True):
        with pytest.raises(InputError, match="seed"):
            as_generator(bad)


# ---------------------------------------------------------------------------- random k


def test_random_k_draws_k_distinct_allowed_elements(winter_net, city):
    grid, services = city
    hz = RandomK(k=3, weights_by_kind={"gen": 4.0, "substation": 4.0})
    allowed = set(grid.gen["id"]) | set(services.substations)
    rng = np.random.default_rng(0)
    for _ in range(300):
        d = hz.sample(winter_net, rng)
        assert len(d) == 3 == len(set(d))
        assert set(d) <= allowed


def test_random_k_selection_probability_matches_weights(winter_net, city):
    """k = 1: P(kind) = w_kind * n_kind / sum_j w_j * n_j (closed form)."""
    grid, services = city
    on = grid.branch["in_service"].to_numpy(bool)
    n_line = int(((grid.branch["kind"] != "trafo").to_numpy() & on).sum())
    n_trafo = int(((grid.branch["kind"] == "trafo").to_numpy() & on).sum())
    n_gen = int(grid.gen["in_service"].sum())
    n_sub = len(services.substations)
    w = {"gen": 4.0, "substation": 2.0, "branch": 1.0, "line": 0.5}
    total = 4.0 * n_gen + 2.0 * n_sub + 1.0 * n_trafo + 0.5 * n_line
    hz = RandomK(k=1, weights_by_kind=w)
    n = 3000
    rng = np.random.default_rng(123)
    kinds = [hz.sample(winter_net, rng)[0].split(":")[0] for _ in range(n)]
    counts = {k: kinds.count(k) for k in ("gen", "substation", "trafo", "line")}
    assert _within_binomial(counts["gen"], n, 4.0 * n_gen / total)
    assert _within_binomial(counts["substation"], n, 2.0 * n_sub / total)
    assert _within_binomial(counts["trafo"], n, 1.0 * n_trafo / total)
    assert _within_binomial(counts["line"], n, 0.5 * n_line / total)


def test_random_k_bad_parameters(winter_net):
    with pytest.raises(InputError, match="k must be"):
        RandomK(k=0)
    with pytest.raises(InputError, match="closest: substation"):
        RandomK(k=1, weights_by_kind={"substaton": 1.0})
    with pytest.raises(InputError, match=">= 0"):
        RandomK(k=1, weights_by_kind={"gen": -1.0})
    with pytest.raises(InputError, match="only 11 element"):
        RandomK(k=12, weights_by_kind={"gen": 1.0}).check(winter_net)


# ---------------------------------------------------------------------------- fragility


def test_fragility_failure_rate_is_binomial(winter_net, city):
    grid, _ = city
    n_line = int((grid.branch["kind"] == "line").sum())
    hz = Fragility(prob_by_kind={"line": 0.1, "gen": 0.3})
    rng = np.random.default_rng(9)
    draws = 400
    out = [hz.sample(winter_net, rng) for _ in range(draws)]
    lines = sum(e.startswith("line:") for d in out for e in d)
    gens = sum(e.startswith("gen:") for d in out for e in d)
    assert not any(e.startswith(("trafo:", "substation:", "bus:")) for d in out for e in d)
    assert _within_binomial(lines, n_line * draws, 0.1)
    assert _within_binomial(gens, len(grid.gen) * draws, 0.3)
    # each element independently: one line's failure count is Binomial(draws, 0.1)
    first = grid.branch.loc[grid.branch["kind"] == "line", "id"].iloc[0]
    assert _within_binomial(sum(first in d for d in out), draws, 0.1)


def _segment_distance_bruteforce(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    s = np.linspace(0.0, 1.0, 2001)[:, None]
    pts = a + s * (b - a)
    return float(np.min(np.hypot(*(pts - c).T)))


def test_footprint_takes_exactly_the_lines_it_touches(winter_net, city):
    grid, _ = city
    center, radius = np.array([15.0, 15.0]), 6.0
    xy = grid.bus.set_index("id")[["x", "y"]]
    lines = grid.branch[grid.branch["kind"] == "line"]
    dist = {
        r.id: _segment_distance_bruteforce(
            xy.loc[r.from_bus].to_numpy(float), xy.loc[r.to_bus].to_numpy(float), center
        )
        for r in lines.itertuples()
    }
    hz = Fragility(
        prob_by_kind={"line": 1.0}, footprint=Footprint(center_xy=(15.0, 15.0), radius_km=radius)
    )
    got = set(hz.sample(winter_net, np.random.default_rng(0)))
    clear = {k for k, d in dist.items() if abs(d - radius) > 0.02}
    assert {k for k in clear if dist[k] <= radius} == got & clear
    assert 0 < len(got) < len(lines)


def test_footprint_outside_factor_scales_the_probability(winter_net):
    fp = Footprint(center_xy=(15.0, 15.0), radius_km=7.0, outside_factor=0.5)
    hz = Fragility(prob_by_kind={"branch": 0.2}, footprint=fp)
    ctx = hazard_context(winter_net)
    inside = fp.inside(ctx) & (ctx.general == "branch")
    outside = ~fp.inside(ctx) & (ctx.general == "branch")
    rng = np.random.default_rng(5)
    draws = 400
    hits = np.zeros(len(ctx.ids))
    pos = {e: i for i, e in enumerate(ctx.ids)}
    for _ in range(draws):
        for e in hz.sample(ctx, rng):
            hits[pos[e]] += 1
    assert _within_binomial(int(hits[inside].sum()), int(inside.sum()) * draws, 0.2)
    assert _within_binomial(int(hits[outside].sum()), int(outside.sum()) * draws, 0.1)


def test_footprint_lonlat_distance_matches_haversine():
    lon0, lat0, lon1, lat1 = 30.52, 50.45, 30.70, 50.52
    fp = Footprint(center_xy=(lon0, lat0), radius_km=50.0, lonlat=True)
    p = np.array([[lon1, lat1]])
    d = fp.distance_km(p, p)[0]
    phi0, phi1 = math.radians(lat0), math.radians(lat1)
    h = (
        math.sin((phi1 - phi0) / 2) ** 2
        + math.cos(phi0) * math.cos(phi1) * math.sin(math.radians(lon1 - lon0) / 2) ** 2
    )
    ref = 2 * 6371.0 * math.asin(math.sqrt(h))
    assert d == pytest.approx(ref, rel=0.01)


def test_footprint_and_fragility_bad_parameters():
    with pytest.raises(InputError, match="radius_km"):
        Footprint(center_xy=(0, 0), radius_km=0)
    with pytest.raises(InputError, match="outside_factor"):
        Footprint(center_xy=(0, 0), radius_km=1, outside_factor=2)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        Fragility(prob_by_kind={"line": 1.5})


def test_same_stream_same_draw(winter_net):
    hz = Fragility(prob_by_kind={"line": 0.2, "substation": 0.1})
    a = hz.sample(winter_net, sample_generator(11, 3))
    b = hz.sample(winter_net, sample_generator(11, 3))
    c = hz.sample(winter_net, sample_generator(11, 4))
    assert a == b
    assert a != c


# ---------------------------------------------------------------------------- scenario


def _scenario(hazard: dict):
    from warmgrid.model.scenario import parse_scenario

    return parse_scenario({"grid": {"case": "winter-city"}, "hazard": hazard}, source="x.toml")


def test_scenario_hazard_section_builds_the_sampler(winter_net):
    hz = hazard_from_scenario(
        _scenario({"model": "random_k", "k": 2, "weights_by_kind": {"gen": 1.0}})
    )
    assert isinstance(hz, RandomK)
    assert hz.k == 2
    assert hz.weights_by_kind == {"gen": 1.0}
    hz = hazard_from_scenario(
        _scenario(
            {
                "model": "fragility",
                "prob_by_kind": {"line": 0.1},
                "footprint": {"center_xy": [1.0, 2.0], "radius_km": 3.0},
            }
        )
    )
    assert isinstance(hz, Fragility)
    assert hz.footprint == Footprint(center_xy=(1.0, 2.0), radius_km=3.0)
    hz = hazard_from_scenario(_scenario({"model": "explicit", "elements": ["line:x", "line:x"]}))
    assert isinstance(hz, Explicit)
    assert hz.sample(winter_net, None) == ["line:x"]
    with pytest.raises(InputError, match="unknown element id 'line:x'"):
        hz.check(winter_net)


def test_scenario_hazard_section_errors():
    with pytest.raises(InputError) as err:
        _scenario(
            {
                "model": "fragility",
                "prob_by_kind": {"line": 0.1},
                "footprint": {"center_xy": [1.0, 2.0], "radius": 3.0},
            }
        )
    assert any("closest: radius_km" in p.message for p in err.value.problems)
    with pytest.raises(InputError, match="needs k"):
        _scenario({"model": "random_k"})
    with pytest.raises(InputError, match="not prob_by_kind"):
        _scenario({"model": "random_k", "k": 1, "prob_by_kind": {"line": 0.1}})
    with pytest.raises(InputError, match=r"hazard\.model"):
        _scenario({"model": "earthquake"})
