"""Restoration through the façade: a repair plan for K crews, and emergency units.

:func:`restore` is ``warmgrid restore``: it prepares the scenario (:func:`~warmgrid.study.
run.prepare`), fixes a horizon every plan fits in (:func:`repair_horizon_h`), builds the
:class:`~warmgrid.restore.schedule.RestorationProblem`, optimises the order (or scores a
given one), sites mobile generators and warming shelters if asked, and returns a
:class:`RestoreResult` that owns the JSON.

**A horizon every plan fits in.** Scored on a horizon shorter than the repairs, every
plan looks the same: nothing comes back in time. The horizon is therefore the scenario's
or longer: long enough for any list schedule of the damage on K crews to end (Graham's
bound for list scheduling: the repair that ends last starts once all crews have been
busy, so the makespan is at most ``(Σd − max d)/K + max d``), then for drained buildings
to be refilled (``[freeze] refill_h``) and for the coldest homes to warm back above
18 °C (from their lowest temperature with no repair, at each archetype's time
constant: ``τ ln((T_set − T_min)/(T_set − 18))``), rounded up to whole days. A weather
file shorter than that repeats its last day (a stated assumption). ``hours`` overrides
it, but never below the bound: a plan whose repairs end after the horizon is impossible.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from warmgrid.errors import InputError
from warmgrid.model.scenario import Scenario
from warmgrid.restore.schedule import RestorationProblem, plan_events
from warmgrid.restore.search import SearchResult
from warmgrid.study.run import Study, people, prepare
from warmgrid.timeline import Simulator, Timeline

__all__ = [
    "REPORT_HOURS",
    "WARM_C",
    "RestoreResult",
    "problem_from_study",
    "repair_horizon_h",
    "restore",
]

#: Hours at which the JSON reports the people without each service (those in the horizon).
REPORT_HOURS = (0, 6, 12, 24, 48, 72, 96, 120, 168, 240, 336, 504, 720)

#: Homes count as warm again above this, °C (the WHO minimum; docs/sources.md, "Thresholds").
WARM_C = 18.0


def people_at(tl: Timeline, hours: list[int]) -> dict[str, list[int]]:
    """People without power, heat and water at the given hours of a timeline."""
    idx = [round(h / tl.dt_h) for h in hours]
    return {
        f"without_{s}": [people(getattr(tl, f"people_without_{s}")[k]) for k in idx]
        for s in ("power", "heat", "water")
    }


def makespan_bound_h(durations: Mapping[str, float], crews: int) -> float:
    """The longest any list schedule of ``durations`` on ``crews`` crews can take, h.

    >>> makespan_bound_h({"a": 36, "b": 36, "c": 72}, 2)  # (144 - 72) / 2 + 72
    108.0
    """
    d = [float(v) for v in durations.values()]
    if not d:
        return 0.0
    return (sum(d) - max(d)) / crews + max(d)


def repair_horizon_h(
    sim: Simulator,
    damage: list[str],
    durations: Mapping[str, float],
    crews: int,
    *,
    refill_h: float,
    weather: Callable[[int], np.ndarray],
) -> tuple[int, dict[str, float]]:
    """The horizon every plan fits in (module docstring) and its parts, h.

    Parameters
    ----------
    sim : the scenario's simulator at its own horizon.
    damage, durations, crews : the restoration problem.
    refill_h : hours to refill drained buildings after their heat source returns.
    weather : hours -> (hours,) outdoor temperature series.
    """
    from warmgrid.services.thermal import time_constant_h

    bound = makespan_bound_h(durations, crews)
    h1 = max(sim.n_steps, math.ceil(bound + refill_h))
    cold = sim.with_weather(weather(h1))._replay(damage)  # no repair: the coldest homes
    p = sim.params
    tmin = cold.temp_c.min(axis=0)
    tau = time_constant_h(p["h_w_per_k_m2"], p["c_kj_per_k_m2"])
    setp = p["setpoint_c"]
    need = (tmin < WARM_C) & (setp > WARM_C)
    with np.errstate(divide="ignore", invalid="ignore"):
        warm = np.where(need, tau * np.log((setp - tmin) / (setp - WARM_C)), 0.0)
    warm_h = float(np.nanmax(warm, initial=0.0))
    total = bound + refill_h + warm_h
    # whole days, strictly longer than the longest plan: a repair ending at the horizon
    # would have no hour to count in
    return max(sim.n_steps, 24 * (math.floor(total / 24.0) + 1)), {
        "repairs_h": bound,
        "refill_h": refill_h,
        "warm_back_h": warm_h,
    }


def problem_from_study(
    study: Study, *, crews: int | None = None, durations: Mapping[str, float] | None = None
) -> RestorationProblem:
    """The restoration problem of a prepared scenario (``[damage]`` and ``[repair]``)."""
    from warmgrid.restore.durations import repair_hours

    sc, sim = study.scenario, study.simulator
    rp = sc.repair
    if durations is None:
        durations = repair_hours(
            sim.net,
            sc.damage.elements,
            hours=rp.hours,
            default_hours=rp.default_hours,
            file=study.file,
        )
    return RestorationProblem(
        sim,
        sc.damage.elements,
        durations,
        crews=rp.crews if crews is None else crews,
        weights=rp.weights,
        file=study.file,
    )


def _people_back(tl: Timeline, end_h: float) -> dict[str, int]:
    """People who get each service back at the step a repair ends (the drop of the hourly
    count of people without it from the step before). Repairs that end at the same step
    share that drop (the plan entry lists them in ``ends_with``). Heat can come back
    later still, after the refill of drained buildings; this counts what returns at once."""
    k = math.ceil(end_h / tl.dt_h - 1e-9)
    if k <= 0 or k >= len(tl.hours):
        return {"power": 0, "heat": 0, "water": 0}
    return {
        s: max(
            0,
            people(getattr(tl, f"people_without_{s}")[k - 1])
            - people(getattr(tl, f"people_without_{s}")[k]),
        )
        for s in ("power", "heat", "water")
    }


def _default_hours_note(study: Study, durations: Mapping[str, float]) -> list[str]:
    """The assumption of warmgrid's indicative repair hours, for elements with no override."""
    from collections import Counter

    from warmgrid.restore.durations import element_kind

    rp = study.scenario.repair
    net = study.simulator.net
    kinds = Counter(
        (element_kind(net, e), float(h))
        for e, h in durations.items()
        if e not in rp.hours and element_kind(net, e) not in rp.default_hours
    )
    if not kinds:
        return []
    parts = ", ".join(f"{k} {h:g} h ×{n}" for (k, h), n in sorted(kinds.items()))
    return [
        f"repair hours from warmgrid's indicative defaults ({parts}); "
        "set [repair] hours or default_hours"
    ]


