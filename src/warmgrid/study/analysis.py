"""Monte Carlo results: outcome distributions, which elements matter, the JSON summary.

Everything here reads the DuckDB store (:class:`~warmgrid.study.store.Store`) of a run
made by :func:`warmgrid.study.montecarlo.run_montecarlo`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from warmgrid.errors import InputError, quoted
from warmgrid.study.store import METRIC_COLUMNS, Store

__all__ = ["SUMMARY_METRICS", "criticality", "distributions", "summary"]

#: The outcomes summarised by :func:`distributions` (and ``warmgrid montecarlo``).
SUMMARY_METRICS = (
    "people_without_power_peak",
    "people_without_heat_peak",
    "people_without_water_peak",
    "person_hours_below_12c",
)


def distributions(
    store: str | Path | Store, run: str, metrics: Sequence[str] = SUMMARY_METRICS
) -> dict[str, dict[str, float | None]]:
    """Mean, p50, p90, p99, min and max of each metric over the run's samples.

    Quantiles are DuckDB's ``quantile_cont`` (linear interpolation between order
    statistics, the same as ``numpy.quantile``'s default).
    """
    st = store if isinstance(store, Store) else Store(store)
    st.run(run)
    for m in metrics:
        if m not in METRIC_COLUMNS:
            raise InputError(f"unknown metric {quoted(m)}", field="metric")
    stats = (
        "count({m})",
        "avg({m})",
        "quantile_cont({m}, 0.5)",
        "quantile_cont({m}, 0.9)",
        "quantile_cont({m}, 0.99)",
        "min({m})",
        "max({m})",
    )
    keys = ("samples", "mean", "p50", "p90", "p99", "min", "max")
    if not metrics:
        return {}
    row = st.query(  # one query (one opening of the file) for every metric
        "SELECT "
        + ", ".join(x.format(m=m) for m in metrics for x in stats)
        + " FROM samples WHERE run = ?",
        [run],
    )[0]
    out: dict[str, dict[str, float | None]] = {}
    for j, m in enumerate(metrics):
        vals = row[j * len(keys) : (j + 1) * len(keys)]
        out[m] = {k: (None if v is None else float(v)) for k, v in zip(keys, vals, strict=True)}
    return out


def criticality(
    store: str | Path | Store,
    run: str,
    *,
    metric: str = "person_hours_below_12c",
    top: int | None = None,
    by: str = "auto",
    min_samples: int = 1,
) -> Any:
    """Which elements matter most: the outcome with each element in the damage vs not.

    For each element ``e`` drawn in some but not all samples: ``mean_with`` (mean of
    ``metric`` over the samples whose damage holds ``e``), ``mean_without`` (over the
    others), ``difference = mean_with - mean_without``, and ``effect``, the coefficient of
    ``e`` in the least-squares fit ``metric ≈ b0 + Σ_e b_e·[e in damage]`` (the marginal
    effect with the other damaged elements held fixed; NaN when the samples cannot
    identify it, i.e. fewer samples than elements + 1). Elements in every sample (the
    scenario's ``[damage]``) have no comparison and are left out.

    Parameters
    ----------
    store, run : the results store and the run id.
    metric : the outcome column (:data:`~warmgrid.study.store.METRIC_COLUMNS`).
    top : keep the first ``top`` rows.
    min_samples : keep elements drawn in at least this many samples (the regression
        still uses them all); a mean over one sample says little.
    by : ranking key: ``"effect"``, ``"difference"``, or ``"auto"`` (``effect`` when the
        samples identify it, else ``difference``). The difference of means is biased by
        the other elements drawn with ``e`` (with few samples, an element that does
        nothing can rank high by sharing samples with one that does); the regression is not.

    Returns
    -------
    pandas.DataFrame
        Columns ``element, samples_with, mean_with, mean_without, difference, effect``,
        sorted by the ranking key, largest (worst) first, ties by element id.
    """
    import pandas as pd

    if metric not in METRIC_COLUMNS:
        raise InputError(
            f"unknown metric {quoted(metric)}{_closest_metric(metric)}", field="metric"
        )
    st = store if isinstance(store, Store) else Store(store)
    st.run(run)
    df = st.samples(run)
    cols = ["element", "samples_with", "mean_with", "mean_without", "difference", "effect"]
    y, x, elements = _design(df, metric)
    if not elements:
        return pd.DataFrame(columns=cols)
    cnt = x.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_with = (x.T @ y) / cnt
        mean_without = ((1 - x).T @ y) / (len(y) - cnt)
    effect = np.full(len(elements), np.nan)
    design = np.column_stack([np.ones(len(y)), x])
    if len(elements) and np.linalg.matrix_rank(design) == design.shape[1]:
        coef = np.linalg.lstsq(design, y, rcond=None)[0]
        effect = coef[1:]
    out = pd.DataFrame(
        {
            "element": elements,
            "samples_with": cnt.astype(int),
            "mean_with": mean_with,
            "mean_without": mean_without,
            "difference": mean_with - mean_without,
            "effect": effect,
        },
        columns=cols,
    )
    if by not in ("auto", "effect", "difference"):
        raise InputError(f"by must be 'auto', 'effect' or 'difference', got {by!r}", field="by")
    key = "effect" if by == "effect" or (by == "auto" and np.isfinite(effect).all()) else by
    key = "difference" if key == "auto" else key
    out = out.sort_values([key, "element"], ascending=[False, True], kind="stable")
    out = out[out["samples_with"] >= min_samples].reset_index(drop=True)
    return out.head(top) if top is not None else out


def _design(df: Any, metric: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The samples with a finite ``metric``: its values, the 0/1 design matrix of which
    element each one's damage holds, and those elements (drawn in some but not all)."""
    y = df[metric].to_numpy(dtype=float)
    keep = np.isfinite(y)
    y, damage = y[keep], [d for d, k in zip(df["damage"], keep, strict=True) if k]
    elements = sorted({e for d in damage for e in d})
    pos = {e: j for j, e in enumerate(elements)}
    x = np.zeros((len(y), len(elements)))
    for i, d in enumerate(damage):
        x[i, [pos[e] for e in d]] = 1.0
    cnt = x.sum(axis=0)
    varies = (cnt > 0) & (cnt < len(y))
    return y, x[:, varies], [e for e, v in zip(elements, varies, strict=True) if v]


def _closest_metric(name: str) -> str:
    from warmgrid.errors import closest

    return closest(name, METRIC_COLUMNS)


def summary(
    store: str | Path | Store,
    run: str,
    *,
    top: int = 10,
    metric: str = "person_hours_below_12c",
    min_samples: int = 1,
) -> dict[str, Any]:
    """The JSON summary of a run: its row, the distributions and the top critical elements."""
    st = store if isinstance(store, Store) else Store(store)
    with st.reader():
        return _summary(st, run, top=top, metric=metric, min_samples=min_samples)


def _summary(st: Store, run: str, *, top: int, metric: str, min_samples: int) -> dict[str, Any]:
    st.run(run)
    row = next(r for r in st.runs() if r["run"] == run)
    crit = criticality(st, run, top=top, metric=metric, min_samples=min_samples)
    return {
        "run": run,
        "scenario": row["scenario"],
        "store": str(st.path),
        "seed": row["seed"],
        "samples_requested": row["samples_requested"],
        "samples_done": row["samples_done"],
        "complete": row["complete"],
        "hazard": row["hazard"],
        "distributions": distributions(st, run),
        "criticality": {
            "metric": metric,
            "min_samples": min_samples,
            "elements": json.loads(crit.to_json(orient="records")),
        },
    }
