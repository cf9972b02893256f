"""MATPOWER ``.m`` case files.

Parsing uses the parser of ``matpowercaseframes`` (its ``reader`` module finds each
``mpc.<name> = [...]`` block and splits rows), and warmgrid adds the checks that give a
clean error per row and column: a row shorter than the MATPOWER minimum, text in a
number, a missing matrix. The numbers then go through :func:`warmgrid.io.ppc.grid_from_ppc`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from warmgrid.errors import InputError
from warmgrid.io.ppc import grid_from_ppc
from warmgrid.io.text import read_text_bytes
from warmgrid.model.grid import Grid

__all__ = ["load_matpower"]

#: Minimum number of columns per matrix (MATPOWER manual, tables B-1 to B-3, and the
#: dcline table of ``toggle_dcline``: F_BUS ... LOSS1, 17 columns).
_MIN_COLS = {"bus": 13, "branch": 11, "gen": 10, "dcline": 17}

#: Matrices a case may lack.
_OPTIONAL = ("dcline",)


def _read_text(path: Path) -> str:
    raw = read_text_bytes(path, "a MATPOWER .m text file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            raise InputError("not a text file", file=str(path)) from None


def _missing_matrix(text: str, key: str, file: str) -> None:
    """Raise the error for a matrix the parser did not find: absent, or not closed."""
    m = re.search(rf"mpc\.{key}\s*=\s*\[", text)
    if m is None:
        raise InputError(f"the case has no 'mpc.{key} = [ ... ];' matrix", file=file, field=key)
    rows = [ln.split("%")[0].strip() for ln in text[m.end() :].splitlines()]
    rows = [r for r in rows if r]
    complete = not rows or rows[-1].endswith(";")
    row = len(rows) + 1 if complete else len(rows)
    what = "is missing" if complete else "is incomplete"
    raise InputError(
        f"the file ends inside the matrix: row {row} {what} and '];' never comes (truncated file?)",
        file=file,
        row=row,
        field=key,
    )


def load_matpower(path: str | Path) -> Grid:
    """Read a MATPOWER ``.m`` case file.

    Ids: ``bus:<BUS_I>``, ``branch:<row>``, ``gen:<row>`` (rows 1-based), ``load:<BUS_I>``
    for a bus's demand and ``shunt:<BUS_I>`` for its shunt, ``dcline:<row>`` for an HVDC
    link of ``mpc.dcline`` (its ends ``dcline:<row>:from`` and ``dcline:<row>:to``).
    """
    from matpowercaseframes import reader

    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise InputError("empty file", file=str(path))
    if "mpc." not in text:
        raise InputError("no 'mpc.' assignments found: not a MATPOWER case", file=str(path))
    ppc: dict[str, object] = {}
    base = reader.parse_file("baseMVA", text)
    if base is None:
        raise InputError("the case has no 'baseMVA'", file=str(path), field="baseMVA")
    try:
        ppc["baseMVA"] = float(base[0][0])
    except (TypeError, ValueError, IndexError):
        raise InputError(
            f"baseMVA is not a number: {base!r:.60}", file=str(path), field="baseMVA"
        ) from None
    for key, min_cols in _MIN_COLS.items():
        rows = reader.parse_file(key, text)
        if rows is None and key in _OPTIONAL:
            continue
        if rows is None:
            _missing_matrix(text, key, str(path))
        arr = np.empty((len(rows), max((len(r) for r in rows), default=min_cols)))
        for i, r in enumerate(rows):
            if len(r) < min_cols:
                raise InputError(
                    f"{key} row has {len(r)} columns, MATPOWER needs at least {min_cols}",
                    file=str(path),
                    row=i + 1,
                    field=key,
                )
            for j, v in enumerate(r):
                if isinstance(v, str):
                    raise InputError(
                        f"not a number: {v[:40]!r}",
                        file=str(path),
                        row=i + 1,
                        field=f"{key} column {j + 1}",
                    )
            arr[i, : len(r)] = r
            arr[i, len(r) :] = 0.0
        ppc[key] = arr
    grid = grid_from_ppc(ppc, name=path.stem, source=str(path))
    other = _unmodelled_tables(text)
    if other:
        grid.meta.setdefault("warnings", []).append(
            f"{path.name}: {', '.join(f'mpc.{t}' for t in other)} not represented "
            "(warmgrid reads bus, branch, gen and dcline); the elements they describe "
            "are left out"
        )
    return grid


#: ``mpc.<name>`` tables read, or that carry nothing for the grid's physics (costs,
#: names, fuel types, the MATPOWER version, the areas' price reference buses).
_UNDERSTOOD = frozenset(
    {
        "baseMVA",
        "version",
        "bus",
        "branch",
        "gen",
        "dcline",
        "gencost",
        "dclinecost",
        "bus_name",
        "branch_name",
        "gen_name",
        "gentype",
        "genfuel",
        "areas",
    }
)


def _unmodelled_tables(text: str) -> list[str]:
    """The ``mpc.<name>`` assignments of a case that warmgrid does not represent (an
    MTDC case's ``dcbus``, ``dcconv`` and ``dcbranch``, storage, user fields)."""
    import re

    names = set(re.findall(r"^[ \t]*mpc\.(\w+)\s*=", text, flags=re.M))
    return sorted(names - _UNDERSTOOD)
