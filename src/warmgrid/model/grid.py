"""The user-facing grid: typed pandas tables, validated on construction.

A :class:`Grid` holds tables (``bus``, ``branch``, ``gen``, ``load``, ``shunt``) whose
columns are defined in :mod:`warmgrid.model.schema`. It never holds results or caches;
engines work on a compiled :class:`warmgrid.power.network.Network` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError, Problem, quoted
from warmgrid.model.schema import TABLES, Column

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
        reader may not expect (negative series reactance)."""
        out = [str(w) for w in self.meta.get("warnings", [])]
        x = self.branch["x_pu"].to_numpy(dtype=float)
        neg = int((x < 0).sum())
        if neg:
            out.append(
                f"{neg:,} branch(es) of {self.name} have a negative series reactance "
                "(series compensation or a three-winding star point), accepted as published"
            )
        return out

    def ids(self) -> list[str]:
        """Every element id in the grid."""
        return [i for t in TABLES for i in getattr(self, t)["id"]]

    def replace(self, **changes: Any) -> Grid:
        """A new, validated grid with some tables or attributes replaced."""
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


def _exact_float(x: Any, fallback: float) -> float:
    try:
        return float(x)
    except (TypeError, ValueError, OverflowError):
        return fallback


def _coerce(col: Column, s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Cast a column to its dtype; return (values, mask of rows that failed)."""
    if col.dtype == "str":
        missing = s.isna()
        if col.required:
            return s.astype(str).where(~missing, ""), missing
        return s.astype(str).where(~missing, str(col.default)), pd.Series(False, index=s.index)
    if col.dtype == "bool":
        if s.dtype == bool:
            return s, pd.Series(False, index=s.index)
        m = s.astype(str).str.strip().str.lower()
        true = m.isin(["true", "1", "1.0", "yes", "t"])
        false = m.isin(["false", "0", "0.0", "no", "f"])
        return true, ~(true | false)
    v = pd.to_numeric(s, errors="coerce").astype(float)
    if s.dtype == object and v.notna().any():
        # pandas' fast text parser is not correctly rounded; Python's float() is, so
        # numbers read from CSV text round-trip exactly.
        ok = v.notna().to_numpy()
        v[ok] = [
            _exact_float(x, y) for x, y in zip(s.to_numpy()[ok], v.to_numpy()[ok], strict=True)
        ]
    nan_ok = isinstance(col.default, float) and np.isnan(col.default)
    bad = v.isna() & ~(s.isna() & nan_ok)
    if col.finite:
        bad = bad | np.isinf(v)
    return v, bad


def _row_labels(df: pd.DataFrame) -> pd.Series:
    """How a problem names a row: its id, or its 1-based position where the id is empty."""
    pos = pd.Series(np.arange(1, len(df) + 1), index=df.index, dtype=object)
    if "id" not in df.columns:
        return pos
    ids = df["id"].astype(object)
    ok = ids.notna() & (ids.astype(str).str.strip().str.len() > 0)
    return ids.astype(str).where(ok, pos)


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
    out: dict[str, pd.DataFrame] = {}
    for tname, cols in TABLES.items():
        df = tables.get(tname)
        if df is None or (len(df.columns) == 0 and len(df) == 0):
            df = pd.DataFrame({c.name: pd.Series(dtype=object) for c in cols})
        df = df.reset_index(drop=True)
        dup_cols = df.columns[df.columns.duplicated()]
        for c in dict.fromkeys(dup_cols):
            problems.append(Problem("duplicate column", source, "header", f"{tname}.{c}"))
        df = df.loc[:, ~df.columns.duplicated()]
        df.columns = [str(c) for c in df.columns]
        unknown = [c for c in df.columns if c not in {k.name for k in cols}]
        ids = _row_labels(df)
        res = {}
        for col in cols:
            if col.name not in df.columns:
                if col.required:
                    problems.append(
                        Problem(
                            "required column is missing", source, "header", f"{tname}.{col.name}"
                        )
                    )
                    res[col.name] = pd.Series([None] * len(df), dtype=object)
                    continue
                res[col.name] = pd.Series([col.default] * len(df), dtype=object)
            values, bad = _coerce(col, df[col.name] if col.name in df.columns else res[col.name])
            for i in np.flatnonzero(bad.to_numpy())[:5]:
                problems.append(
                    Problem(
                        f"not a valid {col.dtype}: {df[col.name].iloc[i]!r}",
                        source,
                        ids.iloc[i],
                        f"{tname}.{col.name}",
                    )
                )
            if col.dtype == "float":
                v = values.to_numpy(dtype=float)
                ok = ~bad.to_numpy()
                for label, mask in (
                    (f"must be >= {col.lo}", (v < col.lo) if col.lo is not None else None),
                    (f"must be <= {col.hi}", (v > col.hi) if col.hi is not None else None),
                    ("must not be 0", (v == 0) if col.nonzero else None),
                    (
                        "must be > 0 (negative reactance; set allow_negative_x to accept series compensation)",
                        (v < 0) if (col.nonzero and not allow_negative_x) else None,
                    ),
                ):
                    if mask is None:
                        continue
                    for i in np.flatnonzero(mask & ok)[:5]:
                        problems.append(
                            Problem(
                                f"{label}, got {v[i]!r}", source, ids.iloc[i], f"{tname}.{col.name}"
                            )
                        )
            if col.choices is not None:
                badc = ~values.isin(col.choices) & ~bad
                for i in np.flatnonzero(badc.to_numpy())[:5]:
                    problems.append(
                        Problem(
                            f"must be one of {', '.join(col.choices)}, got {values.iloc[i]!r}",
                            source,
                            ids.iloc[i],
                            f"{tname}.{col.name}",
                        )
                    )
            res[col.name] = values.reset_index(drop=True)
        out_df = pd.DataFrame(res, columns=[c.name for c in cols])
        for c in unknown:  # extra columns are kept, so overlays can ride along
            out_df[c] = df[c].to_numpy()
        out[tname] = out_df

    # ids: unique across all tables, of the form kind:name
    all_ids = pd.concat([out[t]["id"] for t in TABLES], keys=list(TABLES)).reset_index(level=0)
    all_ids.columns = ["table", "id"]
    dup = all_ids[all_ids["id"].duplicated() & (all_ids["id"].str.len() > 0)].drop_duplicates("id")
    for t, d in dup[["table", "id"]].to_numpy()[:5]:
        problems.append(Problem("duplicate id", source, d, f"{t}.id"))
    for t in TABLES:
        empty = out[t]["id"].str.len() == 0
        for i in np.flatnonzero(empty.to_numpy())[:5]:
            problems.append(Problem("empty id", source, i + 1, f"{t}.id"))

    # references to buses
    bus_ids = set(out["bus"]["id"])
    for tname, cols in TABLES.items():
        for col in cols:
            if col.ref != "bus":
                continue
            v = out[tname][col.name]
            missing = ~v.isin(bus_ids) & (v.str.len() > 0)
            for i in np.flatnonzero(missing.to_numpy())[:5]:
                problems.append(
                    Problem(
                        f"refers to unknown bus {quoted(v.iloc[i])}",
                        source,
                        _row_labels(out[tname]).iloc[i],
                        f"{tname}.{col.name}",
                    )
                )
    br = out["branch"]
    loops = br["from_bus"] == br["to_bus"]
    for i in np.flatnonzero(loops.to_numpy())[:5]:
        problems.append(
            Problem("from_bus equals to_bus", source, _row_labels(br).iloc[i], "branch.to_bus")
        )
    g = out["gen"]
    pmin = pd.to_numeric(g["p_min_mw"], errors="coerce").to_numpy(dtype=float)
    pmax = pd.to_numeric(g["p_max_mw"], errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(pmin > pmax)[:5]:
        problems.append(
            Problem(
                f"p_min_mw {pmin[i]} > p_max_mw {pmax[i]}",
                source,
                _row_labels(g).iloc[i],
                "gen.p_min_mw",
            )
        )
    qmin = pd.to_numeric(g["q_min_mvar"], errors="coerce").to_numpy(dtype=float)
    qmax = pd.to_numeric(g["q_max_mvar"], errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(qmin > qmax)[:5]:
        problems.append(
            Problem(
                f"q_min_mvar {qmin[i]} > q_max_mvar {qmax[i]}",
                source,
                _row_labels(g).iloc[i],
                "gen.q_min_mvar",
            )
        )
    b = out["bus"]
    vlo = pd.to_numeric(b["vm_min_pu"], errors="coerce").to_numpy(dtype=float)
    vhi = pd.to_numeric(b["vm_max_pu"], errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(vlo > vhi)[:5]:
        problems.append(
            Problem(
                f"vm_min_pu {vlo[i]} > vm_max_pu {vhi[i]}",
                source,
                _row_labels(b).iloc[i],
                "bus.vm_min_pu",
            )
        )
    if problems:
        raise InputError(problems=problems[:_MAX_PROBLEMS])
    return out
