"""The interactive map of a result's ``map`` object (:mod:`warmgrid.study.mapdata`):
an SVG drawn from coordinates (no tiles), a side panel with the hour's figures and the
legend, and the data the page's script needs to redraw it at another hour.

Districts are discs whose area is proportional to their people, filled by their indoor
temperature at the chosen hour (:data:`~warmgrid.report.page.PALETTE`); branches out are
dashed, buses without supply dark; heat sources (diamonds), water stations (triangles)
and hospitals (crosses) take their state's colour; damaged elements are ringed until
repaired; shelters and mobile generators appear when a siting placed them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warmgrid.report.charts import (
    svg_text,
)
from warmgrid.report.mapsymbols import (
    badge,
    diamond,
    legend_bar,
    legend_sizes,
    legend_symbols,
    plus,
    triangle,
    unit_svg,
)
from warmgrid.report.page import (
    KIND_LABELS,
    PALETTE,
    clock,
    element_name,
    esc,
    fmt_int,
    temp_color,
)

__all__ = ["dense", "map_section"]

#: The coldest districts are named first on the map (then the biggest, where room is left).
LABEL_COLDEST = 12

_W = 760.0
_PAD = 26.0


def _at(changes: Sequence[Sequence[Any]], hour: float, default: Any = None) -> Any:
    """The value of a ``[[hour, value], ...]`` change list at ``hour``."""
    v = default
    for h, x in changes:
        if h <= hour + 1e-9:
            v = x
        else:
            break
    return v


def dense(
    changes: Sequence[Sequence[Any]], n: int, default: Any = None, dt: float = 1.0
) -> list[Any]:
    """A ``[[hour, value], ...]`` change list as one value per hour 0..n-1."""
    out, j, v = [], 0, default
    for k in range(n):
        while j < len(changes) and changes[j][0] <= k * dt + 1e-9:
            v = changes[j][1]
            j += 1
        out.append(v)
    return out


def _coldest_hour(areas: Sequence[Mapping[str, Any]], n: int, dt: float) -> int:
    """The hour whose people-weighted mean indoor temperature is lowest (the map opens
    there: the moment that matters most); the first such hour."""
    total = [0.0] * (n + 1)
    for a in areas:
        for k, t in enumerate(dense(a.get("temp_c", []), n + 1, a.get("min_temp_c", 20.0), dt)):
            total[k] += a["population"] * (t if t is not None else 20.0)
    best = min(total)
    return next(k for k, v in enumerate(total) if v <= best + 1e-6 * max(1.0, abs(best)))


class _Proj:
    def __init__(self, pts: Sequence[tuple[float, float]]) -> None:
        xs = [p[0] for p in pts] or [0.0, 1.0]
        ys = [p[1] for p in pts] or [0.0, 1.0]
        self.x0, self.x1, self.y0, self.y1 = min(xs), max(xs), min(ys), max(ys)
        dx = max(self.x1 - self.x0, 1e-9)
        dy = max(self.y1 - self.y0, 1e-9)
        h = min(max(_W * dy / dx, 0.55 * _W), 1.05 * _W)
        self.w, self.h = _W, h
        self.s = min((_W - 2 * _PAD) / dx, (h - 2 * _PAD) / dy)
        # centre the drawing
        self.ox = (_W - self.s * dx) / 2
        self.oy = (h - self.s * dy) / 2

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        return self.ox + (x - self.x0) * self.s, self.h - self.oy - (y - self.y0) * self.s


def _heat_class(pct: Any) -> str:
    if pct is None:
        return "s-run"
    return "s-run" if pct >= 99 else ("s-down" if pct <= 0 else "s-part")


class _Buckets:
    """Boxes in a uniform grid of cells, to find the ones near a box fast."""

    def __init__(self, cell: float = 48.0) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[Any]] = {}

    def _keys(self, box: tuple[float, float, float, float]) -> list[tuple[int, int]]:
        c = self.cell
        return [
            (i, j)
            for i in range(int(box[0] // c), int(box[2] // c) + 1)
            for j in range(int(box[1] // c), int(box[3] // c) + 1)
        ]

    def add(self, box: tuple[float, float, float, float], item: Any) -> None:
        for k in self._keys(box):
            self.cells.setdefault(k, []).append(item)

    def near(self, box: tuple[float, float, float, float]) -> list[Any]:
        seen: dict[int, Any] = {}
        for k in self._keys(box):
            for it in self.cells.get(k, ()):
                seen[id(it)] = it
        return list(seen.values())


def _labels(
    placed_circles: Sequence[tuple[float, float, float, str, int]],
    w: float,
    h: float,
    obstacles: Sequence[tuple[float, float, float, float]] = (),
    first: Sequence[int] = (),
) -> str:
    """District names where there is room: the districts ``first`` (the coldest) in
    their order, then the biggest; a name only where it overlaps no other name, no
    obstacle (damage badges) and no other district's disc."""
    rank = {i: k for k, i in enumerate(first)}
    boxes, discs = _Buckets(), _Buckets()
    for b in obstacles:
        boxes.add(b, b)
    for c in placed_circles:
        x, y, r = c[0], c[1], c[2]
        discs.add((x - r, y - r, x + r, y + r), c)
    out = []
    for x, y, r, name, i in sorted(
        placed_circles, key=lambda c: (rank.get(c[4], len(rank)), -c[2])
    ):
        tw, th = 5.6 * len(name) + 2, 11.0
        for bx, by, anchor in ((x + r + 2, y + 3.5, "start"), (x - r - 2 - tw, y + 3.5, "end")):
            box = (bx, by - th + 2, bx + tw, by + 2)
            if box[0] < 2 or box[2] > w - 2 or box[1] < 2 or box[3] > h - 2:
                continue
            if any(
                not (box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3])
                for b in boxes.near(box)
            ):
                continue
            hit = False
            for cx, cy, cr, _n, j in discs.near(box):
                if j == i:
                    continue
                nx = min(max(cx, box[0]), box[2])
                ny = min(max(cy, box[1]), box[3])
                if (nx - cx) ** 2 + (ny - cy) ** 2 < (cr * 0.8) ** 2:
                    hit = True
                    break
            if hit:
                continue
            boxes.add(box, box)
            tx = bx if anchor == "start" else bx + tw
            out.append(svg_text(tx, by, name, anchor=anchor, cls="name", extra=f' data-i="{i}"'))
            break
    return "".join(out)


