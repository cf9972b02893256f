"""``warmgrid cases`` and ``warmgrid info``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import typer

from warmgrid.cli import app
from warmgrid.cli._common import bold, console, print_json, styled


@app.command("cases")
def cases(json_out: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """List the bundled cases (warmgrid's own and pandapower's)."""
    from warmgrid.io import bundled_names

    names = bundled_names()
    if json_out:
        print_json(names)
        return
    con = console()
    con.print(
        styled(bold(f"{len(names)} bundled cases"), " (use a name wherever a command takes CASE):")
    )
    con.print("  " + ", ".join(names))


@app.command("info")
def info(
    case: str = typer.Argument(
        ..., help="Bundled case name or path (.m, .json, .nc, tables folder)."
    ),
    json_out: bool = typer.Option(
        False,
        "--json",
        help="Print JSON with name, buses, branches, generators, loads, total_load_mw and more.",
    ),
) -> None:
    """Summarise a grid: counts, total load and capacity."""
    from warmgrid.io import load_grid
    from warmgrid.power.dc import dispatch_note
    from warmgrid.power.network import compile_network

    grid = load_grid(case)
    s = grid.summary()
    s["warnings"] = grid.warnings()
    note = dispatch_note(compile_network(grid), how="a DC flow puts the difference on the slack")
    if note:
        s["warnings"].append(note)
    if json_out:
        print_json(s)
        return
    from rich.table import Table

    t = Table(title=f"{s['name']}  ({s['source']})", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    rows = [
        ("buses", f"{s['buses']:,}"),
        (
            "branches",
            f"{s['branches']:,}  ({s['lines']:,} lines, {s['transformers']:,} transformers)",
        ),
        ("generators", f"{s['generators']:,}"),
        ("loads", f"{s['loads']:,}"),
        ("shunts", f"{s['shunts']:,}"),
        ("total load", f"{s['total_load_mw']:,.1f} MW"),
        ("generation at set points", f"{s['total_generation_mw']:,.1f} MW"),
        (
            "generation capacity",
            f"{s['total_capacity_mw']:,.1f} MW"
            + (
                f" + {s['unlimited_supply_points']} unlimited supply point(s)"
                if s["unlimited_supply_points"]
                else ""
            ),
        ),
        ("base", f"{s['base_mva']:g} MVA"),
    ]
    for r in rows:
        t.add_row(*r)
    con = console()
    con.print(t)
    for w in s["warnings"]:
        con.print(styled(("warning: ", "bold yellow"), w))


@app.command("export")
def export(
    case: str = typer.Argument(..., help="Bundled case name or path."),
    out: Path = typer.Argument(..., help="Folder to write (must not exist unless --overwrite)."),
    fmt: Literal["csv", "parquet"] = typer.Option("csv", "--format", help="Table format."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing folder."),
    json_out: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write a grid as warmgrid tables (and its own services overlay), to copy and edit.

    The grid goes to OUT/grid, a bundled city's overlay (winter-city's) to OUT/services and
    its water network to OUT/water (winter-city.inp, area_junctions.csv); a scenario
    then uses them with case = "OUT/grid" and services = "OUT/services".
    """
    from warmgrid.io import load_grid
    from warmgrid.io.atomic import atomic_folder
    from warmgrid.io.tables import write_tables

    grid = load_grid(case)
    from warmgrid.io import bundled_overlay

    services = bundled_overlay(case)
    written = {"grid": str(out / "grid")}
    with atomic_folder(out, overwrite=overwrite) as tmp:  # all of it, or nothing
        write_tables(grid, tmp / "grid", fmt=fmt)
        if services is not None:
            from warmgrid.io.services_tables import write_services

            write_services(services, tmp / "services")
            written["services"] = str(out / "services")
        from warmgrid.water.coupling import GENERATED_NETWORKS, generated_network

        if case in GENERATED_NETWORKS:  # its EPANET network, for a [water] section
            net = generated_network(case)
            inp, csv = net.write(tmp / "water")
            q = json.dumps  # a TOML basic string is a JSON string
            links = "\n".join(f"{q(k)} = {q(v)}" for k, v in net.pump_power.items())
            (tmp / "water" / "water.toml").write_text(
                "# the [water] section of a scenario that sits next to this export's folder\n"
                f"[water]\ninp = {q(f'{out.name}/water/{inp.name}')}\n"
                f"area_junctions = {q(f'{out.name}/water/{csv.name}')}\n\n"
                f"[water.pump_power]\n{links}\n",
                encoding="utf-8",
            )
            written["water"] = str(out / "water")
    if json_out:
        print_json(written)
        return
    for k, v in written.items():
        console().print(f"wrote {k}: {v}")


