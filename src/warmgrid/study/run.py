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
from warmgrid.study.impact_json import fmt_mw, impact_dict, people, power_summary, water_json
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


def load_services(grid: Grid, scenario: Scenario) -> tuple[Services, list[str]]:
    """The overlay a scenario asks for, and the assumptions it brings.

    ``"none"``: no people, power only. ``"auto"``: a bundled case's own overlay
    (winter-city's), else one invented from the loads (:func:`auto_services`, with the
    scenario's ``[services]`` people per MW and archetype). A path: a folder of services
    tables (:mod:`warmgrid.io.services_tables`).
    """
    spec = scenario.services_path
    src = str(scenario.source) if scenario.source else scenario.name
    from warmgrid.io import bundled_overlay

    own = bundled_overlay(scenario.grid.case) if spec in ("auto", scenario.grid.case) else None
    if "services" in scenario.model_fields_set and (spec != "auto" or own is not None):
        from warmgrid.errors import InputError

        whose = (
            f"{scenario.grid.case} has its own overlay"
            if own is not None
            else f"[grid] services = {str(scenario.grid.services)!r}"
        )
        raise InputError(
            f'[services] sets how services = "auto" invents people and buildings, but {whose}: '
            'remove [services], or set [grid] services = "auto" on a grid without one',
            file=src,
            field="services",
        )
    if spec == "none":
        return Services.build(grid, source=src), []
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
        out = impact_dict(st.simulator, st.scenario, tl)
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
