"""Optimisers of the repair order: priority rules, greedy, local search and brute force.

Every optimiser searches over orders of the damaged elements; an order becomes a plan by
list scheduling (:func:`~warmgrid.restore.schedule.list_schedule`) and is scored by the
one timeline (:meth:`RestorationProblem.evaluate`, cached). Each returns a
:class:`SearchResult` with the best order found, its plan and objective.

* :func:`priority_rule` — list scheduling by a priority rule, in the spirit of
  PowerModelsRestoration's "Utilization" heuristic (docs/sources.md, "Restoration
  heuristics": it sorts components by rating, capacity and load). Here the priority is a
  single-element marginal gain per repair hour, computed with the engines: served MW
  regained (``mw``), person-hours of power, heat and water regained (``people``), or
  objective regained (``objective``) when that element alone is repaired. Each rule's
  order is scored; the best is returned.
* :func:`greedy` — a sequential builder: append next the element whose repair gains the
  most objective per repair hour given the elements already scheduled (O(n²) replays).
* :func:`local_search` — first-improvement hill climbing with swap and insert moves on
  the order, from the better of the greedy and rule orders, with random kicks (a few
  swaps of the best order) once at a local optimum, until a time or evaluation budget
  or ``kicks`` kicks in a row without improvement.
* :func:`brute_force` — every order (n! <= 5,040 for n <= 7). It is exact over list
  schedules: no plan in which every crew starts its next repair as soon as it is free
  does better. That is the usual class for repair scheduling with a regular objective
  (repairing earlier never hurts), where inserted idle time cannot help.

US practice restores transmission and substations first, then critical services, then
the largest customer counts (docs/sources.md, "Restoration heuristics"); the rules and
searches rediscover such orders from the objective rather than imposing them.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from warmgrid.errors import InputError, quoted
from warmgrid.restore.result import Found
from warmgrid.restore.schedule import Evaluation, Plan, Repair, RestorationProblem

__all__ = [
    "BRUTE_MAX",
    "METHODS",
    "SearchResult",
    "brute_force",
    "greedy",
    "local_search",
    "optimise",
    "priority_rule",
    "single_gains",
]

#: Largest damage brute force accepts (7! = 5,040 orders).
BRUTE_MAX = 7

#: Method names accepted by :func:`optimise`.
METHODS = ("auto", "brute", "local", "greedy", "rule")

#: progress(done, total or None, best total so far)
Progress = Callable[[int, int | None, float], None]


@dataclass(frozen=True, kw_only=True)
class SearchResult(Found):
    """The best repair order an optimiser found (:class:`~warmgrid.restore.result.Found`).

    Attributes
    ----------
    order : the order of the damaged elements.
    plan : its list schedule.
    calls : objective requests (cache hits included).
    """

    order: tuple[str, ...]
    plan: Plan
    calls: int = 0


class _Run:
    """Counts a search's evaluations and time and builds its result."""

    def __init__(self, problem: RestorationProblem) -> None:
        self.p = problem
        self.t0 = time.perf_counter()
        self.e0, self.c0 = problem.evaluations, problem.calls

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def result(self, method: str, best: Evaluation, **kw: Any) -> SearchResult:
        return SearchResult(
            method=method,
            order=best.order,
            plan=best.plan,
            objective=dict(best.objective),
            evaluations=self.p.evaluations - self.e0,
            calls=self.p.calls - self.c0,
            seconds=self.elapsed(),
            **kw,
        )


def _better(a: Evaluation, b: Evaluation | None) -> bool:
    """``a`` strictly better than ``b`` (relative tolerance 1e-12 against float noise)."""
    return b is None or a.total < b.total - 1e-12 * max(1.0, abs(b.total))


def single_gains(problem: RestorationProblem) -> dict[str, dict[str, float]]:
    """Marginal gains of repairing each damaged element alone (the others stay out).

    Returns
    -------
    dict
        element -> ``{"mw": served MW regained at once (power engine), "people":
        person-hours of power + heat + water regained, "objective": weighted objective
        regained}`` when that element alone is repaired by one crew from hour 0.
    """
    sim = problem.sim
    out = frozenset(problem.damage)
    base_mw = sim.power(out).served_mw
    base = problem.no_repair().objective
    ph = ("person_hours_without_power", "person_hours_without_heat", "person_hours_without_water")
    gains = {}
    for e in problem.damage:
        d = problem.durations[e]
        obj = problem.score([Repair(e, 0, 0.0, d)])
        gains[e] = {
            "mw": sim.power(out - {e}).served_mw - base_mw,
            "people": sum(base.get(k, 0.0) - obj.get(k, 0.0) for k in ph),
            "objective": base["total"] - obj["total"],
        }
    return gains


