"""Run one scenario: load its grid and overlay, build the simulator, replay, summarise.

:func:`impact` is what ``warmgrid impact`` and ``warmgrid demo`` call; restoration and
Monte Carlo studies reuse :func:`prepare` (one compiled :class:`Simulator` per scenario)
and call ``Simulator.run`` with their own damage and repair events.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from warmgrid.model.grid import Grid
from warmgrid.model.services import Services, auto_services
from warmgrid.timeline import Simulator, Timeline

__all__ = ["ImpactRun", "impact", "impact_result", "load_services", "prepare"]


@dataclass(frozen=True, eq=False)
class ImpactRun:
    """A prepared simulator, its replay with no repairs, and the JSON-ready summary."""

    simulator: Simulator
    timeline: Timeline
    result: dict[str, Any]


def load_services(grid: Grid, spec: str, *, case: str, source: str) -> Services:
    """The overlay a scenario asks for.

    ``"none"``: no people, power only. ``"auto"``: the bundled winter-city's own overlay
    for winter-city, else one derived from the loads (:func:`auto_services`). A path: a
    folder of services tables (:mod:`warmgrid.io.services_tables`).
    """
    if spec == "none":
        return Services.build(grid, source=source)
    if case == "winter-city" and spec in ("auto", "winter-city"):
        from warmgrid.examples.winter_city import winter_city

        return winter_city()[1]
    if spec == "auto":
        return auto_services(grid)
    from warmgrid.io.services_tables import read_services

    return read_services(spec, grid)


def prepare(scenario: Any, *, mode: str | None = None) -> Simulator:
    """Load the scenario's grid, overlay and weather; compile a :class:`Simulator`."""
    from warmgrid.io import load_grid
    from warmgrid.io.weather import weather_series
    from warmgrid.services.propagate import FreezeOptions

    src = str(scenario.source)
    grid = load_grid(scenario.case_path)
    services = load_services(grid, scenario.services_path, case=scenario.grid.case, source=src)
    w = scenario.weather
    t_out = weather_series(
        hours=scenario.horizon.hours,
        outdoor_c=w.outdoor_c,
        csv_path=scenario.weather_csv_path,
        start=scenario.horizon.start,
        source=src,
    )
    fz = scenario.freeze
    return Simulator(
        grid,
        services,
        t_out,
        mode=mode or scenario.impact.mode,
        thresholds_c=scenario.thresholds.indoor_c,
        freeze=FreezeOptions(
            drain_after_h=fz.drain_after_h, drain_below_c=fz.drain_below_c, refill_h=fz.refill_h
        ),
        trip_factor=scenario.impact.trip_factor,
    )


def impact(scenario: Any, *, mode: str | None = None) -> ImpactRun:
    """Replay a scenario with no repairs and summarise it."""
    from warmgrid.power.damage import check_damage

    sim = prepare(scenario, mode=mode)
    check_damage(
        sim.net, scenario.damage.elements, file=str(scenario.source) if scenario.source else None
    )
    tl = sim.run(scenario.damage.elements)
    return ImpactRun(
        sim, tl, impact_result(sim, tl, name=scenario.name, damage=scenario.damage.elements)
    )


