"""Where Monte Carlo tasks run: this process, a local Dask cluster, or a remote one.

Schedulers (:func:`scheduler`): ``"synchronous"`` (in this process, no Dask),
``None``/``"local"`` (a ``distributed.LocalCluster`` of single-threaded worker processes
on 127.0.0.1, TLS with credentials made for the run, no HTTP), a scheduler address
(``"tcp://host:8786"`` or ``"tls://..."``; the workers must see the same files) or a
``distributed.Client`` (the caller's, left open).

Each scheduler runs a function once (:meth:`run`), warms every worker up (:meth:`warm`:
each builds its simulator before the first sample, so the sampling rate is not held back
by the slowest start) and maps a function over lazily produced arguments, yielding the
results as they finish (:meth:`map_unordered`, a few tasks in flight per worker).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from warmgrid.errors import InputError

__all__ = ["Synchronous", "lost_workers", "scheduler"]


class Synchronous:
    """Runs tasks in this process, in submission order (no Dask)."""

    n_workers = 1

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def warm(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)

    def map_unordered(
        self, fn: Callable[..., Any], args: Iterable[tuple[Any, ...]]
    ) -> Iterable[Any]:
        for a in args:
            yield fn(*a)

    def close(self) -> None:
        pass


class DaskScheduler:
    """A ``distributed.Client``: ours (closed at the end) or the caller's (left open)."""

    def __init__(self, client: Any, cluster: Any = None, *, own: bool) -> None:
        self.client, self.cluster, self.own = client, cluster, own
        info = client.scheduler_info()
        self.n_workers = max(1, len(info.get("workers", {})))

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False).result()

    def warm(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` once on every worker now connected, all at once."""
        workers = list(self.client.scheduler_info().get("workers", {}))
        futs = [
            self.client.submit(fn, *args, pure=False, workers=[w], allow_other_workers=True)
            for w in workers
        ]
        self.client.gather(futs)
        self.n_workers = max(1, len(workers))

    def map_unordered(
        self, fn: Callable[..., Any], args: Iterable[tuple[Any, ...]]
    ) -> Iterable[Any]:
        from distributed import as_completed

        it = iter(args)
        window = 2 * self.n_workers  # a task running and one queued per worker
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
def ignoring(*signums: int) -> Iterator[None]:
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


#: Dask settings of warmgrid's own local cluster. The dashboard is off, so what only feeds
#: it goes: the workers' statistical profiler (a stack sample every 10 ms) and the system
#: monitors' fast polling; the nannies check the workers' memory every second, not every
#: 100 ms. The workers do not get ``MALLOC_TRIM_THRESHOLD_``, which trades allocation
#: speed for returning memory to the system: a worker's memory stays flat (its simulator
#: and a bounded cache). Measured with ``benchmarks/montecarlo.py``: these settings and
#: results fetched straight from the workers (``direct_to_workers``) take the two-worker
#: rate from ~1.6x to ~1.75x the synchronous rate on a two-core machine, where the driver
#: (scheduler, nannies, client and store) shares the cores with the workers.
QUIET_LOCAL: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "10s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.nanny.pre-spawn-environ": {
        "OMP_NUM_THREADS": 1,
        "MKL_NUM_THREADS": 1,
        "OPENBLAS_NUM_THREADS": 1,
    },
}


def local_cluster(workers: int) -> DaskScheduler:
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

    import dask
    from distributed import Client, LocalCluster
    from distributed.security import Security

    security = Security.temporary()
    with ignoring(signal.SIGINT), dask.config.set(QUIET_LOCAL):
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
    client = None
    try:  # results come straight from the workers, not through the scheduler
        client = Client(cluster, security=security, direct_to_workers=True)
        client.run(_stop_http)
        client.run_on_scheduler(_stop_http)
    except BaseException:
        if client is not None:
            client.close()
        cluster.close()
        raise
    return DaskScheduler(client, cluster, own=True)


def _stop_http(dask_worker: Any = None, dask_scheduler: Any = None) -> bool:
    """Stop a Dask server's HTTP listener (run on its event loop by ``Client.run``)."""
    server = dask_worker if dask_worker is not None else dask_scheduler
    http = getattr(server, "http_server", None)
    if http is not None:
        http.stop()
    return http is not None


def lost_workers(e: BaseException) -> bool:
    """Whether ``e`` says the Dask workers or the scheduler went away mid-run."""
    try:
        from distributed.comm.core import CommClosedError
        from distributed.scheduler import KilledWorker
    except ImportError:  # pragma: no cover - a dependency
        return False
    return isinstance(e, (KilledWorker, CommClosedError))


def scheduler(spec: Any, workers: int) -> Synchronous | DaskScheduler:
    """The scheduler ``spec`` names (see the module docstring)."""
    if spec == "synchronous":
        return Synchronous()
    try:
        from distributed import Client
    except ImportError as e:  # pragma: no cover - a dependency
        raise InputError(f"dask.distributed is not installed: {e}", field="--scheduler") from None
    if isinstance(spec, Client):
        return DaskScheduler(spec, own=False)
    if spec in (None, "local"):
        return local_cluster(workers)
    if isinstance(spec, str) and "://" in spec:
        try:
            client = Client(spec, timeout="10s")
        except (OSError, TimeoutError, ValueError) as e:  # ValueError: no port, bad host
            raise InputError(
                f"cannot reach the Dask scheduler {spec!r}: {e}", field="--scheduler"
            ) from None
        return DaskScheduler(client, own=True)
    raise InputError(
        "scheduler must be 'synchronous', 'local' or an address like 'tcp://host:8786', "
        f"got {spec!r}",
        field="--scheduler",
    )
