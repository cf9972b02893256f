"""Indoor temperature of heat areas in a winter outage: a 1R1C building model per archetype.

Each heat area is one lumped resistance-capacitance (1R1C) node per m² of heated floor::

    C dT/dt = Φ_heat + Φ_int − H (T − T_out)

with H the heat-loss coefficient in W/(K·m²) and C the effective heat capacity in
kJ/(K·m²). District heating is weather-compensated (the supply temperature follows the
outdoor temperature), so a delivered heat fraction f ∈ [0, 1] gives
``Φ_heat = f · max(0, H (T_set − T_out) − Φ_int_normal)``: full heat holds the setpoint.
Internal gains are occupants and appliances while the area has power, occupants only
while it does not. Inputs are constant over each step, so each step is integrated
exactly: ``T_{k+1} = T_eq + (T_k − T_eq) exp(−Δt/τ)`` with ``T_eq = T_out + (Φ_heat +
Φ_int)/H`` and ``τ = C/H``. Threshold crossings and hours below a threshold are exact on
that exponential too.

The building types and their parameters, with their sources, are data in
:mod:`warmgrid.model.archetypes`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from warmgrid.model.archetypes import ARCHETYPES, Archetype, archetype_parameters, time_constant_h

__all__ = [
    "ARCHETYPES",
    "Archetype",
    "archetype_parameters",
    "crossing_times_h",
    "hours_below",
    "indoor_outcomes",
    "person_hours_below",
    "simulate_indoor",
    "step_hours_below",
    "time_constant_h",
]

FloatArray = NDArray[np.float64]


def _finite(name: str, value: ArrayLike) -> FloatArray:
    arr = np.asarray(value, dtype=float)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite numbers, got NaN or inf")
    return arr


def _shape_error(name: str, expected: str, got: tuple[int, ...]) -> ValueError:
    return ValueError(f"{name}: expected shape {expected}, got {got}")


def _per_area(name: str, value: ArrayLike, n_areas: int, *, lower: str = "") -> FloatArray:
    arr = _finite(name, value)
    arr = np.full(n_areas, float(arr)) if arr.ndim == 0 else arr
    if arr.shape != (n_areas,):
        raise _shape_error(name, f"({n_areas},) or scalar", arr.shape)
    if (lower == "> 0" and (arr <= 0).any()) or (lower == ">= 0" and (arr < 0).any()):
        raise ValueError(f"{name}: expected values {lower}, got min {arr.min()}")
    return arr


def _fraction(name: str, value: ArrayLike, shape: tuple[int, ...] | None) -> FloatArray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 2 and arr.size and (shape is None or arr.shape == shape):
        if 0.0 <= arr.min() and arr.max() <= 1.0:  # so finite too
            return arr
    arr = _finite(name, arr)
    if arr.ndim != 2 or (shape is not None and arr.shape != shape):
        raise _shape_error(name, "(n_steps, n_areas)" if shape is None else str(shape), arr.shape)
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(f"{name}: expected values in [0, 1], got [{arr.min()}, {arr.max()}]")
    return arr


def _dt(dt_h: float) -> float:
    if not (np.isfinite(dt_h) and dt_h > 0):
        raise ValueError(f"dt_h: expected a finite number > 0, got {dt_h}")
    return float(dt_h)


def simulate_indoor(
    t0_c: ArrayLike,
    t_out_c: ArrayLike,
    heat_fraction: ArrayLike,
    power_fraction: ArrayLike,
    h_w_per_k_m2: ArrayLike,
    c_kj_per_k_m2: ArrayLike,
    gain_w_m2: ArrayLike,
    outage_gain_w_m2: ArrayLike,
    setpoint_c: ArrayLike,
    *,
    dt_h: float = 1.0,
) -> FloatArray:
    """Indoor temperature per area, exact for inputs held constant over each step.

    Parameters
    ----------
    t0_c : array, shape (n_areas,)
        Indoor temperature at the start, °C.
    t_out_c : array, shape (n_steps,) or (n_steps, n_areas)
        Outdoor temperature in each step, °C.
    heat_fraction : array, shape (n_steps, n_areas), in [0, 1]
        Fraction of the weather-compensated heat delivered in each step.
    power_fraction : array, shape (n_steps, n_areas), in [0, 1]
        Fraction of the area with power; blends ``gain_w_m2`` (1) and
        ``outage_gain_w_m2`` (0).
    h_w_per_k_m2, c_kj_per_k_m2 : array, shape (n_areas,) or scalar, > 0
        Heat-loss coefficient, W/(K·m²), and heat capacity, kJ/(K·m²).
    gain_w_m2, outage_gain_w_m2 : array, shape (n_areas,) or scalar, >= 0
        Internal gains with and without power, W/m². The heat delivered is sized on
        ``gain_w_m2``, so full heat without power settles below the setpoint by
        ``(gain_w_m2 − outage_gain_w_m2) / H``.
    setpoint_c : array, shape (n_areas,) or scalar
        Indoor temperature that full heat holds, °C.
    dt_h : float, keyword-only
        Step length, hours.

    Returns
    -------
    ndarray, shape (n_steps + 1, n_areas)
        Indoor temperature at the step boundaries, °C; row 0 is ``t0_c``.

    Raises
    ------
    ValueError
        On a shape mismatch, a NaN or inf, a fraction outside [0, 1], a non-positive
        H, C or ``dt_h``, or a negative gain.
    """
    t0 = _finite("t0_c", t0_c)
    if t0.ndim != 1:
        raise _shape_error("t0_c", "(n_areas,)", t0.shape)
    n_areas = t0.shape[0]
    heat = _fraction("heat_fraction", heat_fraction, None)
    if heat.shape[1] != n_areas:
        raise _shape_error("heat_fraction", f"(n_steps, {n_areas})", heat.shape)
    n_steps = heat.shape[0]
    power = _fraction("power_fraction", power_fraction, heat.shape)
    t_out = _finite("t_out_c", t_out_c)
    if t_out.shape == (n_steps,):
        t_out = t_out[:, None]
    elif t_out.shape != (n_steps, n_areas):
        raise _shape_error("t_out_c", f"({n_steps},) or ({n_steps}, {n_areas})", t_out.shape)
    h = _per_area("h_w_per_k_m2", h_w_per_k_m2, n_areas, lower="> 0")
    c = _per_area("c_kj_per_k_m2", c_kj_per_k_m2, n_areas, lower="> 0")
    gain = _per_area("gain_w_m2", gain_w_m2, n_areas, lower=">= 0")
    gain_out = _per_area("outage_gain_w_m2", outage_gain_w_m2, n_areas, lower=">= 0")
    setpoint = _per_area("setpoint_c", setpoint_c, n_areas)
    decay = np.exp(-_dt(dt_h) / time_constant_h(h, c))
    return _integrate(t0, _equilibrium_c(t_out, heat, power, h, gain, gain_out, setpoint), decay)


def _equilibrium_c(
    t_out: FloatArray,
    heat: FloatArray,
    power: FloatArray,
    h: FloatArray,
    gain: FloatArray,
    gain_out: FloatArray,
    setpoint: FloatArray,
) -> FloatArray:
    """(n_steps, n_areas) temperature each area settles at with the step's inputs held, °C.

    ``phi_int = power * gain + (1 - power) * gain_out``,
    ``phi_heat = heat * max(0, h (setpoint - t_out) - gain)``,
    ``t_eq = t_out + (phi_heat + phi_int) / h``; computed in place with the same
    operations (a + b = b + a, a * b = b * a exactly).
    """
    phi_int = power * gain
    rest = 1.0 - power
    rest *= gain_out
    phi_int += rest
    t_eq = setpoint - t_out
    t_eq *= h
    t_eq -= gain
    np.maximum(0.0, t_eq, out=t_eq)
    t_eq *= heat
    t_eq += phi_int
    t_eq /= h
    t_eq += t_out
    return t_eq


def _integrate(t0: FloatArray, t_eq: FloatArray, decay: FloatArray) -> FloatArray:
    """``T_{k+1} = T_eq + (T_k − T_eq) · decay`` step by step, all areas at once (the
    three operations per step write into preallocated rows)."""
    temps = np.empty((t_eq.shape[0] + 1, t_eq.shape[1]))
    temps[0] = t0
    rows, diff = list(temps), np.empty(t_eq.shape[1])
    for k, eq in enumerate(t_eq):
        np.subtract(rows[k], eq, out=diff)
        np.multiply(diff, decay, out=diff)
        np.add(eq, diff, out=rows[k + 1])
    return temps


def _crossings(
    t: FloatArray, thr: FloatArray, tau: FloatArray, dt: float
) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.bool_], tuple[NDArray[np.intp], ...]]:
    """The work of :func:`_step_crossings` on checked inputs, laid out (n_thresholds,
    n_steps, n_areas) so that numpy runs long inner loops over areas, and with the
    logarithm taken only where a step crosses (a small minority of steps).

    Returns ``s`` (0 where the step does not cross), the below-at-start and below-at-end
    flags, and the indices (threshold, step, area) of the crossing steps. Each crossing
    time is the same expression of the same numbers as before, so bit for bit the same.
    """
    start, end, th = t[:-1], t[1:], thr[:, None, None]
    below_start, below_end = start < th, end < th
    where = np.nonzero(below_start != below_end)
    s = np.zeros(below_start.shape)
    if len(where[0]):
        j, k, a = where
        st, th_j = start[k, a], thr[j]
        u = (st - th_j) / (st - end[k, a])
        shrink = -np.expm1(-dt / tau)[a]
        tau_a = tau[a]
        s[where] = np.clip(-tau_a * np.log1p(-np.clip(u, 0.0, 1.0) * shrink), 0.0, dt)
    return s, below_start, below_end, where


def _checked(
    temps: ArrayLike, thresholds_c: ArrayLike, tau_h: ArrayLike, dt_h: float
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    t = _finite("temps", temps)
    if t.ndim != 2 or t.shape[0] < 1:
        raise _shape_error("temps", "(n_steps + 1, n_areas)", t.shape)
    return (t, *_checked_thresholds(thresholds_c, tau_h, t.shape[1], dt_h))


def _checked_thresholds(
    thresholds_c: ArrayLike, tau_h: ArrayLike, n_areas: int, dt_h: float
) -> tuple[FloatArray, FloatArray, float]:
    thr = _finite("thresholds_c", thresholds_c)
    if thr.ndim != 1:
        raise _shape_error("thresholds_c", "(n_thresholds,)", thr.shape)
    return thr, _per_area("tau_h", tau_h, n_areas, lower="> 0"), _dt(dt_h)


def _step_crossings(
    temps: ArrayLike, thresholds_c: ArrayLike, tau_h: ArrayLike, dt_h: float
) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.bool_]]:
    """Per step, area and threshold: time from step start to the crossing, and below flags.

    The step's trajectory is ``T_eq + (T_k − T_eq) e^{−s/τ}``, fixed by its two ends and
    τ. Writing ``u = (T_k − θ)/(T_k − T_{k+1})`` gives the crossing at
    ``s = −τ · log1p(−u (1 − e^{−Δt/τ}))``, well conditioned for any τ/Δt.
    Arrays are (n_steps, n_areas, n_thresholds).
    """
    s, b0, b1, _ = _crossings(*_checked(temps, thresholds_c, tau_h, dt_h))
    c = np.ascontiguousarray  # the original layout, for callers' own reductions
    return c(s.transpose(1, 2, 0)), c(b0.transpose(1, 2, 0)), c(b1.transpose(1, 2, 0))


def _below(
    t: FloatArray, thr: FloatArray, tau: FloatArray, dt: float
) -> tuple[FloatArray, FloatArray]:
    """(first time below, hours below), each (n_areas, n_thresholds), for checked inputs.

    Only areas whose temperature is below the highest threshold at some step boundary can
    be below any threshold; the others never are (NaN, 0 h) and are left out. The first
    time is the least over steps of the step's start (if it starts below) or of its start
    plus the crossing time (if it ends below). The hours below are the per-step hours
    summed step by step, as numpy sums the leading axis of the (n_steps, n_areas,
    n_thresholds) array of the original (except for one area and one threshold, where
    numpy's sum of a single column is pairwise: that call is kept as it was).
    """
    n, n_areas, n_thr = t.shape[0] - 1, t.shape[1], len(thr)
    first = np.full((n_areas, n_thr), np.nan)
    hours = np.zeros((n_areas, n_thr))
    if n == 0 or n_thr == 0:
        return first, hours
    cols = np.flatnonzero(t.min(axis=0) < thr.max())
    if not len(cols):
        return first, hours
    s, below_start, below_end, where = _crossings(t[:, cols], thr, tau[cols], dt)
    # first time below
    step_start = np.arange(n) * dt
    cand = np.where(below_start, step_start[:, None], np.inf)
    sw = s[where]
    down = ~below_start[where]  # the crossings into "below"
    j, k, a = where
    cand[j[down], k[down], a[down]] = step_start[k[down]] + sw[down]
    least = cand.min(axis=1).T
    first[cols] = np.where(np.isinf(least), np.nan, least)
    # hours below
    per_step = np.where(below_start & below_end, dt, 0.0)
    per_step[where] = np.where(down, dt - sw, sw)
    if n_areas * n_thr == 1:
        hours[cols] = per_step.transpose(1, 2, 0).sum(axis=0)
    else:
        hours[cols] = np.cumsum(per_step, axis=1)[:, -1].T
    return first, hours


def crossing_times_h(
    temps: ArrayLike, thresholds_c: ArrayLike, tau_h: ArrayLike, *, dt_h: float = 1.0
) -> FloatArray:
    """First time each area is below each threshold, exact on the exponential.

    Parameters
    ----------
    temps : array, shape (n_steps + 1, n_areas)
        Step-boundary temperatures from :func:`simulate_indoor` (or steps of it joined
        end to end with the same τ and ``dt_h``), °C.
    thresholds_c : array, shape (n_thresholds,)
        Temperature thresholds, °C.
    tau_h : array, shape (n_areas,) or scalar
        Time constant C/H of each area, hours (:func:`time_constant_h`).
    dt_h : float, keyword-only
        Step length used in the simulation, hours.

    Returns
    -------
    ndarray, shape (n_areas, n_thresholds)
        Hours from the start until the temperature first falls below the threshold;
        0 if it starts below, NaN if it never falls below within the horizon.
    """
    return _below(*_checked(temps, thresholds_c, tau_h, dt_h))[0]


def hours_below(
    temps: ArrayLike, thresholds_c: ArrayLike, tau_h: ArrayLike, *, dt_h: float = 1.0
) -> FloatArray:
    """Total hours each area spends below each threshold, exact on the exponential.

    Within a step the exponential is monotone, so a step is fully above, fully below,
    or crosses once. Parameters as in :func:`crossing_times_h`.

    Returns
    -------
    ndarray, shape (n_areas, n_thresholds)
        Hours below each threshold over the horizon.
    """
    return _below(*_checked(temps, thresholds_c, tau_h, dt_h))[1]


def indoor_outcomes(
    t0_c: ArrayLike,
    t_out_c: ArrayLike,
    heat_fraction: ArrayLike,
    power_fraction: ArrayLike,
    params: Mapping[str, ArrayLike],
    thresholds_c: ArrayLike,
    tau_h: ArrayLike,
    *,
    dt_h: float = 1.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`simulate_indoor`, then :func:`crossing_times_h` and :func:`hours_below` of
    its temperatures, sharing the crossing computation (what a replay needs).

    ``params`` is :func:`archetype_parameters`' dict; ``tau_h`` the areas' time constants.

    Returns
    -------
    (temps, crossing_h, hours_below), shapes (n_steps + 1, n_areas), (n_areas,
    n_thresholds) and (n_areas, n_thresholds), each equal to the separate call's.
    """
    temps = simulate_indoor(t0_c, t_out_c, heat_fraction, power_fraction, dt_h=dt_h, **params)
    # the temperatures of checked inputs are finite: no need to check them again
    first, hours = _below(temps, *_checked_thresholds(thresholds_c, tau_h, temps.shape[1], dt_h))
    return temps, first, hours


def person_hours_below(hours_below: ArrayLike, population: ArrayLike) -> FloatArray:
    """Person-hours below each threshold per area: ``population × hours_below``.

    Parameters
    ----------
    hours_below : array, shape (n_areas, n_thresholds)
        From :func:`hours_below`, hours.
    population : array, shape (n_areas,)
        Residents of each area, persons, >= 0.

    Returns
    -------
    ndarray, shape (n_areas, n_thresholds)
        Person-hours; ``.sum(axis=0)`` gives the city total per threshold.
    """
    hb = _finite("hours_below", hours_below)
    if hb.ndim != 2:
        raise _shape_error("hours_below", "(n_areas, n_thresholds)", hb.shape)
    pop = _per_area("population", population, hb.shape[0], lower=">= 0")
    return hb * pop[:, None]


def step_hours_below(
    temps: ArrayLike, thresholds_c: ArrayLike, tau_h: ArrayLike, dt_h: float
) -> FloatArray:
    """(n_steps, n_areas, n_thr) hours of each step each area spends below each threshold,
    exact on the exponential (the per-step terms of :func:`hours_below`)."""
    s, b0, b1 = _step_crossings(temps, thresholds_c, tau_h, dt_h)
    return np.where(b0 & b1, dt_h, np.where(b1, dt_h - s, np.where(b0, s, 0.0)))
