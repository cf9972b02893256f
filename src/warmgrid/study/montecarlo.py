"""Monte Carlo over random damage: distributions of outcomes and which elements matter.

A sample is a replay with sampled damage (docs/architecture.md, "The one timeline"):
sample ``i`` of a run seeded ``seed`` draws its damage from its own stream
``SeedSequence(seed, spawn_key=(i,))`` (:mod:`warmgrid.rng`), the scenario's ``[damage]``
plus one draw of its ``[hazard]`` (:mod:`warmgrid.hazard`), and calls
``Simulator.run(damage)``. Nothing depends on which worker runs which sample or in what
order (the MLD solves each state from the same start, :mod:`warmgrid.power.dispatch`),
so a run is identical on 1 or 100 workers, for any batch size, and a resumed run equals
an uninterrupted one.

The driver ships only the (small) scenario and sample indices. Each worker process builds
the :class:`~warmgrid.timeline.Simulator` once (cached in a module global keyed by the
scenario's content hash; every worker builds it before the first sample) and replays
tasks of samples sized to about half a second each (:mod:`warmgrid.study.driver`). The
driver writes finished samples to the DuckDB store (:class:`~warmgrid.study.store.Store`)
in one transaction every two seconds or so, or once per task with an explicit ``batch``.

Schedulers (:mod:`warmgrid.study.schedulers`): ``"synchronous"`` (in this process, no
Dask), ``None``/``"local"`` (a ``distributed.LocalCluster`` of 2 single-threaded worker
processes), a scheduler address (``"tcp://host:8786"``; the workers must see the same
files) or a ``distributed.Client``. Analysis of the stored samples:
:mod:`warmgrid.study.analysis`.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from warmgrid.errors import InputError, Interrupted
from warmgrid.study import schedulers as _schedulers
from warmgrid.study.analysis import SUMMARY_METRICS, criticality, distributions, summary
from warmgrid.study.driver import Chunks, ProgressBar, Writer
from warmgrid.study.schedulers import ignoring, lost_workers
from warmgrid.study.schedulers import local_cluster as _local_cluster  # noqa: F401 (tests)
from warmgrid.study.store import DEFAULT_STORE, METRIC_COLUMNS, Store

if TYPE_CHECKING:
    from warmgrid.hazard import Hazard
    from warmgrid.model.scenario import Scenario
    from warmgrid.study.run import Study
    from warmgrid.timeline import Simulator

__all__ = [
    "SUMMARY_METRICS",
    "MonteCarloRun",
    "RunStopped",
    "criticality",
    "distributions",
    "prepared_study",
    "run_montecarlo",
    "run_samples",
    "sample_damage",
    "scenario_hash",
    "summary",
]


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
    seconds : wall time of this call, s (start-up, sampling and the last write).
    sampling_seconds : wall time from the first sample handed out to the last write, s.
    context : the run's context (:func:`run_context`), as kept in the store.
    """

    run: str
    store: Path
    scenario: str
    seed: int
    samples_requested: int
    samples_done: int
    new_samples: int
    seconds: float
    sampling_seconds: float = 0.0
    context: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        return self.samples_done >= self.samples_requested

    @property
    def samples_per_s(self) -> float | None:
        """Samples computed and stored per second of sampling (start-up excluded)."""
        return self.new_samples / self.sampling_seconds if self.sampling_seconds > 0 else None


class RunStopped(Interrupted):
    """A run stopped before all its samples were done.

    Every finished sample is in the store (whole transactions only), and resuming the run
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


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's validated content (every section, not the file path)."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


def _scenario_text(scenario: Scenario) -> str:
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

_WORKER: dict[str, tuple[Simulator, Hazard, list[str], Study]] = {}


def _worker_key(scenario: Scenario, absolute: bool) -> str:
    return scenario_hash(scenario) + str(getattr(scenario, "source", "")) + str(absolute)


def _worker_state(
    scenario: Scenario, absolute: bool = False
) -> tuple[Simulator, Hazard, list[str]]:
    """(Simulator, hazard, base damage) of a scenario, built once per process.

    The simulator measures each sample's harm against the scenario without damage (its
    baseline, replayed once per worker) unless ``absolute``."""
    key = _worker_key(scenario, absolute)
    hit = _WORKER.get(key)
    if hit is None:
        from warmgrid.hazard import hazard_from_scenario
        from warmgrid.power.damage import check_damage
        from warmgrid.study.run import prepare

        study = prepare(scenario, absolute=absolute)
        sim = study.simulator
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
        sim.baseline()  # before the first sample, not inside it
        _WORKER.clear()  # one scenario per worker at a time keeps memory flat
        hit = _WORKER[key] = (sim, hazard, base, study)
    return hit[0], hit[1], hit[2]


def prepared_study(scenario: Scenario, absolute: bool = False) -> Study | None:
    """The :class:`~warmgrid.study.run.Study` this process built for the scenario's
    samples (a synchronous run), or None: the CLI's summary then needs no second build."""
    hit = _WORKER.get(_worker_key(scenario, absolute))
    return None if hit is None else hit[3]


