"""What every warmgrid HTML page shares: the shell, the style, the script, the labels,
the palette and small hand-written SVG charts.

A page is one self-contained file: CSS and JavaScript inline, data as one JSON block
(``<script type="application/json">``), charts as inline SVG drawn here in Python. No
library, no network request, no build step: the page opens offline in any browser for as
long as browsers read SVG, and the script only recolours what is already drawn (the map
at another hour, a cursor, a tooltip). Every string that comes from the user (scenario,
district and element names, warnings) is escaped; the script writes text with
``textContent`` only.
"""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

__all__ = [
    "KIND_LABELS",
    "MODE_LABELS",
    "PALETTE",
    "Axis",
    "ClockAxis",
    "esc",
    "fmt_int",
    "line_chart",
    "metric_label",
    "page",
    "temp_color",
]

esc = html.escape

#: Indoor temperature -> colour: ColorBrewer BuPu (colour-blind safe, sequential), dark
#: purple for the coldest homes to near white for warm ones, so cold reads as danger.
PALETTE: list[tuple[float, str]] = [
    (-2.0, "#4d004b"),
    (2.0, "#810f7c"),
    (5.0, "#88419d"),
    (9.0, "#8c6bb1"),
    (12.0, "#8c96c6"),
    (14.0, "#9ebcda"),
    (16.0, "#bfd3e6"),
    (18.0, "#e0ecf4"),
    (20.0, "#f7fcfd"),
]

#: Series colours (Okabe–Ito, colour-blind safe): light, heat, water, outdoor, accents.
LIGHT, HEAT, WATER = "#e69f00", "#d55e00", "#0072b2"
GREEN, SKY, PURPLE, GREY = "#009e73", "#56b4e9", "#cc79a7", "#6b7280"

#: Element kinds in words (:mod:`warmgrid.power.elements`).
KIND_LABELS = {
    "bus": "bus",
    "line": "line",
    "trafo": "transformer",
    "impedance": "series impedance",
    "gen": "generating unit",
    "static": "static generator",
    "external": "supply point",
    "load": "load",
    "shunt": "shunt",
    "substation": "substation",
    "distribution_substation": "distribution substation",
    "branch": "branch",
}

MODE_LABELS = {
    "mld": "operators respond (maximum load delivery with priorities)",
    "cascade": "nobody acts (overloaded lines trip in a cascade)",
}

_SERVICE = {"power": "light", "heat": "heat", "water": "water"}


def metric_label(key: str) -> str:
    """A result key in words: ``person_hours_below_12c`` -> ``person-hours indoors below
    12 °C``; an unknown key has its underscores replaced."""
    import re

    if m := re.fullmatch(r"person_hours_without_(\w+)", key):
        return f"person-hours without {_SERVICE.get(m[1], m[1])}"
    if m := re.fullmatch(r"person_hours_below_(m?[\d_p]+)c(_unsheltered)?", key):
        t = m[1].replace("m", "−").replace("p", ".").replace("_", ".")
        tail = ", not counting people in shelters" if m[2] else ""
        return f"person-hours indoors below {t} °C{tail}"
    if m := re.fullmatch(r"first_area_below_(m?[\d_p]+)c_h", key):
        t = m[1].replace("m", "−").replace("p", ".").replace("_", ".")
        return f"first homes below {t} °C, hours after the damage"
    if m := re.fullmatch(r"people_without_(\w+?)(_peak)?", key):
        return f"people without {_SERVICE.get(m[1], m[1])}" + (", at the peak" if m[2] else "")
    known = {
        "energy_not_served_mwh": "energy not served, MWh",
        "facilities_past_backup": "hospitals past their backup power",
        "total": "weighted total",
    }
    return known.get(key, key.replace("_", " "))


def fmt_int(x: Any) -> str:
    """``1,234,567``; None and NaN as a dash."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{round(float(x)):,}"


def fmt_num(x: Any, digits: int = 1) -> str:
    """``-7.46`` -> ``−7.5`` (a true minus sign); None and NaN as a dash."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{float(x):,.{digits}f}".replace("-", "−")


def temp_color(t: float | None) -> str:
    """The palette's colour of an indoor temperature (linear between stops)."""
    if t is None or not math.isfinite(t):
        return "#cccccc"
    if t <= PALETTE[0][0]:
        return PALETTE[0][1]
    for (t0, c0), (t1, c1) in itertools.pairwise(PALETTE):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            rgb = [
                round(int(c0[i : i + 2], 16) * (1 - f) + int(c1[i : i + 2], 16) * f)
                for i in (1, 3, 5)
            ]
            return "#" + "".join(f"{v:02x}" for v in rgb)
    return PALETTE[-1][1]


# ------------------------------------------------------------------------------ time
def parse_start(start: Any) -> datetime | None:
    if not start:
        return None
    try:
        return datetime.fromisoformat(str(start)).replace(tzinfo=None)
    except ValueError:
        return None


