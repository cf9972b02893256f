"""The services overlay as a folder of CSV tables, both ways.

Layout (columns as in :mod:`warmgrid.model.services`)::

    overlay/
      areas.csv        id,name,population,archetype,load,heat_sources,...
      heat.csv         (optional)
      water.csv        (optional)
      facilities.csv   (optional)
      substations.csv  (optional) columns substation,bus: one row per member bus

Lists inside a cell (``heat_sources``, ``gens``, ``areas``) are ``;``-joined ids.
Writing is atomic, as for the grid tables.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from warmgrid.errors import InputError
from warmgrid.io.atomic import atomic_folder
from warmgrid.io.tables import _read_csv
from warmgrid.model.grid import Grid
from warmgrid.model.services import Services

__all__ = ["read_services", "write_services"]

_TABLES = ("areas", "heat", "water", "facilities")
_NUMERIC = {
    "population",
    "individual_heating_share",
    "x",
    "y",
    "heat_mw",
    "peak_boiler_share",
    "backup_h",
    "reservoir_h",
    "people_served",
}


def _typed(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    for c in df.columns:
        if c in _NUMERIC:
            v = pd.to_numeric(df[c], errors="coerce")
            bad = v.isna() & df[c].notna() & ~df[c].isin(["nan", "NaN"])
            if bad.any():
                i = int(bad.to_numpy().argmax())
                raise InputError(
                    f"not a number: {df[c].iloc[i]!r}", file=str(path), row=i + 2, field=c
                )
            df[c] = v
        elif c == "needs_local_power":
            df[c] = df[c].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
        else:
            df[c] = df[c].where(df[c].notna(), "").astype(str)
    return df


def read_services(folder: str | Path, grid: Grid) -> Services:
    """Read an overlay folder and validate it against ``grid``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            "not a folder of services tables (areas.csv, heat.csv, ...)", file=str(folder)
        )
    tables: dict[str, pd.DataFrame | None] = {}
    for t in _TABLES:
        p = folder / f"{t}.csv"
        if not p.exists():
            if t == "areas":
                raise InputError("missing table 'areas.csv'", file=str(folder), field="areas")
            tables[t] = None
            continue
        tables[t] = _typed(_read_csv(p, t), p)
    subs: dict[str, list[str]] = {}
    sp = folder / "substations.csv"
    if sp.exists():
        df = _read_csv(sp, "substations")
        for col in ("substation", "bus"):
            if col not in df.columns:
                raise InputError(
                    "required column is missing", file=str(sp), row="header", field=col
                )
        for s, b in zip(df["substation"], df["bus"], strict=True):
            subs.setdefault(str(s), []).append(str(b))
    try:
        return Services.build(grid, source=str(folder), substations=subs, **tables)
    except InputError as err:
        probs = []
        for p in err.problems:
            table = (p.field or "").split(".", 1)[0]
            file = str(folder / f"{table}.csv") if table in _TABLES else p.file
            probs.append(type(p)(p.message, file, p.row, p.field))
        raise InputError(problems=probs) from None


def write_services(services: Services, folder: str | Path, *, overwrite: bool = False) -> Path:
    """Write an overlay folder atomically."""
    folder = Path(folder)
    with atomic_folder(folder, overwrite=overwrite) as tmp:
        for t in _TABLES:
            getattr(services, t).to_csv(tmp / f"{t}.csv", index=False)
        rows = [(s, b) for s, buses in services.substations.items() for b in buses]
        pd.DataFrame(rows, columns=["substation", "bus"]).to_csv(
            tmp / "substations.csv", index=False
        )
    return folder
