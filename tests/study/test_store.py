"""The DuckDB results store: idempotent keyed writes, atomic batches, bad paths, `runs`."""

from __future__ import annotations

import json

import pytest

from warmgrid.errors import InputError
from warmgrid.study import store as store_mod
from warmgrid.study.store import METRIC_COLUMNS, Store


def _rows(samples: range, *, value: float = 1.0) -> list[dict]:
    return [
        {
            "sample": i,
            "damage": [f"line:{i}", "gen:0"],
            **{c: value * (i + 1) for c in METRIC_COLUMNS},
            "metrics": {"x": i},
            "seconds": 0.01,
        }
        for i in samples
    ]


def _new(path, run="r1", n=10) -> Store:
    st = Store(path)
    st.create_run(
        run=run,
        scenario="s",
        scenario_toml="[grid]\ncase='case9'\n",
        scenario_hash="h",
        hazard="Explicit(elements=[])",
        samples_requested=n,
        seed=3,
    )
    return st


def test_writes_are_keyed_and_idempotent(tmp_path):
    st = _new(tmp_path / "r.duckdb")
    assert st.write_samples("r1", _rows(range(0, 4))) == 4
    assert st.write_samples("r1", _rows(range(0, 4))) == 0  # same batch again: no-op
    # overlapping batch with other values: stored rows are kept, only new keys inserted
    assert st.write_samples("r1", _rows(range(2, 7), value=9.0)) == 3
    df = st.samples("r1")
    assert df["sample"].tolist() == list(range(7))
    assert df.loc[df["sample"] == 3, "people_without_heat_peak"].item() == 4.0
    assert df.loc[df["sample"] == 5, "people_without_heat_peak"].item() == 54.0
    assert df["damage"].iloc[1] == ["line:1", "gen:0"]
    assert json.loads(df["metrics"].iloc[2]) == {"x": 2}
    (run,) = st.runs()
    assert (run["samples_done"], run["complete"]) == (7, False)
    st.write_samples("r1", _rows(range(7, 10)))
    assert st.runs()[0]["complete"] is True
    assert st.query("SELECT count(*), count(DISTINCT sample) FROM samples")[0] == (10, 10)


def test_a_failed_batch_writes_nothing(tmp_path, monkeypatch):
    st = _new(tmp_path / "r.duckdb")
    st.write_samples("r1", _rows(range(0, 2)))

    def boom():
        raise RuntimeError("crash after the insert, before the commit")

    monkeypatch.setattr(store_mod, "_now", boom)
    with pytest.raises(RuntimeError, match="crash"):
        st.write_samples("r1", _rows(range(2, 6)))
    monkeypatch.undo()
    assert st.done("r1") == {0, 1}
    assert st.write_samples("r1", _rows(range(2, 6))) == 4


def test_missing_store_reads_empty_without_creating_it(tmp_path):
    p = tmp_path / "sub" / "none.duckdb"
    st = Store(p)
    assert st.runs() == []
    assert st.done("x") == set()
    assert not p.exists()
    assert not p.parent.exists()


def test_bad_store_paths_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        Store(tmp_path)
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database\n" * 100)
    with pytest.raises(InputError, match="cannot read the results store"):
        Store(junk)
    assert junk.read_text() == "not a database\n" * 100


def test_unknown_run_names_the_closest(tmp_path):
    st = _new(tmp_path / "r.duckdb", run="abc123")
    with pytest.raises(InputError, match="closest: abc123"):
        st.run("abc124")
    with pytest.raises(InputError, match="no runs"):
        Store(tmp_path / "empty.duckdb").run("abc")


def test_runs_cli_json_contract(tmp_path, capsys):
    from warmgrid.cli import main

    p = tmp_path / "r.duckdb"
    st = _new(p, run="r1", n=10)
    st.write_samples("r1", _rows(range(4)))
    _new(p, run="r2", n=3).write_samples("r2", _rows(range(3)))
    capsys.readouterr()
    assert main(["runs", "--store", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["run"] for r in out] == ["r1", "r2"]
    for r, (done, req, complete) in zip(out, [(4, 10, False), (3, 3, True)], strict=True):
        assert {"run", "scenario", "scenarios", "samples_requested", "complete"} <= set(r)
        assert (r["samples_done"], r["samples_requested"], r["complete"]) == (done, req, complete)
        assert r["scenario"] == "s"
        assert r["scenarios"] == ["s"]
    assert main(["runs", "--store", str(tmp_path / "nothing.duckdb"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["runs", "--store", str(tmp_path), "--json"]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_run_context_round_trip_and_older_stores(tmp_path):
    """A run's context (its page's header) is kept as JSON, NaN as null; a store from
    before contexts (no run_context table) is still read, and gets the table on the next
    write; a run_context table of another shape is refused, the file unchanged."""
    import hashlib

    import duckdb

    st = _new(tmp_path / "r.duckdb")
    st.set_context("r1", {"mode": "mld", "x": float("nan"), "n": [1, 2]})
    assert Store(st.path).context("r1") == {"mode": "mld", "x": None, "n": [1, 2]}
    assert Store(st.path).context("other") is None
    # an older store: the same tables without run_context
    old = tmp_path / "old.duckdb"
    _new(old)
    with duckdb.connect(str(old)) as con:
        con.execute("DROP TABLE run_context")
    assert Store(old).context("r1") is None
    Store(old).write_samples("r1", _rows(range(2)))
    Store(old).set_context("r1", {"mode": "cascade"})
    assert Store(old).context("r1") == {"mode": "cascade"}
    # a foreign run_context table
    bad = tmp_path / "bad.duckdb"
    _new(bad)
    with duckdb.connect(str(bad)) as con:
        con.execute("DROP TABLE run_context")
        con.execute("CREATE TABLE run_context (run VARCHAR, other INTEGER)")
    md5 = hashlib.md5(bad.read_bytes()).hexdigest()
    with pytest.raises(InputError, match="run_context"):
        Store(bad)
    assert hashlib.md5(bad.read_bytes()).hexdigest() == md5
