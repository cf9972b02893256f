"""The dispatcher's page of a restoration plan (``warmgrid restore --report``) and its
table as CSV (``--csv``).

Context first (scenario, start, crews, damaged elements, weather, warnings and
assumptions), then a Gantt chart of the repairs by crew in clock time, the people without
light, heat and water under the plan and with no repair, the table of repairs (element,
crew, start and end in clock time, the people back to each service when it ends, shared
endings noted), the map under the plan with its hour slider, and the objective.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from warmgrid.report.charts import (
    ClockAxis,
    line_chart,
    people_unit,
    svg_text,
    time_axis,
)
from warmgrid.report.html import archetype_labels, counting_label
from warmgrid.report.mapview import map_section
from warmgrid.report.page import (
    GREY,
    HEAT,
    KIND_LABELS,
    LIGHT,
    WATER,
    cards,
    clock,
    context_section,
    element_name,
    esc,
    fmt_int,
    footer,
    metric_label,
    mode_label,
    outdoors_label,
    page,
    parse_start,
    start_label,
    table,
)

__all__ = ["plan_csv", "plan_html", "plan_rows"]

#: Bar colours by general kind (Okabe–Ito).
_KIND_COLORS = {"gen": "#0072b2", "substation": "#6a3d9a", "branch": "#009e73", "bus": "#cc79a7"}
_METHODS = {
    "brute": "every order tried",
    "local": "local search",
    "greedy": "greedy",
    "rule": "rule of thumb",
    "order": "the order given",
}


def _general(kind: str) -> str:
    from warmgrid.power.elements import general_kind

    return general_kind(kind)


def plan_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per repair, in the plan's order: what the table and the CSV show."""
    start = parse_start(result.get("start"))
    names = {r["element"]: element_name(r.get("name"), r["element"]) for r in result["plan"]}
    rows = []
    for k, r in enumerate(result["plan"]):
        back = r.get("people_back") or {}
        rows.append(
            {
                "order": k + 1,
                "element_id": r["element"],
                "element": names[r["element"]],
                "kind": KIND_LABELS.get(str(r.get("kind")), str(r.get("kind", ""))),
                "crew": int(r["crew"]) + 1,
                "start_h": float(r["start_h"]),
                "end_h": float(r["end_h"]),
                "start": None if start is None else start + timedelta(hours=float(r["start_h"])),
                "end": None if start is None else start + timedelta(hours=float(r["end_h"])),
                "hours": float(r["end_h"]) - float(r["start_h"]),
                "back_light": back.get("power", 0),
                "back_heat": back.get("heat", 0),
                "back_water": back.get("water", 0),
                "ends_with": [names.get(e, e) for e in r.get("ends_with", [])],
                "in_horizon": r.get("in_horizon", True),
            }
        )
    return rows


