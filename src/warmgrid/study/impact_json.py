"""The JSON of an impact (``warmgrid impact --json`` and ``warmgrid demo``): people,
areas, metrics, the hourly timeline, temperature curves, the water and power objects,
and the map and header of the pages. :meth:`warmgrid.study.run.ImpactResult.to_json`
puts them together; the restoration result reuses the map and the counts.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from warmgrid.model.scenario import Scenario
from warmgrid.timeline import Simulator, Timeline

__all__ = [
    "SHORT_OF_WATER",
    "fmt_mw",
    "impact_dict",
    "map_json",
    "page_context",
    "people",
    "power_summary",
    "water_json",
]


def people(x: float) -> int:
    """A count of persons, as a whole number (fractions come from partly served loads)."""
    return round(float(x))


def fmt_mw(mw: float) -> str:
    """``597 MW``, ``21.3 GW``."""
    return f"{mw / 1e3:,.1f} GW" if abs(mw) >= 1e3 else f"{mw:,.0f} MW"


#: An area is short of water when it gets less than this share of what it got before
#: the damage (the upper floors behind a stopped booster, long before the 50 % mark).
SHORT_OF_WATER = 0.95


def _shortfall(tl: Timeline, aw: Any) -> dict[str, Any]:
    """People short of water (persons × share of demand lost, against the baseline) and
    each area's first hour below :data:`SHORT_OF_WATER` of its pre-damage supply."""
    frac = aw.fraction
    base = tl.baseline.water_detail if tl.baseline is not None else None
    before = base.areas.fraction if base is not None else np.ones_like(frac)
    kept = 1.0 - np.clip(before - frac, 0.0, 1.0)
    short = (1.0 - kept) @ np.asarray(tl.population, dtype=float)  # areas in timeline order
    first = {}
    lowest = {}
    for i, a in enumerate(aw.areas):
        hit = np.flatnonzero(kept[:, i] < SHORT_OF_WATER)
        if len(hit):
            first[a] = float(tl.hours[hit[0]])
            lowest[a] = round(float(kept[:, i].min()), 3)
    return {
        "people_short_of_water_peak": people(short.max(initial=0.0)),
        "person_hours_short_of_water": float(short.sum() * tl.dt_h),
        "first_hour_short_of_water": first,
        "lowest_share_of_water": lowest,
    }


def water_json(sim: Simulator, tl: Timeline, *, junctions: bool = False) -> dict[str, Any]:
    """The ``water`` object of a result: which model, and for hydraulics the network, its
    runs, the worst pressure per area, the first hour each area is without water and,
    with ``junctions``, each junction's hourly delivered demand (m³/h; EPANET ids
    verbatim)."""
    hw, detail = sim.water, tl.water_detail
    if hw is None or detail is None:
        return {"model": "rule", "network": None}
    res, aw = detail.result, detail.areas
    out: dict[str, Any] = {
        "model": "hydraulic",
        "network": hw.network,
        "hydraulic_runs": hw.model.hydraulic_runs,
        "service_share": hw.service_share,
        "worst_pressure_m": {
            a: (None if not np.isfinite(p) else round(float(p), 2))
            for a, p in zip(aw.areas, aw.worst_pressure_m, strict=True)
        },
        "first_hour_without_water": {  # the damage's doing (relative to the baseline)
            a: float(tl.hours[np.argmax(w)])
            for a, w in zip(aw.areas, (tl.water < 0.5).T, strict=True)
            if w.any()
        },
        **_shortfall(tl, aw),
        "negative_pressures": [str(n) for n in res.negative_pressures[:20]],
        "warnings": list(res.warnings),
    }
    if junctions:
        out["junctions"] = {
            j: np.round(res.delivered_m3h[:, i], 6).tolist() for i, j in enumerate(res.junctions)
        }
    return out


