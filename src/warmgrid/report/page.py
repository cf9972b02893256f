"""What every warmgrid HTML page shares: the shell, the style, the script, the labels,
the palette (the charts are in :mod:`warmgrid.report.charts`).

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
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

from warmgrid.outputs import plain

__all__ = [
    "KIND_LABELS",
    "MODE_LABELS",
    "PALETTE",
    "esc",
    "fmt_int",
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
def element_name(name: Any, element: Any) -> str:
    """A damaged element's name for people: its name, or its id where the name is only a
    number (MATPOWER's ``line:3`` is named ``3``)."""
    n = str(name or element)
    return str(element) if n.isdigit() else n


def start_label(start: datetime | None) -> str:
    """``Tue 3 Feb 2026 00:00``, or what an absent start means."""
    if start is None:
        return "not given (hours after the damage)"
    return f"{start:%a} {start.day} {start:%b %Y %H:%M}"


def outdoors_label(lo: float | None, hi: float | None) -> str:
    """``−20 to −16 °C`` (a true minus), or a dash without weather."""
    return "—" if lo is None or hi is None else f"{lo:.0f} to {hi:.0f} °C".replace("-", "−")


def mode_label(mode: Any) -> str:
    """The power mode in words (:data:`MODE_LABELS`)."""
    return MODE_LABELS.get(str(mode), str(mode if mode is not None else ""))


def counting_label(counting: Any) -> str:
    """What a result's ``counting`` means, in words."""
    if counting == "absolute":
        return "from zero, including what was missing before the damage"
    return "only the harm the damage adds to the state before it"


def until(start: Any, hours: float) -> str:
    """``72 h, to Fri 6 Feb 00:00``: a horizon from ``start`` (a datetime or None)."""
    if start is None:
        return f"{hours:g} h"
    end = start + timedelta(hours=hours)
    return f"{hours:g} h, to {end:%a} {end.day} {end:%b} {end:%H:%M}"


# ------------------------------------------------------------------------------ page
def _asset(name: str) -> str:
    return files("warmgrid.report").joinpath("assets", name).read_text(encoding="utf-8")


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
