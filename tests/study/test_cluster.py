"""A real multi-process Dask cluster: `dask scheduler` and two `dask worker` processes on
127.0.0.1, driven by the `warmgrid montecarlo` command line (the README's "Monte Carlo on
a cluster" recipe, on one machine).

Every sample must equal the synchronous run with the same seed, also when one worker is
killed half-way (Dask hands its tasks to the other one). Every process is stopped at the
end, whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from warmgrid.study.montecarlo import run_montecarlo
from warmgrid.study.store import METRIC_COLUMNS, Store

BIN = Path(sys.executable).parent
SEED = 11
_COMPARE = ["sample", "damage", *METRIC_COLUMNS, "metrics"]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=log.parent
        )


def _stop(procs: list[subprocess.Popen]) -> None:
    """Kill every process group we started (workers first), then reap them."""
    for p in reversed(procs):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass


def _wait(cond, what: str, timeout: float = 20.0) -> None:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def cluster(tmp_path):
    """(scheduler address, {name: worker process}) of a fresh local cluster."""
    procs: list[subprocess.Popen] = []
    try:
        sfile = tmp_path / "scheduler.json"
        common = ["--no-dashboard", "--host", "127.0.0.1"]
        procs.append(
            _start(
                [
                    str(BIN / "dask"),
                    "scheduler",
                    *common,
                    "--port",
                    "0",
                    "--scheduler-file",
                    str(sfile),
                ],
                tmp_path / "scheduler.log",
            )
        )
        _wait(lambda: sfile.exists() and sfile.stat().st_size > 0, "the scheduler file")
        addr = json.loads(sfile.read_text())["address"]
        workers = {}
        for name in ("w1", "w2"):
            p = _start(
                [
                    str(BIN / "dask"),
                    "worker",
                    addr,
                    *common,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--name",
                    name,
                    "--memory-limit",
                    "2GiB",
                ],
                tmp_path / f"{name}.log",
            )
            procs.append(p)
            workers[name] = p
        from distributed import Client

        with Client(addr, timeout="20s") as c:
            c.wait_for_workers(2, timeout=20)
        yield addr, workers
    finally:
        _stop(procs)


def _rows(store: Path, run: str) -> pd.DataFrame:
    return Store(store).samples(run)[_COMPARE]


def _cli(args: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "warmgrid"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kw,
    )


def test_a_real_cluster_gives_the_synchronous_samples_even_losing_a_worker(
    cluster, scenario, scenario_file, tmp_path
):
    addr, workers = cluster
    n = 600
    ref = run_montecarlo(scenario, n, seed=SEED, scheduler="synchronous", store=tmp_path / "s.db")
    want = _rows(tmp_path / "s.db", ref.run)
    procs: list[subprocess.Popen] = []
    try:
        # 1. a plain run: every sample as in the synchronous run
        store = tmp_path / "c.duckdb"
        base = ["montecarlo", str(scenario_file), "--seed", str(SEED), "--scheduler", addr]
        p = _cli([*base, "-n", "300", "--store", str(store), "--json"])
        procs.append(p)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        res = json.loads(out)
        assert (res["samples_done"], res["complete"], res["new_samples"]) == (300, True, 300)
        pd.testing.assert_frame_equal(_rows(store, res["run"]), want.iloc[:300])

        # 2. one worker killed half-way: the run completes, with the same samples
        store = tmp_path / "k.duckdb"
        p = _cli([*base, "-n", str(n), "--batch", "10", "--store", str(store), "--json"])
        procs.append(p)

        def stored() -> int:
            if p.poll() is not None:
                raise AssertionError(p.communicate())
            try:
                rows = Store(store).runs() if store.exists() else []
            except Exception:  # the driver holds the file for a moment
                return 0
            return rows[0]["samples_done"] if rows else 0

        _wait(lambda: stored() >= 30, "the first samples", timeout=40)
        victim = workers["w1"]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        assert p.poll() is None  # the worker died mid-run
        out, err = p.communicate(timeout=90)
        assert p.returncode == 0, err
        res = json.loads(out)
        assert (res["samples_done"], res["complete"]) == (n, True)
        pd.testing.assert_frame_equal(_rows(store, res["run"]), want)
        assert workers["w2"].poll() is None  # the other worker did the rest
    finally:
        _stop(procs)
