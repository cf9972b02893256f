"""``warmgrid demo`` (the frost-strike story) and ``warmgrid scenarios``."""

from __future__ import annotations

import json
import time
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


def _fmt_people(x: float) -> str:
    return f"{x:,.0f}"


def tell_story(result: dict[str, Any], *, seconds: float) -> None:
    """Print the impact story in a few rich tables."""
    from rich.table import Table

    con = console()
    tl = result["timeline"]
    n = len(tl)
    con.print()
    con.print(
        styled(
            bold(result["scenario"]),
            " on ",
            bold(result["grid"]),
            f" ({result['population']:,.0f} people), mode {result['mode']}, "
            f"{len(result['damage'])} elements damaged, {n} h horizon, "
            f"computed in {seconds:.1f} s\n",
        )
    )
    con.print(
        f"Right after the damage: {result['served_mw']:,.0f} MW served, {result['shed_mw']:,.0f} MW shed, "
        f"{result['islands']} island(s), {result['dark_buses']} dark bus(es).\n"
    )
    t = Table(title="People without light, heat and water")
    t.add_column("hour", justify="right")
    t.add_column("outdoor °C", justify="right")
    t.add_column("without light", justify="right")
    t.add_column("without heat", justify="right")
    t.add_column("without water", justify="right")
    t.add_column("coldest home °C", justify="right")
    t.add_column("areas drained", justify="right")
    for h in _STORY_HOURS:
        k = min(h, n - 1) if h < n else n - 1
        r = tl[k]
        label = str(h) if h < n else f"{n} (end)"
        cold = result["temperature_curves"]
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
    con.print(t)

    m = result["metrics"]
    first = [(k, v) for k, v in m.items() if k.startswith("first_area_below_")]
    lines = []
    for k, v in first:
        thr = k.removeprefix("first_area_below_").removesuffix("_h").replace("c", " °C")
        lines.append(
            f"  first homes below {thr}: "
            + ("not within the horizon" if v is None else f"after {v:.1f} h")
        )
    con.print("\n".join(lines))

    areas = sorted(result["areas"], key=lambda a: a["min_temp_c"])[:8]
    if areas:
        w = Table(title="Worst districts")
        for c in (
            "district",
            "people",
            "building type",
            "h to 12 °C",
            "lowest °C",
            "h without heat",
            "drained",
        ):
            w.add_column(c, justify="left" if c in ("district", "building type") else "right")
        for a in areas:
            h12 = a.get("hours_to_12c")
            w.add_row(
                a["name"],
                _fmt_people(a["population"]),
                a["archetype"],
                "—" if h12 is None else f"{h12:.1f}",
                f"{a['min_temp_c']:.1f}",
                f"{a['hours_without_heat']:.0f}",
                "yes" if a["drained"] else "no",
            )
        con.print(w)
    ph = Table(title="Person-hours over the horizon")
    ph.add_column("what")
    ph.add_column("person-hours", justify="right")
    for k, v in m.items():
        if k.startswith("person_hours"):
            label = k.removeprefix("person_hours_").replace("_", " ")
            if label.startswith("below ") and label.endswith("c"):
                label = f"indoors below {label[6:-1]} °C"
            ph.add_row(label, f"{v:,.0f}")
    ph.add_row("energy not served (MWh)", f"{m['energy_not_served_mwh']:,.0f}")
    ph.add_row("hospitals past their backup", str(m["facilities_past_backup"]))
    con.print(ph)


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

    t0 = time.perf_counter()
    sc = load_scenario(scenario)
    run = impact(sc)
    seconds = time.perf_counter() - t0
    res = run.result
    text = json.dumps(_clean(res), indent=1, allow_nan=False)
    page = impact_html(res, title=f"warmgrid: {res['scenario']} on {res['grid']}")
    write_texts_atomic([(out / "impact.json", text), (out / "report.html", page)])
    if json_out:
        print_json(res)
        return
    tell_story(res, seconds=seconds)
    console().print(f"\nWrote {out / 'impact.json'} and {out / 'report.html'}")