@dataclass(frozen=True)
class _Drawn:
    """What the map draws: the districts and the grid, and the heat sources, water
    stations, hospitals, damaged elements and emergency units that have coordinates."""

    areas: list[Mapping[str, Any]]
    buses: list[Mapping[str, Any]]
    branches: list[Mapping[str, Any]]
    heat: list[Mapping[str, Any]]
    water: list[Mapping[str, Any]]
    fac: list[Mapping[str, Any]]
    dmg: list[Mapping[str, Any]]
    units: list[Mapping[str, Any]]

    @classmethod
    def of(cls, m: Mapping[str, Any], areas: list[Mapping[str, Any]]) -> _Drawn:
        def placed(key: str) -> list[Mapping[str, Any]]:
            return [e for e in m.get(key, []) if e.get("x") is not None]

        return cls(
            areas=areas,
            buses=list(m.get("buses", [])),
            branches=list(m.get("branches", [])),
            heat=placed("heat_sources"),
            water=placed("water_stations"),
            fac=placed("facilities"),
            dmg=placed("damage"),
            units=placed("units"),
        )

    def points(self) -> list[tuple[float, float]]:
        """Every point the drawing must hold (damage sits on the grid's own points)."""
        pts = [(a["x"], a["y"]) for a in self.areas] + [(b["x"], b["y"]) for b in self.buses]
        pts += [(e["x"], e["y"]) for e in (*self.heat, *self.water, *self.fac, *self.units)]
        return pts


def _branches_svg(branches: Sequence[Mapping[str, Any]], P: _Proj) -> str:
    """The branches as lines, dashed when out."""
    svg = ['<g class="g-grid">']
    for k, b in enumerate(branches):
        x1, y1 = P(*b["from"])
        x2, y2 = P(*b["to"])
        if abs(x1 - x2) + abs(y1 - y2) < 0.5:
            continue
        cls = "br out" if b.get("out") else "br"
        svg.append(
            f'<line class="{cls}" data-k="{k}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>'
        )
    svg.append("</g>")
    return "".join(svg)


