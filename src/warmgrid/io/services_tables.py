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

from warmgrid.errors import InputError, Problem
from warmgrid.io.atomic import atomic_folder
from warmgrid.io.tables import _read_csv
from warmgrid.model.grid import Grid
from warmgrid.model.schema import SERVICE_TABLES
from warmgrid.model.services import Services

__all__ = ["read_services", "write_services"]

_TABLES = tuple(SERVICE_TABLES)


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
        tables[t] = _read_csv(p, t)  # text; the schema's validator casts and checks it
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
        for prob in err.problems:
            table = (prob.field or "").split(".", 1)[0]
            file = str(folder / f"{table}.csv") if table in _TABLES else prob.file
            probs.append(Problem(prob.message, file, prob.row, prob.field))
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
