"""Replay speed: where the time of one ``Simulator.run`` goes, power results cached.

frost-strike (winter-city, 100 areas, 72 h) with random 3-element damages drawn by the
``random_k`` hazard weighted towards plants and substations
(:data:`warmgrid.hazard.STRIKE_WEIGHTS`); ``--with-base`` adds the scenario's own six
damaged elements, as ``benchmarks/montecarlo.py`` does. Each damage is replayed once first,
so its power results are cached and the timings show the non-power part of a replay:

* ``propagate``: :func:`warmgrid.services.propagate.propagate` on the replay's hourly
  power results.
* ``thermal``: what ``Simulator.run`` calls on them: indoor temperatures, threshold
  crossings and hours below.
* ``metrics``: ``Timeline.metrics()``.
* ``Simulator.run``: the whole replay (power from the cache).
* ``run, rest``: ``Simulator.run`` minus propagate and thermal (cache look-ups, events,
  id checks, building the timeline; differences of separately timed medians, so rough).
* ``power solved``: the first replay of each damage, which solves its power states (MLD).

Each is the median over the damages of the best of ``--repeat`` calls, after a warm-up.
A fresh process also times its first ``propagate`` call (lazy set-up included) and says
whether numba got imported, since ``warmgrid impact`` is a one-shot command.

Usage: ``python benchmarks/replay.py [--samples 200] [--repeat 3] [--with-base]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from typing import Any

import numpy as np

FIRST_CALL = r"""
import json, sys, time
import numpy as np
t0 = time.perf_counter()
from warmgrid.services.propagate import propagate
from warmgrid.services import thermal
from warmgrid.examples.winter_city import winter_city
from warmgrid.power.network import compile_network
from warmgrid.timeline import compile_links
grid, svc = winter_city()
net = compile_network(grid, groups=svc.groups())
links = compile_links(grid, svc, net)
n = 72
lf = np.ones((n, len(net.load_ids)))
lf[:, ::3] = 0.0
gen = np.ones((n, len(net.gen_ids)), dtype=bool)
t1 = time.perf_counter()
s = propagate(links, lf, gen, np.full(n, -20.0))
t2 = time.perf_counter()
s = propagate(links, lf, gen, np.full(n, -20.0))
t3 = time.perf_counter()
print(json.dumps({"first_ms": 1e3 * (t2 - t1), "second_ms": 1e3 * (t3 - t2),
                  "numba_imported": "numba" in sys.modules}))
