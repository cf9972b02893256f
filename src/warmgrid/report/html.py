"""The impact page: one self-contained HTML file for ``warmgrid impact --json`` / ``demo``.

Context first (scenario, start, damaged elements, weather, mode, warnings and
assumptions, the peaks), then the map with its hour slider, the people without light,
heat and water over time, the indoor temperatures, the coldest districts and the figures
over the horizon. See :mod:`warmgrid.report.page` for how the pages are built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from warmgrid.report.charts import (
    line_chart,
    people_unit,
)
from warmgrid.report.mapview import map_section
from warmgrid.report.page import (
    GREY,
    HEAT,
    LIGHT,
    WATER,
    cards,
    clock,
    context_section,
    counting_label,
    fmt_int,
    fmt_num,
    footer,
    metric_label,
    mode_label,
    outdoors_label,
    page,
    parse_start,
    start_label,
    table,
    until,
)

__all__ = ["archetype_labels", "counting_label", "impact_html"]

_SERIES_COLORS = [
    "#4d004b",
    "#88419d",
    "#0072b2",
    "#009e73",
    "#e69f00",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
]


def archetype_labels(result: Mapping[str, Any], keys: Sequence[str]) -> dict[str, str]:
    """Building type key -> ``description (key)``: the result's own archetypes, else
    warmgrid's (:data:`warmgrid.services.thermal.ARCHETYPES`), else the key."""
    from warmgrid.services.thermal import ARCHETYPES

    own = result.get("archetypes") or {}
    out = {}
    for k in keys:
        d = (own.get(k) or {}).get("description") if isinstance(own.get(k), Mapping) else None
        if d is None and k in ARCHETYPES:
            d = ARCHETYPES[k].description
        out[k] = f"{d} ({k})" if d else str(k)
    return out


def _peak(series: Sequence[float]) -> tuple[float, int]:
    if not series:
        return 0.0, 0
    m = max(series)
    return m, series.index(m)


def _context(
    result: Mapping[str, Any],
    tl: Sequence[Mapping[str, Any]],
    start: datetime | None,
    pop: float,
    scen: str,
    grid: str,
) -> str:
    """The page's header: the facts (start, horizon, weather, mode, people, counting, the
    power right after the damage), the damaged elements, warnings and assumptions."""
    n = len(tl)
    w = result.get("weather") or {}
    t_out: list[Any] = [r.get("t_out_c") for r in tl if r.get("t_out_c") is not None]
    lo = w.get("outdoor_min_c", min(t_out, default=None))
    hi = w.get("outdoor_max_c", max(t_out, default=None))
    damage = result.get("damage_detail") or [
        {"id": e, "name": e, "kind": e.split(":", 1)[0]} for e in result.get("damage", [])
    ]
    facts = [
        ("Start", start_label(start)),
        ("Horizon", until(start, n)),
        ("Outdoors", outdoors_label(lo, hi)),
        ("Mode", mode_label(result.get("mode"))),
        ("People", f"{fmt_int(pop)} in {len(result.get('areas', [])):,} districts"),
        ("Counting", counting_label(result.get("counting"))),
    ]
    if result.get("demand_mw"):
        facts.append(
            (
                "Power right after the damage",
                f"{result['served_mw']:,.0f} of {result['demand_mw']:,.0f} MW served; "
                f"{result.get('dark_buses', 0)} buses without supply",
            )
        )
    return context_section(
        title=f"{scen} on {grid}",
        subtitle="What the damage does to light, heat and water, hour by hour",
        facts=facts,
        damage=damage,
        warnings=result.get("warnings", []),
        assumptions=result.get("assumptions", []),
    )


