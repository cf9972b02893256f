"""Monte Carlo over random damage: distributions of outcomes and which elements matter.

A sample is a replay with sampled damage (DESIGN.md, "One timeline"): sample ``i`` of a
run seeded ``seed`` draws its damage from its own stream
``SeedSequence(seed, spawn_key=(i,))`` (:mod:`warmgrid.rng`), the scenario's ``[damage]``
plus one draw of its ``[hazard]`` (:mod:`warmgrid.hazard`), and calls
``Simulator.run(damage)``. Nothing depends on which worker runs which sample or in what
order, so a run is identical on 1 or 100 workers, and a resumed run equals an
uninterrupted one.

The driver ships only the (small) scenario and sample indices. Each worker process builds
the :class:`~warmgrid.timeline.Simulator` once (cached in a module global keyed by the
scenario's content hash) and replays chunks of ``batch`` samples. The driver writes each
finished chunk to the DuckDB store in one transaction (:class:`~warmgrid.study.store.Store`).

Schedulers: ``"synchronous"`` (in this process, no Dask), ``None``/``"local"`` (a
``distributed.LocalCluster`` of 2 single-threaded worker processes), a scheduler address
(``"tcp://host:8786"``; the workers must see the same files) or a ``distributed.Client``.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from warmgrid.errors import InputError, Interrupted, quoted
from warmgrid.study.store import DEFAULT_STORE, METRIC_COLUMNS, Store

__all__ = [
    "SUMMARY_METRICS",
    "MonteCarloRun",
    "RunStopped",
    "criticality",
    "distributions",
    "run_montecarlo",
    "run_samples",
    "sample_damage",
    "scenario_hash",
    "summary",
]

#: The outcomes summarised by :func:`distributions` (and ``warmgrid montecarlo``).
SUMMARY_METRICS = (
    "people_without_power_peak",
    "people_without_heat_peak",
    "people_without_water_peak",
    "person_hours_below_12c",
)

#: Power outcomes cached per worker before the Simulator's cache is emptied: in a Monte
#: Carlo every sample is a new set of elements out, so an unbounded cache only grows.
_MAX_CACHED_STATES = 64


@dataclass(frozen=True)
class MonteCarloRun:
    """What :func:`run_montecarlo` did.

    Attributes
    ----------
    run : the run id in the store.
    store : the DuckDB file.
    scenario : the scenario's name.
    seed : the run's seed (recorded; drawn from OS entropy when none was given).
    samples_requested, samples_done : counts after this call.
    new_samples : samples computed and written by this call.
    seconds : wall time of this call, s.
    """

    run: str
    store: Path
    scenario: str
    seed: int
    samples_requested: int
    samples_done: int
    new_samples: int
    seconds: float

    @property
    def complete(self) -> bool:
        return self.samples_done >= self.samples_requested


class RunStopped(Interrupted):
    """A run stopped before all its samples were done.

    Every finished batch is in the store (whole batches only), and resuming the run
    (``run_montecarlo(..., resume=run)``, ``warmgrid montecarlo ... --resume RUN``)
    computes the rest; the result equals an uninterrupted run.

    Attributes
    ----------
    run, store : the run id and its results file.
    done, total : samples stored and requested.
    reason : ``"interrupted"`` (a signal: Ctrl-C or SIGTERM) or what was lost.
    signalled : True when a signal stopped it (the CLI exits 128 + signal), False when the
        workers were lost (the CLI exits 1).
    """

    def __init__(
        self, *, run: str, store: Path, done: int, total: int, reason: str, signalled: bool
    ) -> None:
        super().__init__(
            f"{reason} after {done} of {total} samples; the stored samples are kept",
            exit_code=130 if signalled else 1,
        )
        self.run, self.store, self.done, self.total = run, store, done, total
        self.reason, self.signalled = reason, signalled


# ---------------------------------------------------------------------------- scenario


def scenario_hash(scenario: Any) -> str:
    """SHA-256 of the scenario's validated content (every section, not the file path)."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


def _scenario_text(scenario: Any) -> str:
    """The scenario's TOML text when its file holds exactly it, else its JSON dump."""
    src = getattr(scenario, "source", None)
    if src is not None and Path(src).is_file():
        from warmgrid.model.scenario import load_scenario

        try:
            same = scenario_hash(load_scenario(src)) == scenario_hash(scenario)
        except InputError:
            same = False
        if same:
            return Path(src).read_text(encoding="utf-8")
    return scenario.model_dump_json(indent=2)


