"""The native format: a folder of CSV or Parquet tables plus ``grid.toml``.

Layout::

    mygrid/
      grid.toml        name = "mygrid", base_mva = 100.0, allow_negative_x = false,
                       and an optional [aliases] table: "switch:3" = ["line:7"]
      bus.csv          columns of warmgrid.model.schema.TABLES["bus"]
      branch.csv
      gen.csv
      load.csv
      shunt.csv        (optional)

Aliases are other ids that name elements (a switch names the branch it disconnects, a
bus fused into another names the fused bus; :mod:`warmgrid.power.elements`); they ride
in ``Grid.meta["aliases"]``. Each table may be ``.csv`` or ``.parquet``. Writing is atomic: the folder is written
under a temporary name and renamed into place, so a failed write leaves nothing behind.
"""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import pandas as pd

from warmgrid.errors import InputError, quoted
from warmgrid.io.atomic import atomic_folder
from warmgrid.io.text import read_text_bytes
from warmgrid.model.grid import Grid
from warmgrid.model.schema import TABLES

__all__ = ["is_tables_folder", "read_tables", "write_tables"]

_REQUIRED = ("bus", "branch", "gen", "load")

#: Tables that need at least one row: a grid without buses, supply or demand is a mistake
#: (a header-only file left from a template), never a grid to study.
_NONEMPTY = ("bus", "gen", "load")


def is_tables_folder(path: Path) -> bool:
    """True when ``path`` is a folder holding a ``bus`` table."""
    return path.is_dir() and any((path / f"bus{ext}").exists() for ext in (".csv", ".parquet"))


