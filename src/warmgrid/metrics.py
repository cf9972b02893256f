"""Outcome metrics: pure functions of hourly results (the WNTR habit: metrics apart).

All inputs are hourly arrays over steps of ``dt_h`` hours, each value constant over its
step (the timeline's convention).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "band_ranges",
    "energy_not_served_mwh",
    "first_time_h",
    "people_without",
    "person_hours_without",
    "threshold_key",
    "timeline_metrics",
]


def threshold_key(t_c: float) -> str:
    """The key of an indoor threshold in metric names: ``12.0 -> "12c"``, ``-2.5 -> "-2.5c"``.

    Metrics such as ``person_hours_below_<key>`` and ``first_area_below_<key>_h`` are named
    with it; code that needs a threshold takes it from the data, never from the name.

    >>> threshold_key(12.0), threshold_key(-2.5)
    ('12c', '-2.5c')
    """
    return f"{t_c:g}c"


def people_without(population: np.ndarray, served: np.ndarray) -> np.ndarray:
    """(n_steps,) persons without a service: Σ_a pop_a · (1 − served_a).

    Parameters
    ----------
    population : (n_areas,) persons.
    served : (n_steps, n_areas) served fraction in [0, 1].

    >>> people_without(np.array([100.0, 50.0]), np.array([[1.0, 0.0], [0.5, 1.0]])).tolist()
    [50.0, 50.0]
    """
    return (1.0 - np.clip(served, 0.0, 1.0)) @ population


def person_hours_without(population: np.ndarray, served: np.ndarray, dt_h: float = 1.0) -> float:
    """Person-hours without a service over the horizon ("equivalent outage hours"
    integrated over people, as in InfraRisk, Balakrishnan & Cassottana 2022)."""
    return float(people_without(population, served).sum() * dt_h)


def energy_not_served_mwh(shed_mw: np.ndarray, dt_h: float = 1.0) -> float:
    """Energy not served, MWh: Σ shed_mw · dt."""
    return float(np.sum(shed_mw) * dt_h)


def first_time_h(crossing_h: np.ndarray) -> np.ndarray:
    """(n_thresholds,) earliest crossing over areas, NaN where no area crosses.

    Parameters
    ----------
    crossing_h : (n_areas, n_thresholds) crossing times, NaN for never.
    """
    c = np.asarray(crossing_h, dtype=float)
    if c.size == 0:
        return np.full(c.shape[-1] if c.ndim == 2 else 0, np.nan)
    out = np.where(np.isnan(c), np.inf, c).min(axis=0)  # no NaN left: a plain min
    return np.where(np.isinf(out), np.nan, out)


def timeline_metrics(tl: Any) -> dict[str, Any]:
    """Scalar outcome metrics of a replay over its horizon.

    Person-hours without power, heat and water; energy not served, MWh; hospitals past
    their backup; per indoor threshold (its key from :func:`threshold_key`) the
    person-hours below it, the first hour an area falls below it (None: never) and the
    person-hours below it that no warming shelter covers.

    Parameters
    ----------
    tl : a :class:`warmgrid.timeline.Timeline` (its arrays; see there for shapes).
    """
    ph_below = (np.asarray(tl.hours_below) * np.asarray(tl.population)[:, None]).sum(axis=0)
    first = first_time_h(tl.crossing_h)
    out: dict[str, Any] = {
        f"person_hours_without_{s}": person_hours_without(tl.population, getattr(tl, x), tl.dt_h)
        for s, x in (("power", "light"), ("heat", "heat"), ("water", "water"))
    }
    out["energy_not_served_mwh"] = energy_not_served_mwh(tl.shed_mw, tl.dt_h)
    out["facilities_past_backup"] = int((~tl.facility_ok).any(axis=0).sum())
    for thr, ph, ft in zip(tl.thresholds_c, ph_below, first, strict=True):
        key = threshold_key(thr)
        out[f"person_hours_below_{key}"] = float(ph)
        out[f"first_area_below_{key}_h"] = None if np.isnan(ft) else float(ft)
    unsheltered = ph_below
    if tl.sheltered is not None and tl.step_hours_below is not None:
        warm = np.einsum("ka,kat->t", tl.sheltered, tl.step_hours_below)
        unsheltered = np.maximum(ph_below - warm, 0.0)
    for thr, ph in zip(tl.thresholds_c, unsheltered, strict=True):
        out[f"person_hours_below_{threshold_key(thr)}_unsheltered"] = float(ph)
    if getattr(tl, "band", None):
        out.update(band_ranges(tl))
    return out


def band_ranges(tl: Any) -> dict[str, list[float | None]]:
    """``[low, high]`` of each per-threshold time and person-hour metric over the band's
    calibrations (``tl.band``: the fast and the slow one): the first crossing comes
    earliest with the fast calibration and latest (or never: None) with the slow one;
    person-hours below are fewest with the slow one.

    Keys: ``person_hours_below_<key>_range`` and ``first_area_below_<key>_h_range``.
    """
    pop = np.asarray(tl.population, dtype=float)[:, None]
    firsts = {v: first_time_h(c) for v, (c, _) in tl.band.items()}
    below = {v: (np.asarray(b) * pop).sum(axis=0) for v, (_, b) in tl.band.items()}
    out: dict[str, list[float | None]] = {}
    for j, thr in enumerate(tl.thresholds_c):
        key = threshold_key(thr)
        f = sorted((firsts[v][j] for v in firsts), key=lambda x: (np.isnan(x), x))
        out[f"first_area_below_{key}_h_range"] = [
            None if np.isnan(x) else float(x) for x in (f[0], f[-1])
        ]
        b = sorted(float(below[v][j]) for v in below)
        out[f"person_hours_below_{key}_range"] = [b[0], b[-1]]
    return out
