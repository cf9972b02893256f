"""One generic validator for every table described in :mod:`warmgrid.model.schema`.

:func:`validate_table` normalises one table against its columns (defaults for absent
optional columns, dtypes, NaN and infinity, bounds, zero, choices) and
:func:`check_refs` checks that ids point to something that exists; both append every
problem to a list, so a user fixing a table sees all of them at once. The grid
(:func:`warmgrid.model.grid.validate_tables`) and the services overlay
(:meth:`warmgrid.model.services.Services.build`) add their own cross-table rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import Problem, closest, quoted
from warmgrid.model.schema import Column

__all__ = ["check_refs", "coerce", "row_labels", "split_ids", "validate_table"]

#: Problems listed per column and rule, at most (the first ones tell the story).
_PER_RULE = 5

#: How a reference names what it points to, in a message.
_NOUNS = {
    "load": "load",
    "gen": "generator",
    "bus": "bus",
    "heat": "heat source",
    "areas": "area",
}


def split_ids(value: object) -> list[str]:
    """``"a;b"`` -> ``["a", "b"]``; empty or NaN -> ``[]``.

    >>> split_ids("heat:a; heat:b"), split_ids(float("nan"))
    (['heat:a', 'heat:b'], [])
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [v.strip() for v in str(value).split(";") if v.strip()]


def row_labels(df: pd.DataFrame) -> pd.Series:
    """How a problem names a row: its id, or its 1-based position where the id is empty."""
    pos = pd.Series(np.arange(1, len(df) + 1), index=df.index, dtype=object)
    if "id" not in df.columns:
        return pos
    ids = df["id"].astype(object)
    ok = ids.notna() & (ids.astype(str).str.strip().str.len() > 0)
    return ids.astype(str).where(ok, pos)


def _exact_float(x: Any, fallback: float) -> float:
    try:
        return float(x)
    except (TypeError, ValueError, OverflowError):
        return fallback


def coerce(col: Column, s: pd.Series) -> tuple[pd.Series, pd.Series]:
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


def _float_rules(col: Column, v: np.ndarray, allow_negative_x: bool) -> list[tuple[str, Any]]:
    return [
        (f"must be >= {col.lo}", (v < col.lo) if col.lo is not None else None),
        (f"must be <= {col.hi}", (v > col.hi) if col.hi is not None else None),
        ("must not be 0", (v == 0) if col.nonzero else None),
        (
            "must be > 0 (negative reactance; set allow_negative_x to accept series compensation)",
            (v < 0) if (col.nonzero and not allow_negative_x) else None,
        ),
        (
            "must be >= 0 (negative resistance; set allow_negative_x to accept a published "
            "network equivalent)",
            (v < 0) if (col.signed and not allow_negative_x) else None,
        ),
    ]


def _column(
    table: str,
    col: Column,
    raw: pd.Series,
    ids: pd.Series,
    *,
    source: str,
    allow_negative_x: bool,
    problems: list[Problem],
) -> pd.Series:
    """One column coerced and checked (problems appended)."""
    field = f"{table}.{col.name}"
    values, bad = coerce(col, raw)
    for i in np.flatnonzero(bad.to_numpy())[:_PER_RULE]:
        problems.append(
            Problem(f"not a valid {col.dtype}: {raw.iloc[i]!r}", source, ids.iloc[i], field)
        )
    if col.dtype == "float":
        v = values.to_numpy(dtype=float)
        ok = ~bad.to_numpy()
        for label, mask in _float_rules(col, v, allow_negative_x):
            if mask is None:
                continue
            for i in np.flatnonzero(mask & ok)[:_PER_RULE]:
                problems.append(
                    Problem(f"{label}, got {float(v[i]):g}", source, ids.iloc[i], field)
                )
    if col.choices is not None:
        badc = ~values.isin(col.choices) & ~bad
        for i in np.flatnonzero(badc.to_numpy())[:_PER_RULE]:
            got = str(values.iloc[i])
            problems.append(
                Problem(
                    f"must be one of {', '.join(col.choices)}, got {quoted(got)}"
                    f"{closest(got, col.choices)}",
                    source,
                    ids.iloc[i],
                    field,
                )
            )
    return values.reset_index(drop=True)


def validate_table(
    table: str,
    df: pd.DataFrame | None,
    cols: tuple[Column, ...],
    *,
    source: str,
    problems: list[Problem],
    allow_negative_x: bool = False,
) -> tuple[pd.DataFrame, list[str]]:
    """Normalise one table; append its problems.

    Parameters
    ----------
    table : its name, for the problems' field (``"bus.vn_kv"``).
    df : the table as read (``None`` or empty: an empty table).
    cols : its columns (:mod:`warmgrid.model.schema`).
    source : the file, for the problems.
    problems : the list the problems go to.
    allow_negative_x : accept negative values in ``nonzero`` columns (reactance).

    Returns
    -------
    DataFrame
        Schema columns first, in order, with dtypes cast and defaults filled; extra
        columns kept after them (so overlays can ride along); a fresh RangeIndex.
    list of str
        The optional, non-cosmetic columns a non-empty table lacked and got by default.
    """
    if df is None or (len(df.columns) == 0 and len(df) == 0):
        df = pd.DataFrame({c.name: pd.Series(dtype=object) for c in cols})
    df = df.reset_index(drop=True)
    for c in dict.fromkeys(df.columns[df.columns.duplicated()]):
        problems.append(Problem("duplicate column", source, "header", f"{table}.{c}"))
    df = df.loc[:, ~df.columns.duplicated()]
    df.columns = [str(c) for c in df.columns]
    known = {k.name for k in cols}
    ids = row_labels(df)
    res: dict[str, pd.Series] = {}
    defaulted: list[str] = []
    for col in cols:
        if col.name not in df.columns:
            if col.required:
                problems.append(
                    Problem("required column is missing", source, "header", f"{table}.{col.name}")
                )
                res[col.name] = pd.Series([None] * len(df), dtype=object)
                continue
            if len(df) and not col.cosmetic:
                defaulted.append(col.name)
            raw = pd.Series([col.default] * len(df), dtype=object)
        else:
            raw = df[col.name]
        res[col.name] = _column(
            table,
            col,
            raw,
            ids,
            source=source,
            allow_negative_x=allow_negative_x,
            problems=problems,
        )
    out = pd.DataFrame(res, columns=[c.name for c in cols])
    for c in df.columns:
        if c not in known:
            out[c] = df[c].to_numpy()
    return out, defaulted


def check_refs(
    table: str,
    df: pd.DataFrame,
    cols: tuple[Column, ...],
    targets: Mapping[str, Iterable[str]],
    *,
    source: str,
    problems: list[Problem],
) -> None:
    """Every id a column refers to (``Column.ref``; ``;``-joined for ``many``) exists in
    ``targets[ref]``; an unknown one is a problem naming the closest ids."""
    labels = row_labels(df)
    for col in cols:
        if col.ref is None or col.ref not in targets or col.name not in df.columns:
            continue
        known_set = {k for k in targets[col.ref] if isinstance(k, str) and k}
        noun = _NOUNS.get(col.ref, col.ref)
        found = 0
        for rid, value in zip(labels, df[col.name], strict=True):
            for v in split_ids(value) if col.many else ([value] if value else []):
                if v not in known_set:
                    found += 1
                    if found <= _PER_RULE:
                        problems.append(
                            Problem(
                                f"unknown {noun} {quoted(v)}{closest(str(v), known_set)}",
                                source,
                                rid,
                                f"{table}.{col.name}",
                            )
                        )
