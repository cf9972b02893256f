"""Where mobile generators and warming shelters do the most good, scored by the one timeline.

A fleet (:class:`Fleet`: N mobile generators of P MW, M warming shelters of C persons,
a walking radius and a deployment delay) is placed on candidate sites; a
:class:`Placement` becomes timeline events (``kind="mobile_gen"`` at a heat source,
water station, hospital or grid load; ``kind="shelter"`` at an area; see
:mod:`warmgrid.timeline`) and is scored by replaying the scenario with them, on top of
any repair events: ``Simulator.run(damage, repairs + placement)``. At most one
generator goes to a site and at most one shelter to an area.

The objective is :func:`warmgrid.restore.schedule.objective` with the restoration
weights, except that each ``person_hours_below_<thr>`` term is replaced by its
``_unsheltered`` twin (same weight): a person in a warming shelter is not cold. Without
shelters the two are equal, so the totals match ``warmgrid restore``'s.

Three ways to site (docs/sources.md, "Mobile units", "Warming shelters", "Social burden"):

* :func:`brute_force` — every placement (exact over placements, for small fleets).
* :func:`greedy` — add one unit at a time, the one whose replay lowers the objective most.
* :func:`coverage_milp` — a maximal-covering MILP (Church & ReVelle 1974) through
  :mod:`warmgrid.solve.highs`, on values read off the no-action replay. A generator at
  site s is worth ``g_s`` = its service weight × the people depending on s × the hours
  (past s's own backup) its load is short, scaled by the fraction of the load P MW
  covers, plus the energy it supplies × the ENS weight. A shelter at area j may take
  ``x_ja`` persons from each area a within the radius, at most C in all and at most
  the cold people of a; each is worth the weighted hours a's homes spend below the
  thresholds, less the social burden of the walk (NREL/Sandia: the travel time spent to
  reach a service): ``travel_weight`` × a round trip of ``2 d_ja / walk_kmh`` hours.
  ``max Σ g_s y_s + Σ c_ja x_ja`` s.t. ``Σ y = N``, ``Σ v = M``,
  ``Σ_a x_ja <= C v_j``, ``Σ_j x_ja <= d_a``, ``y, v`` binary. Its placement is then
  replayed and scored like any other.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from warmgrid.errors import InputError, closest, quoted
from warmgrid.metrics import threshold_key
from warmgrid.model.services import split_ids
from warmgrid.restore.result import Found
from warmgrid.restore.schedule import objective, resolve_weights
from warmgrid.services.thermal import step_hours_below
from warmgrid.timeline import Event, Simulator, Timeline

__all__ = [
    "BRUTE_MAX_PLACEMENTS",
    "METHODS",
    "EmergencyProblem",
    "Fleet",
    "MilpSolution",
    "Placement",
    "SitingResult",
    "brute_force",
    "coverage_milp",
    "emergency_weights",
    "greedy",
    "milp",
    "site",
    "siting_json",
]

#: Largest number of placements :func:`brute_force` replays.
BRUTE_MAX_PLACEMENTS = 5000

#: Methods of :func:`site`.
METHODS = ("auto", "brute", "greedy", "milp")


@dataclass(frozen=True)
class Fleet:
    """Emergency resources to place.

    Attributes
    ----------
    generators : number of mobile generators N.
    generator_mw : output of each, MW (0.6-2 MW at heat sources; docs/sources.md,
        "Mobile units").
    shelters : number of warming shelters M.
    shelter_capacity : persons each shelter holds.
    radius_km : people walk to a shelter within this distance of their area, km.
    deploy_h : hour the units arrive and start.
    walk_kmh : walking speed for the social burden of the MILP, km/h.
    travel_weight : weight of an hour walked, in weighted person-hours (MILP only).
    """

    generators: int = 0
    generator_mw: float = 1.0
    shelters: int = 0
    shelter_capacity: float = 1000.0
    radius_km: float = 2.0
    deploy_h: float = 0.0
    walk_kmh: float = 4.0
    travel_weight: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "generators": self.generators >= 0,
            "generator_mw": self.generator_mw > 0,
            "shelters": self.shelters >= 0,
            "shelter_capacity": self.shelter_capacity > 0,
            "radius_km": self.radius_km >= 0,
            "deploy_h": self.deploy_h >= 0,
            "walk_kmh": self.walk_kmh > 0,
            "travel_weight": self.travel_weight >= 0,
        }
        for name, ok in checks.items():
            v = getattr(self, name)
            if not (ok and math.isfinite(v)):
                raise InputError(
                    f"{name} must be a finite number of the right sign, got {v!r}",
                    field=f"emergency.{name}",
                )


@dataclass(frozen=True)
class Placement:
    """Sites of the generators and the shelters (sorted ids)."""

    generators: tuple[str, ...] = ()
    shelters: tuple[str, ...] = ()

    @classmethod
    def of(cls, generators: Sequence[str] = (), shelters: Sequence[str] = ()) -> Placement:
        return cls(tuple(sorted(generators)), tuple(sorted(shelters)))


@dataclass(frozen=True, kw_only=True)
class SitingResult(Found):
    """The best placement a method found (:class:`~warmgrid.restore.result.Found`)."""

    placement: Placement


def emergency_weights(
    user: Mapping[str, float] | None, metrics: Mapping[str, Any], *, file: str | None = None
) -> dict[str, float]:
    """The restoration weights with each ``person_hours_below_<thr>`` term moved to its
    ``_unsheltered`` twin (unless ``user`` weighs the twin itself)."""
    w = resolve_weights(user, metrics, file=file)
    for k in list(w):
        twin = f"{k}_unsheltered"
        if k.startswith("person_hours_below_") and twin in metrics and twin not in (user or {}):
            w[twin] = w.pop(k)
    return w


class EmergencyProblem:
    """Siting a fleet after a damage (and a repair plan), scored by the one timeline.

    Parameters
    ----------
    sim : the scenario's simulator.
    damage : damaged element ids.
    fleet : the units to place.
    events : events every replay keeps (a repair plan's, :func:`~warmgrid.restore.
        schedule.plan_events`).
    weights : objective weights (restoration terms; see :func:`emergency_weights`).
    generator_sites : candidate sites (load or service ids); default: every heat
        source, water station and hospital whose load is short after ``deploy_h`` in the
        no-action replay.
    shelter_sites : candidate areas; default: every area with a cold home (below the
        simulator's ``shelter_below_c`` after ``deploy_h``) within the radius.
    file : named in errors.
    """

    def __init__(
        self,
        sim: Simulator,
        damage: Sequence[str],
        fleet: Fleet,
        *,
        events: Sequence[Event] = (),
        weights: Mapping[str, float] | None = None,
        generator_sites: Sequence[str] | None = None,
        shelter_sites: Sequence[str] | None = None,
        file: str | None = None,
    ) -> None:
        self.sim, self.fleet, self.file = sim, fleet, file
        self.damage = tuple(dict.fromkeys(damage))
        self.base_events = tuple(events)
        self._baseline = self._run(())
        self.weights = emergency_weights(weights, self._baseline.metrics(), file=file)
        self.evaluations = 1
        self._cache: dict[Placement, dict[str, float]] = {
            Placement(): objective(self._baseline.metrics(), self.weights)
        }
        k0 = min(math.ceil(fleet.deploy_h / sim.dt_h - 1e-9), sim.n_steps)
        self._k0 = k0
        lf = np.array([p.load_frac for p in self._baseline.power])  # grid only
        self._lf = lf
        if generator_sites is None:
            s = sim.services
            ids = [*s.heat["id"], *s.water["id"], *s.facilities["id"]]
            generator_sites = [
                e
                for e in ids
                if e in sim.site_load and (lf[k0:, sim.site_load[e]] < 1 - 1e-9).any()
            ]
        if shelter_sites is None:
            cold = (self._baseline.temp_c[1 + k0 :] < sim.shelter_below_c).any(axis=0)
            shelter_sites = [
                a for a in sim.area_pos if (sim.covered_areas(a, fleet.radius_km) & cold).any()
            ]
        self._check(generator_sites, sim.site_load, "generator site")
        self._check(shelter_sites, sim.area_pos, "shelter site")
        self.generator_sites = tuple(dict.fromkeys(generator_sites))
        self.shelter_sites = tuple(dict.fromkeys(shelter_sites))
        self.n_generators = min(fleet.generators, len(self.generator_sites))
        self.n_shelters = min(fleet.shelters, len(self.shelter_sites))

    def _check(self, ids: Sequence[str], known: Mapping[str, int], what: str) -> None:
        for e in ids:
            if e not in known:
                raise InputError(
                    f"unknown {what} {quoted(e)}{closest(e, list(known))}", file=self.file, row=e
                )

    def _run(self, extra: Sequence[Event]) -> Timeline:
        return self.sim.run(
            self.damage, [*self.base_events, *extra], shelter_radius_km=self.fleet.radius_km
        )

    def events(self, placement: Placement) -> list[Event]:
        """The placement's timeline events (all at ``deploy_h``)."""
        f = self.fleet
        return [
            Event(f.deploy_h, g, "mobile_gen", f.generator_mw) for g in placement.generators
        ] + [Event(f.deploy_h, a, "shelter", f.shelter_capacity) for a in placement.shelters]

    def replay(self, placement: Placement) -> Timeline:
        """The timeline with the base events and the placement's."""
        if placement == Placement():
            return self._baseline
        return self._run(self.events(placement))

    def score(self, placement: Placement) -> dict[str, float]:
        """The objective of a placement (cached)."""
        hit = self._cache.get(placement)
        if hit is None:
            hit = objective(self.replay(placement).metrics(), self.weights)
            self._cache[placement] = hit
            self.evaluations += 1
        return hit

    def no_action(self) -> dict[str, float]:
        """The objective with no unit placed."""
        return self._cache[Placement()]

    def baseline_timeline(self) -> Timeline:
        return self._baseline

    # ------------------------------------------------------------------ MILP values
    def generator_values(self) -> np.ndarray:
        """(n_generator_sites,) the MILP's value ``g_s`` of a generator at each site."""
        sim, w, f = self.sim, self.weights, self.fleet
        s, dt = sim.services, sim.dt_h
        pop = sim.population
        ish = s.areas["individual_heating_share"].to_numpy(dtype=float)
        area_pos = sim.area_pos
        n_src = sim.links.area_sources.sum(axis=1)
        n_st = sim.links.water_areas.sum(axis=0)
        people: dict[str, tuple[float, float, float]] = {}  # site -> (people, weight, buffer h)
        w_heat = w.get("person_hours_without_heat", 0.0)
        w_water = w.get("person_hours_without_water", 0.0)
        w_power = w.get("person_hours_without_power", 0.0)
        heat_people = sim.links.area_sources.T @ np.divide(
            pop * (1 - ish), n_src, out=np.zeros(len(pop)), where=n_src > 0
        )
        for i, r in enumerate(s.heat.itertuples()):
            people[r.id] = (float(heat_people[i]), w_heat, float(r.backup_h))
        for r in s.water.itertuples():
            idx = [area_pos[a] for a in split_ids(r.areas)]
            p = float(sum(pop[i] / max(n_st[i], 1) for i in idx))
            people[r.id] = (p, w_water, float(r.reservoir_h))
        for r in s.facilities.itertuples():
            people[r.id] = (float(r.people_served), w_power, float(r.backup_h))
        for i, r in enumerate(s.areas.itertuples()):
            people[r.id] = (float(pop[i]), w_power + w_heat * float(ish[i]), 0.0)
        load_mw = sim.net.load_p_mw
        out = np.empty(len(self.generator_sites))
        for j, site in enumerate(self.generator_sites):
            li = sim.site_load[site]
            frac = 1.0 if load_mw[li] <= 0 else min(1.0, f.generator_mw / load_mw[li])
            gain = np.maximum(frac - self._lf[self._k0 :, li], 0.0)  # per step
            short_h = float((gain > 0).sum() * dt)
            p, wt, buffer_h = people.get(site, (0.0, 0.0, 0.0))
            useful = max(short_h - buffer_h, 0.0) / short_h if short_h > 0 else 0.0
            mwh = float(gain.sum() * dt * max(load_mw[li], 0.0))
            out[j] = (
                wt * p * float(gain.sum() * dt) * useful + w.get("energy_not_served_mwh", 0.0) * mwh
            )
        return out

    def shelter_values(self) -> tuple[np.ndarray, np.ndarray]:
        """The MILP's shelter data: ``c`` (n_shelter_sites, n_areas), value of a person
        from area a sheltered at site j (NaN: out of reach), and ``d`` (n_areas,) the
        cold people of each area."""
        sim, w, f = self.sim, self.weights, self.fleet
        tl = self._baseline
        below = step_hours_below(tl.temp_c, sim.thresholds_c, sim.tau_h, sim.dt_h)[self._k0 :]
        per_person = np.zeros(len(sim.population))
        for t, thr in enumerate(sim.thresholds_c):
            wt = w.get(f"person_hours_below_{threshold_key(thr)}_unsheltered", 0.0)
            per_person += wt * below[:, :, t].sum(axis=0)
        cold = (tl.temp_c[1 + self._k0 :] < sim.shelter_below_c).any(axis=0)
        d = np.where(cold, sim.population, 0.0)
        c = np.full((len(self.shelter_sites), len(d)), np.nan)
        xy = sim.area_xy_km
        for j, site in enumerate(self.shelter_sites):
            cov = sim.covered_areas(site, f.radius_km)
            dist = np.nan_to_num(np.hypot(*(xy - xy[sim.area_pos[site]]).T), nan=0.0)
            burden = f.travel_weight * 2.0 * dist / f.walk_kmh
            c[j, cov] = per_person[cov] - burden[cov]
        return c, d


@dataclass(frozen=True)
class MilpSolution:
    """The coverage MILP's optimum: the placement and its MILP objective (not a replay)."""

    placement: Placement
    objective: float
    status: str
    seconds: float


def coverage_milp(problem: EmergencyProblem) -> MilpSolution:
    """Solve the coverage MILP of the module docstring with HiGHS (``mip_rel_gap=0``)."""
    from warmgrid.solve.highs import LinearProgram, solve_lp

    t0 = time.perf_counter()
    g = problem.generator_values()
    c, d = problem.shelter_values()
    ng, ns = len(g), c.shape[0]
    pairs = [(j, a) for j in range(ns) for a in range(c.shape[1]) if c[j, a] > 0 and d[a] > 0]
    nx = len(pairs)
    n = ng + ns + nx
    cost = np.concatenate([g, np.zeros(ns), np.array([c[j, a] for j, a in pairs])])
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def row(entries: list[tuple[int, float]], lower: float, upper: float) -> None:
        r = len(lo)
        for col, v in entries:
            rows.append(r)
            cols.append(col)
            vals.append(v)
        lo.append(lower)
        hi.append(upper)

    row([(i, 1.0) for i in range(ng)], problem.n_generators, problem.n_generators)
    row([(ng + j, 1.0) for j in range(ns)], problem.n_shelters, problem.n_shelters)
    cap = problem.fleet.shelter_capacity
    for j in range(ns):
        row(
            [(ng + ns + k, 1.0) for k, (jj, _) in enumerate(pairs) if jj == j] + [(ng + j, -cap)],
            -np.inf,
            0.0,
        )
    for a in sorted({a for _, a in pairs}):
        row([(ng + ns + k, 1.0) for k, (_, aa) in enumerate(pairs) if aa == a], -np.inf, d[a])
    a_mat = sp.csc_matrix((vals, (rows, cols)), shape=(len(lo), n))
    lp = LinearProgram(
        c=cost,
        a=a_mat,
        row_lower=np.array(lo),
        row_upper=np.array(hi),
        lower=np.zeros(n),
        upper=np.concatenate([np.ones(ng + ns), np.full(nx, np.inf)]),
        maximize=True,
        integrality=np.concatenate([np.ones(ng + ns, bool), np.zeros(nx, bool)]),
    )
    r = solve_lp(lp, mip_rel_gap=0.0)
    if not r.status.ok:
        raise InputError(f"the coverage MILP ended {r.status.value}", file=problem.file)
    x = r.x
    placement = Placement.of(
        [s for i, s in enumerate(problem.generator_sites) if x[i] > 0.5],
        [s for j, s in enumerate(problem.shelter_sites) if x[ng + j] > 0.5],
    )
    return MilpSolution(placement, float(r.objective), r.status.value, time.perf_counter() - t0)


def _placements(problem: EmergencyProblem) -> tuple[int, Any]:
    """The number of placements and a lazy iterator over them."""
    gs, ss = problem.generator_sites, problem.shelter_sites
    count = math.comb(len(gs), problem.n_generators) * math.comb(len(ss), problem.n_shelters)
    it = (
        Placement.of(a, b)
        for a in itertools.combinations(gs, problem.n_generators)
        for b in itertools.combinations(ss, problem.n_shelters)
    )
    return count, it


def brute_force(problem: EmergencyProblem) -> SitingResult:
    """Replay every placement of exactly N generators and M shelters (one per site).

    Raises
    ------
    InputError : more than :data:`BRUTE_MAX_PLACEMENTS` placements.
    """
    t0, e0 = time.perf_counter(), problem.evaluations
    count, gen = _placements(problem)
    if count > BRUTE_MAX_PLACEMENTS:
        raise InputError(
            f"brute force would replay {count} placements (at most {BRUTE_MAX_PLACEMENTS}); "
            "use greedy or milp",
            file=problem.file,
            field="emergency.method",
        )
    best = min(gen, key=lambda p: (problem.score(p)["total"], p.generators, p.shelters))
    return SitingResult(
        method="brute",
        placement=best,
        objective=problem.score(best),
        evaluations=problem.evaluations - e0,
        seconds=time.perf_counter() - t0,
        optimal=True,
        detail={"placements": count},
    )


def greedy(problem: EmergencyProblem) -> SitingResult:
    """Add one unit at a time: the generator or shelter whose replay lowers the objective
    most given those placed, until N generators and M shelters are placed."""
    t0, e0 = time.perf_counter(), problem.evaluations
    gens: list[str] = []
    shel: list[str] = []
    while len(gens) < problem.n_generators or len(shel) < problem.n_shelters:
        options: list[Placement] = []
        if len(gens) < problem.n_generators:
            options += [
                Placement.of([*gens, s], shel) for s in problem.generator_sites if s not in gens
            ]
        if len(shel) < problem.n_shelters:
            options += [
                Placement.of(gens, [*shel, s]) for s in problem.shelter_sites if s not in shel
            ]
        best = min(options, key=lambda p: (problem.score(p)["total"], p.generators, p.shelters))
        gens, shel = list(best.generators), list(best.shelters)
    pl = Placement.of(gens, shel)
    return SitingResult(
        method="greedy",
        placement=pl,
        objective=problem.score(pl),
        evaluations=problem.evaluations - e0,
        seconds=time.perf_counter() - t0,
    )


def milp(problem: EmergencyProblem) -> SitingResult:
    """The coverage MILP's placement, replayed and scored."""
    t0, e0 = time.perf_counter(), problem.evaluations
    sol = coverage_milp(problem)
    return SitingResult(
        method="milp",
        placement=sol.placement,
        objective=problem.score(sol.placement),
        evaluations=problem.evaluations - e0,
        seconds=time.perf_counter() - t0,
        detail={"milp_objective": sol.objective, "milp_seconds": sol.seconds},
    )


def site(problem: EmergencyProblem, *, method: str = "auto") -> SitingResult:
    """Site the fleet: ``brute``, ``greedy``, ``milp``, or ``auto`` (brute force up to
    200 placements, else the better replay of greedy and milp)."""
    if method not in METHODS:
        raise InputError(
            f"method must be one of {', '.join(METHODS)}, got {method!r}", field="emergency.method"
        )
    if method == "brute":
        return brute_force(problem)
    if method == "greedy":
        return greedy(problem)
    if method == "milp":
        return milp(problem)
    if _placements(problem)[0] <= 200:
        return brute_force(problem)
    t0 = time.perf_counter()
    a, b = greedy(problem), milp(problem)
    best = min((a, b), key=lambda r: r.total)
    return SitingResult(
        method=best.method,
        placement=best.placement,
        objective=best.objective,
        evaluations=a.evaluations + b.evaluations,
        seconds=time.perf_counter() - t0,
        detail={**best.detail, "greedy_total": a.total, "milp_total": b.total},
    )


def siting_json(problem: EmergencyProblem, res: SitingResult) -> dict[str, Any]:
    """The ``"emergency"`` entry of ``warmgrid restore --json``."""
    f = problem.fleet
    tl = problem.replay(res.placement)
    return {
        "generators": [
            {"site": s, "hour": f.deploy_h, "mw": f.generator_mw} for s in res.placement.generators
        ],
        "shelters": [
            {"site": s, "hour": f.deploy_h, "persons": f.shelter_capacity}
            for s in res.placement.shelters
        ],
        "radius_km": f.radius_km,
        "method": res.method,
        "optimal": res.optimal,
        "evaluations": res.evaluations,
        "seconds": res.seconds,
        "candidates": {
            "generators": len(problem.generator_sites),
            "shelters": len(problem.shelter_sites),
        },
        "objective": res.objective,
        "without": problem.no_action(),
        "weights": problem.weights,
        "people_sheltered_peak": float(tl.people_sheltered.max(initial=0.0)),
        "detail": res.detail,
    }