def clock(start: datetime | None, hour: float, *, day: bool = True) -> str:
    """``Tue 3 Feb 14:00`` (or ``hour 14`` without a start)."""
    if start is None:
        return f"hour {hour:g}"
    t = start + timedelta(hours=float(hour))
    s = f"{t:%a} {t.day} {t:%b} {t:%H:%M}" if day else f"{t:%H:%M}"
    return s


# ------------------------------------------------------------------------------ axes
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


def element_name(name: Any, element: Any) -> str:
    """A damaged element's name for people: its name, or its id where the name is only a
    number (MATPOWER's ``line:3`` is named ``3``)."""
    n = str(name or element)
    return str(element) if n.isdigit() else n


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


# ------------------------------------------------------------------------------ page
def _asset(name: str) -> str:
    return files("warmgrid.report").joinpath("assets", name).read_text(encoding="utf-8")


def plain(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays as Python values and NaN or infinity as None
    (JSON has neither)."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return plain(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def data_block(data: Mapping[str, Any]) -> str:
    """The page's data as JSON inside a script tag (``<``, ``>`` and ``&`` escaped so no
    string can close the tag)."""
    text = json.dumps(plain(data), separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/json" id="wg-data">{text}</script>'


def page(title: str, body: str, data: Mapping[str, Any], *, kind: str) -> str:
    """The whole HTML document: inline style, the body, the data and the script."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_asset('page.css')}</style></head>"
        f'<body class="{esc(kind)}"><main>{body}</main>'
        '<div id="tip" class="tip" role="tooltip" hidden></div>'
        f"{data_block(data)}<script>{_asset('page.js')}</script></body></html>"
    )


def context_section(
    *,
    title: str,
    subtitle: str,
    facts: Sequence[tuple[str, str]],
    damage: Sequence[Mapping[str, Any]] | None,
    warnings: Sequence[str] | None,
    assumptions: Sequence[str] | None,
    note: str = "",
) -> str:
    """The header: title, facts (label, value), the damaged elements by name and kind,
    the warnings and the assumptions (None: left out; ``note`` says why)."""
    dl = "".join(
        f"<div{' class=wide' if len(v) > 48 else ''}><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>"
        for k, v in facts
    )
    parts = [
        f'<header><h1>{esc(title)}</h1><p class="sub">{esc(subtitle)}</p>',
        f'<dl class="facts">{dl}</dl>',
    ]
    if damage is not None:
        chips = "".join(
            f"<li><b>{esc(element_name(d.get('name'), d.get('id')))}</b> "
            f'<span class="kind">{esc(KIND_LABELS.get(str(d.get("kind")), str(d.get("kind", ""))))}</span></li>'
            for d in damage
        )
        parts.append(
            f'<div class="damage"><h2>Damaged ({len(damage)})</h2><ul class="chips">{chips}</ul></div>'
        )
    if warnings is not None:
        if warnings:
            parts.append(
                '<div class="notes"><section class="note warn" aria-label="warnings">'
                "<h2>Warnings</h2><ul>"
                + "".join(f"<li>{esc(str(w))}</li>" for w in warnings)
                + "</ul></section>"
            )
        else:
            parts.append(
                '<div class="notes"><section class="note ok" aria-label="warnings">'
                "<h2>Warnings</h2><p>None: the data raised no warning.</p></section>"
            )
        if assumptions:
            parts.append(
                '<section class="note assume" aria-label="assumptions"><h2>Assumptions</h2><ul>'
                + "".join(f"<li>{esc(str(a))}</li>" for a in assumptions)
                + "</ul></section></div>"
            )
        else:
            parts.append(
                '<section class="note assume" aria-label="assumptions"><h2>Assumptions</h2>'
                "<p>None: every figure comes from the input data.</p></section></div>"
            )
    if note:
        parts.append(f'<p class="lead">{note}</p>')
    parts.append("</header>")
    return "".join(parts)


def cards(items: Sequence[tuple[str, str, str, str]]) -> str:
    """Headline numbers: (css class, label, value, note)."""
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {esc(c)}"><span class="label">{esc(label)}</span>'
            f'<b>{esc(value)}</b><span class="note">{esc(note)}</span></div>'
            for c, label, value, note in items
        )
        + "</div>"
    )


def table(
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    cls: str = "",
    text_cols: Sequence[int] = (0,),
) -> str:
    """An HTML table; cells are escaped; columns not in ``text_cols`` are numbers
    (right-aligned)."""

    def td(tag: str, i: int, c: str) -> str:
        return f"<{tag}{'' if i in text_cols else ' class=num'}>{esc(c)}</{tag}>"

    h = "".join(td("th", i, c) for i, c in enumerate(head))
    body = "".join(
        "<tr>" + "".join(td("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in rows
    )
    return f'<table class="{esc(cls)}"><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>'


def footer(text: str) -> str:
    from warmgrid import __version__

    return f"<footer><p>{esc(text)} Made by warmgrid {esc(str(__version__))}; works offline, no data leaves this file.</p></footer>"
