"""``warmgrid impact SCENARIO.toml [--mode mld|cascade] [--json]``.

The power keys ``served_mw, shed_mw, islands, mode`` (and ``stages`` for a cascade) come
from the engine at hour 0; ``people, areas, archetypes, timeline`` from the services
timeline over the horizon (:func:`warmgrid.study.run.impact`).
"""

from __future__ import annotations

from typing import Any, Literal

import typer

from warmgrid.cli import app
from warmgrid.cli._common import bold, console, print_json, styled


def power_summary(detail: Any, mode: str, *, trip_factor: float = 1.0) -> dict[str, Any]:
    """The power keys of an impact result from the engine's own result (MLD or cascade)."""
    if mode == "mld":
        r = detail
        return dict(
            served_mw=r.served_mw,
            shed_mw=r.shed_mw,
            demand_mw=r.demand_mw,
            weighted_served_mw=r.weighted_served_mw,
            islands=int(r.islands.count),
            energised_islands=r.energised_islands,
            dark_buses=int(r.dark_bus.sum()),
            shunt_mw=r.shunt_mw,
            seconds=r.seconds,
        )
    c = detail
    return dict(
        served_mw=c.served_mw,
        shed_mw=c.shed_mw,
        demand_mw=c.demand_mw,
        islands=int(c.islands.count),
        energised_islands=int(c.stages[-1].energised_islands),
        dark_buses=int(c.dark_bus.sum()),
        trip_factor=trip_factor,
        converged=c.converged,
        seconds=c.seconds,
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
            for s in c.stages
        ],
    )


def impact_json(scenario: Any, *, mode: str | None = None) -> dict[str, Any]:
    """The whole impact of a scenario: power keys, then people, areas and the timeline.

    Parameters
    ----------
    scenario : a :class:`~warmgrid.model.scenario.Scenario`.
    mode : ``"mld"`` or ``"cascade"``; the scenario's ``impact.mode`` when None.
    """
    from warmgrid.study.run import impact

    run = impact(scenario, mode=mode)
    res = dict(run.result)
    res.update(
        power_summary(
            run.timeline.power[0].detail,
            run.simulator.mode,
            trip_factor=scenario.impact.trip_factor,
        )
    )
    return res


@app.command("impact")
def impact(
    scenario: str = typer.Argument(..., help="Scenario TOML file or bundled scenario name."),
    mode: Literal["mld", "cascade"] = typer.Option(
        None,
        "--mode",
        help="mld (best operator response) or cascade "
        "(nobody acts); default: the scenario's [impact] mode.",
    ),
    json_out: bool = typer.Option(
        False,
        "--json",
        help="Print JSON: served_mw, shed_mw, islands, mode (stages for a cascade), people, areas, "
        "archetypes, timeline, metrics.",
    ),
) -> None:
    """Who loses light, heat and water after a damage, hour by hour.

    Power: maximum load delivery (best operator response) or an uncontrolled cascade.
    """
    from warmgrid.model.scenario import load_scenario

    sc = load_scenario(scenario)
    res = impact_json(sc, mode=mode)
    if json_out:
        print_json(res)
        return
    con = console()
    share = 100.0 * res["served_mw"] / res["demand_mw"] if res["demand_mw"] else 100.0
    con.print(
        styled(
            bold(res["scenario"]),
            f" on {res['grid']} ({res['mode']}): {len(res['damage'])} element(s) damaged",
        )
    )
    con.print(
        f"  served {res['served_mw']:,.1f} MW of {res['demand_mw']:,.1f} MW ({share:.1f}%), "
        f"shed {res['shed_mw']:,.1f} MW"
    )
    con.print(
        f"  {res['islands']} island(s), {res['energised_islands']} energised, "
        f"{res['dark_buses']} dark bus(es)"
    )
    for s in res.get("stages", []):
        con.print(
            f"  stage {s['stage']}: {len(s['tripped'])} tripped, {s['islands']} islands, "
            f"served {s['served_mw']:,.1f} MW"
        )
    if res.get("population", 0) > 0:
        from warmgrid.cli.demo import tell_story

        tell_story(res, seconds=res["seconds"])
