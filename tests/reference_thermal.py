"""REFERENCE ORACLE, not used by warmgrid: the indoor-temperature integration and the
threshold crossings as they were before they were sped up (commit 84b4a5d,
src/warmgrid/services/thermal.py), copied verbatim apart from their names. The tests
compare the fast implementation against them bit for bit; do not optimise them here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from warmgrid.services.thermal import (
    FloatArray,
    _dt,
    _finite,
    _fraction,
    _per_area,
    _shape_error,
    time_constant_h,
)


def reference_simulate_indoor(
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

    phi_int = power * gain + (1.0 - power) * gain_out
    phi_heat = heat * np.maximum(0.0, h * (setpoint - t_out) - gain)
    t_eq = t_out + (phi_heat + phi_int) / h

    temps = np.empty((n_steps + 1, n_areas))
    temps[0] = t0
    for k in range(n_steps):
        temps[k + 1] = t_eq[k] + (temps[k] - t_eq[k]) * decay
    return temps


def reference_step_crossings(
    temps: ArrayLike, thresholds_c: ArrayLike, tau_h: ArrayLike, dt_h: float
) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.bool_]]:
    """Per step, area and threshold: time from step start to the crossing, and below flags.

    The step's trajectory is ``T_eq + (T_k − T_eq) e^{−s/τ}``, fixed by its two ends and
    τ. Writing ``u = (T_k − θ)/(T_k − T_{k+1})`` gives the crossing at
    ``s = −τ · log1p(−u (1 − e^{−Δt/τ}))``, well conditioned for any τ/Δt.
    """
    t = _finite("temps", temps)
    if t.ndim != 2 or t.shape[0] < 1:
        raise _shape_error("temps", "(n_steps + 1, n_areas)", t.shape)
    thr = _finite("thresholds_c", thresholds_c)
    if thr.ndim != 1:
        raise _shape_error("thresholds_c", "(n_thresholds,)", thr.shape)
    tau = _per_area("tau_h", tau_h, t.shape[1], lower="> 0")[None, :, None]
    dt = _dt(dt_h)
    start, end, th = t[:-1, :, None], t[1:, :, None], thr[None, None, :]
    below_start, below_end = start < th, end < th
    crosses = below_start != below_end
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(crosses, (start - th) / (start - end), 0.0)
    s = -tau * np.log1p(-np.clip(u, 0.0, 1.0) * -np.expm1(-dt / tau))
    return np.clip(s, 0.0, dt), below_start, below_end


def reference_crossing_times_h(
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
    s, below_start, below_end = reference_step_crossings(temps, thresholds_c, tau_h, dt_h)
    step_start = (np.arange(s.shape[0]) * float(dt_h))[:, None, None]
    first = np.where(below_start, step_start, np.where(below_end, step_start + s, np.inf))
    out = first.min(axis=0) if first.shape[0] else np.full(first.shape[1:], np.inf)
    return np.where(np.isinf(out), np.nan, out)


def reference_hours_below(
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
    s, below_start, below_end = reference_step_crossings(temps, thresholds_c, tau_h, dt_h)
    dt = float(dt_h)
    per_step = np.where(
        below_start & below_end, dt, np.where(below_end, dt - s, np.where(below_start, s, 0.0))
    )
    return per_step.sum(axis=0)