def _priority(
    gains: Mapping[str, Mapping[str, float]], hours: Mapping[str, float], rule: str
) -> Callable[[str], tuple[float, float, float, str]]:
    """The sort key of a priority rule: its gain per repair hour (highest first), then
    the objective gain per hour, then the shorter repair, then the id."""

    def key(e: str) -> tuple[float, float, float, str]:
        return (-gains[e][rule] / hours[e], -gains[e]["objective"] / hours[e], hours[e], e)

    return key


def priority_rule(
    problem: RestorationProblem, *, rules: Sequence[str] = ("mw", "people", "objective")
) -> SearchResult:
    """List scheduling by priority rules: sort by gain per repair hour, best rule wins.

    Each rule sorts the elements by (its gain / repair hours) descending, ties broken by
    the objective gain per hour, then the shorter repair, then the id. ``n + len(rules)``
    replays at most.
    """
    run = _Run(problem)
    g = single_gains(problem)
    d = problem.durations
    best: Evaluation | None = None
    best_rule = ""
    totals = {}
    for rule in rules:
        if rule not in ("mw", "people", "objective"):
            raise InputError(f"unknown priority rule {quoted(rule)}", field="rules")
        order = sorted(problem.damage, key=_priority(g, d, rule))
        ev = problem.evaluate(order)
        totals[rule] = ev.total
        if _better(ev, best):
            best, best_rule = ev, rule
    assert best is not None or problem.n == 0
    best = best or problem.evaluate(())
    return run.result(f"rule:{best_rule or 'none'}", best, detail={"rules": totals, "gains": g})


def greedy(problem: RestorationProblem) -> SearchResult:
    """Sequential builder: append the element with the best objective gain per repair hour.

    At each step every remaining element is tried after the current prefix (the rest left
    out of service), so the gain accounts for the crews already busy. n(n+1)/2 replays.
    """
    run = _Run(problem)
    prefix: list[str] = []
    remaining = list(problem.damage)
    cur = problem.no_repair().total
    while remaining:
        scored = []
        for e in remaining:
            ev = problem.evaluate([*prefix, e])
            scored.append(((cur - ev.total) / problem.durations[e], -problem.durations[e], e, ev))
        scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
        _, _, e, ev = scored[0]
        prefix.append(e)
        remaining.remove(e)
        cur = ev.total
    return run.result("greedy", problem.evaluate(prefix))


def _neighbours(n: int) -> list[tuple[str, int, int]]:
    """Swap (i < j) and insert (move i to j, not an adjacent swap) moves on n positions."""
    moves = [("swap", i, j) for i in range(n) for j in range(i + 1, n)]
    moves += [("insert", i, j) for i in range(n) for j in range(n) if abs(i - j) > 1]
    return moves


def _apply(order: Sequence[str], move: tuple[str, int, int]) -> list[str]:
    kind, i, j = move
    o = list(order)
    if kind == "swap":
        o[i], o[j] = o[j], o[i]
    else:
        o.insert(j, o.pop(i))
    return o


class _Climber:
    """First-improvement hill climbing over swap and insert moves, under a search's time
    and evaluation budgets; keeps the best evaluation so far (for the progress calls)
    and counts the moves tried and the improvements."""

    def __init__(
        self,
        problem: RestorationProblem,
        run: _Run,
        rng: np.random.Generator,
        best: Evaluation,
        *,
        budget_s: float,
        max_evaluations: int | None,
        progress: Progress | None,
    ) -> None:
        self.problem, self.run, self.rng, self.best = problem, run, rng, best
        self.budget_s, self.max_evaluations, self.progress = budget_s, max_evaluations, progress
        self.moves = _neighbours(problem.n)
        self.tried = self.improved = 0
        self.stop = ""

    def out_of_budget(self) -> bool:
        """True (and why in :attr:`stop`) once the time or evaluation budget is spent."""
        if self.run.elapsed() > self.budget_s:
            self.stop = "time budget"
        elif (
            self.max_evaluations is not None
            and self.problem.evaluations - self.run.e0 >= self.max_evaluations
        ):
            self.stop = "evaluation budget"
        return bool(self.stop)

    def climb(self, cur: Evaluation) -> Evaluation:
        """Take the first improving move, in a random order of the moves, until none
        improves (a local optimum) or the budget is spent."""
        while True:
            for k in self.rng.permutation(len(self.moves)):
                if self.out_of_budget():
                    return cur
                cand = self.problem.evaluate(_apply(cur.order, self.moves[k]))
                self.tried += 1
                if self.progress is not None:
                    self.progress(self.tried, None, min(cur.total, self.best.total))
                if _better(cand, cur):
                    cur = cand
                    self.improved += 1
                    break
            else:
                return cur  # local optimum: no move improves