def _read_csv(path: Path, table: str) -> pd.DataFrame:
    raw = read_text_bytes(path, "CSV text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1)
        raise InputError(
            f"not UTF-8 text (byte {raw[exc.start]:#04x} at character {col + 1} of the line)",
            file=str(path),
            row=line,
            field=_field_at(raw, line, col),
        ) from None
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise InputError(f"not valid CSV ({exc})", file=str(path)) from None
    if not rows:
        raise InputError("empty file, expected a header line", file=str(path), row=1)
    header = [h.strip() for h in rows[0]]
    for j, h in enumerate(header):
        if not h:
            raise InputError(
                f"empty column name (column {j + 1})",
                file=str(path),
                row=1,
                field=f"column {j + 1}",
            )
        if h in header[:j]:
            raise InputError("duplicate column name", file=str(path), row=1, field=h)
    for i, r in enumerate(rows[1:], start=2):
        if r and len(r) != len(header):
            raise InputError(
                f"has {len(r)} fields, the header has {len(header)}",
                file=str(path),
                row=i,
                field=header[len(r)] if len(r) < len(header) else f"column {len(header) + 1}",
            )
    body = [r for r in rows[1:] if r]
    df = pd.DataFrame(body, columns=header, dtype=object)
    return df.replace({"": None})


def _field_at(raw: bytes, line: int, col: int) -> str | None:
    """The header name of the CSV column holding byte ``col`` of 1-based ``line``."""
    lines = raw.split(b"\n")
    if line <= 1 or line > len(lines):
        return None
    j = lines[line - 1][:col].count(b",")
    header = lines[0].decode("utf-8-sig", errors="replace").strip().split(",")
    return header[j].strip() if j < len(header) else None


def _read_one(folder: Path, table: str) -> pd.DataFrame | None:
    csv_path, pq_path = folder / f"{table}.csv", folder / f"{table}.parquet"
    if csv_path.exists() and pq_path.exists():
        raise InputError(
            f"both {table}.csv and {table}.parquet exist; keep one", file=str(folder), field=table
        )
    if pq_path.exists():
        try:
            return pd.read_parquet(pq_path)
        except Exception as exc:  # pyarrow raises many types on bad files
            raise InputError(
                f"not a readable Parquet file ({str(exc).splitlines()[0][:120]})", file=str(pq_path)
            ) from None
    if csv_path.exists():
        if csv_path.is_dir():
            raise InputError("is a directory, expected a CSV file", file=str(csv_path))
        return _read_csv(csv_path, table)
    if table in _REQUIRED:
        raise InputError(
            f"missing table '{table}' (.csv or .parquet)", file=str(folder), field=table
        )
    return None


def read_tables(folder: str | Path) -> Grid:
    """Read a native tables folder into a validated :class:`Grid`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", file=str(folder))
    meta: dict[str, object] = {}
    toml = folder / "grid.toml"
    if toml.exists():
        try:
            meta = tomllib.loads(toml.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"invalid TOML ({exc})", file=str(toml)) from None
        unknown = set(meta) - {"name", "base_mva", "allow_negative_x", "source", "aliases"}
        if unknown:
            raise InputError(
                f"unknown key {quoted(sorted(unknown)[0])}; known: name, base_mva, "
                "allow_negative_x, aliases",
                file=str(toml),
                field=sorted(unknown)[0],
            )
        _check_aliases(meta.get("aliases", {}), toml)
    tables = {t: _read_one(folder, t) for t in TABLES}
    for t in _NONEMPTY:
        df = tables[t]
        if df is not None and len(df) == 0:
            name = next(f"{t}{e}" for e in (".csv", ".parquet") if (folder / f"{t}{e}").exists())
            raise InputError(
                f"has a header but no rows; a grid needs at least one {t}",
                file=str(folder / name),
                row=2,
                field=t,
            )
    files = {
        t: next(
            (
                str(folder / f"{t}{e}")
                for e in (".csv", ".parquet")
                if (folder / f"{t}{e}").exists()
            ),
            str(folder),
        )
        for t in TABLES
    }
    base = meta.get("base_mva", 100.0)
    if isinstance(base, bool) or not isinstance(base, (int, float)):
        raise InputError(
            f"base_mva must be a number, got {base!r}", file=str(toml), field="base_mva"
        )
    negative_x = meta.get("allow_negative_x", False)
    if not isinstance(negative_x, bool):
        raise InputError(
            f"allow_negative_x must be true or false, got {negative_x!r}",
            file=str(toml),
            field="allow_negative_x",
        )
    grid_name = meta.get("name", folder.name)
    if not isinstance(grid_name, str):
        raise InputError(f"name must be a string, got {grid_name!r}", file=str(toml), field="name")
    try:
        return Grid(
            name=grid_name,
            base_mva=float(base),
            source=str(folder),
            allow_negative_x=negative_x,
            meta={
                "format": "tables",
                **({"aliases": meta["aliases"]} if meta.get("aliases") else {}),
            },
            **tables,  # type: ignore[arg-type]
        )
    except InputError as err:
        # name the table file in each problem: the field is "table.column"
        probs = []
        for p in err.problems:
            table = (p.field or "").split(".", 1)[0]
            probs.append(type(p)(p.message, files.get(table, p.file), p.row, p.field))
        raise InputError(problems=probs) from None


def write_tables(
    grid: Grid, folder: str | Path, *, fmt: str = "csv", overwrite: bool = False
) -> Path:
    """Write a grid as a native tables folder, atomically.

    Parameters
    ----------
    grid : the grid.
    folder : target folder; it must not exist unless ``overwrite``.
    fmt : ``"csv"`` or ``"parquet"``.
    """
    if fmt not in ("csv", "parquet"):
        raise InputError(f"format must be csv or parquet, got {fmt!r}", field="format")
    folder = Path(folder)
    with atomic_folder(folder, overwrite=overwrite) as tmp:
        for name, df in grid.tables().items():
            if fmt == "csv":
                df.to_csv(tmp / f"{name}.csv", index=False)
            else:
                df.to_parquet(tmp / f"{name}.parquet", index=False)
        aliases = grid.meta.get("aliases") or {}
        br = grid.branch
        # true only where the tables need it, so an edit that makes a reactance negative
        # by mistake is caught on the next load
        negative = bool((br["x_pu"] < 0).any() or (br["r_pu"] < 0).any())
        (tmp / "grid.toml").write_text(
            f"name = {json.dumps(grid.name, ensure_ascii=False)}\nbase_mva = {grid.base_mva!r}\n"
            f"allow_negative_x = {str(grid.allow_negative_x and negative).lower()}\n"
            + ("\n[aliases]\n" if aliases else "")
            + "".join(
                f"{json.dumps(a, ensure_ascii=False)} = "
                f"[{', '.join(json.dumps(t, ensure_ascii=False) for t in ts)}]\n"
                for a, ts in aliases.items()
            ),
            encoding="utf-8",
        )
    return folder


def _check_aliases(aliases: object, toml: Path) -> None:
    """``[aliases]`` must map each alias to a list of element ids."""
    if not isinstance(aliases, dict):
        raise InputError(
            'aliases must be a table of "alias" = ["element id", ...]',
            file=str(toml),
            field="aliases",
        )
    for a, ts in aliases.items():
        if not (isinstance(ts, list) and all(isinstance(t, str) for t in ts)):
            raise InputError(
                f'must be a list of element ids, like ["line:7"], got {ts!r:.60}',
                file=str(toml),
                row=a,
                field="aliases",
            )