# ---------------------------------------------------------------------------- workers

_WORKER: dict[str, tuple[Any, Any, list[str]]] = {}


def _worker_state(scenario: Any, absolute: bool = False) -> tuple[Any, Any, list[str]]:
    """(Simulator, hazard, base damage) of a scenario, built once per process.

    The simulator measures each sample's harm against the scenario without damage (its
    baseline, replayed once per worker) unless ``absolute``."""
    key = scenario_hash(scenario) + str(getattr(scenario, "source", "")) + str(absolute)
    hit = _WORKER.get(key)
    if hit is None:
        from warmgrid.hazard import hazard_from_scenario
        from warmgrid.power.damage import check_damage
        from warmgrid.study.run import prepare

        sim = prepare(scenario, absolute=absolute).simulator
        # every sample is mostly a new state: keep the power cache small
        sim.max_cached_states = _MAX_CACHED_STATES
        src = str(scenario.source) if scenario.source else None
        base = list(dict.fromkeys(scenario.damage.elements))
        check_damage(sim.net, base, file=src)
        try:
            hazard = hazard_from_scenario(scenario)
            hazard.check(sim)
        except InputError as e:
            raise e.with_file(src) if src else e from None
        _WORKER.clear()  # one scenario per worker at a time keeps memory flat
        hit = _WORKER[key] = (sim, hazard, base)
    return hit


def sample_damage(hazard: Any, target: Any, base: Sequence[str], seed: int, i: int) -> list[str]:
    """The damage of sample ``i``: ``base`` then the hazard's draw from stream ``i``."""
    from warmgrid.rng import sample_generator

    drawn = hazard.sample(target, sample_generator(seed, i))
    return list(dict.fromkeys([*base, *(str(e) for e in drawn)]))


def _outcome(tl: Any) -> dict[str, Any]:
    m = tl.metrics()
    row = {
        "people_without_power_peak": float(tl.people_without_power.max(initial=0.0)),
        "people_without_heat_peak": float(tl.people_without_heat.max(initial=0.0)),
        "people_without_water_peak": float(tl.people_without_water.max(initial=0.0)),
        "shed_mw_start": float(tl.shed_mw[0]),
        "metrics": m,
    }
    for c in METRIC_COLUMNS:
        if c not in row:
            row[c] = m.get(c)
    return row


def run_samples(
    scenario: Any, seed: int, indices: Sequence[int], absolute: bool = False
) -> list[dict[str, Any]]:
    """Replay samples ``indices`` of a run (what each Dask task does).

    Returns one dict per sample: ``sample, damage, seconds`` and the metric columns of
    :data:`~warmgrid.study.store.METRIC_COLUMNS` (plus ``metrics``, the full dict).
    """
    sim, hazard, base = _worker_state(scenario, absolute)
    out = []
    for i in indices:
        damage = sample_damage(hazard, sim, base, seed, int(i))
        t0 = time.perf_counter()
        tl = sim.run(damage)
        row = _outcome(tl)
        row.update(sample=int(i), damage=damage, seconds=time.perf_counter() - t0)
        out.append(row)
    return out


def _validate(scenario: Any, absolute: bool = False) -> int:
    """Build the worker state (raises InputError on a bad scenario or hazard)."""
    _worker_state(scenario, absolute)
    return 0


# ---------------------------------------------------------------------------- schedulers


class _Synchronous:
    """Runs tasks in this process, in submission order (no Dask)."""

    n_workers = 1

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def map_unordered(
        self, fn: Callable[..., Any], args: Iterable[tuple[Any, ...]]
    ) -> Iterable[Any]:
        for a in args:
            yield fn(*a)

    def close(self) -> None:
        pass


