"""Repair plans for K crews, and their score through the one timeline.

A plan is a list of :class:`Repair` (element, crew, start, end). :func:`list_schedule`
turns an order of the damaged elements into a plan: each repair, in order, goes to the
first free crew (ties to the lowest crew index), and crews move between sites instantly.
A plan is scored by replaying it with ``Simulator.run(damage, [Event(end_h, element)])``:
the same call as an impact, with repair events (docs/architecture.md, "The one
timeline"). An element is back in service from the first hour step that starts at or
after its ``end_h``.

The objective (lower is better) is a weighted sum of terms of ``Timeline.metrics()``,
in weighted person-hours (:data:`DEFAULT_WEIGHTS`). :class:`RestorationProblem` holds
the simulator, the damage, the durations, the crews and the weights, and caches every
evaluation by its repair events, so the optimisers (:mod:`warmgrid.restore.search`) pay
each distinct plan once; ``Simulator.power`` caches each set of elements out, so the
power engine runs at most once per state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from warmgrid.errors import InputError, Problem, closest, quoted
from warmgrid.timeline import Event, Simulator, Timeline

__all__ = [
    "DEFAULT_WEIGHTS",
    "TERMS",
    "Evaluation",
    "Plan",
    "Repair",
    "RestorationProblem",
    "list_schedule",
    "objective",
    "plan_events",
    "resolve_weights",
]


@dataclass(frozen=True)
class Repair:
    """One repair: ``crew`` (0-based) works on ``element`` from ``start_h`` to ``end_h``."""

    element: str
    crew: int
    start_h: float
    end_h: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "element": self.element,
            "crew": self.crew,
            "start_h": self.start_h,
            "end_h": self.end_h,
        }


#: A repair plan: repairs in the order they were scheduled.
Plan = list[Repair]

#: The objective's terms: metric names of ``Timeline.metrics()``.
TERMS: tuple[str, ...] = (
    "person_hours_without_power",
    "person_hours_without_heat",
    "person_hours_without_water",
    "person_hours_below_12c",
    "energy_not_served_mwh",
)

#: Default weights of the terms, in weighted person-hours per unit of the term.
#:
#: A judgment, documented so it can be argued with (override in ``[repair] weights``):
#: a person-hour without power or running water weighs 1; without heat 2, because in
#: frost it is the loss that hurts health (docs/sources.md, "How fast homes cool": by a
#: hand estimate, a panel flat cools from 20 to 10 °C in about 9-15 h at -20 °C); below
#: 12 °C (cardiovascular strain, docs/sources.md, "Thresholds") 3 more, so the cold that
#: follows lost heat weighs most. A MWh not served weighs 100 person-hours: it counts the
#: commercial and industrial load, which the person-hour terms miss, at about 4 % of the
#: residential weight of a MWh in winter-city (about 2,400 people per MW of demand), and
#: it is the only term left when a scenario has no
#: people (``services = "none"``).
DEFAULT_WEIGHTS: dict[str, float] = {
    "person_hours_without_power": 1.0,
    "person_hours_without_heat": 2.0,
    "person_hours_without_water": 1.0,
    "person_hours_below_12c": 3.0,
    "energy_not_served_mwh": 100.0,
}


def list_schedule(order: Sequence[str], durations: Mapping[str, float], crews: int) -> Plan:
    """List scheduling: each repair in ``order`` goes to the first free crew.

    Parameters
    ----------
    order : (n,) element ids in the order crews take them.
    durations : element id -> repair hours (> 0).
    crews : number of crews K >= 1; all free at hour 0.

    Returns
    -------
    Plan
        One :class:`Repair` per element, in ``order``; ties between crews free at the same
        hour go to the lowest crew index.

    Examples
    --------
    >>> [(r.element, r.crew, r.start_h, r.end_h) for r in
    ...  list_schedule(["a", "b", "c"], {"a": 3.0, "b": 5.0, "c": 2.0}, 2)]
    [('a', 0, 0.0, 3.0), ('b', 1, 0.0, 5.0), ('c', 0, 3.0, 5.0)]
    """
    if crews < 1:
        raise InputError(f"crews must be >= 1, got {crews}", field="repair.crews")
    free = [0.0] * int(crews)
    plan: Plan = []
    for e in order:
        c = min(range(len(free)), key=lambda i: (free[i], i))
        start = free[c]
        end = start + float(durations[e])
        free[c] = end
        plan.append(Repair(e, c, start, end))
    return plan


def plan_events(plan: Sequence[Repair]) -> list[Event]:
    """The timeline events of a plan: each element back in service at its ``end_h``."""
    return [Event(r.end_h, r.element) for r in plan]


def resolve_weights(
    user: Mapping[str, float] | None, metrics: Mapping[str, Any], *, file: str | None = None
) -> dict[str, float]:
    """The weights to use: :data:`DEFAULT_WEIGHTS` updated by ``user``.

    Keys must be numeric terms of ``metrics`` (``person_hours_*`` or
    ``energy_not_served_mwh``). A default term the timeline does not produce (e.g.
    ``person_hours_below_12c`` when 12 °C is not among the thresholds) is dropped.

    Raises
    ------
    InputError : a weight key that is not such a term (with the closest terms) or < 0.
    """
    terms = [
        k
        for k, v in metrics.items()
        if (k.startswith("person_hours_") or k == "energy_not_served_mwh")
        and isinstance(v, (int, float))
    ]
    out = {k: w for k, w in DEFAULT_WEIGHTS.items() if k in terms}
    problems = []
    for k, w in (user or {}).items():
        if k not in terms:
            problems.append(
                Problem(
                    f"unknown objective term {quoted(k)}{closest(k, terms)}",
                    file,
                    k,
                    "repair.weights",
                )
            )
        elif not (isinstance(w, (int, float)) and w >= 0 and math.isfinite(w)):
            problems.append(Problem(f"must be >= 0, got {w!r}", file, k, "repair.weights"))
        else:
            out[k] = float(w)
    if problems:
        raise InputError(problems=problems)
    return out


def objective(metrics: Mapping[str, Any], weights: Mapping[str, float]) -> dict[str, float]:
    """The objective of one replay: ``total`` = Σ weight · term, then each term.

    Parameters
    ----------
    metrics : ``Timeline.metrics()``.
    weights : term -> weight (:func:`resolve_weights`).

    Returns
    -------
    dict
        ``{"total": weighted person-hours, <term>: value, ...}`` for every weighted term
        and every term of :data:`TERMS` that the timeline produces.
    """
    keys = [k for k in TERMS if k in metrics] + [k for k in weights if k not in TERMS]
    out = {"total": float(sum(w * float(metrics[k]) for k, w in weights.items()))}
    for k in keys:
        out[k] = float(metrics[k])
    return out


@dataclass(frozen=True)
class Evaluation:
    """A scored plan: the order it came from, the plan and its objective."""

    order: tuple[str, ...]
    plan: Plan
    objective: dict[str, float]

    @property
    def total(self) -> float:
        return self.objective["total"]


class RestorationProblem:
    """A damage to repair with K crews, scored by the one timeline.

    Parameters
    ----------
    sim : the scenario's simulator (a study's, :func:`warmgrid.study.run.prepare`).
    damage : (n,) damaged element ids (duplicates dropped, order kept).
    durations : element id -> repair hours, for every damaged element
        (:func:`warmgrid.restore.durations.repair_hours`).
    crews : number of crews K >= 1.
    weights : objective weights (:func:`resolve_weights`); the defaults when None.
    file : the scenario file, named in errors.

    Attributes
    ----------
    evaluations : number of timeline replays run (cache misses).
    calls : number of objective requests (cache hits included).
    """

    def __init__(
        self,
        sim: Simulator,
        damage: Sequence[str],
        durations: Mapping[str, float],
        *,
        crews: int,
        weights: Mapping[str, float] | None = None,
        file: str | None = None,
    ) -> None:
        from warmgrid.power.damage import check_damage

        self.sim = sim
        self.file = file
        self.damage: tuple[str, ...] = tuple(dict.fromkeys(damage))
        check_damage(sim.net, self.damage, file=file)
        missing = [e for e in self.damage if e not in durations]
        if missing:
            raise InputError(f"no repair hours for {', '.join(missing)}", file=file)
        self.durations = {e: float(durations[e]) for e in self.damage}
        if int(crews) < 1:
            raise InputError(f"crews must be >= 1, got {crews}", file=file, field="repair.crews")
        self.crews = int(crews)
        self._baseline_tl = sim.run(self.damage)
        base_metrics = self._baseline_tl.metrics()
        self.weights = resolve_weights(weights, base_metrics, file=file)
        self._by_events: dict[tuple[tuple[float, str], ...], dict[str, float]] = {}
        self._by_order: dict[tuple[str, ...], Evaluation] = {}
        self.evaluations = 1
        self.calls = 0
        self._by_events[()] = objective(base_metrics, self.weights)

    @property
    def n(self) -> int:
        """Number of damaged elements."""
        return len(self.damage)

    def check_order(self, order: Sequence[str], *, field: str = "--order") -> tuple[str, ...]:
        """Validate a full repair order: every damaged element exactly once.

        Raises
        ------
        InputError : an unknown id (with the closest ids), an element that is not damaged
            (with the closest damaged ones), a repeat, or an omission.
        """
        from warmgrid.restore.durations import is_known, known_ids

        problems = []
        seen: set[str] = set()
        for e in order:
            if e not in self.damage:
                if not is_known(self.sim.net, e):
                    hint = closest(e, [*self.damage, *known_ids(self.sim.net)])
                    msg = f"unknown element id {quoted(e)}{hint}"
                else:
                    msg = f"{quoted(e)} is not damaged{closest(e, self.damage)}"
                problems.append(Problem(msg, self.file, e, field))
            elif e in seen:
                problems.append(Problem(f"{quoted(e)} is repeated", self.file, e, field))
            seen.add(e)
        omitted = [e for e in self.damage if e not in seen]
        if omitted:
            problems.append(
                Problem(
                    f"the order omits damaged element(s) {', '.join(omitted)}",
                    self.file,
                    None,
                    field,
                )
            )
        if problems:
            raise InputError(problems=problems)
        return tuple(order)

    def schedule(self, order: Sequence[str]) -> Plan:
        """List-schedule ``order`` (a full or partial order) on the problem's crews."""
        return list_schedule(order, self.durations, self.crews)

    def replay(self, plan: Sequence[Repair]) -> Timeline:
        """The timeline of a plan: ``sim.run(damage, events)``; unrepaired elements stay out."""
        return self.sim.run(self.damage, plan_events(plan))

    def score(self, plan: Sequence[Repair]) -> dict[str, float]:
        """The objective of a plan (cached by its repair events)."""
        self.calls += 1
        key = tuple(sorted((r.end_h, r.element) for r in plan))
        hit = self._by_events.get(key)
        if hit is None:
            hit = objective(self.replay(plan).metrics(), self.weights)
            self._by_events[key] = hit
            self.evaluations += 1
        return hit

    def evaluate(self, order: Sequence[str]) -> Evaluation:
        """Schedule and score an order (cached by order). A partial order leaves the
        elements it omits out of service over the whole horizon."""
        key = tuple(order)
        hit = self._by_order.get(key)
        if hit is not None:
            self.calls += 1
            return hit
        plan = self.schedule(key)
        ev = Evaluation(key, plan, self.score(plan))
        self._by_order[key] = ev
        return ev

    def no_repair(self) -> Evaluation:
        """The damage left as it is over the horizon (the impact)."""
        return Evaluation((), [], self._by_events[()])

    def baseline_timeline(self) -> Timeline:
        """The no-repair timeline (computed once at construction)."""
        return self._baseline_tl