def sample_damage(hazard: Any, target: Any, base: Sequence[str], seed: int, i: int) -> list[str]:
    """The damage of sample ``i``: ``base`` then the hazard's draw from stream ``i``."""
    from warmgrid.rng import sample_generator

    drawn = hazard.sample(target, sample_generator(seed, i))
    return list(dict.fromkeys([*base, *(str(e) for e in drawn)]))


def thermal_draw(seed: int, i: int) -> float:
    """Sample ``i``'s position in the band of building calibrations, u in [0, 1)
    (``[hazard] thermal = "band"``), from its own stream: independent of the damage's
    draw, the same whatever the workers and batches."""
    from warmgrid.rng import sample_generator

    return float(sample_generator(seed, i, stream=1).random())


def _outcome(tl: Any) -> dict[str, Any]:
    from warmgrid.study.impact_json import people

    m = tl.metrics()
    row = {  # people as whole numbers, as every output counts them
        "people_without_power_peak": float(people(tl.people_without_power.max(initial=0.0))),
        "people_without_heat_peak": float(people(tl.people_without_heat.max(initial=0.0))),
        "people_without_water_peak": float(people(tl.people_without_water.max(initial=0.0))),
        "shed_mw_start": float(tl.shed_mw[0]),
        "metrics": m,
    }
    for c in METRIC_COLUMNS:
        if c not in row:
            row[c] = m.get(c)
    return row


def run_samples(
    scenario: Scenario, seed: int, indices: Sequence[int], absolute: bool = False
) -> list[dict[str, Any]]:
    """Replay samples ``indices`` of a run (what each Dask task does).

    Returns one dict per sample: ``sample, damage, seconds`` and the metric columns of
    :data:`~warmgrid.study.store.METRIC_COLUMNS` (plus ``metrics``, the full dict).
    """
    sim, hazard, base = _worker_state(scenario, absolute)
    band = scenario.hazard is not None and scenario.hazard.thermal == "band"
    out = []
    for i in indices:
        damage = sample_damage(hazard, sim, base, seed, int(i))
        t0 = time.perf_counter()
        if band:
            u = thermal_draw(seed, int(i))
            tl = sim.with_thermal_draw(u).run(damage)
        else:
            tl = sim.run(damage)
        row = _outcome(tl)
        if band:
            row["metrics"]["thermal_draw"] = u
        row.update(sample=int(i), damage=damage, seconds=time.perf_counter() - t0)
        out.append(row)
    return out


def _validate(scenario: Scenario, absolute: bool = False) -> int:
    """Build the worker state (raises InputError on a bad scenario or hazard)."""
    _worker_state(scenario, absolute)
    return 0


# ---------------------------------------------------------------------------- driver


def _check_samples(samples: object) -> int:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples <= 0:
        raise InputError(f"samples must be an integer >= 1, got {samples!r}", field="--samples")
    return int(samples)


def _check_resume(st: Store, resume: str, digest: str, seed: int | None) -> dict[str, Any]:
    """The run ``resume`` of the store, refused when it was made another way."""
    row = st.run(resume, field="--resume")
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
    return row


def _plan(
    scenario: Scenario | str | Path,
    samples: int | None,
    *,
    seed: int | None,
    store: str | Path,
    resume: str | None,
    batch: int | None,
    absolute: bool,
) -> tuple[Scenario, int, int, str, Store, str, dict[str, Any] | None]:
    """Check every argument before anything runs: (scenario, samples, seed, run id, store,
    scenario digest, the resumed run's row or None)."""
    from warmgrid.rng import check_seed, new_seed

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
    if resume is None:
        return (
            scenario,
            n,
            new_seed() if seed is None else seed,
            uuid.uuid4().hex[:12],
            st,
            digest,
            None,
        )
    row = _check_resume(st, resume, digest, seed)
    n = n or int(row["samples_requested"])
    if n < row["samples_requested"]:
        raise InputError(
            f"run {resume!r} asked for {row['samples_requested']} samples; "
            f"--samples {n} cannot shrink it",
            field="--samples",
        )
    return scenario, n, int(row["seed"]), resume, st, digest, row


def run_context(scenario: Scenario, absolute: bool = False) -> dict[str, Any]:
    """What a run's page and summary say about its study: the start, the weather, the mode,
    the building calibration (and whether each sample draws it), the scenario's own damage
    by name and kind, and the study's counting, baseline, warnings and assumptions."""
    from warmgrid.study.impact_json import page_context

    _worker_state(scenario, absolute)  # built once per process, as for the samples
    study = prepared_study(scenario, absolute)
    assert study is not None
    sim = study.simulator
    return {
        **page_context(sim, scenario, list(dict.fromkeys(scenario.damage.elements))),
        "mode": sim.mode,
        "horizon_h": float(sim.n_steps * sim.dt_h),
        "calibration": sim.calibration,
        "thermal": scenario.hazard.thermal if scenario.hazard is not None else "fixed",
        **study.context_json(),
    }


