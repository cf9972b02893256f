"""The faster indoor integration and threshold crossings against the original code (the
reference oracle in ``reference_thermal.py``), bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_thermal import (
    reference_crossing_times_h,
    reference_hours_below,
    reference_simulate_indoor,
    reference_step_crossings,
)
from warmgrid.services import thermal
from warmgrid.services.thermal import ARCHETYPES, archetype_parameters


@st.composite
def cases(draw):
    n = draw(st.integers(0, 60))
    n_areas = draw(st.integers(1, 8))
    n_thr = draw(st.integers(0, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    names = [draw(st.sampled_from(list(ARCHETYPES))) for _ in range(n_areas)]
    dt = draw(st.sampled_from([1.0, 1.0, 0.25, 0.1, 1.0 / 3.0, 2.0]))
    if draw(st.booleans()):
        t_out = rng.uniform(-28.0, 5.0, n)
    else:
        t_out = rng.uniform(-28.0, 5.0, (n, n_areas))
    if draw(st.booleans()):  # outages that start and end: piecewise-constant fractions
        heat = np.repeat(rng.choice([0.0, 0.3, 1.0], (n // 6 + 1, n_areas)), 6, axis=0)[:n]
    else:
        heat = rng.uniform(size=(n, n_areas))
    power = rng.choice([0.0, 0.6, 1.0], (n, n_areas))
    t0 = rng.uniform(5.0, 22.0, n_areas)
    thr = rng.uniform(0.0, 21.0, n_thr)
    return t0, t_out, heat, power, archetype_parameters(names), thr, dt


@settings(max_examples=200, deadline=None)
@given(cases())
def test_matches_the_original_bit_for_bit(case) -> None:
    t0, t_out, heat, power, params, thr, dt = case
    tau = thermal.time_constant_h(params["h_w_per_k_m2"], params["c_kj_per_k_m2"])
    ref = reference_simulate_indoor(t0, t_out, heat, power, dt_h=dt, **params)
    temps = thermal.simulate_indoor(t0, t_out, heat, power, dt_h=dt, **params)
    assert np.array_equal(temps, ref)
    first = reference_crossing_times_h(ref, thr, tau, dt_h=dt)
    hours = reference_hours_below(ref, thr, tau, dt_h=dt)
    assert np.array_equal(thermal.crossing_times_h(ref, thr, tau, dt_h=dt), first, equal_nan=True)
    assert np.array_equal(thermal.hours_below(ref, thr, tau, dt_h=dt), hours)
    t2, f2, h2 = thermal.indoor_outcomes(t0, t_out, heat, power, params, thr, tau, dt_h=dt)
    assert np.array_equal(t2, ref)
    assert np.array_equal(f2, first, equal_nan=True)
    assert np.array_equal(h2, hours)
    assert f2.flags["C_CONTIGUOUS"]
    assert h2.flags["C_CONTIGUOUS"]
    s_ref, b0_ref, b1_ref = reference_step_crossings(ref, thr, tau, dt)
    s, b0, b1 = thermal._step_crossings(ref, thr, tau, dt)
    assert np.array_equal(b0, b0_ref)
    assert np.array_equal(b1, b1_ref)
    assert s.flags["C_CONTIGUOUS"]
    crosses = b0 != b1  # s matters only where a step crosses
    assert np.array_equal(s[crosses], s_ref[crosses])


def test_one_area_one_threshold_keeps_numpys_pairwise_sum() -> None:
    """With a single area and threshold the original summed one column (numpy's pairwise
    sum); many partial steps make the order visible."""
    rng = np.random.default_rng(1)
    params = archetype_parameters(["panel16"])
    n = 400
    t_out = rng.uniform(-30.0, 10.0, n)
    heat = rng.choice([0.0, 1.0], (n, 1))
    tau = thermal.time_constant_h(params["h_w_per_k_m2"], params["c_kj_per_k_m2"])
    temps = thermal.simulate_indoor([19.0], t_out, heat, np.ones((n, 1)), dt_h=0.7, **params)
    thr = [18.5]
    assert np.array_equal(
        thermal.hours_below(temps, thr, tau, dt_h=0.7),
        reference_hours_below(temps, thr, tau, dt_h=0.7),
    )
