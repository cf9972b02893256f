"""Small hand-written SVG charts of the pages: axes in clock time or values, nice ticks,
step and line paths, legends, and the line chart with its cursor data. Drawn in Python
as inline SVG; the page script only moves a cursor over them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from warmgrid.report.page import (
    esc,
)

__all__ = [
    "Axis",
    "ClockAxis",
    "legend_rows",
    "line_chart",
    "nice_ticks",
    "people_unit",
    "poly_path",
    "step_path",
    "svg_text",
    "time_axis",
    "value_axis",
]


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5, 5 × 10^k steps)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step + 1e-9) * step
    out = []
    v = first
    while v <= hi + step * 1e-6:
        out.append(round(v, 10))
        v += step
    if out[-1] < hi - 1e-9:
        out.append(round(out[-1] + step, 10))
    return out


def people_unit(vmax: float) -> tuple[float, str]:
    """Scale and word for an axis of people: thousands or millions."""
    if vmax >= 2e6:
        return 1e6, "million people"
    if vmax >= 2e3:
        return 1e3, "thousand people"
    return 1.0, "people"


class Axis:
    """A linear scale from data to pixels."""

    def __init__(self, d0: float, d1: float, p0: float, p1: float) -> None:
        self.d0, self.d1, self.p0, self.p1 = d0, d1, p0, p1

    def __call__(self, v: float) -> float:
        span = self.d1 - self.d0 or 1.0
        return self.p0 + (v - self.d0) / span * (self.p1 - self.p0)


class ClockAxis(Axis):
    """Hours after the start on x, labelled in clock time when the start is known."""

    STEPS = (1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720)

    def __init__(
        self, hours: float, p0: float, p1: float, start: datetime | None, max_ticks: int = 10
    ) -> None:
        super().__init__(0.0, float(hours), p0, p1)
        self.start = start
        self.step = next((s for s in self.STEPS if hours / s <= max_ticks), 720)

    def ticks(self) -> list[tuple[float, str, str]]:
        """(hour, first line, second line) of each tick."""
        out = []
        h1 = self.d1
        off = 0.0
        if self.start is not None:  # align ticks to the clock (midnight, noon, ...)
            since = self.start.hour + self.start.minute / 60.0
            off = (-since) % self.step if self.step <= 24 else (-since) % 24
        h = off
        while h <= h1 + 1e-9:
            if self.start is None:
                out.append((h, f"{h:g} h", ""))
            else:
                t = self.start + timedelta(hours=h)
                midnight = t.hour == 0 and t.minute == 0
                if self.step >= 24:
                    out.append((h, f"{t:%a} {t.day} {t:%b}", ""))
                else:
                    out.append((h, f"{t:%H:%M}", f"{t:%a} {t.day} {t:%b}" if midnight else ""))
            h += self.step
        return out


def svg_text(
    x: float, y: float, text: str, *, anchor: str = "start", cls: str = "", extra: str = ""
) -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{c}{extra}>{esc(text)}</text>'


def time_axis(ax: ClockAxis, y0: float, y1: float) -> str:
    """Vertical grid lines and clock labels under a plot area from y0 (top) to y1."""
    parts = []
    for h, a, b in ax.ticks():
        x = ax(h)
        strong = b != "" or (ax.start is not None and ax.step >= 24)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0:.1f}" y2="{y1:.1f}" '
            f'class="{"grid day" if strong else "grid"}"/>'
        )
        parts.append(svg_text(x, y1 + 14, a, anchor="middle", cls="tick"))
        if b:
            parts.append(svg_text(x, y1 + 27, b, anchor="middle", cls="tick strong"))
    if ax.start is None:
        parts.append(
            svg_text(
                (ax.p0 + ax.p1) / 2,
                y1 + 30,
                "hours after the damage",
                anchor="middle",
                cls="axis-title",
            )
        )
    return "".join(parts)


def value_axis(
    ax: Axis, ticks: Sequence[float], x0: float, x1: float, fmt: Callable[[float], str]
) -> str:
    parts = []
    for v in ticks:
        y = ax(v)
        parts.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(svg_text(x0 - 6, y + 4, fmt(v), anchor="end", cls="tick"))
    return "".join(parts)


def step_path(xs: Sequence[float], ys: Sequence[float]) -> str:
    """An SVG path of a step function (each value holds until the next x)."""
    if not xs:
        return ""
    d = [f"M{xs[0]:.1f},{ys[0]:.1f}"]
    for i in range(1, len(xs)):
        d.append(f"H{xs[i]:.1f}V{ys[i]:.1f}")
    return "".join(d)


def poly_path(xs: Sequence[float], ys: Sequence[float]) -> str:
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True)) if xs else ""


def _plain(v: float) -> str:
    return f"{v:,.10g}".replace("-", "−")


def legend_rows(
    items: Sequence[Mapping[str, Any]], x0: float, x1: float, y0: float = 12.0
) -> tuple[str, float]:
    """A legend of line samples and labels that wraps to the next row at ``x1``; returns
    the SVG and the height it takes."""
    parts, x, y = [], x0, y0
    for s in items:
        w = 34 + 6.6 * len(str(s["label"])) + 18
        if x > x0 and x + w > x1:
            x, y = x0, y + 18
        dash = f' stroke-dasharray="{s["dash"]}"' if s.get("dash") else ""
        parts.append(
            f'<line x1="{x:.1f}" x2="{x + 24:.1f}" y1="{y - 4:.1f}" y2="{y - 4:.1f}" '
            f'stroke="{s["color"]}" stroke-width="{max(2.0, float(s.get("width", 2)))}"{dash}/>'
        )
        parts.append(svg_text(x + 30, y, str(s["label"]), cls="legend"))
        x += w
    return "".join(parts), y + 8 - y0 + 12


def _value_ticks(
    series: Sequence[Mapping[str, Any]],
    scale: float,
    y_min: float | None,
    y_max: float | None,
    y_fmt: Callable[[float], str],
) -> tuple[list[float], Callable[[float], str]]:
    """Round ticks over the values (or the given bounds) and a format that tells them
    apart (plain digits where ``y_fmt`` would show two ticks alike)."""
    vals = [v / scale for s in series for v in s["values"] if v is not None]
    lo = min(vals, default=0.0) if y_min is None else y_min
    hi = max(vals, default=1.0) if y_max is None else y_max
    if hi <= lo:
        hi = lo + 1.0
    yt = nice_ticks(lo, hi, 5)
    if len({y_fmt(t) for t in yt}) < len(yt):  # the format hides the step (0.2 people...)
        y_fmt = _plain
    return yt, y_fmt


def _guides(
    x: ClockAxis,
    y: Axis,
    hlines: Sequence[tuple[float, str]],
    marks: Sequence[tuple[float, str]],
    box: tuple[int, float, int, float],
) -> str:
    """Reference lines across the plot (labelled in the right margin) and vertical marks;
    ``box``: the plot's left, top, right and bottom, px."""
    left, top, right, bottom = box
    parts = []
    for v, label in hlines:
        yy = y(v)
        parts.append(f'<line x1="{left}" x2="{right}" y1="{yy:.1f}" y2="{yy:.1f}" class="thr"/>')
        parts.append(svg_text(right + 4, yy + 4, label, cls="thr-label"))
    for h, label in marks:
        xx = x(h)
        parts.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{bottom}" class="mark"/>')
        if label:
            parts.append(svg_text(xx + 3, top + 11, label, cls="mark-label"))
    return "".join(parts)


