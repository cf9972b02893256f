"""The user-facing grid: typed pandas tables, validated on construction.

A :class:`Grid` holds tables (``bus``, ``branch``, ``gen``, ``load``, ``shunt``) whose
columns are defined in :mod:`warmgrid.model.schema`. It never holds results or caches;
engines work on a compiled :class:`warmgrid.power.network.Network` instead.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError, Problem
from warmgrid.model.schema import TABLES
from warmgrid.model.validate import check_refs, row_labels, validate_table

__all__ = ["Grid", "validate_tables"]

_MAX_PROBLEMS = 50


@dataclass(frozen=True, eq=False)
class Grid:
    """A power grid as validated tables.

    Parameters
    ----------
    name : case name.
    bus, branch, gen, load, shunt : tables with the columns of
        :data:`warmgrid.model.schema.TABLES`; missing optional columns get defaults.
    base_mva : system base for the per-unit columns, MVA.
    source : where it came from (file path or ``pandapower:case118``), used in errors.
    allow_negative_x : accept negative series reactances. Published cases (PEGASE, RTE,
        case3120sp) model series compensation and three-winding star points with them, so
        the importers of published cases set it; the native tables reject negative
        reactance unless ``grid.toml`` says ``allow_negative_x = true``.
    meta : free-form metadata (importer, counts of skipped elements, ...).
    """

    name: str
    bus: pd.DataFrame
    branch: pd.DataFrame
    gen: pd.DataFrame
    load: pd.DataFrame
    shunt: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    base_mva: float = 100.0
    source: str = ""
    allow_negative_x: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tables = validate_tables(
            {t: getattr(self, t) for t in TABLES},
            source=self.source or self.name,
            allow_negative_x=self.allow_negative_x,
        )
        for name, df in tables.items():
            object.__setattr__(self, name, df)
        if not (np.isfinite(self.base_mva) and self.base_mva > 0):
            raise InputError(
                f"base_mva must be > 0, got {self.base_mva}", file=self.source, field="base_mva"
            )

    # ------------------------------------------------------------------ summaries
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in schema order."""
        return {t: getattr(self, t) for t in TABLES}

    def summary(self) -> dict[str, Any]:
        """Counts and totals (the ``warmgrid info --json`` contract)."""
        load_on = self.load[self.load["in_service"]]
        gen_on = self.gen[self.gen["in_service"]]
        cap = gen_on["p_max_mw"].to_numpy(dtype=float)
        return {
            "name": self.name,
            "buses": len(self.bus),
            "branches": len(self.branch),
            "lines": int((self.branch["kind"] == "line").sum()),
            "transformers": int((self.branch["kind"] == "trafo").sum()),
            "generators": len(self.gen),
            "loads": len(self.load),
            "shunts": len(self.shunt),
            "total_load_mw": float(load_on["p_mw"].sum()),
            "total_generation_mw": float(gen_on["p_mw"].sum()),
            "total_capacity_mw": float(cap[np.isfinite(cap)].sum()),
            "unlimited_supply_points": int((~np.isfinite(cap)).sum()),
            "base_mva": self.base_mva,
            "source": self.source,
        }

    def warnings(self) -> list[str]:
        """What the output must say about this grid's data: elements its importer could
        not represent (``meta["warnings"]``) and values accepted as published that a
        reader may not expect (negative series reactance or resistance)."""
        out = [str(w) for w in self.meta.get("warnings", [])]
        for col, what in (
            ("x_pu", "reactance (series compensation or a three-winding star point)"),
            ("r_pu", "resistance (a network equivalent; AC losses on them are negative)"),
        ):
            neg = int((self.branch[col].to_numpy(dtype=float) < 0).sum())
            if neg:
                head, _, why = what.partition(" (")
                out.append(
                    f"{neg:,} branch(es) of {self.name} have a negative series {head} "
                    f"({why}, accepted as published"
                )
        return out

    def ids(self) -> list[str]:
        """Every element id in the grid."""
        return [i for t in TABLES for i in getattr(self, t)["id"]]

    def replace(self, **changes: Any) -> Grid:
        """A new, validated grid with some tables or attributes replaced. Only a name,
        source or metadata changed: a copy that shares the (validated) tables."""
        if set(changes) <= {"name", "source", "meta"}:
            out = copy.copy(self)
            for k, v in changes.items():
                object.__setattr__(out, k, v)
            return out
        kw = {
            "name": self.name,
            "base_mva": self.base_mva,
            "source": self.source,
            "allow_negative_x": self.allow_negative_x,
            "meta": dict(self.meta),
            **self.tables(),
        }
        kw.update(changes)
        return Grid(**kw)