def _open_run(
    st: Store,
    scenario: Scenario,
    run_id: str,
    digest: str,
    n: int,
    seed: int,
    row: dict[str, Any] | None,
) -> set[int]:
    """Create the run's row (or grow a resumed run); return the samples already stored."""
    if row is not None:
        if n > row["samples_requested"]:
            st.set_samples_requested(run_id, n)
        return st.done(run_id)
    from warmgrid import __version__
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
    return set()


def run_montecarlo(
    scenario: Scenario | str | Path,
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
    batch : samples per task and per store transaction; None: tasks of about half a
        second each, written every two seconds or so. Results do not depend on it.
    workers : worker processes of the local cluster.
    progress : True for a progress bar on stderr (runs over ~2 s), or a callback
        ``(stored, total)`` called after each store transaction.

    Raises
    ------
    RunStopped : a signal (Ctrl-C, SIGTERM) or the loss of the Dask workers stopped the
        run; what was stored is kept and ``resume`` finishes it.
    InputError : bad samples, seed, batch or scheduler; an unknown resume id (with the
        closest ids); a resume with another scenario or seed; a store path that is a
        directory or not a DuckDB file; a bad scenario or hazard. The store is not
        touched before all of these have been checked.
    """
    t0 = time.perf_counter()
    scenario, n, seed, run_id, st, digest, row = _plan(
        scenario, samples, seed=seed, store=store, resume=resume, batch=batch, absolute=absolute
    )
    st.check_writable()
    sched = _schedulers.scheduler(scheduler, workers)
    started = False
    context: dict[str, Any] | None = None
    stop: tuple[str, bool] | None = None
    sampling = 0.0
    new = 0
    try:
        sched.run(_validate, scenario, absolute)  # a bad scenario fails here, store untouched
        done = _open_run(st, scenario, run_id, digest, n, seed, row)
        started = True
        context = st.context(run_id) if row is not None else None
        if context is None:  # (on a worker: its study is built for the samples anyway)
            context = sched.run(run_context, scenario, absolute)
            st.set_context(run_id, context)
        sched.warm(_validate, scenario, absolute)  # every worker ready before sampling
        todo = [i for i in range(n) if i not in done]
        t1 = time.perf_counter()
        new = _drive(
            sched, scenario, seed, todo, st, run_id, len(done), n, progress, absolute, batch
        )
        sampling = time.perf_counter() - t1
    except KeyboardInterrupt:
        if not started:
            raise
        stop = ("interrupted", True)
    except Exception as e:
        if not (started and lost_workers(e)):
            raise
        stop = (f"lost the Dask workers ({type(e).__name__})", False)
    finally:
        import signal

        with ignoring(signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the close
            sched.close()
    stored = len(st.done(run_id))
    if stop is not None:
        raise RunStopped(
            run=run_id, store=st.path, done=stored, total=n, reason=stop[0], signalled=stop[1]
        ) from None
    return MonteCarloRun(
        run=run_id,
        store=st.path,
        scenario=scenario.name,
        seed=seed,
        samples_requested=n,
        samples_done=stored,
        new_samples=new,
        seconds=time.perf_counter() - t0,
        sampling_seconds=sampling,
        context=context,
    )


def _drive(
    sched: Any,
    scenario: Scenario,
    seed: int,
    todo: list[int],
    st: Store,
    run_id: str,
    done: int,
    total: int,
    progress: bool | Callable[[int, int], None],
    absolute: bool,
    batch: int | None,
) -> int:
    """Run the samples ``todo``, writing finished ones to the store; return the new rows."""
    chunks = Chunks(todo, sched.n_workers, batch)
    writer = Writer(st, run_id, every_task=batch is not None)
    callback = progress if callable(progress) else None
    bar = ProgressBar(f"{scenario.name} {run_id}", total, done) if progress is True else None
    computed = done
    try:
        jobs = ((scenario, seed, c, absolute) for c in chunks)
        for rows in sched.map_unordered(run_samples, jobs):
            chunks.observe(rows)
            computed += len(rows)
            if bar is not None:
                bar.update(computed)
            if writer.add(rows) and callback is not None:
                callback(done + writer.written, total)
        before = writer.written
        writer.flush()
        if callback is not None and writer.written > before:
            callback(done + writer.written, total)
    except BaseException:
        writer.salvage()  # what is computed is kept, whatever stopped the run
        raise
    finally:
        if bar is not None:
            bar.close(done + writer.written)
    return writer.new
