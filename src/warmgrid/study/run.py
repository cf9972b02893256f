"""The façade every command goes through: a scenario prepared once, then its impact.

:func:`prepare` loads a scenario's grid, overlay and weather and compiles one
:class:`~warmgrid.timeline.Simulator`; the :class:`Study` it returns also holds what the
output must state: the **assumptions** (defaults that invent data: auto people per MW,
auto districts, default archetypes, repeated weather) and the **warnings** (the data as
it is: negative reactances, elements left out, a dispatch that does not balance, and
load the grid cannot serve before any damage).

**Harm against the pre-damage state.** A study's simulator is ``relative``: every
figure of a replay is the harm the damage adds to the same scenario without damage
(:meth:`Timeline.relative_to`). With no damage, every harm is 0. ``absolute=True`` (the
CLI's ``--absolute``) gives the figures counted from zero instead.

:func:`impact` is ``warmgrid impact`` and ``warmgrid demo``: both print and write the
JSON of :meth:`ImpactResult.to_json`. Restoration (:mod:`warmgrid.study.restore`) and
Monte Carlo (:mod:`warmgrid.study.montecarlo`) build on :func:`prepare` too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from warmgrid.model.grid import Grid
from warmgrid.model.scenario import Scenario
from warmgrid.model.services import Services, auto_services
from warmgrid.timeline import Simulator, Timeline

__all__ = [
    "ImpactResult",
    "Study",
    "build_simulator",
    "fmt_mw",
    "impact",
    "load_services",
    "people",
    "prepare",
]


def people(x: float) -> int:
    """A count of persons, as a whole number (fractions come from partly served loads)."""
    return round(float(x))


def fmt_mw(mw: float) -> str:
    """``597 MW``, ``21.3 GW``."""
    return f"{mw / 1e3:,.1f} GW" if abs(mw) >= 1e3 else f"{mw:,.0f} MW"


def load_services(grid: Grid, scenario: Scenario) -> tuple[Services, list[str]]:
    """The overlay a scenario asks for, and the assumptions it brings.

    ``"none"``: no people, power only. ``"auto"``: a bundled case's own overlay
    (winter-city's), else one invented from the loads (:func:`auto_services`, with the
    scenario's ``[services]`` people per MW and archetype). A path: a folder of services
    tables (:mod:`warmgrid.io.services_tables`).
    """
    spec = scenario.services_path
    src = str(scenario.source) if scenario.source else scenario.name
    if spec == "none":
        return Services.build(grid, source=src), []
    from warmgrid.io import bundled_overlay

    own = bundled_overlay(scenario.grid.case) if spec in ("auto", scenario.grid.case) else None
    if own is not None:
        return own, [
            f"{scenario.grid.case} is synthetic: its people, buildings, heat and water "
            "services are generated from public ballpark figures, not surveyed"
        ]
    if spec == "auto":
        sv = scenario.services
        svc = auto_services(grid, people_per_mw=sv.people_per_mw, archetype=sv.archetype)
        return svc, [
            f'services = "auto": one district per load with p_mw > 0 ({len(svc.areas):,} '
            f"districts), {sv.people_per_mw:,.0f} people per MW ([services] people_per_mw), "
            f"all in {sv.archetype} buildings ([services] archetype) heated by electricity; "
            "no district heating, water stations or hospitals"
        ]
    from warmgrid.io.services_tables import read_services

    svc = read_services(spec, grid)
    notes = [
        f"{Path(spec).name}: {col} absent, {default!r} assumed for every row"
        for col, default in svc.defaults_used.items()
    ]
    return svc, notes


def build_simulator(
    scenario: Scenario, *, mode: str | None = None, hours: int | None = None
) -> tuple[Simulator, list[str], list[str]]:
    """Compile a scenario's simulator; return it with the assumptions and grid warnings.

    ``hours`` overrides the horizon (a weather CSV shorter than it repeats its last day).
    """
    from warmgrid.io import load_grid
    from warmgrid.io.weather import hourly_weather
    from warmgrid.services.propagate import FreezeOptions

    src = str(scenario.source) if scenario.source else ""
    grid = load_grid(scenario.case_path)
    services, assumptions = load_services(grid, scenario)
    w = scenario.weather
    n = int(hours or scenario.horizon.hours)
    t_out, repeated = hourly_weather(
        hours=n,
        outdoor_c=w.outdoor_c,
        csv_path=scenario.weather_csv_path,
        start=scenario.horizon.start,
        source=src,
        extend=hours is not None,
    )
    if "weather" not in scenario.model_fields_set:
        assumptions.append(f"no [weather] section: a constant {w.outdoor_c:g} °C outdoors")
    if repeated:
        assumptions.append(
            f"the weather file covers {n - repeated} h; its last day repeats for the other "
            f"{repeated} h of the {n} h horizon"
        )
    water = _water(scenario, grid, services, assumptions)
    fz = scenario.freeze
    sim = Simulator(
        grid,
        services,
        t_out,
        mode=mode or scenario.impact.mode,
        thresholds_c=scenario.thresholds.indoor_c,
        freeze=FreezeOptions(
            drain_after_h=fz.drain_after_h, drain_below_c=fz.drain_below_c, refill_h=fz.refill_h
        ),
        trip_factor=scenario.impact.trip_factor,
        water=water,
        calibration=scenario.thermal.calibration,
        thermal_overrides=scenario.thermal.overrides(),
        ac_check=scenario.impact.ac_check,
        unit_minimums=scenario.impact.unit_minimums,
    )
    if scenario.thermal.archetypes:
        assumptions.append(
            "the city's own building parameters replace warmgrid's for "
            + ", ".join(sorted(scenario.thermal.archetypes))
        )
    return sim, assumptions, grid.warnings()


def _water(scenario: Scenario, grid: Grid, services: Services, assumptions: list[str]) -> Any:
    """The scenario's hydraulic water network (None: the overlay's rule-based water)."""
    if scenario.water is None:
        return None
    from warmgrid.water.coupling import hydraulic_water

    inp = scenario.water_inp_path
    hw = hydraulic_water(
        scenario.water,
        inp_path=Path(inp) if inp is not None and Path(inp).exists() else None,
        areas_path=scenario.water_area_junctions_path,
        load_ids=grid.load["id"].astype(str).tolist(),
        bus_ids=grid.bus["id"].astype(str).tolist(),
        areas=services.areas,
        source=str(scenario.source) if scenario.source else None,
    )
    assumptions.extend(hw.assumptions)
    return hw


@dataclass(eq=False)
class Study:
    """A scenario prepared once (see the module docstring).

    Attributes
    ----------
    scenario : the validated scenario.
    simulator : its compiled simulator (``relative`` unless ``absolute``).
    assumptions : defaults that invented data, one sentence each.
    notes : warnings about the data (grid import, dispatch balance).
    """

    scenario: Scenario
    simulator: Simulator
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def absolute(self) -> bool:
        return not self.simulator.relative

    @property
    def file(self) -> str | None:
        return str(self.scenario.source) if self.scenario.source is not None else None

    def baseline(self) -> Timeline:
        """The replay without damage (absolute): the pre-damage state."""
        return self.simulator.baseline()

    def baseline_json(self) -> dict[str, Any]:
        """The ``baseline`` object of the JSON: the pre-damage state at hour 0 (MW, islands,
        branches overloaded at the file's own dispatch) and its people without each
        service (peak over the horizon and at hour 0)."""
        b = self.baseline()
        p0 = b.power[0]
        detail = p0.detail
        return {
            "served_mw": p0.served_mw,
            "shed_mw": p0.shed_mw,
            "demand_mw": float(detail.demand_mw),
            "islands": p0.islands,
            "dark_buses": p0.dark_buses,
            "overloaded_branches": self._overloaded_at_dispatch(),
            "people": {
                f"without_{s}": people(getattr(b, f"people_without_{s}").max(initial=0.0))
                for s in ("power", "heat", "water")
            },
            "people_at_start": {
                f"without_{s}": people(getattr(b, f"people_without_{s}")[0])
                for s in ("power", "heat", "water")
            },
        }

    def context_json(self) -> dict[str, Any]:
        """What every result's JSON carries about the study: ``counting``, ``baseline``,
        ``warnings`` and ``assumptions``."""
        return {
            "counting": "absolute" if self.absolute else "harm over the pre-damage state",
            "baseline": self.baseline_json(),
            "warnings": self.warnings(),
            "assumptions": list(self.assumptions),
        }

    def _overloaded_at_dispatch(self) -> int:
        """Branches above their rating in the DC flow of the file's own dispatch."""
        from warmgrid.power.dc import dc_flow

        ld = dc_flow(self.simulator.net).loading_percent
        return int(np.nansum(ld > 100.0 + 1e-9))

    def warnings(self) -> list[str]:
        """The data notes, then what exists before any damage (when it is not nothing)."""
        out = list(self.notes)
        sim = self.simulator
        out.extend(_dispatch_notes(sim))
        b = self.baseline()
        p0 = b.power[0]
        tail = (
            "figures below include it (--absolute)"
            if self.absolute
            else "figures below count only what the damage adds"
        )
        if p0.shed_mw > 0.5:
            demand = float(p0.detail.demand_mw)
            why = (
                "within the branch ratings"
                if sim.mode == "mld"
                else "once the undamaged grid's cascade settles"
            )
            out.append(
                f"before any damage, {fmt_mw(p0.shed_mw)} of {fmt_mw(demand)} cannot be "
                f"served {why}; {tail}"
            )
        shunt = float(getattr(p0.detail, "shunt_shed_mw", 0.0))
        if shunt > 0.5:
            out.append(
                f"before any damage, {fmt_mw(shunt)} of shunt conductance cannot be fed "
                "within the branch ratings (counted apart from the load)"
            )
        peaks = {
            s: people(getattr(b, f"people_without_{s}").max(initial=0.0))
            for s in ("power", "heat", "water")
        }
        if any(peaks.values()):
            out.append(
                "before any damage, "
                + ", ".join(f"{v:,} people are without {s}" for s, v in peaks.items() if v)
                + f" at some hour; {tail}"
            )
        return out


def _dispatch_notes(sim: Simulator) -> list[str]:
    """A file's dispatch that does not balance its load, and where the difference goes."""
    from warmgrid.power.dc import dispatch_note

    how = (
        "the MLD redispatches every unit within its limits"
        if sim.mode == "mld"
        else "the cascade's primary control shares it among the units pro rata to capacity"
    )
    note = dispatch_note(sim.net, how=how + " (a plain DC flow puts it on the slack units)")
    return [note] if note else []


def prepare(
    scenario: Scenario,
    *,
    mode: str | None = None,
    hours: int | None = None,
    absolute: bool = False,
) -> Study:
    """Prepare a scenario: load, compile, and say what was assumed (module docstring).

    Parameters
    ----------
    scenario : a validated scenario.
    mode : ``"mld"`` or ``"cascade"``; the scenario's ``[impact] mode`` when None.
    hours : another horizon than ``[horizon] hours`` (restoration extends it).
    absolute : replays count from zero instead of from the pre-damage state.
    """
    sim, assumptions, notes = build_simulator(scenario, mode=mode, hours=hours)
    sim.relative = not absolute
    return Study(scenario, sim, assumptions, notes)


# ------------------------------------------------------------------------------ impact
@dataclass(eq=False)
class ImpactResult:
    """An impact: the study, its replay with no repairs (harm or absolute), the time."""

    study: Study
    timeline: Timeline
    seconds: float
    water_detail: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``warmgrid impact --json`` (and ``warmgrid demo``) dict; ``water_detail``
        adds every junction's hourly delivered demand."""
        st, tl = self.study, self.timeline
        out = _impact_dict(st, tl)
        out["water"] = water_json(st.simulator, tl, junctions=self.water_detail)
        out.update(power_summary(tl, st.simulator.mode, trip_factor=st.scenario.impact.trip_factor))
        out.update(st.context_json())
        out["seconds"] = self.seconds
        return out


def impact(
    scenario: Scenario,
    *,
    mode: str | None = None,
    absolute: bool = False,
    water_detail: bool = False,
) -> ImpactResult:
    """Replay a scenario's damage with no repairs (``warmgrid impact``)."""
    from warmgrid.power.damage import check_damage

    t0 = time.perf_counter()
    study = prepare(scenario, mode=mode, absolute=absolute)
    check_damage(study.simulator.net, scenario.damage.elements, file=study.file)
    study.simulator.set_band(True)  # the fast-slow range of every time and person-hour
    tl = study.simulator.run(scenario.damage.elements)
    return ImpactResult(study, tl, time.perf_counter() - t0, water_detail)


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


def _impact_dict(study: Study, tl: Timeline) -> dict[str, Any]:
    """People, areas, metrics, the hourly timeline, temperature curves and the map."""
    from warmgrid.model.archetypes import ARCHETYPES

    sim, sc = study.simulator, study.scenario
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
        "map": _map(sim, tl, damage),
        **_context(sim, sc, damage),
    }


def _areas_json(sim: Simulator, tl: Timeline) -> list[dict[str, Any]]:
    """One entry per area: people, type, temperatures, hours without each service and
    the crossing times of each threshold (with the fast–slow range when banded)."""
    from warmgrid.metrics import threshold_key

    thr = [threshold_key(t) for t in tl.thresholds_c]
    areas = []
    for i, row in enumerate(sim.services.areas.itertuples(index=False)):
        d = {
            "id": row.id,
            "name": row.name or row.id,
            "population": people(row.population),
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
            if tl.band is not None:
                d[f"hours_to_{key}_range"] = [
                    _none(tl.band["fast"][0][i, j]),
                    _none(tl.band["slow"][0][i, j]),
                ]
        areas.append(d)
    return areas


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


def _context(sim: Simulator, sc: Scenario, damage: list[str]) -> dict[str, Any]:
    """The pages' header: the start, the damaged elements by name and kind, the weather."""
    from warmgrid.study.mapdata import damage_detail, weather_json

    start = sc.horizon.start
    return {
        "start": start.isoformat() if start is not None else None,
        "damage_detail": damage_detail(sim, damage),
        "weather": weather_json(sim.t_out_c),
    }


def _map(
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