def _id_problems(out: Mapping[str, pd.DataFrame], source: str) -> list[Problem]:
    """Ids duplicated across the tables, then empty ids (at most five of each kind)."""
    problems = []
    all_ids = pd.concat([out[t]["id"] for t in TABLES], keys=list(TABLES)).reset_index(level=0)
    all_ids.columns = ["table", "id"]
    dup = all_ids[all_ids["id"].duplicated() & (all_ids["id"].str.len() > 0)].drop_duplicates("id")
    for t, d in dup[["table", "id"]].to_numpy()[:5]:
        problems.append(Problem("duplicate id", source, d, f"{t}.id"))
    for t in TABLES:
        empty = out[t]["id"].str.len() == 0
        for i in np.flatnonzero(empty.to_numpy())[:5]:
            problems.append(Problem("empty id", source, i + 1, f"{t}.id"))
    return problems


def _min_above_max(
    df: pd.DataFrame, tname: str, lo_col: str, hi_col: str, source: str
) -> list[Problem]:
    """Rows whose lower bound ``lo_col`` exceeds the upper bound ``hi_col`` (at most five)."""
    lo = pd.to_numeric(df[lo_col], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(df[hi_col], errors="coerce").to_numpy(dtype=float)
    return [
        Problem(
            f"{lo_col} {lo[i]} > {hi_col} {hi[i]}",
            source,
            row_labels(df).iloc[i],
            f"{tname}.{lo_col}",
        )
        for i in np.flatnonzero(lo > hi)[:5]
    ]


def validate_tables(
    tables: Mapping[str, pd.DataFrame | None],
    *,
    source: str = "",
    allow_negative_x: bool = False,
) -> dict[str, pd.DataFrame]:
    """Check and normalise the grid tables; report every problem at once.

    Fills defaults for absent optional columns, casts dtypes, and checks: required
    columns, NaN and infinity, bounds, zero (and, unless allowed, negative) reactance,
    duplicate ids (across all tables), references to unknown buses, and
    ``p_min_mw > p_max_mw``, ``q_min_mvar > q_max_mvar`` and ``vm_min_pu > vm_max_pu``.

    Parameters
    ----------
    tables : table name -> DataFrame (``None`` or missing: an empty table).
    source : file or case name, used in the messages.
    allow_negative_x : see :class:`Grid`.

    Returns
    -------
    dict of normalised DataFrames with a fresh RangeIndex and schema column order.

    Raises
    ------
    InputError
        Listing every problem found (the first is the message).
    """
    problems: list[Problem] = []
    out = {
        tname: validate_table(
            tname,
            tables.get(tname),
            cols,
            source=source,
            problems=problems,
            allow_negative_x=allow_negative_x,
        )[0]
        for tname, cols in TABLES.items()
    }

    problems += _id_problems(out, source)
    bus_ids = set(out["bus"]["id"])
    for tname, cols in TABLES.items():
        check_refs(tname, out[tname], cols, {"bus": bus_ids}, source=source, problems=problems)
    br = out["branch"]
    loops = br["from_bus"] == br["to_bus"]
    for i in np.flatnonzero(loops.to_numpy())[:5]:
        problems.append(
            Problem("from_bus equals to_bus", source, row_labels(br).iloc[i], "branch.to_bus")
        )
    problems += _min_above_max(out["gen"], "gen", "p_min_mw", "p_max_mw", source)
    problems += _min_above_max(out["gen"], "gen", "q_min_mvar", "q_max_mvar", source)
    problems += _min_above_max(out["bus"], "bus", "vm_min_pu", "vm_max_pu", source)
    problems += _min_above_max(out["branch"], "branch", "ang_min_deg", "ang_max_deg", source)
    if problems:
        raise InputError(problems=problems[:_MAX_PROBLEMS])
    return out