@dataclass(eq=False)
class RestoreResult:
    """A restoration plan: the study, the problem, the search and the optional siting."""

    study: Study
    problem: RestorationProblem
    search: SearchResult
    requested_method: str
    budget_s: float
    horizon: dict[str, Any]
    emergency: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``warmgrid restore --json`` dict."""
        from warmgrid.power.elements import labels
        from warmgrid.restore.durations import element_kind
        from warmgrid.study.impact_json import map_json
        from warmgrid.study.mapdata import units_json, weather_json

        problem, res, st = self.problem, self.search, self.study
        sim = problem.sim
        base = problem.no_repair().objective
        tl = problem.replay(res.plan)
        tl0 = problem.baseline_timeline()
        horizon = sim.n_steps * sim.dt_h
        hours = sorted({h for h in REPORT_HOURS if h < horizon} | {int(horizon - sim.dt_h)})
        names = labels(sim.net, sim.grid, [r.element for r in res.plan])
        start = st.scenario.horizon.start
        out = {
            "scenario": st.scenario.name,
            "grid": sim.grid.name,
            "mode": sim.mode,
            "damage": list(problem.damage),
            "crews": problem.crews,
            "horizon_h": horizon,
            "horizon": self.horizon,
            "method": res.method,
            "requested_method": self.requested_method,
            "optimal": res.optimal,
            "evaluations": res.evaluations,
            "calls": res.calls,
            "seconds": res.seconds,
            "budget_s": self.budget_s,
            "order": list(res.order),
            "start": start.isoformat() if start is not None else None,
            "plan": [
                {
                    **r.to_dict(),
                    "name": names[r.element],
                    "kind": element_kind(sim.net, r.element),
                    "in_horizon": r.end_h < horizon,
                    "people_back": _people_back(tl, r.end_h),
                    "ends_with": [
                        q.element
                        for q in res.plan
                        if q is not r
                        and math.ceil(q.end_h / sim.dt_h - 1e-9)
                        == math.ceil(r.end_h / sim.dt_h - 1e-9)
                    ],
                }
                for r in res.plan
            ],
            "makespan_h": max((r.end_h for r in res.plan), default=0.0),
            "objective": res.objective,
            "no_repair": base,
            "objective_ranges": _objective_ranges(problem, res.plan),
            "reduction_percent": (
                100.0 * (base["total"] - res.total) / base["total"] if base["total"] else 0.0
            ),
            "weights": problem.weights,
            "durations_h": problem.durations,
            "people": {
                "hours": hours,
                "plan": people_at(tl, hours),
                "no_repair": people_at(tl0, hours),
            },
            "timeline": {
                "hours": tl.hours.tolist(),
                "plan": people_at(tl, [int(h) for h in tl.hours]),
                "no_repair": people_at(tl0, [int(h) for h in tl0.hours]),
            },
            **st.context_json(),
            "detail": res.detail,
            "weather": weather_json(sim.t_out_c),
            "map": map_json(sim, tl, list(problem.damage), {r.element: r.end_h for r in res.plan}),
        }
        if self.emergency is not None:
            out["emergency"] = self.emergency
            if out["map"] is not None:
                out["map"]["units"] = units_json(sim, self.emergency)
        return out


def _objective_ranges(problem: RestorationProblem, plan: Any) -> dict[str, dict[str, Any]]:
    """The fast–slow range of each objective term that depends on how fast homes cool
    (person-hours below a threshold), for the plan and for no repair: both replayed once
    more with the band's calibrations (the search itself uses the decision calibration)."""
    sim = problem.sim
    sim.set_band(True)
    try:
        met = {"plan": problem.replay(plan).metrics(), "no_repair": problem.replay([]).metrics()}
    finally:
        sim.set_band(False)
    terms = set(problem.weights)
    return {
        which: {
            k[: -len("_range")]: v
            for k, v in m.items()
            if k.endswith("_range") and k[: -len("_range")] in terms
        }
        for which, m in met.items()
    }