def _areas_svg(
    areas: Sequence[Mapping[str, Any]], P: _Proj, h0: int, rmax: float, pmax: float
) -> tuple[str, list[tuple[float, float, float, str, int]]]:
    """The districts as discs of area proportional to their people, filled by their
    indoor temperature at hour ``h0``, the biggest first so the small ones stay on top;
    and the discs ``(x, y, r, name, i)`` for the names."""
    svg = ['<g class="g-areas">']
    circles = []
    for i in sorted(range(len(areas)), key=lambda i: -areas[i]["population"]):
        a = areas[i]
        x, y = P(a["x"], a["y"])
        r = max(2.5, rmax * math.sqrt(max(a["population"], 0) / pmax))
        t = _at(a.get("temp_c", []), h0, a.get("min_temp_c"))
        circles.append((x, y, r, str(a.get("name") or a["id"]), i))
        svg.append(
            f'<circle class="area" data-i="{i}" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" '
            f'fill="{temp_color(t)}" aria-label="{esc(str(a.get("name") or a["id"]))}"/>'
        )
    svg.append("</g>")
    return "".join(svg), circles


def _buses_svg(buses: Sequence[Mapping[str, Any]], P: _Proj) -> str:
    """The buses as small squares (on top of the districts), dark without supply."""
    svg = ['<g class="g-grid">']
    for i, b in enumerate(buses):
        x, y = P(b["x"], b["y"])
        cls = "bus dark" if b.get("dark") else "bus"
        svg.append(
            f'<rect class="{cls}" data-b="{i}" x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6"/>'
        )
    svg.append("</g>")
    return "".join(svg)


def _services_svg(d: _Drawn, P: _Proj, h0: int, n: int) -> str:
    """Heat sources (diamonds), water stations (triangles) and hospitals (crosses) in
    their state's colour at hour ``h0``."""
    svg = ['<g class="g-heat">']
    for j, h in enumerate(d.heat):
        x, y = P(h["x"], h["y"])
        r = 7.5 if h.get("kind") == "chp" else 5.5
        cls = _heat_class(_at(h.get("available_pct", []), min(h0, n - 1)))
        svg.append(f'<path class="heat {cls}" data-h="{j}" d="{diamond(x, y, r)}"/>')
    svg.append('</g><g class="g-water">')
    for j, w in enumerate(d.water):
        x, y = P(w["x"], w["y"])
        st = _at(w.get("state", []), min(h0, n - 1), "pumps")
        svg.append(f'<path class="water s-{esc(str(st))}" data-w="{j}" d="{triangle(x, y, 5.5)}"/>')
    svg.append('</g><g class="g-hosp">')
    for j, f in enumerate(d.fac):
        x, y = P(f["x"], f["y"])
        st = _at(f.get("state", []), min(h0, n - 1), "mains")
        svg.append(f'<path class="hosp s-{esc(str(st))}" data-f="{j}" d="{plus(x, y, 5)}"/>')
    svg.append("</g>")
    return "".join(svg)


def _units_svg(units: Sequence[Mapping[str, Any]], P: _Proj, h0: int) -> str:
    """Shelters and mobile generators beside their sites, pale until they arrive."""
    svg = ['<g class="g-units">']
    for j, u in enumerate(units):
        x, y = P(u["x"], u["y"])
        x, y = x + 9, y - 9  # beside the site's own symbol
        pending = " pending" if float(u.get("hour", 0)) > h0 else ""
        svg.append(
            unit_svg(u["kind"], x, y).replace(
                'class="unit"', f'class="unit{pending}" data-u="{j}"', 1
            )
        )
    svg.append("</g>")
    return "".join(svg)


def _damage_svg(
    dmg: Sequence[Mapping[str, Any]], P: _Proj, h0: int
) -> tuple[str, list[tuple[float, float, float, float]]]:
    """A badge beside each damaged element (repaired by hour ``h0`` or not), and the
    badges' boxes, which names must not cover."""
    svg = ['<g class="g-damage">']
    seen: dict[tuple[int, int], int] = {}
    badges = []
    for j, d in enumerate(dmg):
        x, y = P(d["x"], d["y"])
        key = (round(x), round(y))
        k = seen.get(key, 0)  # several damaged elements at one place: badges side by side
        seen[key] = k + 1
        back = d.get("back_h")
        cls = "dmg repaired" if back is not None and back <= h0 + 1e-9 else "dmg"
        svg.append(f'<g class="{cls}" data-d="{j}">{badge(x, y, k)}</g>')
        bx, by = x + 11 + 15 * k, y - 11
        badges.append((bx - 8, by - 8, bx + 8, by + 8))
    svg.append("</g>")
    return "".join(svg), badges


