"""From junctions to areas: water service, people without water, worst pressure.

An :class:`AreaMap` says which junctions supply each area: ``share[a, j]`` is the share
of junction j's demand that is area a's (a junction can serve several areas; an area can
have several junctions, e.g. its lower floors on the mains and its upper floors behind a
booster). It comes from an ``area_junctions`` CSV (``area,junction,share``; share defaults
to 1) or, by default, from coordinates: each junction to its nearest area
(:func:`nearest_area_map`), an assumption stated in :attr:`AreaMap.assumptions`.

:func:`area_water` aggregates a :class:`~warmgrid.water.hydraulics.HydraulicResult`:
an area's water service in an hour is the demand-weighted share of its junctions' delivered
over expected demand, ``Σ_j share_aj · delivered_j / Σ_j share_aj · expected_j``; its
people are without water while that is below ``service_share`` (default 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from warmgrid.errors import InputError, Problem, closest

__all__ = [
    "AreaMap",
    "AreaWater",
    "area_map_from_table",
    "area_water",
    "nearest_area_map",
    "read_area_junctions",
]


@dataclass(frozen=True, eq=False)
class AreaMap:
    """Junctions → areas.

    Attributes
    ----------
    areas : area ids, rows of ``share``.
    junctions : junction ids, columns of ``share`` (the hydraulic model's order).
    share : (n_areas, n_junctions) share of each junction's demand that is each area's;
        each column sums to at most 1.
    assumptions : sentences the caller should state (e.g. the nearest-area default).
    source : where the map came from (a file, or "nearest area").
    """

    areas: tuple[str, ...]
    junctions: tuple[str, ...]
    share: np.ndarray
    assumptions: tuple[str, ...] = ()
    source: str = ""

    @property
    def covered(self) -> np.ndarray:
        """(n_areas,) bool: the area has at least one junction."""
        return np.asarray((self.share > 0).any(axis=1), dtype=bool)

    def table(self) -> pd.DataFrame:
        """The map as an ``area,junction,share`` table (the CSV format)."""
        a, j = np.nonzero(self.share)
        return pd.DataFrame(
            {
                "area": [self.areas[i] for i in a],
                "junction": [self.junctions[i] for i in j],
                "share": self.share[a, j],
            }
        )


def area_map_from_table(
    table: pd.DataFrame,
    areas: Sequence[str],
    junctions: Sequence[str],
    *,
    source: str = "area_junctions",
) -> AreaMap:
    """Build and validate an :class:`AreaMap` from an ``area,junction[,share]`` table.

    Raises
    ------
    InputError : a missing column, an unknown area or junction (with the closest ids), a
        share outside (0, 1], a repeated pair, or a junction whose shares sum above 1;
        rows are 1-based data rows of the file.
    """
    areas, junctions = list(areas), list(junctions)
    for col in ("area", "junction"):
        if col not in table.columns:
            raise InputError(
                f"required column {col!r} is missing (columns: area,junction,share)",
                file=source,
                field=col,
            )
    apos = {a: i for i, a in enumerate(areas)}
    jpos = {j: i for i, j in enumerate(junctions)}
    share = np.zeros((len(areas), len(junctions)))
    shares = (
        pd.to_numeric(table["share"], errors="coerce")
        if "share" in table.columns
        else pd.Series(1.0, index=table.index)
    )
    probs: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for row, (a, j, s) in enumerate(
        zip(table["area"].astype(str), table["junction"].astype(str), shares, strict=True),
        start=1,
    ):
        if a not in apos:
            probs.append(Problem(f"unknown area {a!r}{closest(a, areas)}", source, row, "area"))
        if j not in jpos:
            probs.append(
                Problem(f"unknown junction {j!r}{closest(j, junctions)}", source, row, "junction")
            )
        if not (np.isfinite(s) and 0.0 < s <= 1.0):
            probs.append(Problem(f"share must be in (0, 1], got {s}", source, row, "share"))
        if (a, j) in seen:
            probs.append(Problem(f"repeated pair ({a}, {j})", source, row, "junction"))
        seen.add((a, j))
        if a in apos and j in jpos and np.isfinite(s):
            share[apos[a], jpos[j]] += s
    over = np.flatnonzero(share.sum(axis=0) > 1.0 + 1e-9)
    for j in over[:10]:
        probs.append(
            Problem(
                f"shares of junction {junctions[j]!r} sum to {share[:, j].sum():g} > 1",
                source,
                None,
                "share",
            )
        )
    if probs:
        raise InputError(problems=probs[:50])
    return AreaMap(tuple(areas), tuple(junctions), share, (), source)


def read_area_junctions(
    path: str | Path, areas: Sequence[str], junctions: Sequence[str]
) -> AreaMap:
    """Read an ``area_junctions`` CSV (``area,junction,share``; see :func:`area_map_from_table`)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such area_junctions CSV file", file=str(p))
    try:
        table = pd.read_csv(p, dtype={"area": str, "junction": str}, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(f"not a CSV table: {str(err).splitlines()[0]}", file=str(p)) from None
    return area_map_from_table(table, areas, junctions, source=str(p))


def nearest_area_map(
    junctions: Sequence[str],
    junction_xy: np.ndarray,
    areas: Sequence[str],
    area_xy: np.ndarray,
    *,
    km_per_unit: float = 1.0,
) -> AreaMap:
    """Each junction to its nearest area by coordinates (the default mapping).

    Parameters
    ----------
    junctions : junction ids; ``junction_xy`` (n_junctions, 2) their ``.inp`` coordinates.
    areas : area ids; ``area_xy`` (n_areas, 2) their ``x, y`` in km (NaN: unknown).
    km_per_unit : km per ``.inp`` coordinate unit (1: the file is in km like the areas).

    Returns
    -------
    AreaMap with share 1 from each junction to its nearest area, and the assumption
    spelled out in ``assumptions``.
    """
    jxy = np.asarray(junction_xy, dtype=float).reshape(-1, 2) * km_per_unit
    axy = np.asarray(area_xy, dtype=float).reshape(-1, 2)
    share = np.zeros((len(areas), len(junctions)))
    known = np.isfinite(axy).all(axis=1)
    notes = [
        "each junction supplies the area nearest to it (junction coordinates from the "
        f".inp file read as km × {km_per_unit:g}, areas' x, y in km); give an "
        "area_junctions CSV to set the mapping"
    ]
    if known.any() and len(junctions):
        d = np.hypot(*(jxy[:, None, :] - axy[None, known, :]).transpose(2, 0, 1))
        idx = np.flatnonzero(known)[d.argmin(axis=1)]
        share[idx, np.arange(len(junctions))] = 1.0
    n_un = int((~(share > 0).any(axis=1)).sum())
    if n_un:
        notes.append(
            f"{n_un} area{'s have' if n_un > 1 else ' has'} no junction and count as served"
        )
    return AreaMap(tuple(areas), tuple(junctions), share, tuple(notes), "nearest area")


@dataclass(frozen=True, eq=False)
class AreaWater:
    """Water service per area over the horizon.

    Attributes
    ----------
    areas : area ids.
    fraction : (n_steps, n_areas) delivered / expected demand of the area's junctions,
        in [0, 1]; 1 where nothing is expected or the area has no junction.
    without : (n_steps, n_areas) bool, fraction below ``service_share``.
    people_without : (n_steps,) persons in areas without water.
    min_pressure_m : (n_steps, n_areas) lowest pressure at the area's junctions in each
        hour, m (NaN: no junction).
    worst_pressure_m : (n_areas,) lowest over the horizon, m (NaN: no junction).
    covered : (n_areas,) bool, the area has a junction.
    service_share : the threshold used.
    """

    areas: tuple[str, ...]
    fraction: np.ndarray
    without: np.ndarray
    people_without: np.ndarray
    min_pressure_m: np.ndarray
    worst_pressure_m: np.ndarray
    covered: np.ndarray
    service_share: float


def area_water(
    result: object,
    amap: AreaMap,
    population: np.ndarray,
    *,
    service_share: float = 0.5,
) -> AreaWater:
    """Aggregate a hydraulic result to areas.

    Parameters
    ----------
    result : a :class:`~warmgrid.water.hydraulics.HydraulicResult` (its ``junctions``
        must be ``amap.junctions``).
    amap : the junction → area map.
    population : (n_areas,) persons per area, in ``amap.areas`` order.
    service_share : an area is without water in an hour when its fraction of demand
        delivered is below this.
    """
    delivered = result.delivered_m3h  # type: ignore[attr-defined]
    expected = result.expected_m3h  # type: ignore[attr-defined]
    minp = result.min_pressure_m  # type: ignore[attr-defined]
    if tuple(result.junctions) != tuple(amap.junctions):  # type: ignore[attr-defined]
        raise ValueError("the area map and the hydraulic result list different junctions")
    if not (0.0 < service_share <= 1.0):
        raise InputError(
            f"service_share must be in (0, 1], got {service_share}", field="water.service_share"
        )
    w = amap.share
    num = delivered @ w.T
    den = expected @ w.T
    frac = np.clip(np.divide(num, den, out=np.ones_like(num), where=den > 1e-9), 0.0, 1.0)
    without = frac < service_share - 1e-12
    pop = np.asarray(population, dtype=float)
    mask = w > 0
    mp = np.where(mask[None, :, :], minp[:, None, :], np.inf).min(axis=2)
    covered = np.asarray(mask.any(axis=1), dtype=bool)
    mp = np.where(covered[None, :], mp, np.nan)
    with np.errstate(all="ignore"):
        worst = np.where(covered, np.nanmin(np.where(covered[None, :], mp, np.inf), axis=0), np.nan)
    return AreaWater(
        areas=amap.areas,
        fraction=frac,
        without=without,
        people_without=without @ pop,
        min_pressure_m=mp,
        worst_pressure_m=worst,
        covered=covered,
        service_share=float(service_share),
    )