def restore(
    scenario: Scenario,
    *,
    crews: int | None = None,
    order: list[str] | None = None,
    method: str | None = None,
    budget_s: float | None = None,
    seed: int = 0,
    fleet: Mapping[str, Any] | None = None,
    siting: str | None = None,
    hours: int | None = None,
    mode: str | None = None,
    absolute: bool = False,
    progress: Any = None,
) -> RestoreResult:
    """Plan the repairs of a scenario's damage (module docstring).

    Parameters
    ----------
    scenario : the scenario.
    crews : overrides ``[repair] crews``.
    order : score this full order instead of optimising.
    method, budget_s, seed : the optimiser (``[repair] method``, ``budget_s``).
    fleet : mobile generators and shelters, overriding ``[emergency]``
        (keys of :class:`~warmgrid.restore.emergency.Fleet`).
    siting : ``auto``, ``brute``, ``greedy`` or ``milp`` (``[emergency] method``).
    hours : the horizon, h (default: the scenario's, extended so every plan fits).
    mode : ``"mld"`` or ``"cascade"``.
    absolute : figures from zero instead of harm over the pre-damage state.
    progress : ``(done, total, best)`` callback of the search.
    """
    from warmgrid.power.damage import check_damage
    from warmgrid.restore.durations import repair_hours
    from warmgrid.restore.search import METHODS

    study = prepare(scenario, mode=mode, absolute=absolute)
    sim, rp = study.simulator, scenario.repair
    check_damage(sim.net, scenario.damage.elements, file=study.file)
    k = rp.crews if crews is None else int(crews)
    if k < 1:
        raise InputError(f"crews must be >= 1, got {k}", field="--crews")
    method = method or rp.method
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    budget = rp.budget_s if budget_s is None else float(budget_s)
    damage = list(dict.fromkeys(scenario.damage.elements))
    durations = repair_hours(
        sim.net, damage, hours=rp.hours, default_hours=rp.default_hours, file=study.file
    )
    study.assumptions.extend(_default_hours_note(study, durations))
    horizon = _set_horizon(study, damage, durations, k, hours)
    problem = problem_from_study(study, crews=k, durations=durations)
    res, method = _search(problem, order, method, budget, seed, progress)
    result = RestoreResult(study, problem, res, method, budget, horizon)
    result.emergency = _site_fleet(study, problem, res, fleet or {}, siting)
    return result