def _scale_bar(P: _Proj) -> str:
    """A scale bar of a round number of km, at least 60 px long."""
    km = next((k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500) if k * P.s >= 60), 500)
    sx, sy = 14.0, P.h - 12
    return (
        f'<path class="scale" d="M{sx},{sy - 4}V{sy}H{sx + km * P.s:.1f}V{sy - 4}" fill="none"/>'
        + svg_text(sx + km * P.s + 6, sy, f"{km} km", cls="tick")
    )


def _map_svg(d: _Drawn, P: _Proj, h0: int, n: int, rmax: float, pmax: float) -> str:
    """The map at hour ``h0``: the grid, the districts, the buses, the services, the
    emergency units, the damage, the names where there is room and a scale bar."""
    svg = [
        f'<svg id="map" class="map" viewBox="0 0 {P.w:.0f} {P.h:.0f}" role="img" '
        'aria-label="map of the districts, the grid and the services">',
        _branches_svg(d.branches, P),
    ]
    areas, circles = _areas_svg(d.areas, P, h0, rmax, pmax)
    svg += [areas, _buses_svg(d.buses, P), _services_svg(d, P, h0, n), _units_svg(d.units, P, h0)]
    damage, badges = _damage_svg(d.dmg, P, h0)
    cold = sorted(range(len(d.areas)), key=lambda i: d.areas[i].get("min_temp_c", math.inf))
    names = _labels(circles, P.w, P.h, badges, first=cold[:LABEL_COLDEST])
    svg += [damage, f'<g class="g-names">{names}</g>', _scale_bar(P)]
    return "".join(svg) + "</svg>"


def _controls(start: datetime | None, h0: int, n: int) -> str:
    """The play button and the hour slider, opening at hour ``h0``."""
    hclock = clock(start, h0)
    return (
        '<div class="controls">'
        '<button type="button" id="play" aria-label="play the hours">▶ Play</button>'
        f'<input type="range" id="hour" min="0" max="{n}" step="1" value="{h0}" '
        'aria-label="hour after the damage">'
        f'<span class="readout"><span class="clock" id="r-clock">{esc(hclock)}</span> '
        f'<span class="muted" id="r-hour">hour {h0} of {n}</span></span></div>'
    )


def _side_panel(
    m: Mapping[str, Any],
    people: Mapping[str, Sequence[float]],
    t_out: Sequence[float],
    pk: int,
    below: float,
    thresholds: Sequence[float],
    rmax: float,
    pmax: float,
) -> str:
    """The hour's figures (at step ``pk``), the legends and the layer switches."""

    def ppl(key: str) -> str:
        s = people.get(key) or []
        return fmt_int(s[pk]) if pk < len(s) else "—"

    return (
        '<aside class="side">'
        '<div class="now">'
        f'<div><span>outdoors</span><b id="r-out">{esc(f"{t_out[pk]:.0f} °C" if pk < len(t_out) else "—")}</b></div>'
        f'<div><span>people without light</span><b id="r-light">{ppl("light")}</b></div>'
        f'<div><span>people without heat</span><b id="r-heat">{ppl("heat")}</b></div>'
        f'<div><span>people without water</span><b id="r-water">{ppl("water")}</b></div>'
        f'<div><span>people below {below:g} °C indoors</span><b id="r-cold">—</b></div>'
        "</div>"
        "<h3>Indoor temperature, °C</h3>"
        + legend_bar(thresholds)
        + "<h3>People in the district</h3>"
        + legend_sizes(rmax, pmax)
        + "<h3>Symbols</h3>"
        + legend_symbols(m)
        + "<h3>Show</h3>"
        + "".join(
            f'<label><input type="checkbox" data-layer="{k}" checked> {esc(v)}</label>'
            for k, v in (
                ("grid", "grid"),
                ("heat", "heat sources"),
                ("water", "water stations"),
                ("hosp", "hospitals"),
                ("names", "names"),
            )
        )
        + "</aside>"
    )


