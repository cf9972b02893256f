"""``warmgrid demo`` (the frost-strike story) and ``warmgrid scenarios``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from warmgrid.cli import app
from warmgrid.cli._common import _clean, bold, console, print_json, styled

_STORY_HOURS = (0, 6, 24, 72)


@app.command("scenarios")
def scenarios(json_out: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """List the bundled scenarios (usable wherever a command takes SCENARIO.toml)."""
    from warmgrid.model.scenario import BUNDLED_SCENARIOS_DIR

    names = sorted(p.stem for p in Path(BUNDLED_SCENARIOS_DIR).glob("*.toml"))
    if json_out:
        print_json(names)
        return
    con = console()
    for n in names:
        first = (Path(BUNDLED_SCENARIOS_DIR) / f"{n}.toml").read_text(encoding="utf-8").splitlines()
        desc = next((ln.lstrip("# ").strip() for ln in first if ln.startswith("#")), "")
        con.print(styled(bold(n), f"  {desc}"))


def _hours_range(r: list[float | None] | None) -> str:
    """`` (12–26 h)``: the band of fast and slow building calibrations, in whole hours."""
    if not r:
        return ""
    lo, hi = r
    if lo is None:
        return " (not within the horizon in any calibration)"
    if hi is not None and round(lo) == round(hi):  # a closed band (the city's own τ)
        return ""
    return f" ({lo:.0f}–{'beyond the horizon' if hi is None else f'{hi:.0f} h'})"


def _fmt_people(x: float) -> str:
    return f"{x:,.0f}"


def tell_warnings(con: Any, result: dict[str, Any]) -> None:
    """The warnings and the assumptions, one line each, before any figure."""
    for w in result.get("warnings", []):
        con.print(styled(("warning: ", "bold yellow"), w))
    for a in result.get("assumptions", []):
        con.print(styled(("assumed: ", "bold"), a))


def _ac_line(ac: dict[str, Any]) -> str:
    """One line for the impact's AC check (``ac`` of the impact JSON)."""
    if not ac["checked"]:
        return f"AC check: not made ({ac['note']}); the DC answer stands."
    low = ac["min_vm"]
    outside = len(ac["buses_outside_limits"])
    return (
        f"AC check: {'holds' if ac['converged'] else 'does not hold'} after "
        f"{ac['extra_shed_mw']:,.0f} MW more shed ({ac['rounds']} AC flows)"
        + (f"; lowest voltage {low['vm_pu']:.3f} p.u. at {low['bus']}" if low else "")
        + (f"; {outside} bus(es) outside their limits" if outside else "")
        + (f" ({ac['note']})" if ac["note"] else "")
        + "."
    )


def tell_impact(result: dict[str, Any]) -> None:
    """Print an impact result: the power at hour 0, the warnings, then the story."""
    con = console()
    n = len(result["timeline"])
    con.print(
        styled(
            bold(result["scenario"]),
            " on ",
            bold(result["grid"]),
            f" ({result['population']:,} people), mode {result['mode']}, "
            f"{len(result['damage'])} element(s) damaged, {n} h horizon, "
            f"computed in {result['seconds']:.1f} s",
        )
    )
    tell_warnings(con, result)
    share = 100.0 * result["served_mw"] / result["demand_mw"] if result["demand_mw"] else 100.0
    harm = "" if result["counting"] == "absolute" else " more than before the damage"
    con.print(
        f"Right after the damage: {result['served_mw']:,.0f} of {result['demand_mw']:,.0f} MW "
        f"served ({share:.1f}%), {result['shed_mw']:,.0f} MW shed{harm}; "
        f"{result['islands']} island(s), {result['dark_buses']} dark bus(es)."
    )
    ac = result.get("ac")
    if ac:
        con.print(_ac_line(ac))
    for s in result.get("stages", []):
        con.print(
            f"  cascade stage {s['stage']}: {len(s['tripped'])} tripped, {s['islands']} islands, "
            f"served {s['served_mw']:,.1f} MW"
        )
    if result["population"] > 0:
        tell_story(result)
        tell_water(con, result)


def tell_water(con: Any, result: dict[str, Any]) -> None:
    """Which districts lose water first, and when (hydraulic water only)."""
    w = result.get("water") or {}
    if w.get("model") != "hydraulic":
        return
    names = {a["id"]: a["name"] for a in result["areas"]}
    first = sorted(w["first_hour_short_of_water"].items(), key=lambda kv: (kv[1], kv[0]))
    con.print()
    if not first:
        con.print(f"Water ({w['network']} network, hydraulic): every district keeps its supply.")
        return
    head = ", ".join(
        f"{names.get(a, a)} at hour {h:g} ({100 * w['lowest_share_of_water'][a]:.0f}% delivered)"
        for a, h in first[:4]
    )
    without = result["people"]["without_water"]
    con.print(
        f"Water ({w['network']} network, hydraulic): {len(first)} district(s) short of water, "
        f"{w['people_short_of_water_peak']:,} people's worth of supply lost at the peak; "
        f"first: {head}. "
        + (
            f"{without:,} people get less than {100 * w['service_share']:.0f}% of their water."
            if without
            else f"Nobody drops below {100 * w['service_share']:.0f}% of their water."
        )
    )