def _none(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def impact_result(sim: Simulator, tl: Timeline, *, name: str, damage: list[str]) -> dict[str, Any]:
    """The ``warmgrid impact --json`` dict (keys in DESIGN.md).

    ``people`` holds the peak over the horizon of the people without each service;
    ``people_at_start`` the values in the first hour.
    """
    from warmgrid.services.thermal import ARCHETYPES

    p0 = tl.power[0]
    a = sim.services.areas
    pw, ph, pwa = tl.people_without_power, tl.people_without_heat, tl.people_without_water
    areas = []
    thr = [f"{t:g}c" for t in tl.thresholds_c]
    for i, row in enumerate(a.itertuples(index=False)):
        d = {
            "id": row.id,
            "name": row.name or row.id,
            "population": float(row.population),
            "archetype": row.archetype,
            "district": getattr(row, "district", ""),
            "min_temp_c": float(tl.temp_c[:, i].min()),
            "end_temp_c": float(tl.temp_c[-1, i]),
            "hours_without_heat": float(np.sum(1.0 - tl.heat[:, i]) * tl.dt_h),
            "hours_without_power": float(np.sum(1.0 - tl.light[:, i]) * tl.dt_h),
            "hours_without_water": float(np.sum(1.0 - tl.water[:, i]) * tl.dt_h),
            "drained": bool(tl.drained[:, i].any()),
        }
        for j, key in enumerate(thr):
            d[f"hours_to_{key}"] = _none(tl.crossing_h[i, j])
            d[f"hours_below_{key}"] = float(tl.hours_below[i, j])
        areas.append(d)
    used = sorted(set(a["archetype"]))
    timeline = []
    for k in range(len(tl.hours)):
        timeline.append(
            {
                "hour": float(tl.hours[k]),
                "t_out_c": float(tl.t_out_c[k]),
                "people_without_power": float(pw[k]),
                "people_without_heat": float(ph[k]),
                "people_without_water": float(pwa[k]),
                "served_mw": float(tl.served_mw[k]),
                "shed_mw": float(tl.shed_mw[k]),
                "islands": int(tl.islands[k]),
                "min_indoor_c": float(tl.temp_c[k + 1].min()) if tl.temp_c.shape[1] else None,
                "areas_drained": int(tl.drained[k].sum()),
                "facilities_down": int((~tl.facility_ok[k]).sum()),
            }
        )
    # temperature curves: the coldest area of each building type
    curves: dict[str, list[float]] = {}
    if tl.temp_c.shape[1]:
        coldest = tl.temp_c.min(axis=0)
        for arch in used:
            idx = np.flatnonzero((a["archetype"] == arch).to_numpy())
            i = idx[np.argmin(coldest[idx])]
            label = f"{a['name'].iloc[i] or a['id'].iloc[i]} ({arch})"
            curves[label] = tl.temp_c[:, i].round(3).tolist()
    return {
        "scenario": name,
        "grid": sim.grid.name,
        "mode": sim.mode,
        "damage": list(damage),
        "people": {
            "without_power": float(pw.max(initial=0)),
            "without_heat": float(ph.max(initial=0)),
            "without_water": float(pwa.max(initial=0)),
        },
        "people_at_start": {
            "without_power": float(pw[0]) if len(pw) else 0.0,
            "without_heat": float(ph[0]) if len(ph) else 0.0,
            "without_water": float(pwa[0]) if len(pwa) else 0.0,
        },
        "population": float(tl.population.sum()),
        "served_mw": float(p0.served_mw),
        "shed_mw": float(p0.shed_mw),
        "islands": int(p0.islands),
        "dark_buses": int(p0.dark_buses),
        "metrics": tl.metrics(),
        "areas": areas,
        "archetypes": {k: ARCHETYPES[k].to_dict() for k in used},
        "timeline": timeline,
        "temperature_curves": {
            "hours": [*tl.hours.tolist(), float(len(tl.hours) * tl.dt_h)],
            "series": curves,
            "t_out_c": tl.t_out_c.tolist(),
            "thresholds_c": tl.thresholds_c.tolist(),
        },
        "source": str(Path(sim.grid.source)) if sim.grid.source else sim.grid.name,
        "map": _map(sim, tl, damage),
    }


def _map(sim: Simulator, tl: Timeline, damage: list[str]) -> dict[str, Any] | None:
    """Coordinates and state at hour 0 for a map: buses (dark or not), branches (out or
    not), areas (people, lowest indoor temperature); None when the grid has no
    coordinates."""
    from warmgrid.power.damage import apply_damage

    net = sim.net
    xy = net.bus_xy
    if xy is None or not np.isfinite(xy).all(axis=1).any() or not tl.power:
        return None
    dark = np.asarray(tl.power[0].detail.dark_bus, dtype=bool)
    on = apply_damage(net, list(damage)).effective(net).branch_on
    ok = np.isfinite(xy).all(axis=1)
    a = sim.services.areas
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
        "areas": [
            {
                "id": r.id,
                "x": float(r.x),
                "y": float(r.y),
                "population": float(r.population),
                "min_temp_c": float(tl.temp_c[:, i].min()),
            }
            for i, r in enumerate(a.itertuples(index=False))
            if np.isfinite(r.x) and np.isfinite(r.y)
        ],
    }
