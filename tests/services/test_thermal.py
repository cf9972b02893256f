"""Tests of the 1R1C building model against closed forms, an ODE solver and physical laws."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.integrate import solve_ivp

from warmgrid.services.thermal import (
    ARCHETYPES,
    Archetype,
    archetype_parameters,
    crossing_times_h,
    hours_below,
    person_hours_below,
    simulate_indoor,
    time_constant_h,
)

NAMES = list(ARCHETYPES)
N = len(NAMES)
PARAMS = archetype_parameters(NAMES)
H = PARAMS["h_w_per_k_m2"]
C = PARAMS["c_kj_per_k_m2"]
G = PARAMS["gain_w_m2"]
G_OUT = PARAMS["outage_gain_w_m2"]
T_SET = PARAMS["setpoint_c"]
TAU_H = C * 1000.0 / (H * 3600.0)  # J/K over W/K gives seconds; to hours


def _run(t0, t_out, heat, power, *, dt_h=1.0):
    return simulate_indoor(t0, t_out, heat, power, **PARAMS, dt_h=dt_h)


def _t_eq(t_out, f, p):
    """Equilibrium temperature written out from the model equations, per area."""
    phi_heat = f * np.maximum(0.0, H * (T_SET - t_out) - G)
    return t_out + (phi_heat + p * G + (1.0 - p) * G_OUT) / H


# --- exactness -------------------------------------------------------------------------


@pytest.mark.parametrize("f", [0.0, 0.3, 0.7, 1.0])
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("dt_h", [1.0, 0.25])
def test_matches_closed_form_for_constant_inputs(f: float, p: float, dt_h: float) -> None:
    n_steps, t_out = 96, -20.0
    t0 = np.linspace(14.0, 22.0, N)
    temps = _run(
        t0, np.full(n_steps, t_out), np.full((n_steps, N), f), np.full((n_steps, N), p), dt_h=dt_h
    )
    t = np.arange(n_steps + 1)[:, None] * dt_h
    t_eq = _t_eq(t_out, f, p)
    expected = t_eq + (t0 - t_eq) * np.exp(-t / TAU_H)
    np.testing.assert_allclose(temps, expected, rtol=0, atol=1e-9)


def _hourly_profile(n_steps: int, seed: int):
    rng = np.random.default_rng(seed)
    t_out = rng.uniform(-28.0, 5.0, size=(n_steps, N))
    heat = rng.choice([0.0, 0.2, 0.5, 1.0], size=(n_steps, N))
    power = rng.choice([0.0, 0.6, 1.0], size=(n_steps, N))
    return t_out, heat, power


def test_matches_ode_solver_for_varying_hourly_profile() -> None:
    n_steps = 36
    t_out, heat, power = _hourly_profile(n_steps, seed=7)
    t0 = np.full(N, 20.0)
    temps = _run(t0, t_out, heat, power)

    state = t0.copy()
    for k in range(n_steps):
        phi = heat[k] * np.maximum(0.0, H * (T_SET - t_out[k]) - G)
        phi += power[k] * G + (1.0 - power[k]) * G_OUT

        def rhs(_t, y, k=k, phi=phi):
            return 3600.0 * (phi - H * (y - t_out[k])) / (C * 1000.0)  # K per hour

        sol = solve_ivp(rhs, (0.0, 1.0), state, method="DOP853", rtol=1e-12, atol=1e-12)
        state = sol.y[:, -1]
        np.testing.assert_allclose(temps[k + 1], state, rtol=0, atol=1e-6)


def test_joined_segments_equal_one_run() -> None:
    t_out, heat, power = _hourly_profile(48, seed=3)
    whole = _run(np.full(N, 20.0), t_out, heat, power)
    first = _run(np.full(N, 20.0), t_out[:20], heat[:20], power[:20])
    second = _run(first[-1], t_out[20:], heat[20:], power[20:])
    np.testing.assert_allclose(np.vstack([first, second[1:]]), whole, rtol=0, atol=1e-12)


# --- crossings and hours below ---------------------------------------------------------

THRESHOLDS = np.array([18.0, 16.0, 12.0, 5.0, 0.0])


@pytest.mark.parametrize("dt_h", [1.0, 0.5])
@pytest.mark.parametrize("p", [0.0, 1.0])
def test_crossing_time_matches_analytic_formula(dt_h: float, p: float) -> None:
    horizon_h, t0 = 120.0, 20.0
    n_steps = int(horizon_h / dt_h)
    temps = _run(
        np.full(N, t0),
        np.full(n_steps, -20.0),
        np.zeros((n_steps, N)),
        np.full((n_steps, N), p),
        dt_h=dt_h,
    )
    got = crossing_times_h(temps, THRESHOLDS, TAU_H, dt_h=dt_h)
    t_eq = _t_eq(-20.0, 0.0, p)
    for i in range(N):
        for j, thr in enumerate(THRESHOLDS):
            if thr <= t_eq[i]:
                assert math.isnan(got[i, j])
                continue
            expected = TAU_H[i] * math.log((t0 - t_eq[i]) / (thr - t_eq[i]))
            if expected > horizon_h:
                assert math.isnan(got[i, j])
            else:
                assert got[i, j] == pytest.approx(expected, abs=1e-9)


def test_crossing_time_is_zero_when_starting_below() -> None:
    temps = _run(np.full(N, 10.0), np.full(5, -5.0), np.ones((5, N)), np.ones((5, N)))
    got = crossing_times_h(temps, [12.0, 5.0], TAU_H)
    np.testing.assert_array_equal(got[:, 0], 0.0)  # starts below 12 °C
    assert np.all(np.isnan(got[:, 1]))  # full heat warms it: never below 5 °C


def _fine_trajectory(t0, t_out, heat, power, dt_h, step):
    """Exact trajectory on a fine grid, from the model equations, independent of the code."""
    n_steps = t_out.shape[0]
    n_sub = round(dt_h / step)
    s = (np.arange(n_sub) + 0.5) * step  # midpoints of the fine cells
    out, state = [], np.asarray(t0, dtype=float)
    for k in range(n_steps):
        t_eq = _t_eq(t_out[k], heat[k], power[k])
        out.append(t_eq + (state - t_eq) * np.exp(-s[:, None] / TAU_H))
        state = t_eq + (state - t_eq) * math.e ** (-dt_h / TAU_H)
    return np.vstack(out)  # (n_steps * n_sub, N) at cell midpoints


def test_hours_below_and_crossings_match_brute_force() -> None:
    n_steps, dt_h, step = 60, 1.0, 1e-4
    t_out = np.full((n_steps, N), -22.0)
    heat = np.zeros((n_steps, N))
    heat[20:30] = 1.0  # heat back for ten hours: homes warm, then cool again
    heat[45:] = 0.5
    power = np.zeros((n_steps, N))
    power[10:35] = 1.0
    t0 = np.full(N, 19.0)
    temps = _run(t0, t_out, heat, power, dt_h=dt_h)
    fine = _fine_trajectory(t0, t_out, heat, power, dt_h, step)
    got_hours = hours_below(temps, THRESHOLDS, TAU_H, dt_h=dt_h)
    got_first = crossing_times_h(temps, THRESHOLDS, TAU_H, dt_h=dt_h)
    for j, thr in enumerate(THRESHOLDS):
        below = fine < thr
        np.testing.assert_allclose(got_hours[:, j], below.sum(axis=0) * step, atol=3 * step)
        for i in range(N):
            idx = np.flatnonzero(below[:, i])
            if idx.size == 0:
                assert math.isnan(got_first[i, j])
            else:
                assert got_first[i, j] == pytest.approx(idx[0] * step, abs=step)
    assert np.any((got_hours > 0) & (got_hours < n_steps))  # some crossings were exercised


def test_person_hours_below_scales_by_population() -> None:
    hb = np.array([[10.0, 2.0], [0.0, 0.0], [5.5, 1.0]])
    pop = np.array([1000.0, 50.0, 200.0])
    got = person_hours_below(hb, pop)
    assert got.shape == (3, 2)
    np.testing.assert_allclose(got.sum(axis=0), [10 * 1000 + 5.5 * 200, 2 * 1000 + 200])


# --- calibration against the cited figures ---------------------------------------------

# money.comments.ua 'panelki-zamerzayut-pervymi' (indicative); "about 36 h" read as 30-42 h.
EXPERT_RANGES_H = {"panel16": (3, 12), "panel9": (12, 24), "panel5": (30, 42), "brick5": (45, 50)}


def _hours_20_to_12_at_minus_20() -> dict[str, float]:
    n_steps = 200
    temps = _run(
        np.full(N, 20.0), np.full(n_steps, -20.0), np.zeros((n_steps, N)), np.zeros((n_steps, N))
    )
    times = crossing_times_h(temps, [12.0], TAU_H)[:, 0]
    return dict(zip(NAMES, times, strict=True))


@pytest.mark.parametrize("name", sorted(EXPERT_RANGES_H))
def test_archetype_cooling_time_in_cited_range(name: str) -> None:
    lo, hi = EXPERT_RANGES_H[name]
    assert lo <= _hours_20_to_12_at_minus_20()[name] <= hi


def test_archetype_ordering_and_all_defined() -> None:
    times = _hours_20_to_12_at_minus_20()
    assert times["panel16"] < times["panel9"] < times["panel5"] < times["brick5"]
    assert len(ARCHETYPES) >= 5
    assert all(np.isfinite(list(times.values())))


def test_hand_estimate_flat_reproduces_its_cited_time_constant() -> None:
    # docs/sources.md, "How fast homes cool": H ≈ 73 W/K per 50 m², C 165-260 kJ/(m²K)
    # -> τ 30-50 h, 20->10 °C in 9-15 h.
    h = np.array([73.0 / 50.0] * 2)
    c = np.array([165.0, 260.0])
    tau = time_constant_h(h, c)
    assert 30 <= tau[0] < tau[1] <= 50
    temps = simulate_indoor(
        np.full(2, 20.0),
        np.full(30, -20.0),
        np.zeros((30, 2)),
        np.zeros((30, 2)),
        h,
        c,
        0.0,
        0.0,
        20.0,
    )
    t10 = crossing_times_h(temps, [10.0], tau)[:, 0]
    assert 9 <= t10[0] < t10[1] <= 15


def test_archetype_record() -> None:
    a = ARCHETYPES["panel9"]
    assert isinstance(a, Archetype)
    assert a.tau_h == pytest.approx(a.c_kj_per_k_m2 * 1000 / a.h_w_per_k_m2 / 3600)
    d = json.loads(json.dumps(a.to_dict()))
    assert d["name"] == "panel9"
    assert d["tau_h"] == pytest.approx(a.tau_h)
    for arch in ARCHETYPES.values():
        assert arch.outage_gain_w_m2 <= arch.internal_gain_w_m2
        assert arch.source
        assert 20.0 <= arch.setpoint_c <= 21.0


# --- physical laws (property-based) ----------------------------------------------------

temps_c = st.floats(-40.0, 40.0)
fractions = st.floats(0.0, 1.0)


@st.composite
def profiles(draw, *, cold_max: float = 40.0):
    n_steps = draw(st.integers(1, 30))
    t_out = draw(arrays(float, (n_steps, N), elements=st.floats(-40.0, cold_max)))
    heat = draw(arrays(float, (n_steps, N), elements=fractions))
    power = draw(arrays(float, (n_steps, N), elements=fractions))
    t0 = draw(arrays(float, (N,), elements=st.floats(-10.0, 25.0)))
    return t0, t_out, heat, power


# Below this outdoor temperature every archetype needs heat to hold its setpoint.
HEATING_NEEDED_C = float(np.min(T_SET - G / H))


@settings(max_examples=60, deadline=None)
@given(profiles(cold_max=HEATING_NEEDED_C))
def test_full_heat_holds_setpoint_whenever_heating_is_needed(prof) -> None:
    _, t_out, _, _ = prof
    n = t_out.shape[0]
    temps = _run(T_SET, t_out, np.ones((n, N)), np.ones((n, N)))
    np.testing.assert_allclose(temps, np.broadcast_to(T_SET, temps.shape), rtol=0, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(profiles())
def test_full_heat_never_lets_home_fall_below_setpoint(prof) -> None:
    _, t_out, _, _ = prof
    n = t_out.shape[0]
    temps = _run(T_SET, t_out, np.ones((n, N)), np.ones((n, N)))
    assert np.all(temps >= T_SET - 1e-9)


@settings(max_examples=80, deadline=None)
@given(profiles(), arrays(float, (30, N), elements=fractions))
def test_less_heat_never_gives_a_warmer_home(prof, cut) -> None:
    t0, t_out, heat, power = prof
    less = heat * cut[: heat.shape[0]]
    assert np.all(_run(t0, t_out, less, power) <= _run(t0, t_out, heat, power) + 1e-9)


@settings(max_examples=80, deadline=None)
@given(profiles(), arrays(float, (30, N), elements=st.floats(0.0, 30.0)))
def test_colder_outdoor_never_gives_a_warmer_home(prof, drop) -> None:
    t0, t_out, heat, power = prof
    colder = t_out - drop[: t_out.shape[0]]
    assert np.all(_run(t0, colder, heat, power) <= _run(t0, t_out, heat, power) + 1e-9)


@settings(max_examples=60, deadline=None)
@given(profiles(), arrays(float, (30, N), elements=fractions))
def test_less_power_never_gives_a_warmer_home(prof, cut) -> None:
    t0, t_out, heat, power = prof
    less = power * cut[: power.shape[0]]
    assert np.all(_run(t0, t_out, heat, less) <= _run(t0, t_out, heat, power) + 1e-9)


# --- bad input -------------------------------------------------------------------------


def _good():
    n = 4
    return dict(
        t0_c=np.full(N, 20.0),
        t_out_c=np.full(n, -10.0),
        heat_fraction=np.ones((n, N)),
        power_fraction=np.ones((n, N)),
        **PARAMS,
    )


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("t0_c", np.full(N + 1, 20.0), "t0_c|heat_fraction"),
        ("t0_c", np.full((N, 1), 20.0), "t0_c"),
        ("t_out_c", np.full(5, -10.0), "t_out_c"),
        ("t_out_c", np.full((4, N + 1), -10.0), "t_out_c"),
        ("heat_fraction", np.ones((4, N + 1)), "heat_fraction"),
        ("power_fraction", np.ones((3, N)), "power_fraction"),
        ("heat_fraction", np.full((4, N), 1.2), r"heat_fraction.*\[0, 1\]"),
        ("power_fraction", np.full((4, N), -0.1), r"power_fraction.*\[0, 1\]"),
        ("t_out_c", np.array([-10.0, np.nan, -10.0, -10.0]), "t_out_c.*NaN"),
        ("t0_c", np.full(N, np.nan), "t0_c.*NaN"),
        ("h_w_per_k_m2", np.zeros(N), "h_w_per_k_m2.*> 0"),
        ("c_kj_per_k_m2", np.full(N, -1.0), "c_kj_per_k_m2.*> 0"),
        ("gain_w_m2", np.full(N, -1.0), "gain_w_m2.*>= 0"),
        ("setpoint_c", np.full(N + 2, 20.0), "setpoint_c"),
    ],
)
def test_bad_input_raises_value_error(field: str, value, match: str) -> None:
    kwargs = _good()
    kwargs[field] = value
    with pytest.raises(ValueError, match=match):
        simulate_indoor(**kwargs)


def test_bad_dt_threshold_and_names_raise() -> None:
    with pytest.raises(ValueError, match="dt_h"):
        simulate_indoor(**_good(), dt_h=0.0)
    temps = simulate_indoor(**_good())
    with pytest.raises(ValueError, match="thresholds_c"):
        hours_below(temps, [[12.0]], TAU_H)
    with pytest.raises(ValueError, match="tau_h"):
        crossing_times_h(temps, [12.0], TAU_H[:-1])
    with pytest.raises(ValueError, match=r"temps.*NaN"):
        crossing_times_h(np.where(temps > 0, np.nan, temps), [12.0], TAU_H)
    with pytest.raises(ValueError, match="population"):
        person_hours_below(np.ones((N, 1)), np.ones(N + 1))
    with pytest.raises(ValueError, match="panel9"):
        archetype_parameters(["panel99"])
