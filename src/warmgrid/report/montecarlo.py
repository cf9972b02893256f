"""A self-contained HTML page for one Monte Carlo run: distributions and criticality.

Histograms and empirical exceedance curves of the outcomes over the samples, the
summary quantiles (from the DuckDB store, :func:`warmgrid.study.montecarlo.summary`)
and the elements whose damage matters most. Plots are PNG inlined as base64; no CDN.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import numpy as np

from warmgrid.report.html import _CSS, _png, _pyplot

__all__ = ["montecarlo_html"]

_LABELS = {
    "people_without_power_peak": "people without light (peak)",
    "people_without_heat_peak": "people without heat (peak)",
    "people_without_water_peak": "people without water (peak)",
    "person_hours_below_12c": "person-hours below 12 °C",
}


def _hist_plot(samples: Any, columns: list[str]) -> str:
    plt = _pyplot()

    fig, axes = plt.subplots(1, len(columns), figsize=(3.1 * len(columns), 2.8))
    for ax, c in zip(np.atleast_1d(axes), columns, strict=True):
        v = samples[c].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        scale, unit = (1e6, "millions") if len(v) and v.max() >= 1e7 else (1e3, "thousands")
        ax.hist(v / scale, bins=min(40, max(5, len(v) // 5)), color="#2471a3", alpha=0.85)
        ax.set_title(_LABELS.get(c, c), fontsize=9)
        ax.set_xlabel(unit, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def _exceedance_plot(samples: Any, columns: list[str]) -> str:
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(8, 3.4))
    for c in columns:
        v = np.sort(samples[c].to_numpy(dtype=float))
        if len(v) == 0:
            continue
        p = 1.0 - np.arange(len(v)) / len(v)
        ax.step(v / 1e3, p, where="post", label=_LABELS.get(c, c))
    ax.set_xlabel("thousand people")
    ax.set_ylabel("probability of at least")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


def _criticality_plot(rows: list[Mapping[str, Any]], metric: str) -> str:
    plt = _pyplot()

    names = [r["element"] for r in rows][::-1]
    vals = [(r["effect"] if r.get("effect") is not None else r["difference"]) or 0.0 for r in rows][
        ::-1
    ]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1))
    ax.barh(names, np.asarray(vals) / 1e6, color="#c0392b")
    ax.set_xlabel(f"added {_LABELS.get(metric, metric)} when damaged (millions)")
    ax.grid(alpha=0.3, axis="x")
    ax.tick_params(labelsize=8)
    return _png(fig)


def montecarlo_html(summary: Mapping[str, Any], samples: Any) -> str:
    """Render a run's summary (``warmgrid.study.montecarlo.summary``) and its samples."""
    esc = html.escape
    cols = [c for c in _LABELS if c in samples.columns]
    title = f"warmgrid: Monte Carlo run {summary['run']} of {summary['scenario']}"
    state = "complete" if summary["complete"] else "incomplete"
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{esc(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>",
        f'<p class="sub">{summary["samples_done"]:,} of {summary["samples_requested"]:,} samples '
        f"({state}), seed {summary['seed']}; hazard {esc(str(summary['hazard']))}</p>",
        "<h2>Outcomes over the samples</h2><table><tr><th>outcome</th>"
        + "".join(f"<th>{k}</th>" for k in ("mean", "p50", "p90", "p99", "max"))
        + "</tr>",
    ]
    for key, d in summary["distributions"].items():
        cells = "".join(
            f"<td>{'—' if d[k] is None else f'{d[k]:,.0f}'}</td>"
            for k in ("mean", "p50", "p90", "p99", "max")
        )
        parts.append(f"<tr><td>{esc(_LABELS.get(key, key))}</td>{cells}</tr>")
    parts.append("</table>")
    if len(samples) and cols:
        parts.append(f'<img alt="histograms of outcomes" src="{_hist_plot(samples, cols)}">')
        people = [c for c in cols if c.startswith("people_")]
        parts.append("<h2>How likely is at least this many people without a service</h2>")
        parts.append(f'<img alt="exceedance curves" src="{_exceedance_plot(samples, people)}">')
    crit = summary["criticality"]
    if crit["elements"]:
        parts.append("<h2>Elements that matter most to harden</h2>")
        parts.append(
            '<p class="sub">Added outcome when the element is among the damaged ones '
            "(regression effect where there are enough samples, else mean with − mean without).</p>"
        )
        parts.append(
            f'<img alt="criticality" src="{_criticality_plot(crit["elements"], crit["metric"])}">'
        )
    parts.append('<p class="sub">Made by warmgrid from the results store.</p></body></html>')
    return "".join(parts)
