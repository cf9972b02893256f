"""The Monte Carlo progress bar: on stderr, only for runs over a couple of seconds, with
samples/s and the ETA; never in --json mode or when stderr is not a terminal."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from warmgrid.study.driver import Chunks, ProgressBar, Writer


class _Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _bar(total=1000, done=0, delay_s=2.0):
    out = io.StringIO()
    clock = _Clock()
    con = Console(file=out, force_terminal=True, width=160, color_system=None)
    return ProgressBar("mc abc", total, done, delay_s=delay_s, console=con, clock=clock), out, clock


def test_no_bar_for_a_short_run():
    bar, out, clock = _bar()
    for d in (100, 400, 1000):
        clock.t += 0.5
        bar.update(d)
    bar.close(1000)
    assert out.getvalue() == ""


def test_bar_shows_rate_and_eta_after_the_delay():
    bar, out, clock = _bar(total=1000, done=200)  # a resumed run: 200 stored before
    clock.t += 1.0
    bar.update(300)
    assert out.getvalue() == ""
    clock.t += 1.5  # 2.5 s in, 300 computed by this call: 120 samples/s, 500 left
    bar.update(500)
    text = out.getvalue()
    assert "mc abc" in text
    assert "500/1000" in text
    assert "120 samples/s" in text
    assert re.search(r"ETA 0:00:0[45]", text)  # 500 left at 120/s: 4.2 s
    clock.t += 2.5
    bar.close(1000)
    assert "1000/1000" in out.getvalue()


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("json_out", [False, True])
def test_cli_bar_on_a_terminal_only_without_json(scenario_file, tmp_path, monkeypatch, json_out):
    from warmgrid.cli import main

    err = _TTY()
    monkeypatch.setattr("sys.stderr", err)  # in the test body: pytest resets it after setup
    monkeypatch.setattr(ProgressBar, "DELAY_S", 0.0)
    args = ["montecarlo", str(scenario_file), "-n", "30", "--seed", "1", "--batch", "5"]
    args += ["--scheduler", "synchronous", "--store", str(tmp_path / "p.duckdb")]
    assert main(args + (["--json"] if json_out else [])) == 0
    shown = "samples/s" in err.getvalue() and "ETA" in err.getvalue()
    assert shown is not json_out


def test_cli_no_bar_when_stderr_is_not_a_terminal(scenario_file, tmp_path, capfd, monkeypatch):
    from warmgrid.cli import main

    monkeypatch.setattr(ProgressBar, "DELAY_S", 0.0)
    args = ["montecarlo", str(scenario_file), "-n", "10", "--seed", "1"]
    args += ["--scheduler", "synchronous", "--store", str(tmp_path / "q.duckdb")]
    assert main(args) == 0
    assert "samples/s" not in capfd.readouterr().err


def test_chunks_grow_to_the_target_and_shrink_at_the_end():
    """Tasks start small, grow to ~target_s of work, and never exceed a fair share of
    what is left; every index is handed out once, in order."""
    c = Chunks(list(range(1000)), workers=2, target_s=0.5, first=4)
    got = []
    for chunk in c:
        got.append(chunk)
        c.observe([{"seconds": 0.008}] * len(chunk))  # 10 ms a sample with the 1.25 margin
    assert [i for ch in got for i in ch] == list(range(1000))
    sizes = [len(ch) for ch in got]
    assert sizes[0] == 4
    assert max(sizes) == 50  # 0.5 s / 10 ms
    assert sizes[-1] <= 2
    assert [len(ch) for ch in Chunks(list(range(20)), 2, batch=7)] == [7, 7, 6]


def test_writer_groups_tasks_by_time_and_keeps_what_fails(tmp_path):
    from warmgrid.study.store import Store

    st = Store(tmp_path / "w.duckdb")
    st.create_run(
        run="r",
        scenario="s",
        scenario_toml="",
        scenario_hash="h",
        hazard="",
        samples_requested=100,
        seed=0,
    )
    clock = _Clock()
    w = Writer(st, "r", every_task=False, min_interval_s=1.0, clock=clock)
    rows = [{"sample": i, "damage": ["a"], "seconds": 0.0} for i in range(12)]
    assert w.add(rows[0:3])  # the first task is written at once
    assert not w.add(rows[3:6])  # then at most once a second
    clock.t += 1.5
    assert w.add(rows[6:9])
    assert not w.add(rows[9:12])
    assert (w.written, w.new, len(w.pending)) == (9, 9, 3)
    w.flush()
    assert len(st.done("r")) == 12
    assert Writer(st, "r", every_task=True).add(rows[:2])  # an explicit batch: each task
