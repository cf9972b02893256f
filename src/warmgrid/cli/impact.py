"""``warmgrid impact SCENARIO.toml [--mode mld|cascade] [--absolute] [--json]``.

Parses, calls :func:`warmgrid.study.run.impact` and prints; the JSON is the result's own
(:meth:`~warmgrid.study.run.ImpactResult.to_json`), the same that ``warmgrid demo`` writes.
"""

from __future__ import annotations

from typing import Literal

import typer

from warmgrid.cli import app
from warmgrid.cli._common import print_json


@app.command("impact")
def impact(
    scenario: str = typer.Argument(..., help="Scenario TOML file or bundled scenario name."),
    mode: Literal["mld", "cascade"] = typer.Option(
        None,
        "--mode",
        help="mld (best operator response) or cascade "
        "(nobody acts); default: the scenario's [impact] mode.",
    ),
    absolute: bool = typer.Option(
        False,
        "--absolute",
        help="Count every figure from zero, including what the grid cannot serve before "
        "any damage (default: only the harm the damage adds).",
    ),
    water_detail: bool = typer.Option(
        False,
        "--water-detail",
        help="With a [water] network: add every junction's hourly delivered demand (m³/h).",
    ),
    json_out: bool = typer.Option(
        False,
        "--json",
        help="Print JSON: served_mw, shed_mw, islands, mode (stages for a cascade), people, "
        "areas, archetypes, timeline, metrics, baseline, warnings, assumptions.",
    ),
) -> None:
    """Who loses light, heat and water after a damage, hour by hour.

    Power: maximum load delivery (best operator response) or an uncontrolled cascade.
    Every figure is the harm the damage adds to the same grid without damage (the
    baseline, solved first in the same mode); --absolute counts from zero.
    """
    from warmgrid.cli.demo import tell_impact
    from warmgrid.model.scenario import load_scenario
    from warmgrid.study.run import impact as run_impact

    res = run_impact(
        load_scenario(scenario), mode=mode, absolute=absolute, water_detail=water_detail
    ).to_json()
    if json_out:
        print_json(res)
        return
    tell_impact(res)