def _set_horizon(
    study: Study, damage: list[str], durations: Any, k: int, hours: int | None
) -> dict[str, Any]:
    """Give the study's simulator the plan's horizon: ``hours`` (refused below the
    longest plan's makespan bound) or the scenario's, extended so that every plan's
    repairs, refills and warm-back fit (:func:`repair_horizon_h`); the weather extends
    with it. Notes and assumptions go on the study. Returns the JSON ``horizon``."""
    from warmgrid.io.weather import hourly_weather

    scenario, sim = study.scenario, study.simulator

    def weather(n: int) -> tuple[np.ndarray, int]:
        w = scenario.weather
        return hourly_weather(
            hours=n,
            outdoor_c=w.outdoor_c,
            csv_path=scenario.weather_csv_path,
            start=scenario.horizon.start,
            source=study.file or "",
            extend=True,
        )

    h0 = sim.n_steps
    bound = makespan_bound_h(durations, k)
    if hours is not None:
        if hours <= bound:  # the last repair must end before the horizon does
            raise InputError(
                f"--hours {hours} is not longer than the longest repair plan can take "
                f"({bound:g} h for {len(damage)} repairs on {k} crew(s)); give at least "
                f"{math.floor(bound) + 1}",
                field="--hours",
            )
        horizon, parts = int(hours), {"repairs_h": bound}
        why = "--hours"
    else:
        horizon, parts = repair_horizon_h(
            sim,
            damage,
            durations,
            k,
            refill_h=scenario.freeze.refill_h,
            weather=lambda n: weather(n)[0],
        )
        why = "every plan's repairs, refills and warm-back fit" if horizon > h0 else "scenario"
    if horizon != h0:
        series, repeated = weather(horizon)
        study.simulator = sim.with_weather(series)
        if repeated:
            study.assumptions.append(
                f"the weather file covers {horizon - repeated} h; its last day repeats for "
                f"the other {repeated} h of the {horizon} h horizon"
            )
    if horizon > h0 and hours is None:
        study.notes.append(
            f"the horizon is extended from {h0} h to {horizon} h so that every repair plan "
            f"ends (at most {bound:g} h with {k} crew(s)), drained homes are refilled and "
            f"the coldest warm back above {WARM_C:g} °C"
        )
    return {"hours": horizon, "scenario_hours": h0, "reason": why, **parts}


def _search(
    problem: RestorationProblem,
    order: list[str] | None,
    method: str,
    budget: float,
    seed: int,
    progress: Any,
) -> tuple[SearchResult, str]:
    """Score the given full ``order``, or search for the best with ``method``; returns
    the result and the method reported (``"order"`` for a given one)."""
    from warmgrid.restore.search import optimise

    if order is None:
        return optimise(
            problem, method=method, budget_s=budget, seed=seed, progress=progress
        ), method
    t0 = time.perf_counter()
    e0 = problem.evaluations
    ev = problem.evaluate(problem.check_order(order, field="--order"))
    res = SearchResult(
        method="order",
        order=ev.order,
        plan=ev.plan,
        objective=dict(ev.objective),
        evaluations=problem.evaluations - e0,
        calls=1,
        seconds=time.perf_counter() - t0,
    )
    return res, "order"


def _site_fleet(
    study: Study,
    problem: RestorationProblem,
    res: SearchResult,
    given: Mapping[str, Any],
    siting: str | None,
) -> dict[str, Any] | None:
    """Site the mobile generators and shelters (options over ``[emergency]``), or None."""
    from warmgrid.restore.emergency import EmergencyProblem, Fleet, site, siting_json

    em = study.scenario.emergency
    keys = ("generators", "generator_mw", "shelters", "shelter_capacity", "radius_km", "deploy_h")
    kw = {
        k: given[k] if given.get(k) is not None else (getattr(em, k) if em else None) for k in keys
    }
    fleet = Fleet(**{k: v for k, v in kw.items() if v is not None})
    if not (fleet.generators or fleet.shelters):
        return None
    ep = EmergencyProblem(
        problem.sim,
        problem.damage,
        fleet,
        events=plan_events(res.plan),
        weights=study.scenario.repair.weights,
        file=problem.file,
    )
    how = siting or (em.method if em else "auto")
    return siting_json(ep, site(ep, method=how))