"""


def _scenario(with_base: bool) -> tuple[Any, list[list[str]], int]:
    from warmgrid.hazard import STRIKE_WEIGHTS, hazard_from_scenario
    from warmgrid.model.scenario import BUNDLED_SCENARIOS_DIR, parse_scenario

    src = BUNDLED_SCENARIOS_DIR / "frost-strike.toml"
    data = tomllib.loads(src.read_text(encoding="utf-8"))
    data["hazard"] = {"model": "random_k", "k": 3, "weights_by_kind": STRIKE_WEIGHTS}
    sc = parse_scenario(data, source=src)
    return sc, hazard_from_scenario(sc), len(sc.damage.elements) if with_base else 0


CLOCK = time.perf_counter


def _best_ms(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = CLOCK()
        fn()
        best = min(best, CLOCK() - t0)
    return 1e3 * best


def _thermal(sim: Any, svc: Any) -> Any:
    """What ``Simulator.run`` computes from the service fractions (the three separate calls
    of warmgrid before ``indoor_outcomes``, so that the script also times older versions)."""
    from warmgrid.services import thermal

    if hasattr(thermal, "indoor_outcomes"):
        return thermal.indoor_outcomes(
            sim.t0_c,
            sim.t_out_c,
            svc.heat,
            svc.light,
            sim.params,
            sim.thresholds_c,
            sim.tau_h,
            dt_h=sim.dt_h,
        )
    temps = thermal.simulate_indoor(
        sim.t0_c, sim.t_out_c, svc.heat, svc.light, dt_h=sim.dt_h, **sim.params
    )
    thermal.crossing_times_h(temps, sim.thresholds_c, sim.tau_h, dt_h=sim.dt_h)
    thermal.hours_below(temps, sim.thresholds_c, sim.tau_h, dt_h=sim.dt_h)
    return temps


def first_call() -> dict[str, Any]:
    """First and second ``propagate`` call in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--with-base", action="store_true", help="add frost-strike's own damage")
    ap.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with this thread's CPU clock, not the wall clock (on a busy machine)",
    )
    args = ap.parse_args()
    global CLOCK
    if args.cpu_time:
        CLOCK = time.thread_time

    from warmgrid.services.propagate import propagate
    from warmgrid.study.montecarlo import sample_damage
    from warmgrid.study.run import prepare

    sc, hz, n_base = _scenario(args.with_base)
    sim = prepare(sc).simulator
    base = sc.damage.elements[:n_base]
    damages = [sample_damage(hz, sim, base, 1, i) for i in range(args.samples)]

    cases = []
    cold: list[float] = []
    for d in damages:  # warm-up: solve and cache power
        t0 = time.perf_counter()
        tl = sim.run(d)
        cold.append(1e3 * (time.perf_counter() - t0))
        tl.metrics()
        lf = np.array([p.load_frac for p in tl.power])
        gen = np.array([p.gen_online for p in tl.power])
        cases.append((d, lf, gen))

    def prop(lf: np.ndarray, gen: np.ndarray) -> Any:
        return propagate(
            sim.links, lf, gen, sim.t_out_c, options=sim.freeze, dt_h=sim.dt_h, dh_floor=None
        )

    t: dict[str, list[float]] = {"propagate": [], "thermal": [], "metrics": [], "run": []}
    areas_drained = []
    gc.collect()
    gc.disable()  # no collector pauses inside the timings (as _common.best_of collects first)
    for d, lf, gen in cases:
        svc = prop(lf, gen)
        tl = sim.run(d)
        areas_drained.append(int(svc.drained.any(axis=0).sum()))
        t["propagate"].append(_best_ms(lambda lf=lf, gen=gen: prop(lf, gen), args.repeat))
        t["thermal"].append(_best_ms(lambda svc=svc: _thermal(sim, svc), args.repeat))
        t["metrics"].append(_best_ms(tl.metrics, args.repeat))
        t["run"].append(_best_ms(lambda d=d: sim.run(d), args.repeat))
    gc.enable()
    med = {k: statistics.median(v) for k, v in t.items()}
    rest = statistics.median(
        [r - p - h for r, p, h in zip(t["run"], t["propagate"], t["thermal"], strict=True)]
    )
    n_areas, n_steps = len(sim.population), sim.n_steps
    what = f"{n_base} frost-strike + 3 random" if n_base else "3 random"
    print(
        f"\nReplay of frost-strike (winter-city, {n_areas} areas, {n_steps} h), "
        f"{len(cases)} damages of {what} elements, power cached; median ms of best of "
        f"{args.repeat}{', CPU time' if args.cpu_time else ''}"
    )
    print(f"  areas drained per replay: median {statistics.median(areas_drained):g}")
    print(f"  {'part':<38} {'ms':>8}")
    rows = [
        ("propagate", med["propagate"]),
        ("thermal (indoor, crossings, hours)", med["thermal"]),
        ("run, rest (power look-ups, timeline)", rest),
        ("Simulator.run, power cached", med["run"]),
        ("Timeline.metrics()", med["metrics"]),
        ("run + metrics", med["run"] + med["metrics"]),
        ("Simulator.run, power solved (1st)", statistics.median(cold)),
    ]
    for name, ms in rows:
        print(f"  {name:<38} {ms:>8.3f}")
    fc = first_call()
    print(
        f"  fresh process, first propagate call {fc['first_ms']:.1f} ms, second "
        f"{fc['second_ms']:.2f} ms (numba imported: {fc['numba_imported']})"
    )
    print(f"  OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
