"""Helpers shared by the benchmark scripts: timing, peak memory, extrapolation, ratio tables.

Every benchmark measures warmgrid and its peers in one run on the same machine and
prints ratios, never absolute claims from elsewhere. Peers are optional: a peer that
cannot be imported is skipped with a message.
"""

from __future__ import annotations

import gc
import math
import resource
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Row", "best_of", "extrapolate", "peak_memory_mb", "print_table", "rss_mb", "skip"]


@dataclass
class Row:
    """One line of a ratio table."""

    name: str
    seconds: float
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, s, and the last result."""
    best = math.inf
    out = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_memory_mb(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Peak Python/numpy heap allocated during ``fn()``, MB (tracemalloc; slows the call)."""
    gc.collect()
    tracemalloc.start()
    try:
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6, out


def rss_mb() -> float:
    """Peak resident set size of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def extrapolate(
    run: Callable[[Sequence[Any]], Any],
    items: Sequence[Any],
    *,
    budget_s: float = 300.0,
    sizes: tuple[int, int] = (20, 80),
    seed: int = 0,
    warmup: int = 3,
) -> tuple[float, str]:
    """Time ``run(items)``, or estimate it from two random samples if it would exceed the budget.

    A first call on ``warmup`` items (untimed) pays imports and JIT warm-up, as warmgrid's
    own timings exclude its first call. Two samples of ``sizes`` items give a fixed cost and a per-item cost (``t = a + b·n``);
    the full run is timed when ``a + b·N`` fits in ``budget_s``.

    Returns
    -------
    (seconds, note) where the note says when the time is extrapolated.
    """
    n = len(items)
    rng = np.random.default_rng(seed)
    if warmup:
        run(list(items[:warmup]))
    s1, s2 = (min(s, n) for s in sizes)
    if s2 >= n:
        t0 = time.perf_counter()
        run(items)
        return time.perf_counter() - t0, "full run"
    idx = rng.permutation(n)
    t = []
    for s in (s1, s2):
        sample = [items[i] for i in idx[:s]]
        t0 = time.perf_counter()
        run(sample)
        t.append(time.perf_counter() - t0)
    b = (t[1] - t[0]) / max(1, s2 - s1)
    if b <= 0:  # noise: fall back to a plain per-item rate
        a, b = 0.0, t[1] / s2
    else:
        a = max(0.0, t[1] - b * s2)
    est = a + b * n
    if est <= budget_s:
        t0 = time.perf_counter()
        run(items)
        return time.perf_counter() - t0, "full run"
    return (
        est,
        f"extrapolated from samples of {s1} and {s2} outages ({a:.1f} s fixed + {b * 1e3:.1f} ms each)",
    )


def skip(name: str, err: BaseException) -> None:
    """Say why a peer is skipped."""
    print(
        f"  [skip] {name}: {type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''}"
    )


def print_table(title: str, rows: Sequence[Row], ref: str = "warmgrid") -> None:
    """Print rows with each one's time as a multiple of the reference row's time."""
    base = next((r.seconds for r in rows if r.name == ref), None)
    w = max([len(r.name) for r in rows] + [10])
    print(f"\n{title}")
    print(f"  {'tool':<{w}}  {'seconds':>10}  {'x ' + ref:>12}  note")
    for r in rows:
        ratio = f"{r.seconds / base:,.1f}" if base else "-"
        print(f"  {r.name:<{w}}  {r.seconds:>10.3f}  {ratio:>12}  {r.note}")