def _start_order(
    problem: RestorationProblem, start: Sequence[str] | None
) -> tuple[Sequence[str], str]:
    """The order a local search starts from and where it comes from: the given one, else
    the better of :func:`greedy` and :func:`priority_rule`."""
    if start is None:
        g, r = greedy(problem), priority_rule(problem)
        return (g.order, "greedy") if g.total <= r.total else (r.order, r.method)
    return problem.check_order(start, field="start"), "given"


def local_search(
    problem: RestorationProblem,
    *,
    start: Sequence[str] | None = None,
    budget_s: float = 30.0,
    max_evaluations: int | None = None,
    kicks: int = 10,
    seed: int = 0,
    progress: Progress | None = None,
) -> SearchResult:
    """Iterated first-improvement local search over orders (swap and insert moves).

    Parameters
    ----------
    problem : the restoration problem.
    start : the starting order; the better of :func:`greedy` and :func:`priority_rule`
        when None (their replays count in this search's evaluations).
    budget_s : wall-time budget, s (checked between evaluations).
    max_evaluations : replay budget (cache misses), or None.
    kicks : stop after this many kicks in a row that do not improve the best order; a
        kick applies ``2 + k mod 2`` random swaps to the best order and climbs again.
    seed : seeds the move order and the kicks (numpy ``default_rng``).
    progress : called after each move with (moves tried, None, best total).
    """
    run = _Run(problem)
    rng = np.random.default_rng(seed)
    order, origin = _start_order(problem, start)
    c = _Climber(
        problem,
        run,
        rng,
        problem.evaluate(order),
        budget_s=budget_s,
        max_evaluations=max_evaluations,
        progress=progress,
    )
    start_total = c.best.total
    n = problem.n
    stale = 0
    if n >= 2:
        c.best = c.climb(c.best)
        while not c.stop and stale < kicks:
            o = list(c.best.order)
            for _ in range(2 + stale % 2):
                i, j = rng.choice(n, size=2, replace=False)
                o[i], o[j] = o[j], o[i]
            cand = c.climb(problem.evaluate(o))
            if _better(cand, c.best):
                c.best, stale = cand, 0
            else:
                stale += 1
    return run.result(
        "local",
        c.best,
        detail={
            "start": origin,
            "start_total": start_total,
            "moves_tried": c.tried,
            "improvements": c.improved,
            "stopped_by": c.stop or ("local optimum" if n < 2 else f"{kicks} kicks"),
        },
    )


def brute_force(
    problem: RestorationProblem, *, max_elements: int = BRUTE_MAX, progress: Progress | None = None
) -> SearchResult:
    """Every order of the damaged elements; the exact optimum over list schedules.

    Raises
    ------
    InputError : more than ``max_elements`` damaged elements.
    """
    n = problem.n
    if n > max_elements:
        raise InputError(
            f"brute force takes at most {max_elements} damaged elements, got {n} "
            f"({math.factorial(n):,} orders); use --method local",
            field="--method",
        )
    run = _Run(problem)
    best: Evaluation | None = None
    total = math.factorial(n)
    for k, order in enumerate(itertools.permutations(problem.damage), 1):
        ev = problem.evaluate(order)
        if _better(ev, best):
            best = ev
        if progress is not None:
            assert best is not None
            progress(k, total, best.total)
    assert best is not None
    return run.result("brute", best, optimal=True, detail={"orders": total})


def optimise(
    problem: RestorationProblem,
    *,
    method: str = "auto",
    budget_s: float = 30.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> SearchResult:
    """Run one method: ``auto`` is brute force for n <= 7, else local search."""
    if method not in METHODS:
        from warmgrid.errors import closest

        raise InputError(
            f"unknown method {quoted(method)}{closest(method, METHODS)} (one of {', '.join(METHODS)})",
            field="--method",
        )
    if method == "auto":
        method = "brute" if problem.n <= BRUTE_MAX else "local"
    if method == "brute":
        return brute_force(problem, progress=progress)
    if method == "local":
        return local_search(problem, budget_s=budget_s, seed=seed, progress=progress)
    if method == "greedy":
        return greedy(problem)
    return priority_rule(problem)