def plan_csv(result: Mapping[str, Any]) -> str:
    """The plan table as CSV: one row per repair in the plan's order, clock times as
    ``YYYY-MM-DD HH:MM`` (empty without a start), people back when it ends (repairs that
    end at the same hour share that figure: ``ends_with``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "order",
            "element_id",
            "element",
            "kind",
            "crew",
            "start",
            "end",
            "start_h",
            "end_h",
            "hours",
            "people_back_light",
            "people_back_heat",
            "people_back_water",
            "ends_with",
        ]
    )
    for r in plan_rows(result):
        w.writerow(
            [
                r["order"],
                r["element_id"],
                r["element"],
                r["kind"],
                r["crew"],
                "" if r["start"] is None else f"{r['start']:%Y-%m-%d %H:%M}",
                "" if r["end"] is None else f"{r['end']:%Y-%m-%d %H:%M}",
                f"{r['start_h']:g}",
                f"{r['end_h']:g}",
                f"{r['hours']:g}",
                r["back_light"],
                r["back_heat"],
                r["back_water"],
                "; ".join(r["ends_with"]),
            ]
        )
    return buf.getvalue()


def _span(hours: float) -> float:
    """A round span of hours that holds ``hours`` (whole days beyond a day)."""
    if hours <= 24:
        return float(max(6, 6 * math.ceil(hours / 6)))
    return float(24 * math.ceil(hours / 24))


def _gantt(
    result: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], start: Any
) -> tuple[str, dict[str, Any]]:
    """The repairs by crew in clock time; bars carry their hours (``data-start-h``,
    ``data-end-h``) and the axis its scale (``data-x0``, ``data-x1``, ``data-h1``)."""
    crews = int(result.get("crews") or max((r["crew"] for r in rows), default=1))
    makespan = max((r["end_h"] for r in rows), default=0.0)
    span = _span(makespan * 1.04 + 1e-9)
    width, left, right, top, row_h, bar_h = 1100, 90, 30, 10, 38, 26
    height = top + crews * row_h + 44
    x = ClockAxis(span, left, width - right, start, max_ticks=12)
    parts = [
        f'<svg class="chart gantt" id="gantt" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="repairs by crew over time" data-x0="{left}" data-x1="{width - right}" '
        f'data-h1="{span:g}">',
        time_axis(x, top, top + crews * row_h),
    ]
    for c in range(crews):
        y = top + c * row_h
        if c % 2 == 0:
            parts.append(
                f'<rect x="{left}" y="{y}" width="{width - right - left}" height="{row_h}" fill="#f5f7fb"/>'
            )
        parts.append(
            svg_text(left - 10, y + row_h / 2 + 4, f"crew {c + 1}", anchor="end", cls="crew")
        )
    for i, r in enumerate(rows):
        x0, x1 = x(r["start_h"]), x(r["end_h"])
        y = top + (r["crew"] - 1) * row_h + (row_h - bar_h) / 2
        color = _KIND_COLORS.get(_general(str(result["plan"][i].get("kind", ""))), GREY)
        parts.append(
            f'<rect class="bar" data-r="{i}" data-start-h="{r["start_h"]:g}" data-end-h="{r["end_h"]:g}" '
            f'x="{x0:.2f}" y="{y:.1f}" width="{max(x1 - x0, 0.0):.2f}" height="{bar_h}" rx="3" '
            f'fill="{color}" aria-label="{esc(r["element"])}"/>'
        )
        label = str(r["element"])
        if 6.6 * len(label) + 12 <= x1 - x0:
            parts.append(svg_text(x0 + 6, y + bar_h / 2 + 4, label, cls="bar-label"))
    parts.append(
        f'<line class="cursor" x1="{left}" x2="{left}" y1="{top}" y2="{top + crews * row_h}"/></svg>'
    )
    kinds = sorted({_general(str(p.get("kind", ""))) for p in result["plan"]})
    legend = " ".join(
        f'<span class="swatch" style="background:{_KIND_COLORS.get(k, GREY)}"></span>'
        f"{esc(KIND_LABELS.get(k, k))}"
        for k in kinds
    )
    return (
        "".join(parts) + f'<p class="lead legend-row">{legend}</p>',
        {"x0": left, "x1": width - right, "h1": span, "series": []},
    )


def _last_change(*series: Sequence[float]) -> int:
    last = 0
    for s in series:
        for k in range(1, len(s)):
            if s[k] != s[k - 1]:
                last = max(last, k)
    return last


def _facts(
    result: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], start: Any, horizon: float
) -> list[tuple[str, str]]:
    """The header's facts: start, crews, end of the repairs, weather, mode, search,
    horizon and counting."""
    makespan = max((r["end_h"] for r in rows), default=0.0)
    w = result.get("weather") or {}
    hz = result.get("horizon") or {}
    method = str(result.get("method", ""))
    meth = _METHODS.get(method, method) + (
        " (best of all list schedules)" if result.get("optimal") else ""
    )
    return [
        ("Start", start_label(start)),
        ("Crews", f"{result.get('crews', '')} for {len(rows)} repairs"),
        ("All repairs done", clock(start, makespan) + f" ({makespan:g} h)"),
        ("Outdoors", outdoors_label(w.get("outdoor_min_c"), w.get("outdoor_max_c"))),
        ("Mode", mode_label(result.get("mode"))),
        ("Order found by", meth),
        (
            "Horizon",
            f"{horizon:g} h"
            + (
                f" (the scenario's {hz['scenario_hours']:g} h extended)"
                if hz.get("scenario_hours") and hz.get("scenario_hours") != horizon
                else ""
            ),
        ),
        ("Counting", counting_label(result.get("counting"))),
    ]


def _back_cards(result: Mapping[str, Any], plan: Mapping[str, Any], start: Any) -> str:
    """One card per service (when everyone has it back, the most people without it) and
    the weighted harm the plan cuts."""
    items = []
    for cls, key, label in (
        ("light", "without_power", "light"),
        ("heat", "without_heat", "heat"),
        ("water", "without_water", "water"),
    ):
        s = plan.get(key, [])
        peak = max(s, default=0)
        if not peak:
            items.append((cls, f"Everyone has {label}", "—", "nobody loses it"))
            continue
        back = next((k for k in range(len(s)) if all(v == 0 for v in s[k:])), None)
        items.append(
            (
                cls,
                f"{label.capitalize()} back for everyone",
                "never" if back is None else clock(start, back) if start else f"hour {back}",
                f"{fmt_int(peak)} people at most without it"
                + ("" if back is None else f"; after {back} h"),
            )
        )
    red = result.get("reduction_percent")
    if red is not None:
        items.append(
            ("cold", "Weighted harm cut", f"{red:.1f} %", "against leaving the damage unrepaired")
        )
    return cards(items)


def _plan_data(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The repairs as the page's script reads them (crews from 0)."""
    return [
        {
            "name": r["element"],
            "kind": r["kind"],
            "crew": r["crew"] - 1,
            "start_h": r["start_h"],
            "end_h": r["end_h"],
            "back": {"power": r["back_light"], "heat": r["back_heat"], "water": r["back_water"]},
            "with": r["ends_with"],
        }
        for r in rows
    ]