_ELEMENT_KINDS = (
    "bus",
    "branch",
    "gen",
    "load",
    "shunt",
    "substation",
    "heat",
    "water",
    "area",
    "facility",
)


@app.command("elements")
def elements(
    source: str = typer.Argument(
        ..., help="Bundled case or scenario name, or a path (case file, tables folder, .toml)."
    ),
    kind: list[str] = typer.Option(
        None,
        "--kind",
        help="Only these kinds (repeat): bus, branch, gen, load, shunt, substation, heat, "
        "water, area, facility, or a specific kind (line, trafo, external, static, ...).",
    ),
    json_out: bool = typer.Option(
        False,
        "--json",
        help='Print JSON: [{"id", "kind", "general", "name", "bus", "mw", "in_service", '
        '"members" (substations, water), "people" (areas)}].',
    ),
) -> None:
    """List every element id a damage, repair order or hazard can name.

    For a scenario, the ids of its grid, its substations and its services overlay (areas,
    heat sources, water stations, facilities); for a case, the grid's.
    """
    from warmgrid.errors import InputError, closest
    from warmgrid.power.elements import GENERAL, catalogue
    from warmgrid.power.network import compile_network

    wanted = set(kind or [])
    allowed = set(_ELEMENT_KINDS) | set(GENERAL)
    for k in wanted:
        if k not in allowed:
            raise InputError(
                f"unknown kind {k!r}{closest(k, sorted(allowed))}; kinds: {', '.join(_ELEMENT_KINDS)}",
                field="--kind",
            )
    grid, services = _grid_and_services(source)
    net = compile_network(grid, groups=services.groups() if services is not None else None)
    rows = [
        e.to_dict()
        for e in catalogue(net, grid, services)
        if not wanted or e.kind in wanted or e.to_dict()["general"] in wanted
    ]
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    t = Table(title=f"{len(rows):,} element(s) of {source}")
    for col, just in (
        ("id", "left"),
        ("kind", "left"),
        ("name", "left"),
        ("bus", "left"),
        ("MW", "right"),
        ("members / people", "left"),
    ):
        t.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    for r in rows:
        extra = ", ".join(r.get("members", [])) or (
            f"{r['people']:,} people" if r.get("people") is not None else ""
        )
        t.add_row(
            r["id"] + ("" if r["in_service"] else " (out of service)"),
            r["kind"],
            r["name"],
            r["bus"] or "",
            "" if r["mw"] is None else f"{r['mw']:,.1f}",
            extra,
        )
    console().print(t)


def _grid_and_services(source: str) -> tuple[Any, Any]:
    """A scenario's grid and overlay, or a case's grid and None."""
    from warmgrid.model.scenario import bundled_scenarios, load_scenario

    if source in bundled_scenarios() or source.lower().endswith(".toml"):
        from warmgrid.io import load_grid
        from warmgrid.study.run import load_services

        sc = load_scenario(source)
        grid = load_grid(sc.case_path)
        return grid, load_services(grid, sc)[0]
    from warmgrid.io import load_grid

    return load_grid(source), None