def _peak_cards(
    people: Mapping[str, Sequence[float]],
    pop: float,
    start: datetime | None,
    thr: Sequence[Mapping[str, Any]],
    water: Mapping[str, Any] | None = None,
) -> str:
    """The peak of the people without light, heat and water, and the person-hours
    indoors below the middle threshold (12 °C when the scenario has it). With a
    hydraulic network, the water card also tells the districts short of water (less
    than their pre-damage supply, not yet below the without-water share)."""
    items = []
    for cls, label in (
        ("light", "without light"),
        ("heat", "without heat"),
        ("water", "without water"),
    ):
        v, k = _peak(people[cls])
        share = f"{100 * v / pop:.1f} % of the people" if pop else ""
        when = f"peak at {clock(start, k)}" if v else "nobody"
        note = f"{share}; {when}" if v else when
        if cls == "water" and water and water.get("first_hour_short_of_water"):
            short = water["first_hour_short_of_water"]
            low = min((water.get("lowest_share_of_water") or {}).values(), default=None)
            note += (
                f"; {len(short)} districts short of water"
                + (f" (down to {100 * low:.0f} % of their supply)" if low is not None else "")
                + ": a shortfall equal to the supply of "
                + f"{fmt_int(water.get('people_short_of_water_peak'))} people"
            )
        items.append((cls, f"People {label}", fmt_int(v), note))
    mid = next((t for t in thr if t.get("indoor_c") == 12.0), thr[len(thr) // 2] if thr else None)
    if mid is not None:
        first = mid.get("first_area_below_h")
        band = mid.get("person_hours_below_range")
        fb = mid.get("first_area_below_h_range") or [None, None]
        span = (
            f"range {fmt_int(band[0])}–{fmt_int(band[1])} over the building calibrations; "
            if band and band[0] != band[1]
            else ""
        )
        if first is not None:
            when = f"first homes after {first:.0f} h"
            if fb[0] is not None and (fb[1] is None or round(fb[0]) != round(fb[1])):
                when += f" ({fb[0]:.0f}–{'…' if fb[1] is None else f'{fb[1]:.0f}'} h)"
        elif fb[0] is not None:  # only the fastest-cooling calibration gets there
            when = f"no home that cold (with the fastest-cooling buildings: after {fb[0]:.0f} h)"
        else:
            when = "no home that cold"
        items.append(
            (
                "cold",
                f"Person-hours indoors below {mid['indoor_c']:g} °C",
                fmt_int(mid.get("person_hours_below")),
                span + when,
            )
        )
    return cards(items)


def _people_chart(
    people: Mapping[str, Sequence[float]],
    hours: Sequence[float],
    n: int,
    start: datetime | None,
) -> tuple[str, dict[str, Any]]:
    """The people without light, heat and water over the horizon: SVG and description."""
    light, heat, water = people["light"], people["heat"], people["water"]
    scale, unit = people_unit(max([*light, *heat, *water, 1]))
    return line_chart(
        chart_id="chart-people",
        hours=hours,
        horizon=n,
        series=[
            {"label": "without light", "color": LIGHT, "values": light},
            {"label": "without heat", "color": HEAT, "values": heat},
            {"label": "without water", "color": WATER, "values": water},
        ],
        start=start,
        y_label=unit,
        y_fmt=lambda v: f"{v:,.0f}",
        scale=scale,
        y_min=0,
    )


def _temperature_chart(
    curves: Mapping[str, Any], n: int, start: datetime | None
) -> tuple[str, dict[str, Any]]:
    """The coldest district of each building type, the outdoor temperature and the
    thresholds: SVG and description."""
    ch = list(curves["hours"])
    series = [
        {
            "label": name,
            "color": _SERIES_COLORS[i % len(_SERIES_COLORS)],
            "values": list(v),
            "unit": "°C",
        }
        for i, (name, v) in enumerate(curves["series"].items())
    ]
    to = list(curves.get("t_out_c") or [])
    if to:
        series.append(
            {
                "label": "outdoors",
                "color": GREY,
                "values": [*to, to[-1]],
                "dash": "5 4",
                "width": 1.5,
                "unit": "°C",
            }
        )
    allv = [v for s in series for v in s["values"] if v is not None]
    return line_chart(
        chart_id="chart-temp",
        hours=ch,
        horizon=ch[-1] if ch else n,
        series=series,
        start=start,
        y_label="°C",
        y_fmt=lambda v: f"{v:g}".replace("-", "−"),
        steps=False,
        height=340,
        y_min=min(allv, default=0.0),
        y_max=max(allv, default=20.0),
        hlines=[(float(t), f"{t:g} °C") for t in curves.get("thresholds_c", [])],
    )


def _hours_with_band(h: float | None, band: Sequence[float | None] | None) -> str:
    """``17 (12–23)``: whole hours with the fast–slow range; a dash when never."""
    if h is None:
        return "—" if not band or band[0] is None else f"— ({band[0]:.0f}–…)"
    if not band or band[0] is None:
        return f"{h:.0f}"
    if band[1] is not None and round(band[0]) == round(band[1]):  # a closed band
        return f"{h:.0f}"
    hi = "…" if band[1] is None else f"{band[1]:.0f}"
    return f"{h:.0f} ({band[0]:.0f}–{hi})"


def _districts_table(
    areas: Sequence[Mapping[str, Any]],
    thr: Sequence[Mapping[str, Any]],
    arche: Mapping[str, str],
) -> str:
    """The twenty coldest districts: people, building type, lowest temperature, hours
    until each threshold, hours without heat, drained."""
    keys = [t["key"] for t in thr]
    head = ["district", "people", "building type", "lowest °C"]
    head += [f"hours until below {t['indoor_c']:g} °C" for t in thr]
    head += ["hours without heat", "drained"]
    rows = []
    for a in sorted(areas, key=lambda a: a.get("min_temp_c", 99))[:20]:
        row = [
            str(a["name"]),
            fmt_int(a["population"]),
            arche.get(str(a["archetype"]), str(a["archetype"])).split(",")[0],
            fmt_num(a["min_temp_c"]),
        ]
        row += [
            _hours_with_band(a.get(f"hours_to_{k}"), a.get(f"hours_to_{k}_range")) for k in keys
        ]
        row += [fmt_num(a.get("hours_without_heat"), 0), "yes" if a.get("drained") else "no"]
        rows.append(row)
    return (
        "<h2>The coldest districts</h2>"
        '<p class="lead">Twenty districts with the lowest indoor temperature over the '
        "horizon; a dash: not within the horizon; in brackets, the range between the "
        "fastest- and slowest-cooling calibration of the building type. Drained: heating "
        "emptied against frost, heat returns only after a refill.</p>"
        + table(head, rows, text_cols=(0, 2), cls="districts")
    )


def _figures_table(met: Mapping[str, Any]) -> str:
    """The result's metrics over the horizon, one row each, with the fast–slow range of
    building calibrations beside each figure that has one."""
    rows = []
    for k, v in met.items():
        if k.endswith("_range"):
            continue  # shown beside its figure
        if k.endswith("_unsheltered") and met.get(k[: -len("_unsheltered")]) == v:
            continue  # the same figure when nobody is in a shelter
        if isinstance(v, bool) or v is None:
            val = "—" if v is None else str(v)
        elif isinstance(v, int):
            val = f"{v:,}"
        elif k.endswith("_h"):
            val = f"{v:,.0f}"
        else:
            val = fmt_int(v)
        band = met.get(f"{k}_range")
        if band:
            lo, hi = (
                "—" if x is None else (f"{x:,.0f}" if k.endswith("_h") else fmt_int(x))
                for x in band
            )
            val += f" ({lo}–{hi})"
        rows.append([metric_label(k), val])
    return "<h2>Figures over the horizon</h2>" + table(["figure", "value"], rows, cls="narrow")


def impact_html(result: Mapping[str, Any], *, title: str | None = None) -> str:
    """Render an impact result (the ``warmgrid impact --json`` dict) as one HTML page."""
    tl = result["timeline"]
    people = {
        "light": [r["people_without_power"] for r in tl],
        "heat": [r["people_without_heat"] for r in tl],
        "water": [r["people_without_water"] for r in tl],
    }
    hours = [float(r["hour"]) for r in tl]
    n = len(tl)
    start = parse_start(result.get("start"))
    pop = result.get("population") or 0
    scen, grid = str(result.get("scenario", "")), str(result.get("grid", ""))
    title = title or f"warmgrid: {scen} on {grid}"
    parts = [_context(result, tl, start, pop, scen, grid)]
    thr = result.get("thresholds") or []
    parts.append(_peak_cards(people, pop, start, thr, result.get("water")))

    arche = archetype_labels(
        result, sorted({str(a.get("archetype")) for a in result.get("areas", [])})
    )
    charts: dict[str, Any] = {}
    data: dict[str, Any] = {"kind": "impact", "start": result.get("start"), "charts": charts}
    m = result.get("map")
    if m and m.get("areas"):
        html, data["map"] = map_section(
            m,
            start=start,
            people=people,
            archetypes=arche,
            thresholds=[t["indoor_c"] for t in thr] if thr else [18.0, 12.0, 5.0],
            note="Hover a district, a heat source, a water station or a hospital for its state at "
            "the chosen hour. Disc area is proportional to the people in the district.",
        )
        parts.append("<h2>The city hour by hour</h2>" + html)
    svg, charts["chart-people"] = _people_chart(people, hours, n, start)
    parts.append("<h2>People without light, heat and water</h2>" + svg)
    curves = result.get("temperature_curves")
    if curves and curves.get("series"):
        svg, charts["chart-temp"] = _temperature_chart(curves, n, start)
        parts.append(
            "<h2>Indoor temperature: the coldest district of each building type</h2>"
            '<p class="lead">Dotted lines: the thresholds of the scenario. Homes cool at a rate '
            "set by their building type once heat (and, for individual heating, light) is gone.</p>"
            + svg
        )
    areas = result.get("areas", [])
    if areas:
        parts.append(_districts_table(areas, thr, arche))
    met = result.get("metrics") or {}
    if met:
        parts.append(_figures_table(met))
    parts.append(
        footer(
            f"Source: {result.get('source', grid)}. Figures are model estimates; the building "
            "types' parameters and their sources are in the JSON."
        )
    )
    return page(title, "".join(parts), data, kind="impact")