def _people_charts(
    rows: Sequence[Mapping[str, Any]],
    hours: Sequence[float],
    plan: Mapping[str, Any],
    none: Mapping[str, Any],
    horizon: float,
    start: Any,
) -> tuple[str, dict[str, Any]]:
    """People without light, heat and water under the plan (``plan``) and with no repair
    (``none``), over the hours where anything still changes: the section and each chart's
    description."""
    makespan = max((r["end_h"] for r in rows), default=0.0)
    view = min(horizon, _span(max(_last_change(*plan.values()), makespan) + 12))
    nview = int(min(len(hours), view))
    small, charts = [], {}
    for cid, key, label, color in (
        ("chart-light", "without_power", "Without light", LIGHT),
        ("chart-heat", "without_heat", "Without heat", HEAT),
        ("chart-water", "without_water", "Without water", WATER),
    ):
        if not any([*plan.get(key, []), *none.get(key, [])]):  # nothing to draw
            small.append(
                f'<div><h3>{esc(label)}</h3><p class="lead">Nobody, with or without '
                "repairs.</p></div>"
            )
            continue
        vmax = max([*plan.get(key, [])[:nview], *none.get(key, [])[:nview], 1])
        scale, unit = people_unit(vmax)
        svg, desc = line_chart(
            chart_id=cid,
            hours=hours[:nview],
            horizon=view,
            series=[  # no repair first: the plan's line is drawn over it
                {
                    "label": "no repair",
                    "color": GREY,
                    "values": none.get(key, [])[:nview],
                    "dash": "5 4",
                    "width": 1.5,
                },
                {
                    "label": "this plan",
                    "color": color,
                    "values": plan.get(key, [])[:nview],
                    "width": 2.5,
                },
            ],
            start=start,
            y_label=unit,
            y_fmt=lambda v: f"{v:,.0f}",
            scale=scale,
            y_min=0,
            width=380,
            height=250,
            marks=[(h, "") for h in sorted({r["end_h"] for r in rows}) if h <= view],
        )
        charts[cid] = desc
        small.append(f"<div><h3>{esc(label)}</h3>{svg}</div>")
    html = (
        "<h2>People without light, heat and water: this plan against no repair</h2>"
        f'<p class="lead">Dotted verticals: the hours repairs end. The first {view:g} h of the '
        f"{horizon:g} h horizon; nothing changes under the plan after that.</p>"
        f'<div class="smalls">{"".join(small)}</div>'
    )
    return html, charts


def _repairs_table(rows: Sequence[Mapping[str, Any]], start: Any) -> str:
    """The plan, repair by repair: crew, clock times, people back, shared endings."""
    head = [
        "#",
        "element",
        "kind",
        "crew",
        "start",
        "end",
        "hours",
        "back to light",
        "back to heat",
        "back to water",
        "note",
    ]
    trs = []
    for r in rows:
        note = []
        if r["ends_with"]:
            note.append("same hour as " + ", ".join(r["ends_with"]) + " (figures shared)")
        if not r["in_horizon"]:
            note.append("ends at or after the horizon")
        trs.append(
            [
                str(r["order"]),
                r["element"],
                r["kind"],
                str(r["crew"]),
                clock(start, r["start_h"]),
                clock(start, r["end_h"]),
                f"{r['hours']:g}",
                fmt_int(r["back_light"]),
                fmt_int(r["back_heat"]),
                fmt_int(r["back_water"]),
                "; ".join(note),
            ]
        )
    return (
        "<h2>The plan, repair by repair</h2>"
        '<p class="lead">People back: those who get the service back the hour the repair ends '
        "(heat in drained buildings returns later, after a refill). The same table is written "
        "as CSV by <code>warmgrid restore … --csv FILE</code>.</p>"
        + table(head, trs, text_cols=(1, 2, 4, 5, 10), cls="plan")
    )


def _plan_map(
    result: Mapping[str, Any], m: Mapping[str, Any], plan: Mapping[str, Any], start: Any
) -> tuple[str, dict[str, Any]]:
    """The city under the plan, hour by hour: the section and the map's data."""
    thr = [18.0, 12.0, 5.0]
    keys = sorted({str(a.get("archetype")) for a in m["areas"]})
    html, mdata = map_section(
        m,
        start=start,
        people={
            "light": plan.get("without_power", []),
            "heat": plan.get("without_heat", []),
            "water": plan.get("without_water", []),
        },
        archetypes=archetype_labels(result, keys),
        thresholds=thr,
        note="The city under this plan. Damaged elements' rings turn green as they are "
        "repaired; hover anything for its state at the chosen hour.",
    )
    return "<h2>The city under this plan, hour by hour</h2>" + html, mdata


