"""The results store: one DuckDB file with a ``runs`` table, a ``samples`` table and a
``run_context`` table.

``runs``: one row per Monte Carlo run (``run`` is the key): the scenario's name, its TOML
text and content hash, the hazard, ``samples_requested``, ``seed``, ``created``,
``updated``, ``complete``.

``samples``: one row per finished sample, keyed by ``(run, sample)``: ``damage`` (a JSON
list of element ids), the outcome metrics (:data:`METRIC_COLUMNS`, plus every metric of
``Timeline.metrics()`` as JSON in ``metrics``) and ``seconds`` (wall time of the replay).

``run_context``: one row per run, its page's context as JSON (the start, the weather,
the mode, the scenario's own damage by name and kind, the baseline, the warnings and the
assumptions), written when the run starts. Stores from before it lack the table; they
are read as they are (the page then has a shorter header) and get it on the next write.

Writes are idempotent and atomic: each batch goes in one transaction and inserts only
the ``(run, sample)`` keys not yet stored (an anti-join), so a batch written twice, or a
resumed run that recomputes a sample, neither duplicates nor changes a row; an
interruption leaves whole batches only. Samples are deterministic functions of
``(scenario, seed, sample)``, so skipping a stored key loses nothing.

A store is checked before anything is written to it: a file that is not a DuckDB
database, a damaged one, or a DuckDB database with other tables (or a ``runs`` or
``samples`` table of another shape) is refused with one :class:`InputError`, and the file
stays byte-for-byte as it was. DuckDB never reaches for the network: extension
auto-install and auto-load are off (a SQLite file would otherwise make it download its
``sqlite`` extension).

Only the driver process writes (DuckDB allows one writing process per file). It opens
the file for each write and closes it at once (every two seconds or so during a run), so
``warmgrid runs`` (read-only) can look at a run in progress between writes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warmgrid.errors import InputError, WarmgridError, closest, quoted
from warmgrid.outputs import plain

__all__ = ["DEFAULT_STORE", "METRIC_COLUMNS", "Store"]

#: Where ``warmgrid montecarlo`` and ``warmgrid runs`` keep results by default.
DEFAULT_STORE = Path("warmgrid-out") / "results.duckdb"

#: Outcome columns of ``samples`` (DOUBLE; NULL when a threshold is not configured).
METRIC_COLUMNS: tuple[str, ...] = (
    "people_without_power_peak",
    "people_without_heat_peak",
    "people_without_water_peak",
    "person_hours_without_power",
    "person_hours_without_heat",
    "person_hours_without_water",
    "energy_not_served_mwh",
    "shed_mw_start",
    "facilities_past_backup",
    "person_hours_below_18c",
    "person_hours_below_12c",
    "person_hours_below_5c",
    "first_area_below_12c_h",
)

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS runs (
        run VARCHAR PRIMARY KEY,
        scenario VARCHAR NOT NULL,
        scenario_toml VARCHAR NOT NULL,
        scenario_hash VARCHAR NOT NULL,
        hazard VARCHAR NOT NULL,
        samples_requested INTEGER NOT NULL,
        seed BIGINT NOT NULL,
        created TIMESTAMP NOT NULL,
        updated TIMESTAMP NOT NULL,
        complete BOOLEAN NOT NULL,
        warmgrid_version VARCHAR
    )""",
    "CREATE TABLE IF NOT EXISTS samples (run VARCHAR NOT NULL, sample INTEGER NOT NULL, "
    "damage VARCHAR NOT NULL, n_damaged INTEGER NOT NULL, "
    + ", ".join(f"{c} DOUBLE" for c in METRIC_COLUMNS)
    + ", metrics VARCHAR, seconds DOUBLE, PRIMARY KEY (run, sample))",
    "CREATE TABLE IF NOT EXISTS run_context (run VARCHAR PRIMARY KEY, context VARCHAR NOT NULL)",
]

#: The pages' context of each run (start, weather, mode, damage by name, baseline,
#: warnings, assumptions) as JSON; optional (stores written before it have no such table).
_CONTEXT_COLUMNS = ("run", "context")

_SAMPLE_COLUMNS = ("run", "sample", "damage", "n_damaged", *METRIC_COLUMNS, "metrics", "seconds")

_RUN_COLUMNS = (
    "run",
    "scenario",
    "scenario_toml",
    "scenario_hash",
    "hazard",
    "samples_requested",
    "seed",
    "created",
    "updated",
    "complete",
    "warmgrid_version",
)

