"""The page of one Monte Carlo run: distributions, exceedance and criticality.

The summary quantiles (from the DuckDB store, :func:`warmgrid.study.montecarlo.summary`),
a histogram of each outcome over the samples, the empirical exceedance curves ("how
likely is at least this many people without a service") and the elements whose damage
matters most. Hand-written SVG, like every warmgrid page (:mod:`warmgrid.report.page`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from warmgrid.report.charts import (
    Axis,
    legend_rows,
    nice_ticks,
    svg_text,
    value_axis,
)
from warmgrid.report.page import (
    HEAT,
    KIND_LABELS,
    LIGHT,
    WATER,
    cards,
    context_section,
    counting_label,
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
    until,
)

__all__ = ["hazard_label", "montecarlo_html"]

_OUTCOMES = (
    "people_without_power_peak",
    "people_without_heat_peak",
    "people_without_water_peak",
    "person_hours_below_12c",
)
_COLORS = {
    "people_without_power_peak": LIGHT,
    "people_without_heat_peak": HEAT,
    "people_without_water_peak": WATER,
    "person_hours_below_12c": "#6a3d9a",
}


def _unit(vmax: float, what: str) -> tuple[float, str]:
    if vmax >= 2e6:
        return 1e6, f"million {what}"
    if vmax >= 2e3:
        return 1e3, f"thousand {what}"
    return 1.0, what


def _what(col: str) -> str:
    return "person-hours" if col.startswith("person_hours") else "people"


def _tick(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:,.1f}"


def _histogram(col: str, v: np.ndarray, quant: Mapping[str, Any]) -> str:
    """One outcome's histogram with its median and 90th percentile marked."""
    width, height, left, right, top, bottom = 540, 250, 56, 16, 30, 44
    scale, unit = _unit(float(v.max(initial=0.0)), _what(col))
    x = v / scale
    lo, hi = float(x.min(initial=0.0)), float(x.max(initial=1.0))
    if hi <= lo:
        hi = lo + 1.0
    bins = int(min(30, max(6, math.sqrt(len(x)) * 1.5)))
    counts, edges = np.histogram(x, bins=bins, range=(lo, hi))
    xt = nice_ticks(lo, hi, 5)
    ax = Axis(xt[0], xt[-1], left, width - right)
    yt = nice_ticks(0, max(int(counts.max(initial=1)), 1), 4)
    ay = Axis(0, yt[-1], height - bottom, top)
    color = _COLORS.get(col, "#6a3d9a")
    parts = [
        f'<svg class="chart hist-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="histogram of {esc(metric_label(col))}">',
        value_axis(ay, yt, left, width - right, lambda t: f"{t:,.0f}"),
        svg_text(8, top - 12, "samples", cls="axis-title"),
    ]
    for t in xt:
        parts.append(svg_text(ax(t), height - bottom + 16, _tick(t), anchor="middle", cls="tick"))
    parts.append(
        svg_text((left + width - right) / 2, height - 8, unit, anchor="middle", cls="axis-title")
    )
    for c, a, b in zip(counts.tolist(), edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        if c == 0:
            continue
        x0, x1 = ax(a), ax(b)
        y0 = ay(c)
        tip = f"{c:,} of {len(x):,} samples\n{_tick(a)} to {_tick(b)} {unit}"
        parts.append(
            f'<rect class="hbar" x="{x0 + 0.5:.1f}" y="{y0:.1f}" width="{max(x1 - x0 - 1, 0.8):.1f}" '
            f'height="{ay(0) - y0:.1f}" fill="{color}" data-tip="{esc(tip)}"/>'
        )
    for key, label in (("p50", "median"), ("p90", "90 %")):
        q = quant.get(key)
        if q is None or not math.isfinite(q):
            continue
        xx = ax(q / scale)
        parts.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{height - bottom}" class="qline"/>'
        )
        parts.append(svg_text(xx + 3, top + 10 + (12 if key == "p90" else 0), label, cls="qlabel"))
    parts.append("</svg>")
    return "".join(parts)