class _Dask:
    """A ``distributed.Client``: ours (closed at the end) or the caller's (left open)."""

    def __init__(self, client: Any, cluster: Any = None, *, own: bool) -> None:
        self.client, self.cluster, self.own = client, cluster, own
        info = client.scheduler_info()
        self.n_workers = max(1, len(info.get("workers", {})))

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False).result()

    def map_unordered(
        self, fn: Callable[..., Any], args: Iterable[tuple[Any, ...]]
    ) -> Iterable[Any]:
        from distributed import as_completed

        it = iter(args)
        window = 3 * self.n_workers  # a few tasks in flight per worker, not thousands
        live: set[Any] = set()
        ac = as_completed()
        for a in it:
            fut = self.client.submit(fn, *a, pure=False)
            live.add(fut)
            ac.add(fut)
            if len(live) >= window:
                break
        try:
            for fut in ac:
                live.discard(fut)
                res = fut.result()
                nxt = next(it, None)
                if nxt is not None:
                    new = self.client.submit(fn, *nxt, pure=False)
                    live.add(new)
                    ac.add(new)
                yield res
        finally:
            for fut in live:
                fut.cancel()

    def close(self) -> None:
        if self.own:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()


@contextmanager
def _ignoring(*signums: int) -> Iterator[None]:
    """Ignore signals while child processes start, so they inherit ``SIG_IGN``.

    A Ctrl-C in a terminal reaches the whole process group. Worker processes that ignore
    it keep quiet (no ``KeyboardInterrupt`` traceback from each), and the driver, which
    handles it, stops them in order. Outside the main thread this does nothing.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, signal.SIG_IGN) for s in signums}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _local_cluster(workers: int) -> _Dask:
    """A LocalCluster on 127.0.0.1 that other local users cannot use.

    Its scheduler and workers talk TLS with temporary credentials
    (``distributed.security.Security.temporary()``: a self-signed certificate made for
    this run, kept in memory and handed to the workers), so only this process's client
    can submit work; a plain TCP scheduler would run code from anyone who can reach its
    port. The HTTP servers that the scheduler and each worker start even with the
    dashboard off (``/health``, ``/metrics``) are stopped as soon as the cluster is up,
    so the cluster serves no HTTP.
    """
    import logging
    import signal

    from distributed import Client, LocalCluster
    from distributed.security import Security

    security = Security.temporary()
    with _ignoring(signal.SIGINT):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit="2GiB",
            host="127.0.0.1",
            protocol="tls://",
            security=security,
            dashboard_address=None,
            worker_dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.CRITICAL,  # what goes wrong reaches the user as one line
        )
    client = Client(cluster, security=security)
    try:
        client.run(_stop_http)
        client.run_on_scheduler(_stop_http)
    except BaseException:
        client.close()
        cluster.close()
        raise
    return _Dask(client, cluster, own=True)


def _stop_http(dask_worker: Any = None, dask_scheduler: Any = None) -> bool:
    """Stop a Dask server's HTTP listener (run on its event loop by ``Client.run``)."""
    server = dask_worker if dask_worker is not None else dask_scheduler
    http = getattr(server, "http_server", None)
    if http is not None:
        http.stop()
    return http is not None


def _lost_workers(e: BaseException) -> bool:
    """Whether ``e`` says the Dask workers or the scheduler went away mid-run."""
    try:
        from distributed.comm.core import CommClosedError
        from distributed.scheduler import KilledWorker
    except ImportError:  # pragma: no cover - a dependency
        return False
    return isinstance(e, (KilledWorker, CommClosedError))


def _scheduler(scheduler: Any, workers: int) -> Any:
    if scheduler == "synchronous":
        return _Synchronous()
    try:
        from distributed import Client
    except ImportError as e:  # pragma: no cover - a dependency
        raise InputError(f"dask.distributed is not installed: {e}", field="--scheduler") from None
    if isinstance(scheduler, Client):
        return _Dask(scheduler, own=False)
    if scheduler in (None, "local"):
        return _local_cluster(workers)
    if isinstance(scheduler, str) and "://" in scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise InputError(
                f"cannot reach the Dask scheduler {scheduler!r}: {e}", field="--scheduler"
            ) from None
        return _Dask(client, own=True)
    raise InputError(
        "scheduler must be 'synchronous', 'local' or an address like 'tcp://host:8786', "
        f"got {scheduler!r}",
        field="--scheduler",
    )


# ---------------------------------------------------------------------------- driver


def _check_samples(samples: object) -> int:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples <= 0:
        raise InputError(f"samples must be an integer >= 1, got {samples!r}", field="--samples")
    return int(samples)