def _hours_table(result: dict[str, Any]) -> Any:
    """People without each service, the outdoor and coldest indoor temperature and the
    drained areas at a few hours (:data:`_STORY_HOURS`, the last one at the end)."""
    from rich.table import Table

    tl = result["timeline"]
    n = len(tl)
    t = Table(title="People without light, heat and water")
    t.add_column("hour", justify="right")
    t.add_column("outdoor °C", justify="right")
    t.add_column("without light", justify="right")
    t.add_column("without heat", justify="right")
    t.add_column("without water", justify="right")
    t.add_column("coldest home °C", justify="right")
    t.add_column("areas drained", justify="right")
    cold = result["temperature_curves"]
    for h in sorted({h for h in _STORY_HOURS if h < n} | {n - 1}):
        r = tl[h]
        label = str(h) if h in _STORY_HOURS else f"{h} (last)"
        coldest = min(
            (s[min(h, len(s) - 1)] for s in cold["series"].values()), default=float("nan")
        )
        t.add_row(
            label,
            f"{r['t_out_c']:.0f}",
            _fmt_people(r["people_without_power"]),
            _fmt_people(r["people_without_heat"]),
            _fmt_people(r["people_without_water"]),
            f"{coldest:.1f}",
            str(r["areas_drained"]),
        )
    return t


def _first_cold_homes(result: dict[str, Any]) -> str:
    """One line per threshold: the hour the first homes fall below it, with the
    fast–slow range."""
    lines = []
    for t in result["thresholds"]:
        r = t.get("first_area_below_h_range")
        if t["first_area_below_h"] is None and (not r or r[0] is None):
            when = "not within the horizon" + (" in any calibration" if r else "")
        elif t["first_area_below_h"] is None:
            when = "not within the horizon" + _hours_range(r)
        else:
            when = f"after {t['first_area_below_h']:.0f} h" + _hours_range(r)
        lines.append(f"  first homes below {t['indoor_c']:g} °C: {when}")
    return "\n".join(lines)


def _worst_districts(result: dict[str, Any]) -> Any:
    """The eight coldest districts (None without districts), with the hours until the
    middle threshold (12 °C when the scenario has it)."""
    from rich.table import Table

    areas = sorted(result["areas"], key=lambda a: a["min_temp_c"])[:8]
    shown = next((t for t in result["thresholds"] if t["indoor_c"] == 12.0), None)
    shown = shown or (
        result["thresholds"][len(result["thresholds"]) // 2] if result["thresholds"] else None
    )
    if not areas:
        return None
    w = Table(title="Worst districts")
    cols = ["district", "people", "building type"]
    if shown is not None:
        cols.append(f"h to {shown['indoor_c']:g} °C")
    cols += ["lowest °C", "h without heat", "drained"]
    for c in cols:
        w.add_column(c, justify="left" if c in ("district", "building type") else "right")
    for a in areas:
        cells = [a["name"], _fmt_people(a["population"]), a["archetype"]]
        if shown is not None:
            h = a[f"hours_to_{shown['key']}"]
            r = a.get(f"hours_to_{shown['key']}_range")
            band = f" ({r[0]:.0f}–{'…' if r[1] is None else f'{r[1]:.0f}'})" if r and r[0] else ""
            cells.append("—" if h is None else f"{h:.0f}{band}")
        cells += [
            f"{a['min_temp_c']:.1f}",
            f"{a['hours_without_heat']:.0f}",
            "yes" if a["drained"] else "no",
        ]
        w.add_row(*cells)
    return w


def _person_hours(result: dict[str, Any], m: dict[str, Any]) -> Any:
    """Person-hours without each service and below each threshold, the energy not
    served and the hospitals past their backup (``m``: the result's metrics)."""
    from rich.table import Table

    ph = Table(title="Person-hours over the horizon")
    ph.add_column("what")
    ph.add_column("person-hours", justify="right")
    ph.add_column("range (fast–slow buildings)", justify="right")
    for s in ("power", "heat", "water"):
        ph.add_row(f"without {s}", f"{m[f'person_hours_without_{s}']:,.0f}", "")
    for t in result["thresholds"]:
        r = t.get("person_hours_below_range")
        ph.add_row(
            f"indoors below {t['indoor_c']:g} °C",
            f"{t['person_hours_below']:,.0f}",
            f"{r[0]:,.0f}–{r[1]:,.0f}" if r else "",
        )
    ph.add_row("energy not served (MWh)", f"{m['energy_not_served_mwh']:,.0f}", "")
    ph.add_row("hospitals past their backup", str(m["facilities_past_backup"]), "")
    return ph


def tell_story(result: dict[str, Any]) -> None:
    """The people side of an impact in a few rich tables."""
    con = console()
    con.print()
    con.print(_hours_table(result))
    m = result["metrics"]
    con.print(_first_cold_homes(result))
    worst = _worst_districts(result)
    if worst is not None:
        con.print(worst)
    con.print(_person_hours(result, m))


@app.command("demo")
def demo(
    out: Path = typer.Option(
        Path("warmgrid-out"), "--out", help="Folder for impact.json and report.html."
    ),
    scenario: str = typer.Option(
        "frost-strike", "--scenario", help="Bundled scenario name or TOML path."
    ),
    json_out: bool = typer.Option(
        False, "--json", help="Print the result as JSON instead of tables."
    ),
) -> None:
    """Run the frost-strike scenario on winter-city, tell the story, write JSON and HTML."""
    from warmgrid.io.atomic import write_texts_atomic
    from warmgrid.model.scenario import load_scenario
    from warmgrid.report.html import impact_html
    from warmgrid.study.run import impact

    res = impact(load_scenario(scenario)).to_json()
    text = json.dumps(_clean(res), indent=1, allow_nan=False)
    page = impact_html(res, title=f"warmgrid: {res['scenario']} on {res['grid']}")
    write_texts_atomic([(out / "impact.json", text), (out / "report.html", page)])
    if json_out:
        print_json(res)
        return
    tell_impact(res)
    console().print(f"\nWrote {out / 'impact.json'} and {out / 'report.html'}")
