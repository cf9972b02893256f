"""Robust in a user's hands, through the real CLI: signals and lost workers.

Ctrl-C and SIGTERM to real ``warmgrid`` subprocesses (their whole process group, as a
terminal sends them), a lost set of Dask workers, an interrupted ``--overwrite``, the
memory check under a process limit, and the local Dask cluster's exposure. Every
failure must be one line on stderr with the documented exit code and no traceback.
(Split from test_robust.py so that the two halves run on both test workers.)
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cli_helpers import WARMGRID
from cli_helpers import one_line as _one_line
from cli_helpers import run as _run


def test_sigterm_while_the_cli_imports_is_one_line_and_143() -> None:
    """A SIGTERM during the console script's imports (before any command runs) gives the
    same line as later, never a silent death."""
    stopped = 0
    for delay in (0.1, 0.25):
        proc = _start(["info", "case9"])
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
        if proc.returncode == 0:  # (a fast machine finished first: nothing to stop)
            continue
        assert proc.returncode == 143, err
        assert _one_line(err) == "warmgrid: interrupted; nothing was written"
        stopped += 1
    assert stopped  # the imports alone take longer than 0.1 s


def _start(args: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [WARMGRID, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job is
        **kw,
    )


def _wait_for_samples(proc: subprocess.Popen, store: Path, at_least: int = 1) -> int:
    from warmgrid.study.store import Store

    t0 = time.monotonic()
    while time.monotonic() - t0 < 120:
        assert proc.poll() is None, proc.communicate()
        if store.exists():
            try:
                rows = Store(store).runs()
            except Exception:  # the writer holds the file for a moment
                rows = []
            if rows and rows[0]["samples_done"] >= at_least:
                return rows[0]["samples_done"]
        time.sleep(0.3)
    raise AssertionError("no samples stored within 120 s")


def _resume_line(err: str) -> list[str]:
    line = _one_line(err)
    assert "resume with: " in line, line
    return shlex.split(line.split("resume with: ", 1)[1])


@pytest.mark.parametrize(
    ("sig", "code", "scheduler"),
    [(signal.SIGINT, 130, "local"), (signal.SIGTERM, 143, "synchronous")],
)
def test_a_signal_stops_montecarlo_with_a_resume_line(tmp_path, sig, code, scheduler) -> None:
    store = tmp_path / "r.duckdb"
    args = ["montecarlo", "frost-strike-mc", "-n", "3000", "--seed", "5", "--store", str(store)]
    proc = _start([*args, "--scheduler", scheduler])
    _wait_for_samples(proc, store)
    os.killpg(proc.pid, sig)  # the whole group, workers included, as Ctrl-C does
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert out == ""
    again = _resume_line(err)
    assert err.startswith("warmgrid: interrupted after ")
    assert again[:2] == ["warmgrid", "montecarlo"]
    assert "--resume" in again
    run = again[again.index("--resume") + 1]
    from warmgrid.study.store import Store

    (row,) = Store(store).runs()
    assert row["run"] == run
    assert not row["complete"]
    assert f"after {row['samples_done']} of 3000 samples" in err
    # the line resumes the run (grown to finish fast: shrink is refused, so rewrite -n)
    assert again[again.index("--samples") + 1] == "3000"


def test_a_signal_while_the_workers_warm_up_is_one_resume_line(tmp_path) -> None:
    """Ctrl-C once the run exists but before any sample (the local cluster starting and
    warming up): one line with the resume command, exit 130, no asyncio or worker
    traceback."""
    store = tmp_path / "r.duckdb"
    args = ["montecarlo", "frost-strike-mc", "-n", "3000", "--seed", "5", "--store", str(store)]
    proc = _start(args)
    _wait_for_samples(proc, store, at_least=0)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out == ""
    again = _resume_line(err)  # one line, no traceback
    assert "--resume" in again
    assert "Task exception" not in err


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_any_command_with_nothing_half_written(tmp_path, sig, code) -> None:
    out = tmp_path / "v.parquet"
    proc = _start(
        ["contingency", "case1354pegase", "--k", "2", "--candidates", "1500", "--out", str(out)]
    )
    time.sleep(2.5)
    os.killpg(proc.pid, sig)
    stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert _one_line(err) == "warmgrid: interrupted; nothing was written"
    assert stdout == ""
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file


def test_lost_workers_give_the_resume_line_and_exit_1(tmp_path) -> None:
    store = tmp_path / "k.duckdb"
    env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
    proc = _start(
        ["montecarlo", "frost-strike-mc", "-n", "3000", "--seed", "5", "--store", str(store)],
        env=env,
    )
    _wait_for_samples(proc, store)
    kids = subprocess.run(
        ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
    ).stdout.split()
    workers = [
        int(k)
        for k in kids
        if "spawn_main" in Path(f"/proc/{k}/cmdline").read_text().replace("\0", " ")
    ]
    assert workers
    for w in workers:
        os.kill(w, signal.SIGKILL)
    _out, err = proc.communicate(timeout=90)
    assert proc.returncode == 1, err
    assert "lost the Dask workers (KilledWorker)" in err
    again = _resume_line(err)
    assert "--resume" in again


def test_overwrite_swaps_whole_folders_even_when_interrupted(tmp_path, capfd) -> None:
    """``export --overwrite`` onto a folder with many files, stopped by a signal at some
    point: the folder is then either the old one, every file there, or the new one, with
    nothing of the old left."""
    ov = tmp_path / "ov"
    assert _run(capfd, "export", "case9", str(ov))[0] == 0
    tables = sorted(p.name for p in ov.iterdir())
    junk = ov / "junk"
    junk.mkdir()
    for i in range(10_000):
        (junk / f"{i}.txt").write_bytes(b"x")
    seen = set()
    for delay in (0.5, 1.0, 1.8):
        proc = _start(["export", "case9", str(ov), "--overwrite"])
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err
        assert [p.name for p in tmp_path.iterdir()] == ["ov"]  # no temporary folder left
        if junk.exists():  # stopped before the swap: the old folder, whole
            assert proc.returncode == 130, err
            assert len(list(junk.iterdir())) == 10_000
            seen.add("old")
        else:  # the new folder, whole; nothing of the old one beside it
            if proc.returncode == 130:  # the signal came once the folder was in place
                assert _one_line(err) == f"warmgrid: interrupted; complete before it: {ov}"
            else:
                assert proc.returncode == 0, err
            assert sorted(p.name for p in ov.iterdir()) == tables
            seen.add("new")
            break
    assert seen


def test_the_memory_check_sees_the_process_limit() -> None:
    """Under ``ulimit -v`` (2.5 GB of address space), N-2 over 1,200 candidates (about
    1 GB) is refused before it starts, with one line and exit 2, not killed half-way."""
    import shlex

    cmd = [WARMGRID, "contingency", "case9241pegase", "--k", "2", "--candidates", "1200"]
    proc = subprocess.run(  # (bash's ulimit: no preexec_fn in a process with threads)
        ["bash", "-c", f"ulimit -v 2500000 && exec {shlex.join(cmd)}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    line = _one_line(proc.stderr)
    assert "is available" in line
    assert "--candidates" in line


def test_local_cluster_is_tls_only_and_serves_no_http() -> None:
    import socket

    from distributed import Client

    from warmgrid.study.montecarlo import _local_cluster

    d = _local_cluster(1)
    try:
        addr = d.cluster.scheduler_address
        assert addr.startswith("tls://127.0.0.1:")
        host, port = addr.removeprefix("tls://").rsplit(":", 1)
        # no HTTP listener left on the scheduler or the worker
        assert d.cluster.scheduler.http_server is not None
        http_port = d.cluster.scheduler.http_server.port
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, http_port), timeout=2).close()
        # a client without the credentials cannot use the scheduler
        with pytest.raises((OSError, TimeoutError)):
            Client(f"tcp://{host}:{port}", timeout="2s")
        assert d.client.submit(sum, [1, 2]).result() == 3
        # the measured settings (schedulers.QUIET_LOCAL) reach the worker process
        (seen,) = d.client.run(_worker_settings).values()
        assert seen == {"profile": False, "malloc_trim": None, "omp": "1"}
        assert d.client.direct_to_workers
    finally:
        d.close()


def _worker_settings(dask_worker: object) -> dict[str, object]:
    import os

    import dask

    return {
        "profile": dask.config.get("distributed.worker.profile.enabled"),
        "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "omp": os.environ.get("OMP_NUM_THREADS"),
    }