def run_montecarlo(
    scenario: Any,
    samples: int | None,
    *,
    seed: int | None = None,
    scheduler: Any = None,
    store: str | Path = DEFAULT_STORE,
    resume: str | None = None,
    batch: int | None = None,
    workers: int = 2,
    progress: bool | Callable[[int, int], None] = False,
    absolute: bool = False,
) -> MonteCarloRun:
    """Run (or resume) a Monte Carlo study of a scenario and store every sample.

    Each sample's outcomes are the harm its damage adds to the scenario without damage
    (:mod:`warmgrid.study.run`), or counted from zero with ``absolute``; a run keeps one
    way throughout (resuming it the other way is refused).

    Parameters
    ----------
    scenario : a :class:`~warmgrid.model.scenario.Scenario`, a path or a bundled name.
    samples : samples requested, >= 1. On resume it may grow the run (sample ``i``'s
        stream does not depend on the total) but not shrink it; None on resume keeps the
        run's own count.
    seed : the run's seed, 0 <= seed <= 2**63 - 1; None draws one from OS entropy (it is
        recorded in the store). On resume it must be None or the run's seed.
    scheduler : ``"synchronous"``, None / ``"local"`` (a LocalCluster of ``workers``
        single-threaded processes), ``"tcp://..."`` or a ``distributed.Client``.
    store : the DuckDB results file.
    resume : a run id in ``store`` to continue; its missing samples are computed.
    batch : samples per task (and per store transaction); None: about four tasks per
        worker, between 1 and 50 samples each. Results do not depend on it.
    workers : worker processes of the local cluster.
    progress : True for a rich progress bar on stderr, or a callback ``(done, total)``.

    Raises
    ------
    RunStopped : a signal (Ctrl-C, SIGTERM) or the loss of the Dask workers stopped the
        run; what was stored is kept and ``resume`` finishes it.
    InputError : bad samples, seed, batch or scheduler; an unknown resume id (with the
        closest ids); a resume with another scenario or seed; a store path that is a
        directory or not a DuckDB file; a bad scenario or hazard. The store is not
        touched before all of these have been checked.
    """
    from warmgrid import __version__
    from warmgrid.rng import check_seed, new_seed

    t0 = time.perf_counter()
    if samples is None and resume is None:
        raise InputError("give --samples N (or --resume RUN to finish a run)", field="--samples")
    n = _check_samples(samples) if samples is not None else 0
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise InputError(f"batch must be an integer >= 1, got {batch!r}", field="batch")
    if seed is not None:
        seed = check_seed(seed, field="--seed")
    if isinstance(scenario, (str, Path)):
        from warmgrid.model.scenario import load_scenario

        scenario = load_scenario(scenario)
    st = Store(store)
    digest = scenario_hash(scenario) + (":absolute" if absolute else "")
    if resume is not None:
        row = st.run(resume)
        if (
            row["scenario_hash"] != digest
            and row["scenario_hash"].split(":")[0] == digest.split(":")[0]
        ):
            way = "--absolute" if row["scenario_hash"].endswith(":absolute") else "no --absolute"
            raise InputError(
                f"run {resume!r} counts its figures the other way; resume it with {way}",
                field="--absolute",
            )
        if row["scenario_hash"] != digest:
            raise InputError(
                f"run {resume!r} was made with a different scenario ({row['scenario']!r}, "
                "another content); resume it with the same scenario file",
                field="--resume",
            )
        if seed is not None and seed != row["seed"]:
            raise InputError(
                f"run {resume!r} has seed {row['seed']}, not {seed}; omit --seed to resume",
                field="--seed",
            )
        if samples is None:
            n = int(row["samples_requested"])
        if n < row["samples_requested"]:
            raise InputError(
                f"run {resume!r} asked for {row['samples_requested']} samples; "
                f"--samples {n} cannot shrink it",
                field="--samples",
            )
        seed = int(row["seed"])
        run_id = resume
    else:
        seed = new_seed() if seed is None else seed
        run_id = uuid.uuid4().hex[:12]
    st.check_writable()
    sched = _scheduler(scheduler, workers)
    started = False
    try:
        sched.run(_validate, scenario, absolute)  # a bad scenario fails here, store untouched
        if resume is None:
            from warmgrid.hazard import hazard_from_scenario

            st.create_run(
                run=run_id,
                scenario=scenario.name,
                scenario_toml=_scenario_text(scenario),
                scenario_hash=digest,
                hazard=repr(hazard_from_scenario(scenario)),
                samples_requested=n,
                seed=seed,
                version=__version__,
            )
            done: set[int] = set()
        else:
            if n > row["samples_requested"]:
                st.set_samples_requested(run_id, n)
            done = st.done(run_id)
        started = True
        todo = [i for i in range(n) if i not in done]
        size = batch or min(50, max(1, -(-len(todo) // (4 * sched.n_workers))))
        chunks = [todo[j : j + size] for j in range(0, len(todo), size)]
        new = _drive(sched, scenario, seed, chunks, st, run_id, len(done), n, progress, absolute)
    except KeyboardInterrupt:
        if not started:
            raise
        stop = ("interrupted", True)
    except Exception as e:
        if not (started and _lost_workers(e)):
            raise
        stop = (f"lost the Dask workers ({type(e).__name__})", False)
    else:
        stop = None
    finally:
        import signal

        with _ignoring(signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the close
            sched.close()
    if stop is not None:
        raise RunStopped(
            run=run_id,
            store=st.path,
            done=len(st.done(run_id)),
            total=n,
            reason=stop[0],
            signalled=stop[1],
        ) from None
    return MonteCarloRun(
        run=run_id,
        store=st.path,
        scenario=scenario.name,
        seed=seed,
        samples_requested=n,
        samples_done=len(st.done(run_id)),
        new_samples=new,
        seconds=time.perf_counter() - t0,
    )


def _drive(
    sched: Any,
    scenario: Any,
    seed: int,
    chunks: list[list[int]],
    st: Store,
    run_id: str,
    done: int,
    total: int,
    progress: bool | Callable[[int, int], None],
    absolute: bool = False,
) -> int:
    """Run the chunks, writing each finished one to the store; return the new rows."""
    bar = None
    callback = progress if callable(progress) else None
    t_start, done_start = time.perf_counter(), done
    if progress is True:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}", markup=False),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True, markup=False, emoji=False, highlight=False),
            transient=False,
        )
        task = bar.add_task(f"{scenario.name} {run_id}", total=total, completed=done, rate="")
        bar.start()
    new = 0
    try:
        jobs = ((scenario, seed, c, absolute) for c in chunks)
        for rows in sched.map_unordered(run_samples, jobs):
            new += st.write_samples(run_id, rows)
            done += len(rows)
            if bar is not None:
                rate = (done - done_start) / max(time.perf_counter() - t_start, 1e-9)
                bar.update(task, completed=done, rate=f"{rate:,.0f} samples/s")
            if callback is not None:
                callback(done, total)
    finally:
        if bar is not None:
            bar.stop()
    return new


# ---------------------------------------------------------------------------- analysis


def distributions(
    store: str | Path | Store, run: str, metrics: Sequence[str] = SUMMARY_METRICS
) -> dict[str, dict[str, float | None]]:
    """Mean, p50, p90, p99, min and max of each metric over the run's samples.

    Quantiles are DuckDB's ``quantile_cont`` (linear interpolation between order
    statistics, the same as ``numpy.quantile``'s default).
    """
    st = store if isinstance(store, Store) else Store(store)
    st.run(run)
    out: dict[str, dict[str, float | None]] = {}
    for m in metrics:
        if m not in METRIC_COLUMNS:
            raise InputError(f"unknown metric {quoted(m)}", field="metric")
        row = st.query(
            f"SELECT count({m}), avg({m}), quantile_cont({m}, 0.5), quantile_cont({m}, 0.9), "
            f"quantile_cont({m}, 0.99), min({m}), max({m}) FROM samples WHERE run = ?",
            [run],
        )[0]
        keys = ("samples", "mean", "p50", "p90", "p99", "min", "max")
        out[m] = {k: (None if v is None else float(v)) for k, v in zip(keys, row, strict=True)}
    return out


def criticality(
    store: str | Path | Store,
    run: str,
    *,
    metric: str = "person_hours_below_12c",
    top: int | None = None,
    by: str = "auto",
    min_samples: int = 1,
) -> Any:
    """Which elements matter most: the outcome with each element in the damage vs not.

    For each element ``e`` drawn in some but not all samples: ``mean_with`` (mean of
    ``metric`` over the samples whose damage holds ``e``), ``mean_without`` (over the
    others), ``difference = mean_with - mean_without``, and ``effect``, the coefficient of
    ``e`` in the least-squares fit ``metric ≈ b0 + Σ_e b_e·[e in damage]`` (the marginal
    effect with the other damaged elements held fixed; NaN when the samples cannot
    identify it, i.e. fewer samples than elements + 1). Elements in every sample (the
    scenario's ``[damage]``) have no comparison and are left out.

    Parameters
    ----------
    store, run : the results store and the run id.
    metric : the outcome column (:data:`~warmgrid.study.store.METRIC_COLUMNS`).
    top : keep the first ``top`` rows.
    min_samples : keep elements drawn in at least this many samples (the regression
        still uses them all); a mean over one sample says little.
    by : ranking key: ``"effect"``, ``"difference"``, or ``"auto"`` (``effect`` when the
        samples identify it, else ``difference``). The difference of means is biased by
        the other elements drawn with ``e`` (with few samples, an element that does
        nothing can rank high by sharing samples with one that does); the regression is not.

    Returns
    -------
    pandas.DataFrame
        Columns ``element, samples_with, mean_with, mean_without, difference, effect``,
        sorted by the ranking key, largest (worst) first, ties by element id.
    """
    import pandas as pd

    if metric not in METRIC_COLUMNS:
        raise InputError(
            f"unknown metric {quoted(metric)}{_closest_metric(metric)}", field="metric"
        )
    st = store if isinstance(store, Store) else Store(store)
    st.run(run)
    df = st.samples(run)
    cols = ["element", "samples_with", "mean_with", "mean_without", "difference", "effect"]
    y = df[metric].to_numpy(dtype=float)
    keep = np.isfinite(y)
    y, damage = y[keep], [d for d, k in zip(df["damage"], keep, strict=True) if k]
    elements = sorted({e for d in damage for e in d})
    if not elements or len(y) == 0:
        return pd.DataFrame(columns=cols)
    pos = {e: j for j, e in enumerate(elements)}
    x = np.zeros((len(y), len(elements)))
    for i, d in enumerate(damage):
        x[i, [pos[e] for e in d]] = 1.0
    cnt = x.sum(axis=0)
    varies = (cnt > 0) & (cnt < len(y))
    x, cnt = x[:, varies], cnt[varies]
    elements = [e for e, v in zip(elements, varies, strict=True) if v]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_with = (x.T @ y) / cnt
        mean_without = ((1 - x).T @ y) / (len(y) - cnt)
    effect = np.full(len(elements), np.nan)
    design = np.column_stack([np.ones(len(y)), x])
    if len(elements) and np.linalg.matrix_rank(design) == design.shape[1]:
        coef = np.linalg.lstsq(design, y, rcond=None)[0]
        effect = coef[1:]
    out = pd.DataFrame(
        {
            "element": elements,
            "samples_with": cnt.astype(int),
            "mean_with": mean_with,
            "mean_without": mean_without,
            "difference": mean_with - mean_without,
            "effect": effect,
        },
        columns=cols,
    )
    if by not in ("auto", "effect", "difference"):
        raise InputError(f"by must be 'auto', 'effect' or 'difference', got {by!r}", field="by")
    key = "effect" if by == "effect" or (by == "auto" and np.isfinite(effect).all()) else by
    key = "difference" if key == "auto" else key
    out = out.sort_values([key, "element"], ascending=[False, True], kind="stable")
    out = out[out["samples_with"] >= min_samples].reset_index(drop=True)
    return out.head(top) if top is not None else out


def _closest_metric(name: str) -> str:
    from warmgrid.errors import closest

    return closest(name, METRIC_COLUMNS)


def summary(
    store: str | Path | Store,
    run: str,
    *,
    top: int = 10,
    metric: str = "person_hours_below_12c",
    min_samples: int = 1,
) -> dict[str, Any]:
    """The JSON summary of a run: its row, the distributions and the top critical elements."""
    st = store if isinstance(store, Store) else Store(store)
    st.run(run)
    row = next(r for r in st.runs() if r["run"] == run)
    crit = criticality(st, run, top=top, metric=metric, min_samples=min_samples)
    return {
        "run": run,
        "scenario": row["scenario"],
        "store": str(st.path),
        "seed": row["seed"],
        "samples_requested": row["samples_requested"],
        "samples_done": row["samples_done"],
        "complete": row["complete"],
        "hazard": row["hazard"],
        "distributions": distributions(st, run),
        "criticality": {
            "metric": metric,
            "min_samples": min_samples,
            "elements": json.loads(crit.to_json(orient="records")),
        },
    }
