"""A self-contained HTML page for one impact run: no CDN, plots inlined as PNG.

The richer report (maps, Monte Carlo distributions) grows from here; this page shows the
people without light, heat and water over time and the indoor temperature curves.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["impact_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2433;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde}
.sub{color:#667}.cards{display:flex;gap:1rem;flex-wrap:wrap}
.card{background:#f4f6fb;border-radius:8px;padding:.8rem 1rem;min-width:180px}
.card b{display:block;font-size:1.5rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border-bottom:1px solid #e3e6ee;padding:.3rem .5rem;text-align:right}th{background:#f4f6fb}
td:first-child,th:first-child{text-align:left}img{max-width:100%}
"""


def _pyplot() -> Any:
    """matplotlib.pyplot on the headless Agg backend (imported only when a plot is drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _people_plot(timeline: Sequence[Mapping[str, Any]]) -> str:
    plt = _pyplot()

    h = [r["hour"] for r in timeline]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for key, label, color in (
        ("people_without_power", "without light", "#e0a100"),
        ("people_without_heat", "without heat", "#c0392b"),
        ("people_without_water", "without water", "#2471a3"),
    ):
        ax.step(h, [r[key] / 1e3 for r in timeline], where="post", label=label, color=color, lw=2)
    ax.set_xlabel("hours after the damage")
    ax.set_ylabel("thousand people")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return _png(fig)


def _temp_plot(
    hours: Sequence[float],
    temps: Mapping[str, Sequence[float]],
    t_out: Sequence[float],
    thresholds: Sequence[float],
) -> str:
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(9, 4))
    for name, series in temps.items():
        ax.plot(hours, series, lw=1.4, label=name)
    ax.plot(hours[:-1], t_out, color="#555", lw=1, ls="--", label="outdoor")
    for thr in thresholds:
        ax.axhline(thr, color="#c0392b", lw=0.8, ls=":")
        ax.text(hours[-1], thr, f" {thr:g} °C", va="center", fontsize=8, color="#c0392b")
    ax.set_xlabel("hours after the damage")
    ax.set_ylabel("indoor temperature, °C")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, ncol=2)
    return _png(fig)


def _map_plot(m: Mapping[str, Any]) -> str:
    """The network at hour 0 (branches out dashed red, dark buses black) with the areas
    as discs sized by people and coloured by their lowest indoor temperature."""
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(7.5, 7))
    for b in m["branches"]:
        xs, ys = (b["from"][0], b["to"][0]), (b["from"][1], b["to"][1])
        if b["out"]:
            ax.plot(xs, ys, color="#c0392b", lw=1.6, ls="--", zorder=1)
        else:
            ax.plot(xs, ys, color="#8893a8", lw=0.9, zorder=1)
    areas = m["areas"]
    if areas:
        pop = [a["population"] for a in areas]
        top = max(pop) or 1.0
        sc = ax.scatter(
            [a["x"] for a in areas],
            [a["y"] for a in areas],
            s=[20 + 280 * p / top for p in pop],
            c=[a["min_temp_c"] for a in areas],
            cmap="coolwarm",
            vmin=-10,
            vmax=20,
            alpha=0.75,
            edgecolors="white",
            linewidths=0.5,
            zorder=2,
        )
        fig.colorbar(sc, ax=ax, shrink=0.7, label="lowest indoor temperature, °C")
    live = [b for b in m["buses"] if not b["dark"]]
    dark = [b for b in m["buses"] if b["dark"]]
    ax.scatter(
        [b["x"] for b in live],
        [b["y"] for b in live],
        s=14,
        marker="s",
        color="#1d2433",
        zorder=3,
        label="substation bus",
    )
    if dark:
        ax.scatter(
            [b["x"] for b in dark],
            [b["y"] for b in dark],
            s=40,
            marker="x",
            color="#c0392b",
            zorder=4,
            label="dark bus",
        )
    ax.plot([], [], color="#c0392b", ls="--", label="branch out")
    ax.set_aspect("equal")
    ax.set_xlabel("x, km")
    ax.set_ylabel("y, km")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.grid(alpha=0.2)
    return _png(fig)


def impact_html(result: Mapping[str, Any], *, title: str) -> str:
    """Render an impact result (the ``warmgrid impact --json`` dict) as one HTML page."""
    tl = result.get("timeline", [])
    people = result.get("people", {})
    esc = html.escape
    cards = "".join(
        f'<div class="card">{esc(label)}<b>{people.get(key, 0):,.0f}</b>peak, people</div>'
        for key, label in (
            ("without_power", "Without light"),
            ("without_heat", "Without heat"),
            ("without_water", "Without water"),
        )
    )
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{esc(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>",
        f'<p class="sub">{esc(str(result.get("description", "")))}</p>',
        f'<div class="cards">{cards}</div>',
    ]
    if tl:
        parts.append("<h2>People without light, heat and water</h2>")
        parts.append(f'<img alt="people without services over time" src="{_people_plot(tl)}">')
    curves = result.get("temperature_curves")
    if curves:
        parts.append("<h2>Indoor temperature: the coldest district of each building type</h2>")
        parts.append(
            f'<img alt="indoor temperatures" src="{_temp_plot(curves["hours"], curves["series"], curves["t_out_c"], curves["thresholds_c"])}">'
        )
    if result.get("map"):
        parts.append("<h2>The city after the damage</h2>")
        parts.append(
            f'<img alt="map of the network and districts" src="{_map_plot(result["map"])}">'
        )
    areas = result.get("areas", [])
    if areas:
        thr_keys = [k for k in areas[0] if k.startswith("hours_to_")]
        head = "".join(f"<th>{esc(k.replace('hours_to_', 'h to '))}</th>" for k in thr_keys)
        parts.append(
            "<h2>Worst districts</h2><table><tr><th>area</th><th>people</th><th>archetype</th>"
            f"<th>min °C</th>{head}</tr>"
        )
        for a in sorted(areas, key=lambda a: a.get("min_temp_c", 99))[:25]:
            cells = "".join(f"<td>{'—' if a[k] is None else f'{a[k]:.1f}'}</td>" for k in thr_keys)
            parts.append(
                f"<tr><td>{esc(a['name'])}</td><td>{a['population']:,.0f}</td><td>{esc(a['archetype'])}</td>"
                f"<td>{a['min_temp_c']:.1f}</td>{cells}</tr>"
            )
        parts.append("</table>")
    m = result.get("metrics", {})
    if m:
        parts.append(
            "<h2>Metrics over the horizon</h2><table><tr><th>metric</th><th>value</th></tr>"
        )
        for k, v in m.items():
            val = "—" if v is None else (f"{v:,.1f}" if isinstance(v, float) else str(v))
            parts.append(f"<tr><td>{esc(k.replace('_', ' '))}</td><td>{val}</td></tr>")
        parts.append("</table>")
    parts.append(
        '<p class="sub">Made by warmgrid. Figures are model estimates; '
        "see the archetype parameters and their sources in the JSON.</p></body></html>"
    )
    return "".join(parts)