def _series_paths(
    series: Sequence[Mapping[str, Any]],
    hours: Sequence[float],
    x: ClockAxis,
    y: Axis,
    *,
    scale: float,
    steps: bool,
    horizon: float,
) -> str:
    """One path per series (values divided by ``scale``, gaps at None): steps held to
    ``horizon``, or straight segments."""
    parts = []
    for s in series:
        vs = [None if v is None else v / scale for v in s["values"]]
        pts = [(x(h), y(v)) for h, v in zip(hours, vs, strict=False) if v is not None]
        if not pts:
            continue
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        if steps:
            xs.append(x(horizon))
            ys.append(ys[-1])
            d = step_path(xs, ys)
        else:
            d = poly_path(xs, ys)
        dash = f' stroke-dasharray="{s["dash"]}"' if s.get("dash") else ""
        parts.append(
            f'<path d="{d}" fill="none" stroke="{s["color"]}" stroke-width="{s.get("width", 2)}"'
            f'{dash} class="series" stroke-linejoin="round"/>'
        )
    return "".join(parts)


def line_chart(
    *,
    chart_id: str,
    hours: Sequence[float],
    horizon: float,
    series: Sequence[Mapping[str, Any]],
    start: datetime | None,
    y_label: str,
    y_fmt: Callable[[float], str],
    width: int = 1100,
    height: int = 300,
    y_min: float | None = None,
    y_max: float | None = None,
    hlines: Sequence[tuple[float, str]] = (),
    steps: bool = True,
    cursor: bool = True,
    scale: float = 1.0,
    legend: bool = True,
    marks: Sequence[tuple[float, str]] = (),
) -> tuple[str, dict[str, Any]]:
    """An SVG line chart over clock time and its description for the page's script.

    ``series``: ``{"label", "color", "values", "dash"?, "width"?, "unit"?}``; values at
    ``hours`` (``scale`` divides them for the axis). ``hlines``: (value, label) reference
    lines, labelled in the right margin; ``marks``: (hour, label) vertical marks. Returns
    the SVG and ``{"x0", "x1", "h1", "series"}`` for the hover read-out and the cursor.
    """
    left, right, bottom = 64, 52 if hlines else 30, 40
    leg, leg_h = legend_rows(series, left, width - right) if legend else ("", 0.0)
    top = leg_h + 26
    height = int(height + leg_h)
    x = ClockAxis(
        horizon, left, width - right, start, max_ticks=max(3, (width - left - right) // 95)
    )
    yt, y_fmt = _value_ticks(series, scale, y_min, y_max, y_fmt)
    y = Axis(yt[0], yt[-1], height - bottom, top)
    parts = [
        f'<svg class="chart" id="{esc(chart_id)}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(y_label)}">',
        leg,
        value_axis(y, yt, left, width - right, y_fmt),
        time_axis(x, top, height - bottom),
        svg_text(
            left - 8,
            top - 12,
            y_label,
            anchor="end" if len(y_label) < 4 else "start",
            cls="axis-title",
        )
        if len(y_label) < 4
        else svg_text(8, top - 12, y_label, cls="axis-title"),
        _guides(x, y, hlines, marks, (left, top, width - right, height - bottom)),
        _series_paths(series, hours, x, y, scale=scale, steps=steps, horizon=horizon),
    ]
    if cursor:
        parts.append(
            f'<line class="cursor" x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}"/>'
        )
        parts.append(
            f'<rect class="hover" x="{left}" y="{top}" width="{width - right - left}" '
            f'height="{height - bottom - top}" fill="transparent"/>'
        )
    parts.append("</svg>")
    desc = {
        "x0": left,
        "x1": width - right,
        "h1": float(horizon),
        "series": [
            {
                "label": s["label"],
                "values": list(s["values"]),
                "unit": s.get("unit", ""),
            }
            for s in series
        ],
    }
    return "".join(parts), desc