def _units_table(em: Mapping[str, Any], m: Mapping[str, Any] | None, start: Any) -> str:
    """The mobile generators and warming shelters: site, arrival, size."""
    site = {u["site"]: str(u.get("name") or u["site"]) for u in (m or {}).get("units", [])}
    urows = [
        [
            "mobile generator",
            site.get(g["site"], str(g["site"])),
            clock(start, g["hour"]),
            f"{g['mw']:g} MW",
        ]
        for g in em.get("generators", [])
    ]
    urows += [
        [
            "warming shelter",
            site.get(s["site"], str(s["site"])),
            clock(start, s["hour"]),
            f"{fmt_int(s['persons'])} places",
        ]
        for s in em.get("shelters", [])
    ]
    return "<h2>Mobile generators and warming shelters</h2>" + table(
        ["unit", "site", "from", "size"], urows, text_cols=(0, 1, 2), cls="narrow"
    )


def _objective_table(result: Mapping[str, Any]) -> str:
    """Each term of the objective: weight, no repair, this plan, change; empty without
    an objective."""
    obj, base, wts = (
        result.get("objective") or {},
        result.get("no_repair") or {},
        result.get("weights") or {},
    )
    if not obj:
        return ""
    rng = result.get("objective_ranges") or {}

    def with_range(v: Any, r: Any) -> str:
        if not r or r[0] is None or r[1] is None:
            return fmt_int(v)
        return f"{fmt_int(v)} ({fmt_int(r[0])}–{fmt_int(r[1])})"

    orows = []
    for k, v in obj.items():
        b = base.get(k, 0.0)
        ch = f"{100.0 * (v - b) / b:+.1f} %" if b else "—"
        orows.append(
            [
                metric_label(k),
                "" if k == "total" else f"{wts.get(k, 0.0):g}",
                with_range(b, rng.get("no_repair", {}).get(k)),
                with_range(v, rng.get("plan", {}).get(k)),
                ch.replace("-", "−"),
            ]
        )
    note = (
        '<p class="note">In brackets: the range over the fast and slow building '
        "calibrations (how fast homes cool); the plan is chosen with the central one.</p>"
        if rng
        else ""
    )
    return (
        "<h2>What the plan is scored on (lower is better)</h2>"
        + table(["term", "weight", "no repair", "this plan", "change"], orows, cls="narrow")
        + note
    )


def plan_html(result: Mapping[str, Any]) -> str:
    """Render a restoration result (the ``warmgrid restore --json`` dict) as one page."""
    rows = plan_rows(result)
    start = parse_start(result.get("start"))
    scen, grid = str(result.get("scenario", "")), str(result.get("grid", ""))
    tl = result["timeline"]
    hours = [float(h) for h in tl["hours"]]
    plan, none = tl["plan"], tl["no_repair"]
    horizon = float(result.get("horizon_h") or len(hours))
    facts = _facts(result, rows, start, horizon)
    damage = [
        {"id": r["element_id"], "name": r["element"], "kind": p.get("kind")}
        for r, p in zip(rows, result["plan"], strict=True)
    ]
    parts = [
        context_section(
            title=f"Repair plan: {scen} on {grid}",
            subtitle="Which repairs, by which crew, when, and who gets light, heat and water back",
            facts=facts,
            damage=damage,
            warnings=result.get("warnings", []),
            assumptions=result.get("assumptions", []),
        ),
        _back_cards(result, plan, start),
    ]
    charts: dict[str, Any] = {}
    data: dict[str, Any] = {"kind": "plan", "start": result.get("start"), "charts": charts}
    gsvg, charts["gantt"] = _gantt(result, rows, start)
    data["plan"] = _plan_data(rows)
    parts.append(
        "<h2>Repairs by crew</h2>"
        '<p class="lead">Each bar is one repair, from its start to the hour the element is back '
        "in service. Hover a bar for the people it brings back.</p>" + gsvg
    )
    people, descs = _people_charts(rows, hours, plan, none, horizon, start)
    charts.update(descs)
    parts += [people, _repairs_table(rows, start)]
    m = result.get("map")
    if m and m.get("areas"):
        html, data["map"] = _plan_map(result, m, plan, start)
        parts.append(html)
    em = result.get("emergency")
    if em:
        parts.append(_units_table(em, m, start))
    parts.append(_objective_table(result))
    parts.append(
        footer(
            f"{len(rows)} repairs, {result.get('evaluations', 0)} replays in {result.get('seconds', 0):.1f} s."
        )
    )
    return page(f"warmgrid: repair plan for {scen} on {grid}", "".join(parts), data, kind="plan")
