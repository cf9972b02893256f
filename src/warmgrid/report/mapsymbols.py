"""The map's symbols and legend: district discs' size scale, the temperature colour bar,
and the shapes of heat sources (diamonds), water stations (triangles), hospitals
(crosses), damage badges and emergency units, drawn as inline SVG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from warmgrid.report.page import PALETTE, esc

__all__ = [
    "badge",
    "diamond",
    "legend_bar",
    "legend_sizes",
    "legend_symbols",
    "plus",
    "triangle",
    "unit_svg",
]


def diamond(x: float, y: float, r: float) -> str:
    return f"M{x:.1f},{y - r:.1f}L{x + r:.1f},{y:.1f}L{x:.1f},{y + r:.1f}L{x - r:.1f},{y:.1f}Z"


def triangle(x: float, y: float, r: float) -> str:
    return f"M{x:.1f},{y - r:.1f}L{x + r:.1f},{y + 0.8 * r:.1f}L{x - r:.1f},{y + 0.8 * r:.1f}Z"


def plus(x: float, y: float, r: float) -> str:
    a = r / 3
    return (
        f"M{x - a:.1f},{y - r:.1f}h{2 * a:.1f}v{r - a:.1f}h{r - a:.1f}v{2 * a:.1f}h{a - r:.1f}"
        f"v{r - a:.1f}h{-2 * a:.1f}v{a - r:.1f}h{a - r:.1f}v{-2 * a:.1f}h{r - a:.1f}Z"
    )


def _cross(x: float, y: float, r: float) -> str:
    return f"M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x + r:.1f},{y - r:.1f}L{x - r:.1f},{y + r:.1f}"


def badge(x: float, y: float, k: int) -> str:
    """A damage badge beside the point (x, y) (the k-th there), leaving the element's own
    symbol visible: a cross in a ring, a tick once repaired (CSS)."""
    bx, by = x + 11 + 15 * k, y - 11
    return (
        f'<line class="lead" x1="{x:.1f}" y1="{y:.1f}" x2="{bx:.1f}" y2="{by:.1f}"/>'
        f'<circle cx="{bx:.1f}" cy="{by:.1f}" r="7"/>'
        f'<path class="x" d="{_cross(bx, by, 3.2)}"/>'
        f'<path class="ok" d="M{bx - 3.5:.1f},{by:.1f}l2.5,3l4.5,-6"/>'
    )


def legend_bar(thresholds: Sequence[float]) -> str:
    """The colour scale as an SVG gradient with ticks at 20 °C, the thresholds and the
    coldest stop."""
    lo, hi = PALETTE[0][0], PALETTE[-1][0]
    w, x0, x1 = 270.0, 16.0, 254.0

    def px(t: float) -> float:
        return x0 + (t - lo) / (hi - lo) * (x1 - x0)

    stops = "".join(
        f'<stop offset="{(t - lo) / (hi - lo):.3f}" stop-color="{c}"/>' for t, c in PALETTE
    )
    ticks = sorted({hi, lo, *[t for t in thresholds if lo < t < hi]})
    marks = "".join(
        f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="4" y2="24" stroke="#1d2433" stroke-width=".8"/>'
        f'<text x="{px(t):.1f}" y="37" text-anchor="middle" class="tick">'
        f"{'≤ ' if t == lo else ''}{f'{t:g}'.replace('-', '−')}</text>"
        for t in ticks
    )
    return (
        f'<svg viewBox="0 0 {w:.0f} 42" aria-label="colour scale of indoor temperature">'
        f'<defs><linearGradient id="wg-temp">{stops}</linearGradient></defs>'
        f'<rect x="{x0}" y="6" width="{x1 - x0}" height="16" fill="url(#wg-temp)" stroke="#b9c1d2"/>'
        f"{marks}</svg>"
    )


def legend_sizes(rmax: float, pmax: float) -> str:
    vals: list[float] = [
        v for v in (10_000, 50_000, 100_000, 250_000, 1_000_000) if v <= pmax * 1.05
    ]
    if not vals:
        vals = [pmax]
    vals = vals[-3:]
    parts, x = [], 6.0
    for v in vals:
        r = rmax * math.sqrt(v / pmax)
        parts.append(
            f'<circle cx="{x + r:.1f}" cy="{34 - r:.1f}" r="{r:.1f}" fill="#e0ecf4" stroke="#5b6475"/>'
            f'<text x="{x + r:.1f}" y="48" text-anchor="middle" class="tick">{v / 1000:,.0f}k</text>'
        )
        x += 2 * r + 22
    return f'<svg viewBox="0 0 {max(x, 120):.0f} 52" style="max-width:{max(x, 120):.0f}px">{"".join(parts)}</svg>'


def _sym(svg: str, label: str) -> str:
    return f'<svg viewBox="0 0 22 16">{svg}</svg><span>{esc(label)}</span>'


def legend_symbols(m: Mapping[str, Any]) -> str:
    rows = [
        _sym('<line x1="1" y1="8" x2="21" y2="8" class="br"/>', "line in service"),
        _sym('<line x1="1" y1="8" x2="21" y2="8" class="br out"/>', "line out"),
        _sym('<rect x="8" y="5" width="6" height="6" class="bus"/>', "substation bus, supplied"),
        _sym('<rect x="8" y="5" width="6" height="6" class="bus dark"/>', "bus without supply"),
        _sym(f'<g class="dmg">{badge(0, 19, 0)}</g>', "damaged element"),
        _sym(f'<g class="dmg repaired">{badge(0, 19, 0)}</g>', "damaged, repaired"),
    ]
    if m.get("heat_sources"):
        rows += [
            _sym(f'<path d="{diamond(11, 8, 6)}" class="heat s-run"/>', "heat source running"),
            _sym(f'<path d="{diamond(11, 8, 6)}" class="heat s-part"/>', "heat source in part"),
            _sym(f'<path d="{diamond(11, 8, 6)}" class="heat s-down"/>', "heat source down"),
        ]
    if m.get("water_stations"):
        rows += [
            _sym(f'<path d="{triangle(11, 9, 6)}" class="water s-pumps"/>', "water: pumps on"),
            _sym(f'<path d="{triangle(11, 9, 6)}" class="water s-tanks"/>', "water: on tanks"),
            _sym(f'<path d="{triangle(11, 9, 6)}" class="water s-dry"/>', "water: dry"),
        ]
    if m.get("facilities"):
        rows += [
            _sym(f'<path d="{plus(11, 8, 6)}" class="hosp s-mains"/>', "hospital on mains"),
            _sym(f'<path d="{plus(11, 8, 6)}" class="hosp s-backup"/>', "hospital on backup"),
            _sym(f'<path d="{plus(11, 8, 6)}" class="hosp s-down"/>', "hospital without power"),
        ]
    kinds = {u["kind"] for u in m.get("units", [])}
    if "shelter" in kinds:
        rows.append(_sym(unit_svg("shelter", 11, 8), "warming shelter"))
    if "generator" in kinds:
        rows.append(_sym(unit_svg("generator", 11, 8), "mobile generator"))
    return '<div class="sym">' + "".join(rows) + "</div>"


def unit_svg(kind: str, x: float, y: float) -> str:
    if kind == "shelter":
        return (
            f'<g class="unit"><rect x="{x - 7:.1f}" y="{y - 7:.1f}" width="14" height="14" rx="2"/>'
            f'<text x="{x:.1f}" y="{y + 3.5:.1f}" text-anchor="middle">S</text></g>'
        )
    return (
        f'<g class="unit"><circle cx="{x:.1f}" cy="{y:.1f}" r="7.5"/>'
        f'<text x="{x:.1f}" y="{y + 3.5:.1f}" text-anchor="middle">G</text></g>'
    )