def power_summary(tl: Timeline, mode: str, *, trip_factor: float = 1.0) -> dict[str, Any]:
    """The power keys of an impact at hour 0 from the engine's own result (MLD or cascade).

    ``shed_mw`` is the harm (over the pre-damage state when the timeline is relative);
    ``served_mw`` and ``demand_mw`` are the state itself.
    """
    p0 = tl.power[0]
    r = p0.detail
    ac = p0.ac.to_dict() if p0.ac is not None else None
    out: dict[str, Any] = dict(
        served_mw=p0.served_mw,
        shed_mw=float(tl.shed_mw[0]),
        demand_mw=float(r.demand_mw),
        islands=int(r.islands.count),
        dark_buses=int(np.asarray(r.dark_bus).sum()),
        seconds_power=r.seconds,
        ac=ac,
    )
    if mode == "mld":
        out.update(
            weighted_served_mw=r.weighted_served_mw,
            energised_islands=r.energised_islands,
            shunt_mw=r.shunt_mw,
            injection_mw=r.injection_mw,
        )
        return out
    out.update(
        energised_islands=int(r.stages[-1].energised_islands),
        trip_factor=trip_factor,
        converged=r.converged,
        stages=[
            {
                "stage": s.index,
                "tripped": list(s.tripped),
                "islands": s.islands,
                "energised_islands": s.energised_islands,
                "served_mw": s.served_mw,
                "shed_mw": s.shed_mw,
                "max_loading_percent": s.max_loading_percent,
            }
            for s in r.stages
        ],
    )
    return out


