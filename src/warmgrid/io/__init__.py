"""Loading grids from every supported source.

:func:`load_grid` takes a bundled case name (``case118``, ``case9241pegase``,
``winter-city``) or a path (MATPOWER ``.m``, pandapower ``.json``, PyPSA ``.nc`` or CSV
folder, a warmgrid tables folder) and returns a validated
:class:`~warmgrid.model.grid.Grid`. Bundled pandapower cases are converted once and
cached as Parquet tables (``$WARMGRID_CACHE`` or ``~/.cache/warmgrid``), keyed by the
pandapower and schema versions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from warmgrid.errors import InputError, closest
from warmgrid.model.grid import Grid

__all__ = [
    "CACHE_VERSION",
    "GENERATED_CASES",
    "bundled_names",
    "bundled_overlay",
    "cache_dir",
    "load_grid",
]

#: Bump when the conversion or the schema changes, so stale caches are ignored.
CACHE_VERSION = "6"

#: Cases warmgrid ships as generators, by name: ``"module:function"``, the function
#: returning ``(Grid, Services)`` (the grid and its own services overlay). They are
#: looked up by name, like entry points, so this low layer never imports the generators
#: (which use the engines of the layers above to design their grid).
GENERATED_CASES: dict[str, str] = {"winter-city": "warmgrid.examples.winter_city:winter_city"}
WARMGRID_CASES = tuple(GENERATED_CASES)


def _generated(name: str) -> tuple[Grid, Any]:
    """The ``(Grid, Services)`` of a generated case."""
    from importlib import import_module

    module, func = GENERATED_CASES[name].split(":")
    return getattr(import_module(module), func)()  # type: ignore[no-any-return]


def bundled_overlay(name: str) -> Any:
    """The services overlay a bundled case comes with, or None (pandapower's have none)."""
    return _generated(name)[1] if name in GENERATED_CASES else None


def bundled_names() -> list[str]:
    """Every bundled case name: warmgrid's own, then pandapower's."""
    from warmgrid.io.pandapower import bundled_case_names

    return [*WARMGRID_CASES, *bundled_case_names()]


def cache_dir() -> Path:
    """The folder for converted bundled cases."""
    env = os.environ.get("WARMGRID_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "warmgrid"


def _pandapower_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pandapower")
    except PackageNotFoundError:  # pragma: no cover
        return "none"


def _load_bundled_pandapower(name: str, *, use_cache: bool) -> Grid:
    from warmgrid.io.pandapower import load_pandapower_case
    from warmgrid.io.tables import read_tables, write_tables

    folder = cache_dir() / f"{name}-pp{_pandapower_version()}-v{CACHE_VERSION}"
    if use_cache and (folder / "grid.toml").exists():
        try:
            grid = read_tables(folder)
            return grid.replace(
                source=f"pandapower:{name}",
                meta={**grid.meta, "format": "pandapower", "cached": True},
            )
        except (InputError, OSError):
            pass  # a damaged cache is rebuilt below
    grid = load_pandapower_case(name)
    if use_cache:
        try:
            write_tables(grid, folder, fmt="parquet", overwrite=True)
        except OSError:
            pass  # a read-only home only costs speed
    return grid


#: Files at least this large are cached as Parquet after their first parse (MATPOWER's
#: ACTIVSg70k takes 3-6 s to parse and 0.3 s to read back).
FILE_CACHE_BYTES = 2_000_000


def _cached_parse(path: Path, parse: Any, *, use_cache: bool) -> Grid:
    """``parse(path)``, through a Parquet cache keyed by the file's content (SHA-256) and
    :data:`CACHE_VERSION` for files of :data:`FILE_CACHE_BYTES` or more. The grid's
    source and its metadata (warnings, aliases) come back as parsed."""
    import hashlib
    import json

    from warmgrid.io.tables import read_tables, write_tables

    if not use_cache or path.stat().st_size < FILE_CACHE_BYTES:
        return parse(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
    folder = cache_dir() / f"file-{digest}-v{CACHE_VERSION}"
    meta_file = folder / "meta.json"
    if meta_file.exists():
        try:
            grid = read_tables(folder)
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            return grid.replace(
                name=meta["name"], source=str(path), meta={**meta["meta"], "cached": True}
            )
        except (InputError, OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    grid = parse(path)
    try:
        write_tables(grid, folder, fmt="parquet", overwrite=True)
        meta_file.write_text(json.dumps({"name": grid.name, "meta": grid.meta}), encoding="utf-8")
    except (OSError, TypeError):
        pass  # a read-only home (or metadata JSON cannot hold) only costs speed
    return grid


def load_grid(source: str | os.PathLike[str], *, use_cache: bool = True) -> Grid:
    """Load a grid from a bundled name or a path.

    Parameters
    ----------
    source : bundled case name (see ``warmgrid cases``) or a path.
    use_cache : reuse the Parquet cache of converted bundled cases and of large files
        (:data:`FILE_CACHE_BYTES`).

    Raises
    ------
    InputError
        For a missing or unreadable file, an unknown name, or invalid contents.
    """
    text = os.fspath(source)
    path = Path(text)
    if text in GENERATED_CASES:
        return _generated(text)[0]
    if not path.exists():
        from warmgrid.io.pandapower import bundled_case_names

        names = bundled_case_names()
        if text in names:
            return _load_bundled_pandapower(text, use_cache=use_cache)
        looks_like_path = any(c in text for c in "/\\.")
        what = "no such file" if looks_like_path else "unknown case name"
        raise InputError(
            f"{what}{closest(text, [*WARMGRID_CASES, *names])} (warmgrid cases lists the bundled ones)",
            file=text,
            field=None if looks_like_path else "case",
        )
    if path.is_dir():
        from warmgrid.io.tables import is_tables_folder, read_tables

        if is_tables_folder(path):
            return read_tables(path)
        if (path / "buses.csv").exists():
            from warmgrid.io.pypsa import load_pypsa

            return load_pypsa(path)
        raise InputError(
            "is a directory with neither bus.csv/bus.parquet (warmgrid tables) nor buses.csv (PyPSA)",
            file=text,
        )
    suffix = path.suffix.lower()
    try:
        if path.stat().st_size == 0:
            raise InputError("empty file", file=text, row=1)
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", file=text) from None
    if suffix == ".m":
        from warmgrid.io.matpower import load_matpower

        return _cached_parse(path, load_matpower, use_cache=use_cache)
    if suffix == ".json":
        from warmgrid.io.pandapower import load_pandapower_json

        return _cached_parse(path, load_pandapower_json, use_cache=use_cache)
    if suffix in (".nc", ".h5", ".hdf5"):
        from warmgrid.io.pypsa import load_pypsa

        return load_pypsa(path)
    raise InputError(
        f"unknown file type {suffix or '(none)'!r}; expected .m, .json, .nc or a tables folder",
        file=text,
    )
