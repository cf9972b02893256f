"""``warmgrid restore SCENARIO.toml [--crews K] [--order ID,...] [--method M] [--json]``
``[--generators N --generator-mw P] [--shelters M --shelter-capacity C] [--radius-km R]``
``[--deploy-h H] [--siting S] [--report FILE.html] [--csv FILE.csv]``.

Optimises the repair order of the scenario's damage for K crews (or scores a given
order: list scheduling in that order, each repair to the first free crew) and replays
the plan through the one timeline (:mod:`warmgrid.restore`). The JSON holds ``plan`` and
``objective`` (the contract in docs/architecture.md, "Contracts") plus the no-repair
objective, the people without each service at a few hours with and without the plan, and
the search's effort.

With a fleet of mobile generators or warming shelters (options, or the scenario's
``[emergency]`` section), the units are then sited given the repair plan
(:mod:`warmgrid.restore.emergency`) and the JSON gains ``"emergency": {"generators":
[{"site", "hour", "mw"}], "shelters": [{"site", "hour", "persons"}], "objective", ...}``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from warmgrid.cli import app
from warmgrid.cli._common import bold, console, number, print_json, styled


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

    from warmgrid.cli.demo import tell_warnings

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
    tell_warnings(con, res)
    any_late = any(not r["in_horizon"] for r in res["plan"])
    t = Table(
        title="Repair plan",
        caption="* ends at or after the horizon: no effect on it" if any_late else None,
    )
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
    rng = res.get("objective_ranges") or {}
    for key, r in (rng.get("plan") or {}).items():
        r0 = (rng.get("no_repair") or {}).get(key)
        con.print(
            f"{key}: this plan {_millions(obj[key])}{_range(r)}, no repairs "
            f"{_millions(base.get(key, 0.0))}{_range(r0)} (range: fast to slow building "
            "calibration; the plan is chosen with the central one)",
            highlight=False,
        )
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


def _millions(x: float) -> str:
    return f"{x / 1e6:,.1f} M" if abs(x) >= 1e5 else f"{x:,.0f}"


def _range(r: list[float | None] | None) -> str:
    """`` (lo–hi)`` of a fast–slow range, or nothing."""
    if not r or r[0] is None or r[1] is None:
        return ""
    return f" ({_millions(r[0])}–{_millions(r[1])})"


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


# The command's arguments and options, one alias each, so its signature reads as a list.
_Scenario = Annotated[str, typer.Argument(help="Scenario TOML file or bundled scenario name.")]
_Crews = Annotated[
    int | None,
    typer.Option("--crews", min=1, max=10_000, help="Repair crews; default: [repair] crews."),
]
_Order = Annotated[
    str | None,
    typer.Option(
        "--order",
        help="Score this order (comma-separated ids, every damaged element once) instead of "
        "optimising: list scheduling, each repair to the first free crew.",
    ),
]
_Method = Annotated[
    Literal["auto", "brute", "local", "greedy", "rule"] | None,
    typer.Option(
        "--method",
        help="auto (brute force up to 7 damaged elements, else local search), brute, local, "
        "greedy or rule; default: [repair] method.",
    ),
]
_BudgetS = Annotated[
    float | None,
    typer.Option(
        "--budget-s",
        callback=number(0, 7 * 86400, above=True),
        help="Time budget of the local search, s; default: [repair] budget_s.",
    ),
]
_Seed = Annotated[
    int, typer.Option("--seed", min=0, max=2**63 - 1, help="Seed of the local search.")
]
_Generators = Annotated[
    int | None,
    typer.Option(
        "--generators",
        min=0,
        max=10_000,
        help="Mobile generators to site; default: [emergency] or 0.",
    ),
]
_GeneratorMw = Annotated[
    float | None,
    typer.Option(
        "--generator-mw",
        callback=number(0, 10_000, above=True),
        help="MW of each mobile generator (default 1).",
    ),
]
_Shelters = Annotated[
    int | None,
    typer.Option(
        "--shelters",
        min=0,
        max=100_000,
        help="Warming shelters to site; default: [emergency] or 0.",
    ),
]
_ShelterCapacity = Annotated[
    float | None,
    typer.Option(
        "--shelter-capacity",
        callback=number(0, 1e7, above=True),
        help="Persons each shelter holds (default 1000).",
    ),
]
_RadiusKm = Annotated[
    float | None,
    typer.Option(
        "--radius-km",
        callback=number(0, 1000),
        help="People walk to a shelter within this distance (default 2).",
    ),
]
_DeployH = Annotated[
    float | None,
    typer.Option(
        "--deploy-h",
        callback=number(0, 24 * 366),
        help="Hour the units arrive (trucks take hours; default 0).",
    ),
]
_Siting = Annotated[
    Literal["auto", "brute", "greedy", "milp"] | None,
    typer.Option(
        "--siting",
        help="auto (brute force up to 200 placements, else the better of greedy and milp), "
        "brute, greedy or milp; default: [emergency] method.",
    ),
]
_Hours = Annotated[
    int | None,
    typer.Option(
        "--hours",
        min=1,
        max=24 * 366 * 2,
        help="Horizon, h (default: the scenario's, extended until every plan's repairs, "
        "refills and warm-back fit; never shorter than the longest plan).",
    ),
]
_Absolute = Annotated[
    bool,
    typer.Option(
        "--absolute",
        help="Count every figure from zero, including what the grid cannot serve before "
        "any damage (default: only the harm the damage adds).",
    ),
]
_JsonOut = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print JSON: plan [{element, crew, start_h, end_h}], objective {total, terms}, "
        "no_repair, people at a few hours, horizon_h, baseline, warnings, assumptions.",
    ),
]
_Report = Annotated[
    Path | None,
    typer.Option(
        "--report",
        help="Also write the plan's page: a self-contained HTML file (Gantt chart, people "
        "back, the table, the map hour by hour).",
    ),
]
_CsvOut = Annotated[
    Path | None,
    typer.Option("--csv", help="Also write the plan's table as CSV (one row per repair)."),
]


def _check_outputs(report: Path | None, csv_out: Path | None) -> None:
    """The page must be .html (or .htm) and the table .csv."""
    from warmgrid.errors import InputError

    if report is not None and report.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--report must end in .html, got {report.name!r}", field="--report")
    if csv_out is not None and csv_out.suffix.lower() != ".csv":
        raise InputError(f"--csv must end in .csv, got {csv_out.name!r}", field="--csv")


def _order_ids(order: str | None) -> list[str] | None:
    """The ids of ``--order`` (None without it); an empty id is an error."""
    from warmgrid.errors import InputError

    if order is None:
        return None
    ids = [x.strip() for x in order.split(",")]
    if any(not x for x in ids):
        raise InputError("--order has an empty id (a stray comma?)", field="--order")
    return ids


def _write_outputs(
    out: dict[str, Any], report: Path | None, csv_out: Path | None
) -> list[tuple[Path, str]]:
    """Write the plan's page and its CSV table (each when asked), all or none."""
    files = []
    if report is not None:
        from warmgrid.report.plan import plan_html

        files.append((report, plan_html(out)))
    if csv_out is not None:
        from warmgrid.report.plan import plan_csv

        files.append((csv_out, plan_csv(out)))
    if files:
        from warmgrid.io.atomic import write_texts_atomic

        write_texts_atomic(files)
    return files