def _map_data(
    m: Mapping[str, Any],
    d: _Drawn,
    archetypes: Mapping[str, str],
    bus_index: Mapping[str, int],
    br_index: Mapping[str, int],
) -> dict[str, Any]:
    """What the page's script needs to redraw the map at another hour (without the
    hours and the people: :func:`map_section` adds those)."""
    return {
        "areas": [
            {
                "name": str(a.get("name") or a["id"]),
                "district": str(a.get("district") or ""),
                "pop": a["population"],
                "arch": archetypes.get(str(a.get("archetype")), str(a.get("archetype", ""))),
                "min": a.get("min_temp_c"),
                "t": a.get("temp_c", []),
                "light": a.get("light_pct", []),
                "heat": a.get("heat_pct", []),
                "water": a.get("water_pct", []),
                "drained": a.get("drained", []),
            }
            for a in d.areas
        ],
        "buses": [b["id"] for b in d.buses],
        "branches": [b["id"] for b in d.branches],
        "power": [
            {
                "h": s["hour"],
                "dark": [bus_index[b] for b in s.get("dark", []) if b in bus_index],
                "out": [br_index[b] for b in s.get("out", []) if b in br_index],
                "dmg": [j for j, e in enumerate(d.dmg) if e["id"] in set(s.get("damaged", []))],
            }
            for s in m.get("power", [])
        ],
        "heat": [
            {
                "name": h["name"],
                "kind": h.get("kind", ""),
                "mw": h.get("heat_mw"),
                "s": h.get("available_pct", []),
            }
            for h in d.heat
        ],
        "water": [
            {"name": w["name"], "res": w.get("reservoir_h"), "s": w.get("state", [])}
            for w in d.water
        ],
        "fac": [
            {
                "name": f["name"],
                "kind": f.get("kind", ""),
                "backup": f.get("backup_h"),
                "s": f.get("state", []),
            }
            for f in d.fac
        ],
        "damage": [
            {
                "name": element_name(e.get("name"), e["id"]),
                "kind": KIND_LABELS.get(e.get("kind", ""), e.get("kind", "")),
                "back": e.get("back_h"),
            }
            for e in d.dmg
        ],
        "units": [
            {
                "kind": u["kind"],
                "name": u["name"],
                "h": u.get("hour", 0),
                "size": u.get("mw") if u["kind"] == "generator" else u.get("persons"),
            }
            for u in d.units
        ],
        "palette": PALETTE,
    }


def map_section(
    m: Mapping[str, Any],
    *,
    start: datetime | None,
    people: Mapping[str, Sequence[float]],
    archetypes: Mapping[str, str],
    thresholds: Sequence[float],
    note: str = "",
) -> tuple[str, dict[str, Any]]:
    """The map's HTML (controls, SVG, side panel) and its data for the script.

    ``people``: hourly people without ``light``, ``heat`` and ``water`` for the read-out;
    ``archetypes``: building type key -> words.
    """
    areas = list(m.get("areas", []))
    n = int(m.get("n_hours") or len(people.get("heat", [])) or 1)
    dt = float(m.get("dt_h") or 1.0)
    d = _Drawn.of(m, areas)
    P = _Proj(d.points())
    h0 = _coldest_hour(areas, n, dt) if areas else 0
    pmax = max((a["population"] for a in areas), default=1) or 1
    rmax = max(9.0, min(18.0, P.w / 42))
    bus_index = {b["id"]: i for i, b in enumerate(d.buses)}
    br_index = {b["id"]: i for i, b in enumerate(d.branches)}
    svg = _map_svg(d, P, h0, n, rmax, pmax)
    t_out = m.get("t_out_c") or []
    controls = _controls(start, h0, n)
    pk = min(h0, n - 1)
    below = thresholds[len(thresholds) // 2] if thresholds else 12.0
    side = _side_panel(m, people, t_out, pk, below, thresholds, rmax, pmax)
    html = (
        controls
        + f'<div class="mapwrap"><div class="mapbox">{svg}</div>{side}</div>'
        + (f'<p class="lead">{esc(note)}</p>' if note else "")
    )
    data = {
        "n": n,
        "dt": dt,
        "h0": h0,
        "below": below,
        "t_out": t_out,
        "people": {k: list(v) for k, v in people.items()},
        **_map_data(m, d, archetypes, bus_index, br_index),
    }
    return html, data