def _exceedance(samples: Any, cols: Sequence[str]) -> str:
    """P(outcome ≥ x) for the people outcomes, as steps."""
    width, height, left, right, bottom = 1100, 340, 64, 24, 44
    series = [
        {"label": metric_label(c).replace(", at the peak", ""), "color": _COLORS[c]} for c in cols
    ]
    leg, leg_h = legend_rows(series, left, width - right)
    top = leg_h + 26
    height += int(leg_h)
    data = {c: np.sort(samples[c].to_numpy(dtype=float)) for c in cols}
    data = {c: v[np.isfinite(v)] for c, v in data.items()}
    vmax = max((float(v.max(initial=0.0)) for v in data.values()), default=1.0)
    scale, unit = _unit(vmax, "people")
    xt = nice_ticks(0.0, max(vmax / scale, 1e-9), 8)
    ax = Axis(xt[0], xt[-1], left, width - right)
    ay = Axis(0.0, 100.0, height - bottom, top)
    parts = [
        f'<svg class="chart" id="chart-exceed" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="exceedance curves">',
        leg,
        value_axis(ay, [0, 20, 40, 60, 80, 100], left, width - right, lambda t: f"{t:.0f} %"),
        svg_text(8, top - 12, "share of samples with at least this many", cls="axis-title"),
    ]
    for t in xt:
        parts.append(svg_text(ax(t), height - bottom + 16, _tick(t), anchor="middle", cls="tick"))
    parts.append(
        svg_text((left + width - right) / 2, height - 8, unit, anchor="middle", cls="axis-title")
    )
    for c, s in zip(cols, series, strict=True):
        v = data[c]
        if not len(v):
            continue
        n = len(v)
        # P(X >= v[i]) = (n - i) / n at each sorted value; a step down after each
        d = [f"M{ax(0):.1f},{ay(100):.1f}"]
        for i, val in enumerate(v.tolist()):
            if i and val == v[i - 1]:
                continue
            p = 100.0 * (n - i) / n
            d.append(f"H{ax(val / scale):.1f}V{ay(p):.1f}")
        d.append(f"H{ax(v[-1] / scale):.1f}V{ay(0):.1f}")
        parts.append(
            f'<path d="{"".join(d)}" fill="none" stroke="{s["color"]}" stroke-width="2.2"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _context_facts(ctx: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The scenario's start, horizon, weather, mode, counting and building calibration."""
    start = parse_start(ctx.get("start"))
    w = ctx.get("weather") or {}
    lo, hi = w.get("outdoor_min_c"), w.get("outdoor_max_c")
    cal = str(ctx.get("calibration", "central"))
    thermal = (
        "drawn per sample, log-uniform between the fast and the slow calibration"
        if ctx.get("thermal") == "band"
        else f"{cal} (how fast homes cool)"
    )
    return [
        ("Start", start_label(start)),
        ("Horizon", until(start, float(ctx.get("horizon_h") or 0.0))),
        ("Outdoors", outdoors_label(lo, hi)),
        ("Mode", mode_label(ctx.get("mode"))),
        ("Counting", counting_label(ctx.get("counting"))),
        ("Buildings", thermal),
    ]


def hazard_label(text: str) -> str:
    """The run's hazard (its ``repr`` in the store) in words, where its form is known:
    ``RandomK(k=3, weights_by_kind={'gen': 3.0})`` -> ``3 more elements struck per sample,
    drawn by weight: generating unit 3``; anything else as it is."""
    import ast
    import re

    def kinds(d: Any, fmt: str) -> str:
        return ", ".join(fmt.format(KIND_LABELS.get(str(k), str(k)), v) for k, v in d.items())

    try:
        if m := re.fullmatch(r"RandomK\(k=(\d+), weights_by_kind=(\{.*\})\)", text.strip()):
            d = ast.literal_eval(m[2])
            return f"{m[1]} more elements struck per sample, drawn by weight: " + kinds(
                d, "{} {:g}"
            )
        if m := re.fullmatch(r"Fragility\(prob_by_kind=(\{.*?\}), footprint=(.*)\)", text.strip()):
            d = ast.literal_eval(m[1])
            where = "" if m[2] == "None" else ", more likely inside a footprint on the map"
            return (
                "each element fails on its own: "
                + kinds({k: 100 * v for k, v in d.items()}, "{} {:g} %")
                + where
            )
    except (ValueError, SyntaxError, TypeError):
        pass
    return text


def _element_label(e: str) -> str:
    kind, _, name = str(e).partition(":")
    return f"{name} ({KIND_LABELS.get(kind, kind)})" if name else str(e)


def _criticality(rows: Sequence[Mapping[str, Any]], metric: str) -> str:
    """Horizontal bars: the outcome each element adds when it is among the damaged."""
    vals = []
    for r in rows:
        v = r.get("effect")
        if v is None or not math.isfinite(float(v)):
            v = r.get("difference")
        vals.append(float(v) if v is not None and math.isfinite(float(v)) else 0.0)
    labels = [_element_label(r["element"]) for r in rows]
    left = int(min(360, max(140, 6.8 * max((len(s) for s in labels), default=10) + 16)))
    width, right, top, row_h, bottom = 1100, 150, 8, 26, 44
    height = top + row_h * len(rows) + bottom
    vmax = max([abs(v) for v in vals] + [1.0])
    scale, unit = _unit(vmax, _what(metric))
    word = {1e6: " million", 1e3: " thousand"}.get(scale, "")
    lo = min(0.0, min(vals, default=0.0) / scale)
    xt = nice_ticks(lo, vmax / scale, 6)
    ax = Axis(xt[0], xt[-1], left, width - right)
    parts = [
        f'<svg class="chart" id="chart-crit" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="elements that matter most">'
    ]
    for t in xt:
        xx = ax(t)
        parts.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{height - bottom}" class="grid"/>'
        )
        parts.append(svg_text(xx, height - bottom + 16, _tick(t), anchor="middle", cls="tick"))
    parts.append(
        svg_text(
            (left + width - right) / 2,
            height - 8,
            f"{metric_label(metric)} added when the element is damaged, {unit}",
            anchor="middle",
            cls="axis-title",
        )
    )
    for i, (r, v, label) in enumerate(zip(rows, vals, labels, strict=True)):
        y = top + i * row_h
        x0, x1 = ax(0.0), ax(v / scale)
        n = int(r.get("samples_with") or 0)
        tip = (
            f"{r['element']}\nin {n:,} sample{'s' if n != 1 else ''}: mean with it "
            f"{fmt_int(r.get('mean_with'))}, without {fmt_int(r.get('mean_without'))}"
        )
        parts.append(svg_text(left - 8, y + row_h / 2 + 4, label, anchor="end"))
        parts.append(
            f'<rect class="cbar{" few" if n < 5 else ""}" x="{min(x0, x1):.1f}" y="{y + 4}" '
            f'width="{abs(x1 - x0):.1f}" height="{row_h - 8}" fill="#d55e00" '
            f'data-tip="{esc(tip)}"/>'
        )
        parts.append(
            svg_text(
                max(x0, x1) + 6,
                y + row_h / 2 + 4,
                f"{'+' if v >= 0 else '−'}{_tick(abs(v) / scale)}{word}  "
                f"({n:,} sample{'s' if n != 1 else ''})",
                cls="tick",
            )
        )
    parts.append(
        f'<line x1="{ax(0):.1f}" x2="{ax(0):.1f}" y1="{top}" y2="{height - bottom}" stroke="#1d2433"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _median_cards(dist: Mapping[str, Any]) -> str:
    """The median peak of each people outcome (and of the person-hours below 12 °C) and
    what 1 sample in 10 reaches."""
    items = []
    for c, cls in (
        ("people_without_power_peak", "light"),
        ("people_without_heat_peak", "heat"),
        ("people_without_water_peak", "water"),
        ("person_hours_below_12c", "cold"),
    ):
        d = dist.get(c)
        if d:
            items.append(
                (
                    cls,
                    metric_label(c).replace(", at the peak", ", median peak"),
                    fmt_int(d.get("p50")),
                    f"1 in 10 samples: {fmt_int(d.get('p90'))} or more",
                )
            )
    return cards(items)


def _spread(samples: Any, cols: Sequence[str], dist: Mapping[str, Any]) -> str:
    """A histogram of each outcome in ``cols`` (finite values only) and the exceedance
    curves of the people outcomes."""
    hists = ""
    for c in cols:
        v = samples[c].to_numpy(dtype=float)
        hists += f"<div><h3>{esc(metric_label(c))}</h3>"
        hists += f"{_histogram(c, v[np.isfinite(v)], dist.get(c, {}))}</div>"
    html = (
        "<h2>How the outcomes spread</h2>"
        '<p class="lead">Samples per range of the outcome; dotted lines: the median and '
        "the 90th percentile. Hover a bar for its count.</p>"
        f'<div class="hist">{hists}</div>'
    )
    people = [c for c in cols if c.startswith("people_")]
    if people:
        html += (
            "<h2>How likely is at least this many people without a service</h2>"
            '<p class="lead">The share of samples in which at least that many people lose '
            "light, heat or water at the peak.</p>" + _exceedance(samples, people)
        )
    return html


def montecarlo_html(
    summary: Mapping[str, Any], samples: Any, context: Mapping[str, Any] | None = None
) -> str:
    """Render a run's summary (``warmgrid.study.montecarlo.summary``) and its samples;
    ``context`` (the store's, :func:`warmgrid.study.montecarlo.run_context`) gives the
    header the scenario's start, weather, mode, own damage, warnings and assumptions."""
    cols = [c for c in _OUTCOMES if c in samples.columns]
    done, req = int(summary["samples_done"]), int(summary["samples_requested"])
    state = "complete" if summary["complete"] else "incomplete (resume it to finish)"
    scen = str(summary["scenario"])
    facts = [
        ("Run", str(summary["run"])),
        ("Samples", f"{done:,} of {req:,}, {state}"),
        ("Seed", str(summary["seed"])),
        ("Random damage", hazard_label(str(summary["hazard"]))),
        ("Results store", str(summary.get("store", ""))),
    ]
    ctx = context or {}
    if ctx:
        facts = facts[:1] + _context_facts(ctx) + facts[1:]
    damage = ctx.get("damage_detail") if ctx else None
    parts = [
        context_section(
            title=f"Monte Carlo: {scen}",
            subtitle="Which outcomes to expect over many random damage scenarios, and which "
            "elements matter most",
            facts=facts,
            damage=damage or None,
            warnings=ctx.get("warnings") if ctx else None,
            assumptions=ctx.get("assumptions") if ctx else None,
            note=(
                "Each sample adds one draw of the random damage above to the scenario's "
                + ("own damage (listed)." if damage else "own damage (none).")
                if ctx
                else "The warnings and assumptions of the scenario are those that "
                f"<code>warmgrid impact {esc(scen)}</code> prints; each sample adds one draw "
                "of the random damage above to the scenario's own damage."
            ),
        )
    ]
    dist = summary["distributions"]
    parts.append(_median_cards(dist))
    head = ["outcome", "mean", "median", "90th percentile", "99th percentile", "largest"]
    rows = [
        [metric_label(k)] + [fmt_int(d.get(q)) for q in ("mean", "p50", "p90", "p99", "max")]
        for k, d in dist.items()
    ]
    parts.append("<h2>Outcomes over the samples</h2>" + table(head, rows))
    if len(samples) and cols:
        parts.append(_spread(samples, cols, dist))
    crit = summary["criticality"]
    if not crit["elements"]:
        parts.append(
            "<h2>Elements that matter most to protect</h2>"
            f'<p class="lead">No element was drawn in at least {crit.get("min_samples", 1):,} '
            "samples: too few to rank them. Run more samples (<code>warmgrid montecarlo ... "
            "--resume RUN --samples N</code>) or lower <code>--min-samples</code>.</p>"
        )
    else:
        parts.append(
            "<h2>Elements that matter most to protect</h2>"
            '<p class="lead">What each element adds to the outcome when it is among the '
            "damaged: the regression effect where the samples are enough to tell it apart, "
            "else the mean with it less the mean without it. Elements seen in few samples "
            "(pale) say little.</p>" + _criticality(crit["elements"], crit["metric"])
        )
    parts.append(footer("From the results store."))
    title = f"warmgrid: Monte Carlo run {summary['run']} of {scen}"
    return page(title, "".join(parts), {"kind": "montecarlo", "charts": {}}, kind="montecarlo")
