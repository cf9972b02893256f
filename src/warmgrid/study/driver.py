"""The Monte Carlo driver's parts: task sizes, store writes and the progress bar.

* :class:`Chunks` cuts the sample indices into tasks as they are needed, sized from the
  rate seen so far (about half a second of work each, a few samples first), and never
  larger than a fair share of what is left, so the workers finish together. With an
  explicit ``batch`` every task has that size.
* :class:`Writer` buffers finished samples and writes them in one transaction every two
  seconds or so, the first task's at once (an opening of the DuckDB file, a commit and
  its checkpoint cost ~80 ms however few rows go in, CPU the workers of a two-core
  machine would rather have), and at once when the caller asked for a batch size
  (one transaction per task, as documented for ``--batch``). Whatever is buffered is
  written when the run stops, a signal included (:meth:`Writer.salvage`).
* :class:`ProgressBar` draws a ``rich`` bar on stderr once a run has lasted a couple of
  seconds: samples done, samples/s since the start of sampling, elapsed time and ETA.

Results never depend on any of this: sample ``i`` is a function of the scenario, the seed
and ``i`` alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from warmgrid.study.store import Store

__all__ = ["Chunks", "ProgressBar", "Writer"]


class Chunks:
    """Sample indices cut into tasks on demand (see the module docstring).

    Parameters
    ----------
    todo : the sample indices to run, in order.
    workers : worker processes sharing them.
    batch : a fixed task size, or None to size tasks from the observed rate.
    target_s : wanted seconds of work per task.
    first : size of the first tasks, before any rate is known.
    """

    def __init__(
        self,
        todo: Sequence[int],
        workers: int,
        batch: int | None = None,
        *,
        target_s: float = 0.5,
        first: int = 4,
        largest: int = 2000,
    ) -> None:
        self.todo, self.pos = list(todo), 0
        self.workers, self.batch = max(1, workers), batch
        self.target_s, self.first, self.largest = target_s, first, largest
        self._seconds = 0.0  # replay seconds and samples seen, for the rate
        self._samples = 0

    def observe(self, rows: Sequence[dict[str, Any]]) -> None:
        """Learn the cost of a sample from a finished task's rows (their ``seconds``)."""
        self._seconds += sum(float(r.get("seconds", 0.0)) for r in rows)
        self._samples += len(rows)

    def size(self) -> int:
        """The size of the next task."""
        if self.batch is not None:
            return self.batch
        left = len(self.todo) - self.pos
        if self._samples == 0 or self._seconds <= 0:
            n = self.first
        else:  # replay time is ~80 % of a sample's (damage draw, outcomes, transfer)
            per = 1.25 * self._seconds / self._samples
            n = int(self.target_s / per)
        fair = math.ceil(left / (2 * self.workers))
        return max(1, min(n, self.largest, fair))

    def __iter__(self) -> Iterator[list[int]]:
        while self.pos < len(self.todo):
            n = self.size()
            chunk = self.todo[self.pos : self.pos + n]
            self.pos += n
            yield chunk


class Writer:
    """Buffered, idempotent writes of finished samples (see the module docstring).

    Parameters
    ----------
    store, run : where the rows go.
    every_task : write each task's rows at once (an explicit ``batch``).
    min_interval_s : otherwise write at most this often (longer when writes are slow:
        at most ~5 % of the time goes to them).
    clock : a monotonic clock (tests pass their own).
    """

    def __init__(
        self,
        store: Store,
        run: str,
        *,
        every_task: bool,
        min_interval_s: float = 2.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.store, self.run, self.every_task = store, run, every_task
        self.min_interval_s, self.clock = min_interval_s, clock
        self.pending: list[dict[str, Any]] = []
        self.written = 0  # rows handed to the store (new or already there)
        self.new = 0  # rows the store did not have
        self._last: float | None = None
        self._interval = min_interval_s

    def add(self, rows: Sequence[dict[str, Any]]) -> bool:
        """Buffer a task's rows; write them (and return True) when a write is due."""
        self.pending.extend(rows)
        due = self.every_task or self._last is None
        if not due and self.clock() - self._last >= self._interval:  # type: ignore[operator]
            due = True
        if due:
            self.flush()
        return due

    def flush(self) -> None:
        """Write what is buffered in one transaction (kept buffered if it fails)."""
        if not self.pending:
            return
        t0 = self.clock()
        self.new += self.store.write_samples(self.run, self.pending)
        self.written += len(self.pending)
        self.pending = []
        now = self.clock()
        self._interval = max(self.min_interval_s, 20.0 * (now - t0))
        self._last = now

    def salvage(self) -> None:
        """Write the buffer on the way out (a signal or an error stopped the run): with
        SIGINT and SIGTERM ignored for the moment it takes; a failure loses only samples
        that a resume recomputes."""
        import signal

        from warmgrid.study.schedulers import ignoring

        if not self.pending:
            return
        with ignoring(signal.SIGINT, signal.SIGTERM):
            try:
                self.flush()
            except Exception:  # the original exception is what the user must see
                pass


class ProgressBar:
    """A progress bar on stderr that appears once the run has lasted ``delay_s``.

    Parameters
    ----------
    label : the task's description (scenario and run id).
    total, done : samples requested and already stored before this call.
    delay_s : show nothing for runs shorter than this (default :attr:`DELAY_S`).
    console : a ``rich.console.Console`` (default: stderr).
    clock : a monotonic clock.
    """

    #: Runs shorter than this show no bar, s.
    DELAY_S = 2.0

    def __init__(
        self,
        label: str,
        total: int,
        done: int,
        *,
        delay_s: float | None = None,
        console: Any = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.label, self.total, self.start_done = label, total, done
        self.delay_s = self.DELAY_S if delay_s is None else delay_s
        self.console, self.clock = console, clock
        self.t0 = clock()
        self.bar: Any = None
        self.task: Any = None

    def _fields(self, done: int) -> dict[str, str]:
        dt = max(self.clock() - self.t0, 1e-9)
        rate = (done - self.start_done) / dt
        left = self.total - done
        eta = "-:--:--" if rate <= 0 else _hms(left / rate)
        return {"rate": f"{rate:,.0f} samples/s", "eta": eta, "elapsed": _hms(dt)}

    def update(self, done: int) -> None:
        """Samples done so far (stored or about to be)."""
        if self.bar is None:
            if self.clock() - self.t0 < self.delay_s:
                return
            self._start(done)
        self.bar.update(self.task, completed=done, refresh=True, **self._fields(done))

    def _start(self, done: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = self.console or Console(stderr=True, markup=False, emoji=False, highlight=False)
        self.bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}", markup=False),
            TextColumn("{task.fields[elapsed]} elapsed, ETA {task.fields[eta]}", markup=False),
            console=console,
            transient=False,
            auto_refresh=False,
        )
        self.task = self.bar.add_task(
            self.label, total=self.total, completed=done, **self._fields(done)
        )
        self.bar.start()

    def close(self, done: int | None = None) -> None:
        if self.bar is not None:
            if done is not None:
                self.bar.update(self.task, completed=done, **self._fields(done))
            self.bar.refresh()
            self.bar.stop()
            self.bar = None


def _hms(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
