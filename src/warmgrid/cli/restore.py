"""``warmgrid restore SCENARIO.toml [--crews K] [--order ID,...] [--method M] [--json]``
``[--generators N --generator-mw P] [--shelters M --shelter-capacity C] [--radius-km R]``
``[--deploy-h H] [--siting S]``.

Optimises the repair order of the scenario's damage for K crews (or scores a given
order: list scheduling in that order, each repair to the first free crew) and replays
the plan through the one timeline (:mod:`warmgrid.restore`). The JSON holds ``plan`` and
``objective`` (DESIGN.md contract) plus the no-repair objective, the people without each
service at a few hours with and without the plan, and the search's effort.

With a fleet of mobile generators or warming shelters (options, or the scenario's
``[emergency]`` section), the units are then sited given the repair plan
(:mod:`warmgrid.restore.emergency`) and the JSON gains ``"emergency": {"generators":
[{"site", "hour", "mw"}], "shelters": [{"site", "hour", "persons"}], "objective", ...}``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import typer

from warmgrid.cli import app
from warmgrid.cli._common import bold, console, number, print_json, styled

#: Hours at which the JSON reports the people without each service (those in the horizon).
REPORT_HOURS = (0, 6, 12, 24, 48, 72, 96, 120, 168)


def people_at(tl: Any, hours: list[int]) -> dict[str, list[float]]:
    """People without power, heat and water at the given hours of a timeline."""
    idx = [round(h / tl.dt_h) for h in hours]
    return {
        "without_power": [float(tl.people_without_power[k]) for k in idx],
        "without_heat": [float(tl.people_without_heat[k]) for k in idx],
        "without_water": [float(tl.people_without_water[k]) for k in idx],
    }


def restore_json(
    problem: Any, res: Any, *, scenario: Any, method: str, budget_s: float
) -> dict[str, Any]:
    """The ``warmgrid restore --json`` dict for a search result on a problem."""
    from warmgrid.restore.durations import element_kind

    sim = problem.sim
    base = problem.no_repair().objective
    tl = problem.replay(res.plan)
    tl0 = problem.baseline_timeline()
    horizon = sim.n_steps * sim.dt_h
    hours = sorted({h for h in REPORT_HOURS if h < horizon} | {int(horizon - sim.dt_h)})
    return {
        "scenario": scenario.name,
        "grid": sim.grid.name,
        "mode": sim.mode,
        "damage": list(problem.damage),
        "crews": problem.crews,
        "horizon_h": horizon,
        "method": res.method,
        "requested_method": method,
        "optimal": res.optimal,
        "evaluations": res.evaluations,
        "calls": res.calls,
        "seconds": res.seconds,
        "budget_s": budget_s,
        "order": list(res.order),
        "plan": [
            {
                **r.to_dict(),
                "kind": element_kind(sim.net, r.element),
                "in_horizon": r.end_h < horizon,
            }
            for r in res.plan
        ],
        "makespan_h": max((r.end_h for r in res.plan), default=0.0),
        "objective": res.objective,
        "no_repair": base,
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
        "detail": res.detail,
    }


@contextmanager
def _progress(enabled: bool, label: str) -> Iterator[Any]:
    """A transient rich progress bar on stderr (only on a terminal)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("best {task.fields[best]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None, best="-")

        def update(done: int, total: int | None, best: float) -> None:
            if done % 10 == 0 or done == total:
                bar.update(task, completed=done, total=total, best=f"{best:,.0f}")

        yield update


def _gantt(plan: list[Any], crews: int, horizon: float, width: int = 60) -> list[str]:
    """One text line per crew: each repair as its letter over its hours; '|' ends the horizon."""
    span = max([horizon, *(r.end_h for r in plan)])
    scale = width / span if span > 0 else 1.0
    lines = []
    for c in range(crews):
        row = [" "] * (width + 1)
        for k, r in enumerate(plan):
            if r.crew != c:
                continue
            a, b = round(r.start_h * scale), max(round(r.end_h * scale), 1)
            for x in range(a, min(b, width)):
                row[x] = _letter(k)
        h = round(horizon * scale)
        if h < width or row[min(h, width)] == " ":
            row[min(h, width)] = "|"
        lines.append(f"  crew {c + 1:>2} " + "".join(row).rstrip())
    return lines


def _letter(k: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[k % 52]


def _print_human(res: dict[str, Any], plan: list[Any]) -> None:
    from rich.table import Table

    con = console()
    opt = " (optimal over list schedules)" if res["optimal"] else ""
    con.print(
        styled(
            bold(res["scenario"]),
            f" on {res['grid']}: {len(res['damage'])} damaged, "
            f"{res['crews']} crew(s), horizon {res['horizon_h']:g} h, method {res['method']}{opt}, "
            f"{res['evaluations']} replays in {res['seconds']:.2f} s",
        )
    )
    t = Table(title="Repair plan", caption="* ends at or after the horizon: no effect on it")
    for col in ("", "element", "kind", "crew", "start h", "end h", "hours"):
        right = col.endswith(("h", "hours", "crew"))
        t.add_column(col, justify="right" if right else "left", no_wrap=col == "element")
    for k, r in enumerate(res["plan"]):
        late = "" if r["in_horizon"] else "*"
        t.add_row(
            _letter(k),
            r["element"],
            r["kind"],
            str(r["crew"] + 1),
            f"{r['start_h']:g}",
            f"{r['end_h']:g}{late}",
            f"{r['end_h'] - r['start_h']:g}",
        )
    con.print(t)
    con.print(f"Crews over time (| = end of the {res['horizon_h']:g} h horizon):")
    for line in _gantt(plan, res["crews"], res["horizon_h"]):
        con.print(line, highlight=False)
    o = Table(title="Objective (lower is better)")
    for col in ("term", "weight", "no repairs", "this plan", "change"):
        o.add_column(col, justify="left" if col == "term" else "right")
    base, obj, w = res["no_repair"], res["objective"], res["weights"]
    for key in obj:
        b, v = base.get(key, 0.0), obj[key]
        ch = f"{100.0 * (v - b) / b:+.1f}%" if b else "-"
        wt = "" if key == "total" else f"{w.get(key, 0.0):g}"
        o.add_row(key, wt, f"{b:,.0f}", f"{v:,.0f}", ch)
    con.print(o)
    pp = res["people"]
    p = Table(title="People without each service (no repairs -> this plan)")
    p.add_column("hour", justify="right")
    for s in ("power", "heat", "water"):
        p.add_column(s, justify="right")
    for i, h in enumerate(pp["hours"]):
        p.add_row(
            f"{h:g}",
            *(
                f"{pp['no_repair'][f'without_{s}'][i]:,.0f} -> {pp['plan'][f'without_{s}'][i]:,.0f}"
                for s in ("power", "heat", "water")
            ),
        )
    con.print(p)


def _print_emergency(em: dict[str, Any]) -> None:
    from rich.table import Table

    con = console()
    t = Table(
        title=f"Emergency units ({em['method']}{', optimal' if em['optimal'] else ''}, "
        f"{em['evaluations']} replays)"
    )
    for col in ("unit", "site", "from hour", "size"):
        t.add_column(col, justify="right" if col in ("from hour", "size") else "left")
    for g in em["generators"]:
        t.add_row("generator", g["site"], f"{g['hour']:g}", f"{g['mw']:g} MW")
    for sh in em["shelters"]:
        t.add_row("shelter", sh["site"], f"{sh['hour']:g}", f"{sh['persons']:,.0f} persons")
    con.print(t)
    o = Table(title="Objective with the repair plan (lower is better)")
    for col in ("term", "without units", "with units", "change"):
        o.add_column(col, justify="left" if col == "term" else "right")
    for key, v in em["objective"].items():
        b = em["without"].get(key, 0.0)
        ch = f"{100.0 * (v - b) / b:+.1f}%" if b else "-"
        o.add_row(key, f"{b:,.0f}", f"{v:,.0f}", ch)
    con.print(o)


def _fleet(sc: Any, **given: Any) -> Any:
    """The fleet from the options, falling back on the scenario's ``[emergency]``."""
    from warmgrid.restore.emergency import Fleet

    em = sc.emergency
    keys = ("generators", "generator_mw", "shelters", "shelter_capacity", "radius_km", "deploy_h")
    kw = {k: given[k] if given[k] is not None else (getattr(em, k) if em else None) for k in keys}
    return Fleet(**{k: v for k, v in kw.items() if v is not None})


@app.command("restore")
def restore(
    scenario: str = typer.Argument(..., help="Scenario TOML file or bundled scenario name."),
    crews: int = typer.Option(
        None, "--crews", min=1, max=10_000, help="Repair crews; default: [repair] crews."
    ),
    order: str = typer.Option(
        None,
        "--order",
        help="Score this order (comma-separated ids, every damaged element once) instead of "
        "optimising: list scheduling, each repair to the first free crew.",
    ),
    method: Literal["auto", "brute", "local", "greedy", "rule"] = typer.Option(
        None,
        "--method",
        help="auto (brute force up to 7 damaged elements, else local search), brute, local, "
        "greedy or rule; default: [repair] method.",
    ),
    budget_s: float = typer.Option(
        None,
        "--budget-s",
        callback=number(0, 7 * 86400, above=True),
        help="Time budget of the local search, s; default: [repair] budget_s.",
    ),
    seed: int = typer.Option(0, "--seed", min=0, max=2**63 - 1, help="Seed of the local search."),
    generators: int = typer.Option(
        None,
        "--generators",
        min=0,
        max=10_000,
        help="Mobile generators to site; default: [emergency] or 0.",
    ),
    generator_mw: float = typer.Option(
        None,
        "--generator-mw",
        callback=number(0, 10_000, above=True),
        help="MW of each mobile generator (default 1).",
    ),
    shelters: int = typer.Option(
        None,
        "--shelters",
        min=0,
        max=100_000,
        help="Warming shelters to site; default: [emergency] or 0.",
    ),
    shelter_capacity: float = typer.Option(
        None,
        "--shelter-capacity",
        callback=number(0, 1e7, above=True),
        help="Persons each shelter holds (default 1000).",
    ),
    radius_km: float = typer.Option(
        None,
        "--radius-km",
        callback=number(0, 1000),
        help="People walk to a shelter within this distance (default 2).",
    ),
    deploy_h: float = typer.Option(
        None,
        "--deploy-h",
        callback=number(0, 24 * 366),
        help="Hour the units arrive (trucks take hours; default 0).",
    ),
    siting: Literal["auto", "brute", "greedy", "milp"] = typer.Option(
        None,
        "--siting",
        help="auto (brute force up to 200 placements, else the better of greedy and milp), "
        "brute, greedy or milp; default: [emergency] method.",
    ),
    json_out: bool = typer.Option(
        False,
        "--json",
        help="Print JSON: plan [{element, crew, start_h, end_h}], objective {total, terms}, "
        "no_repair, people at a few hours, method, evaluations, seconds.",
    ),
) -> None:
    """Which repair order brings the most people back to light, heat and water soonest."""
    from warmgrid.errors import InputError
    from warmgrid.model.scenario import load_scenario
    from warmgrid.restore.schedule import problem_from_scenario
    from warmgrid.restore.search import METHODS, SearchResult, optimise

    sc = load_scenario(scenario)
    if crews is not None and crews < 1:
        raise InputError(f"--crews must be >= 1, got {crews}", field="--crews")
    method = method or sc.repair.method
    if method not in METHODS:
        raise InputError(
            f"--method must be one of {', '.join(METHODS)}, got {method!r}", field="--method"
        )
    budget = sc.repair.budget_s if budget_s is None else budget_s
    if not budget > 0:
        raise InputError(f"--budget-s must be > 0, got {budget}", field="--budget-s")
    problem = problem_from_scenario(sc, crews=crews)
    if order is not None:
        import time

        ids = [s.strip() for s in order.split(",")]
        if any(not s for s in ids):
            raise InputError("--order has an empty id (a stray comma?)", field="--order")
        t0 = time.perf_counter()
        e0 = problem.evaluations
        ev = problem.evaluate(problem.check_order(ids, field="--order"))
        res = SearchResult(
            "order",
            ev.order,
            ev.plan,
            dict(ev.objective),
            problem.evaluations - e0,
            1,
            time.perf_counter() - t0,
        )
        method = "order"
    else:
        label = f"restore ({method}, {problem.n} damaged, {problem.crews} crews)"
        with _progress(sys.stderr.isatty(), label) as update:
            res = optimise(problem, method=method, budget_s=budget, seed=seed, progress=update)
    out = restore_json(problem, res, scenario=sc, method=method, budget_s=budget)
    for name, v in (("--generators", generators), ("--shelters", shelters)):
        if v is not None and v < 0:
            raise InputError(f"{name} must be >= 0, got {v}", field=name)
    fleet = _fleet(
        sc,
        generators=generators,
        generator_mw=generator_mw,
        shelters=shelters,
        shelter_capacity=shelter_capacity,
        radius_km=radius_km,
        deploy_h=deploy_h,
    )
    if fleet.generators or fleet.shelters:
        from warmgrid.restore.emergency import EmergencyProblem, site, siting_json
        from warmgrid.restore.schedule import plan_events

        ep = EmergencyProblem(
            problem.sim,
            problem.damage,
            fleet,
            events=plan_events(res.plan),
            weights=sc.repair.weights,
            file=problem.file,
        )
        how = siting or (sc.emergency.method if sc.emergency else "auto")
        out["emergency"] = siting_json(ep, site(ep, method=how))
    if json_out:
        print_json(out)
        return
    _print_human(out, res.plan)
    if "emergency" in out:
        _print_emergency(out["emergency"])