#: DuckDB settings for every connection: no extension is ever installed or loaded.
_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "threads": 1,  # the driver writes while the workers compute: one core is plenty
}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Store:
    """A DuckDB results file.

    Parameters
    ----------
    path : the ``.duckdb`` file; created (with its folder) on the first write only.

    Raises
    ------
    InputError : the path is a directory, or an existing file is not a readable DuckDB
        database, is damaged, or holds tables of another shape (:meth:`check`).
    """

    def __init__(self, path: str | Path = DEFAULT_STORE) -> None:
        self.path = Path(path).expanduser()
        self._schema_ok = False
        self._shared: Any = None  # the read-only connection of a reader() block
        if self.path.is_dir():
            raise InputError("is a directory, expected a results .duckdb file", file=str(self.path))
        if self.path.exists():
            self.check()

    def _bad(self, why: str) -> InputError:
        return InputError(why, file=str(self.path))

    def check(self) -> None:
        """Refuse a file that is not a warmgrid results store, reading it only.

        Accepted: an empty DuckDB database, or one whose ``runs`` and ``samples`` tables
        have exactly this version's columns (other tables beside them are refused too:
        the file belongs to something else). Every row is read once, so a damaged block
        fails here rather than half-way through a run.
        """
        with self.path.open("rb") as f:
            head = f.read(16)
        if head.startswith(b"SQLite format 3"):
            raise self._bad("a SQLite database, not a DuckDB results store; pass another --store")
        with self._connect(read_only=True) as con:
            tables = {
                r[0]: r[1]
                for r in con.execute(
                    "SELECT table_name, table_type FROM information_schema.tables"
                ).fetchall()
            }
            if not tables:
                other = _other_objects(con)
                if other:
                    raise self._bad(
                        "not a warmgrid results store (a DuckDB database holding "
                        f"{', '.join(other)}); pass another --store"
                    )
                return
            ours, optional = {"runs", "samples"}, {"run_context"}
            if not ours <= set(tables) <= ours | optional:
                other = sorted(set(tables) - ours - optional) or sorted(ours - set(tables))
                raise self._bad(
                    "not a warmgrid results store (a DuckDB database with tables "
                    f"{', '.join(sorted(tables))}; expected runs and samples); "
                    f"pass another --store (differs in: {', '.join(other)})"
                )
            for table, want in (
                ("runs", _RUN_COLUMNS),
                ("samples", _SAMPLE_COLUMNS),
                ("run_context", _CONTEXT_COLUMNS),
            ):
                if table not in tables:
                    continue
                have = tuple(
                    r[0]
                    for r in con.execute(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_name = ? ORDER BY ordinal_position",
                        [table],
                    ).fetchall()
                )
                if have != want:
                    missing = [c for c in want if c not in have]
                    extra = [c for c in have if c not in want]
                    raise self._bad(
                        f"table {table!r} is not a warmgrid results table"
                        + (f" (missing {', '.join(missing[:5])})" if missing else "")
                        + (f" (unexpected {', '.join(extra[:5])})" if extra else "")
                    )
            # touch every block once: a damaged file fails now, not mid-run
            con.execute("SELECT count(*), max(length(scenario_toml)) FROM runs").fetchall()
            con.execute(
                "SELECT count(*), max(length(damage)), max(length(metrics)), "
                + ", ".join(f"sum({c})" for c in METRIC_COLUMNS)
                + " FROM samples"
            ).fetchall()

    def check_writable(self) -> None:
        """Refuse a store that cannot be created or written, before a run starts: the
        folder and file permissions, and for an existing store a trial write (a run row,
        a sample and a context inserted and rolled back, so that damaged index blocks,
        which a read never loads, fail here and leave the file as it was)."""
        import os

        folder = self.path.parent
        probe = folder
        while not probe.exists():
            probe = probe.parent
        if not probe.is_dir():
            raise self._bad(f"cannot create the store: {probe} is not a folder")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise self._bad(f"cannot write the results store: no write permission in {probe}")
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise self._bad("cannot write the results store: the file is read-only")
        if self.path.exists() and self.path.stat().st_size > 0:
            self._trial_write()

    def _trial_write(self) -> None:
        """Insert one row in each table of an existing store and roll back."""
        import uuid

        import duckdb

        probe = f"~probe-{uuid.uuid4().hex}"
        with self._connect(read_only=False) as con:
            names = {
                r[0]
                for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            if not names:
                return
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(
                    "INSERT INTO runs VALUES (?, '', '', '', '', 1, 0, ?, ?, false, '')",
                    [probe, _now(), _now()],
                )
                con.execute(
                    "INSERT INTO samples (run, sample, damage, n_damaged) VALUES (?, 0, '[]', 0)",
                    [probe],
                )
                if "run_context" in names:
                    con.execute("INSERT INTO run_context VALUES (?, '{}')", [probe])
            except duckdb.Error as e:
                con.execute("ROLLBACK")
                raise self._bad(
                    f"cannot write the results store (damaged?): {str(e).splitlines()[0]}"
                ) from None
            con.execute("ROLLBACK")

    # ------------------------------------------------------------------ connections
    @contextmanager
    def reader(self) -> Iterator[None]:
        """Answer every read inside the block from one read-only connection (an opening of
        the file costs ~30 ms; a summary makes a dozen queries)."""
        if self._shared is not None:
            yield
            return
        with self._connect(read_only=True) as con:
            self._shared = con
            try:
                yield
            finally:
                self._shared = None

    @contextmanager
    def _connect(self, *, read_only: bool) -> Iterator[Any]:
        import duckdb

        if read_only and self._shared is not None:
            yield self._shared
            return
        last: Exception | None = None
        for attempt in range(40):  # another process may hold the write lock briefly
            try:
                con = duckdb.connect(str(self.path), read_only=read_only, config=dict(_CONFIG))
                break
            except duckdb.InterruptException:
                raise KeyboardInterrupt from None
            except duckdb.IOException as e:
                last = e
                if "lock" not in str(e).lower():
                    raise InputError(
                        f"cannot read the results store: {str(e).splitlines()[0]}",
                        file=str(self.path),
                    ) from None
                time.sleep(min(0.05 * (attempt + 1), 0.5))
            except duckdb.Error as e:
                raise InputError(
                    f"cannot read the results store: {str(e).splitlines()[0]}",
                    file=str(self.path),
                ) from None
        else:
            raise WarmgridError(f"{self.path}: the results store stays locked: {last}")
        try:
            yield con
        except duckdb.InterruptException:  # Ctrl-C inside a query: an interrupt, not damage
            raise KeyboardInterrupt from None
        except RuntimeError as e:  # DuckDB's pandas scan reports the interrupt this way
            if "interrupted" in str(e).lower():
                raise KeyboardInterrupt from None
            raise
        except duckdb.Error as e:
            what = "read" if read_only else "write"
            raise InputError(
                f"cannot {what} the results store (damaged?): {str(e).splitlines()[0]}",
                file=str(self.path),
            ) from None
        finally:
            con.close()

    @contextmanager
    def writer(self) -> Iterator[Any]:
        """A read-write connection with the schema in place (creates the file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect(read_only=False) as con:
            if not self._schema_ok:
                for sql in _SCHEMA:
                    con.execute(sql)
                self._schema_ok = True
            yield con

    def _has_tables(self, con: Any) -> bool:
        n = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('runs', 'samples')"
        ).fetchone()[0]
        return n == 2

    # ------------------------------------------------------------------ writes
    def create_run(
        self,
        *,
        run: str,
        scenario: str,
        scenario_toml: str,
        scenario_hash: str,
        hazard: str,
        samples_requested: int,
        seed: int,
        version: str = "",
    ) -> None:
        """Insert a new run row (``complete = false``)."""
        now = _now()
        with self.writer() as con:
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?)",
                [
                    run,
                    scenario,
                    scenario_toml,
                    scenario_hash,
                    hazard,
                    samples_requested,
                    seed,
                    now,
                    now,
                    version,
                ],
            )

    def set_samples_requested(self, run: str, samples_requested: int) -> None:
        """Extend a run to more samples (its existing samples stay valid)."""
        with self.writer() as con:
            con.execute(
                "UPDATE runs SET samples_requested = ?, complete = false, updated = ? "
                "WHERE run = ?",
                [samples_requested, _now(), run],
            )

    def write_samples(self, run: str, rows: Sequence[dict[str, Any]]) -> int:
        """Insert a batch of sample rows in one transaction; return how many were new.

        Keys already stored are skipped (anti-join), so writing a batch twice is a no-op.
        The run's ``complete`` flag is updated in the same transaction.
        """
        import pandas as pd

        if not rows:
            return 0
        df = pd.DataFrame(
            {
                "run": [run] * len(rows),
                "sample": [int(r["sample"]) for r in rows],
                "damage": [json.dumps(list(r["damage"])) for r in rows],
                "n_damaged": [len(r["damage"]) for r in rows],
                **{c: [_num(r.get(c)) for r in rows] for c in METRIC_COLUMNS},
                "metrics": [json.dumps(r.get("metrics", {})) for r in rows],
                "seconds": [float(r.get("seconds", 0.0)) for r in rows],
            },
            columns=list(_SAMPLE_COLUMNS),
        )
        df = df.drop_duplicates("sample")
        cols = ", ".join(_SAMPLE_COLUMNS)
        with self.writer() as con:
            con.register("batch", df)
            con.execute("BEGIN TRANSACTION")
            try:
                inserted = con.execute(
                    f"INSERT INTO samples ({cols}) SELECT {cols} FROM batch b "
                    "WHERE NOT EXISTS (SELECT 1 FROM samples s "
                    "WHERE s.run = b.run AND s.sample = b.sample)"
                ).fetchone()[0]
                con.execute(
                    "UPDATE runs SET updated = ?, complete = ((SELECT count(*) FROM samples s "
                    "WHERE s.run = runs.run) >= samples_requested) WHERE run = ?",
                    [_now(), run],
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                con.unregister("batch")
        return int(inserted)

    # ------------------------------------------------------------------ reads
    def runs(self) -> list[dict[str, Any]]:
        """Every run: ``run, scenario, samples_requested, samples_done, complete, seed, created``."""
        if not self.path.exists():
            return []
        with self._connect(read_only=True) as con:
            if not self._has_tables(con):
                return []
            cur = con.execute(
                "SELECT r.run, r.scenario, r.samples_requested, "
                "(SELECT count(*) FROM samples s WHERE s.run = r.run) AS samples_done, "
                "r.complete, r.seed, r.created, r.updated, r.hazard "
                "FROM runs r ORDER BY r.created, r.run"
            )
            names = [d[0] for d in cur.description]
            out = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        for r in out:
            r["created"] = r["created"].isoformat(timespec="seconds")
            r["updated"] = r["updated"].isoformat(timespec="seconds")
        return out

    def run(self, run: str, *, field: str = "RUN") -> dict[str, Any]:
        """One run's row (with ``scenario_toml``, ``scenario_hash``), or InputError naming
        the closest known run ids (and ``field``, where the id came from)."""
        known: list[str] = []
        if self.path.exists():
            with self._connect(read_only=True) as con:
                if self._has_tables(con):
                    cur = con.execute("SELECT * FROM runs WHERE run = ?", [run])
                    names = [d[0] for d in cur.description]
                    row = cur.fetchone()
                    if row is not None:
                        return dict(zip(names, row, strict=True))
                    known = [r[0] for r in con.execute("SELECT run FROM runs").fetchall()]
        raise InputError(
            f"unknown run {quoted(run)}{closest(run, known)}"
            + ("" if known else " (the store has no runs)"),
            file=str(self.path),
            field=field,
        )

    def set_context(self, run: str, context: Mapping[str, Any]) -> None:
        """Keep the run's context for its page (replaces an earlier one)."""
        text = json.dumps(plain(context), allow_nan=False)
        with self.writer() as con:
            con.execute("INSERT OR REPLACE INTO run_context VALUES (?, ?)", [run, text])

    def context(self, run: str) -> dict[str, Any] | None:
        """The run's context (:meth:`set_context`), or None: none kept, or a store written
        before contexts were."""
        if not self.path.exists():
            return None
        with self._connect(read_only=True) as con:
            has = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'run_context'"
            ).fetchone()[0]
            if not has:
                return None
            row = con.execute("SELECT context FROM run_context WHERE run = ?", [run]).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def done(self, run: str) -> set[int]:
        """Sample indices already stored for ``run``."""
        if not self.path.exists():
            return set()
        with self._connect(read_only=True) as con:
            if not self._has_tables(con):
                return set()
            rows = con.execute("SELECT sample FROM samples WHERE run = ?", [run]).fetchall()
        return {int(r[0]) for r in rows}

    def samples(self, run: str) -> Any:
        """The run's samples as a pandas DataFrame, ordered by sample (damage as lists)."""
        with self._connect(read_only=True) as con:
            df = con.execute("SELECT * FROM samples WHERE run = ? ORDER BY sample", [run]).fetchdf()
        df["damage"] = df["damage"].map(json.loads)
        return df

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only SQL query on the store."""
        with self._connect(read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()


def _other_objects(con: Any) -> list[str]:
    """What a DuckDB database without tables holds besides (sequences, macros, schemas,
    types, views): a file that belongs to something else."""
    out = []
    for what, sql in (
        ("sequences", "SELECT count(*) FROM duckdb_sequences()"),
        ("macros", "SELECT count(*) FROM duckdb_functions() WHERE NOT internal"),
        ("schemas", "SELECT count(*) FROM duckdb_schemas() WHERE NOT internal"),
        ("types", "SELECT count(*) FROM duckdb_types() WHERE NOT internal"),
        ("views", "SELECT count(*) FROM duckdb_views() WHERE NOT internal"),
    ):
        if con.execute(sql).fetchone()[0]:
            out.append(what)
    return out


def _num(x: Any) -> float | None:
    return None if x is None else float(x)