@app.command("restore")
def restore(
    scenario: _Scenario,
    crews: _Crews = None,
    order: _Order = None,
    method: _Method = None,
    budget_s: _BudgetS = None,
    seed: _Seed = 0,
    generators: _Generators = None,
    generator_mw: _GeneratorMw = None,
    shelters: _Shelters = None,
    shelter_capacity: _ShelterCapacity = None,
    radius_km: _RadiusKm = None,
    deploy_h: _DeployH = None,
    siting: _Siting = None,
    hours: _Hours = None,
    absolute: _Absolute = False,
    json_out: _JsonOut = False,
    report: _Report = None,
    csv_out: _CsvOut = None,
) -> None:
    """Which repair order brings the most people back to light, heat and water soonest.

    The horizon is long enough for every plan's repairs to end, drained homes to be
    refilled and the coldest to warm back above 18 °C (it says so when it extends the
    scenario's); --hours sets it. Figures count the harm the damage adds to the grid
    without damage; --absolute counts from zero.
    """
    from warmgrid.model.scenario import load_scenario
    from warmgrid.study.restore import restore as run_restore

    _check_outputs(report, csv_out)
    sc = load_scenario(scenario)
    ids = _order_ids(order)
    label = f"restore ({method or sc.repair.method})"
    with _progress(sys.stderr.isatty() and not json_out and ids is None, label) as update:
        result = run_restore(
            sc,
            crews=crews,
            order=ids,
            method=method,
            budget_s=budget_s,
            seed=seed,
            fleet={
                "generators": generators,
                "generator_mw": generator_mw,
                "shelters": shelters,
                "shelter_capacity": shelter_capacity,
                "radius_km": radius_km,
                "deploy_h": deploy_h,
            },
            siting=siting,
            hours=hours,
            absolute=absolute,
            progress=update,
        )
    out = result.to_json()
    files = _write_outputs(out, report, csv_out)
    if json_out:
        print_json(out)
        return
    _print_human(out, result.search.plan)
    if "emergency" in out:
        _print_emergency(out["emergency"])
    for path, _ in files:
        console().print(f"wrote {path}")