def _none(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def impact_dict(sim: Simulator, sc: Scenario, tl: Timeline) -> dict[str, Any]:
    """People, areas, metrics, the hourly timeline, temperature curves and the map."""
    from warmgrid.model.archetypes import ARCHETYPES

    damage = list(sc.damage.elements)
    pw, ph, pwa = tl.people_without_power, tl.people_without_heat, tl.people_without_water
    areas = _areas_json(sim, tl)
    used = sorted(set(sim.services.areas["archetype"]))
    metrics = tl.metrics()
    return {
        "scenario": sc.name,
        "grid": sim.grid.name,
        "mode": sim.mode,
        "damage": damage,
        "people": {
            "without_power": people(pw.max(initial=0)),
            "without_heat": people(ph.max(initial=0)),
            "without_water": people(pwa.max(initial=0)),
        },
        "people_at_start": {
            "without_power": people(pw[0]) if len(pw) else 0,
            "without_heat": people(ph[0]) if len(ph) else 0,
            "without_water": people(pwa[0]) if len(pwa) else 0,
        },
        "population": people(tl.population.sum()),
        "metrics": metrics,
        "thresholds": _thresholds_json(tl, metrics),
        "areas": areas,
        "archetypes": {k: ARCHETYPES[k].to_dict(sim.calibration) for k in used},
        "timeline": _hours_json(tl),
        "temperature_curves": {
            "hours": [*tl.hours.tolist(), float(len(tl.hours) * tl.dt_h)],
            "series": _coldest_curves(sim, tl, used),
            "t_out_c": tl.t_out_c.tolist(),
            "thresholds_c": tl.thresholds_c.tolist(),
        },
        "source": str(Path(sim.grid.source)) if sim.grid.source else sim.grid.name,
        "map": map_json(sim, tl, damage),
        **page_context(sim, sc, damage),
    }


def _areas_json(sim: Simulator, tl: Timeline) -> list[dict[str, Any]]:
    """One entry per area: people, type, temperatures, hours without each service and
    the crossing times of each threshold (with the fast–slow range when banded).

    Every column is computed for all areas at once (a grid with services = "auto" has one
    area per load: tens of thousands on the largest public grids)."""
    from warmgrid.metrics import threshold_key

    a = sim.services.areas
    n = len(a)
    if n == 0:
        return []
    t = tl.temp_c
    cols: dict[str, list[Any]] = {
        "id": a["id"].tolist(),
        "name": [nm or i for nm, i in zip(a["name"].tolist(), a["id"].tolist(), strict=True)],
        "population": [people(p) for p in a["population"].tolist()],
        "archetype": a["archetype"].tolist(),
        "district": a["district"].tolist() if "district" in a else [""] * n,
        "min_temp_c": t.min(axis=0).tolist(),
        "end_temp_c": t[-1].tolist(),
        "hours_without_heat": _hours_without(tl.heat, tl.dt_h),
        "hours_without_power": _hours_without(tl.light, tl.dt_h),
        "hours_without_water": _hours_without(tl.water, tl.dt_h),
        "drained": np.any(tl.drained, axis=0).tolist(),
    }
    for j, t_c in enumerate(tl.thresholds_c):
        key = threshold_key(t_c)
        cols[f"hours_to_{key}"] = _finite_or_none(tl.crossing_h[:, j])
        cols[f"hours_below_{key}"] = tl.hours_below[:, j].astype(float).tolist()
        if tl.band is not None:
            fast = _finite_or_none(tl.band["fast"][0][:, j])
            slow = _finite_or_none(tl.band["slow"][0][:, j])
            cols[f"hours_to_{key}_range"] = [list(p) for p in zip(fast, slow, strict=True)]
    keys = list(cols)
    return [dict(zip(keys, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def _hours_without(frac: np.ndarray, dt_h: float) -> list[float]:
    """Hours each area (column) spends without a service, from its served fraction."""
    return (np.sum(1.0 - frac, axis=0) * dt_h).tolist()


def _finite_or_none(x: np.ndarray) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in np.asarray(x, dtype=float).tolist()]


def _hours_json(tl: Timeline) -> list[dict[str, Any]]:
    """The hourly timeline: people without each service, MW, islands, coldest home."""
    pw, ph, pwa = tl.people_without_power, tl.people_without_heat, tl.people_without_water
    return [
        {
            "hour": float(tl.hours[k]),
            "t_out_c": float(tl.t_out_c[k]),
            "people_without_power": people(pw[k]),
            "people_without_heat": people(ph[k]),
            "people_without_water": people(pwa[k]),
            "served_mw": float(tl.served_mw[k]),
            "shed_mw": float(tl.shed_mw[k]),
            "islands": int(tl.islands[k]),
            "min_indoor_c": float(tl.temp_c[k + 1].min()) if tl.temp_c.shape[1] else None,
            "areas_drained": int(tl.drained[k].sum()),
            "facilities_down": int((~tl.facility_ok[k]).sum()),
        }
        for k in range(len(tl.hours))
    ]


def _thresholds_json(tl: Timeline, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Each indoor threshold: first crossing and person-hours below, with ranges."""
    from warmgrid.metrics import threshold_key

    out = []
    for t in tl.thresholds_c:
        key = threshold_key(t)
        out.append(
            {
                "indoor_c": float(t),
                "key": key,
                "first_area_below_h": metrics[f"first_area_below_{key}_h"],
                "person_hours_below": metrics[f"person_hours_below_{key}"],
                "first_area_below_h_range": metrics.get(f"first_area_below_{key}_h_range"),
                "person_hours_below_range": metrics.get(f"person_hours_below_{key}_range"),
            }
        )
    return out


def _coldest_curves(sim: Simulator, tl: Timeline, used: list[str]) -> dict[str, list[float]]:
    """The indoor temperature of the coldest area of each building type, by label."""
    a = sim.services.areas
    curves: dict[str, list[float]] = {}
    if tl.temp_c.shape[1]:
        coldest = tl.temp_c.min(axis=0)
        for arch in used:
            idx = np.flatnonzero((a["archetype"] == arch).to_numpy())
            i = idx[np.argmin(coldest[idx])]
            label = f"{a['name'].iloc[i] or a['id'].iloc[i]} ({arch})"
            curves[label] = tl.temp_c[:, i].round(3).tolist()
    return curves


def page_context(sim: Simulator, sc: Scenario, damage: list[str]) -> dict[str, Any]:
    """The pages' header: the start, the damaged elements by name and kind, the weather."""
    from warmgrid.study.mapdata import damage_detail, weather_json

    start = sc.horizon.start
    return {
        "start": start.isoformat() if start is not None else None,
        "damage_detail": damage_detail(sim, damage),
        "weather": weather_json(sim.t_out_c),
    }


def map_json(
    sim: Simulator, tl: Timeline, damage: list[str], repairs: dict[str, float] | None = None
) -> dict[str, Any] | None:
    """Coordinates and state at hour 0 for a map: buses (dark or not), branches (out or
    not), areas (people, lowest indoor temperature), and the hourly layers of
    :func:`~warmgrid.study.mapdata.map_layers`; None when the grid has no coordinates."""
    from warmgrid.power.damage import apply_damage
    from warmgrid.study.mapdata import map_layers

    net = sim.net
    xy = net.bus_xy
    if xy is None or not np.isfinite(xy).all(axis=1).any() or not tl.power:
        return None
    dark = np.asarray(tl.power[0].detail.dark_bus, dtype=bool)
    on = apply_damage(net, list(damage)).effective(net).branch_on
    ok = np.isfinite(xy).all(axis=1)
    return {
        "buses": [
            {
                "id": str(net.bus_ids[i]),
                "x": float(xy[i, 0]),
                "y": float(xy[i, 1]),
                "dark": bool(dark[i]),
            }
            for i in np.flatnonzero(ok)
        ],
        "branches": [
            {
                "id": str(net.branch_ids[k]),
                "from": [float(xy[f, 0]), float(xy[f, 1])],
                "to": [float(xy[t, 0]), float(xy[t, 1])],
                "out": bool(not on[k]),
            }
            for k, (f, t) in enumerate(zip(net.f, net.t, strict=True))
            if ok[f] and ok[t]
        ],
        **map_layers(sim, tl, damage, repairs=repairs),
    }
