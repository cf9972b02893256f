"""Monte Carlo on a larger grid: case2869pegase, 10 random branches out per sample, 72 h.

The scenario is written to a temporary folder: ``services = "auto"`` (one district per
load), ``[hazard] model = "random_k"``, ``k = 10``, ``weights_by_kind = { branch = 1.0 }``,
``[impact] mode = "mld"``. It runs ``run_montecarlo(scheduler="synchronous")`` (DuckDB
writes included) and prints samples/s, then where a sample's time goes: the MLD's HiGHS
solve (its iterations and factorisations), the MLD's own work around it, and the rest of
the replay (services, indoor temperatures, outcomes), timed on the same damages.

Usage: ``python benchmarks/montecarlo_large.py [--samples 200] [--case case2869pegase]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = """\
name = "{case}-random-branches"

[grid]
case = "{case}"
services = "auto"

[damage]
elements = []

[hazard]
model = "random_k"
k = {k}
weights_by_kind = {{ branch = 1.0 }}

[impact]
mode = "mld"

[weather]
outdoor_c = -15.0

[horizon]
hours = 72
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--case", default="case2869pegase")
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()

    from warmgrid.model.scenario import load_scenario
    from warmgrid.power import dispatch
    from warmgrid.study.montecarlo import _worker_state, run_montecarlo, sample_damage

    tmp = Path(tempfile.mkdtemp(prefix="wg-mc-large-"))
    src = tmp / "scenario.toml"
    src.write_text(SCENARIO.format(case=args.case, k=args.k), encoding="utf-8")
    sc = load_scenario(src)
    n = args.samples

    t0 = time.perf_counter()
    r = run_montecarlo(sc, n, seed=1, scheduler="synchronous", store=tmp / "s.duckdb")
    total = time.perf_counter() - t0
    print(f"\nMonte Carlo on {args.case} ({args.k} random branches out, 72 h), {n} samples")
    print(
        f"  synchronous: {total:.1f} s in all, {n / total:.1f} samples/s; sustained "
        f"{r.samples_per_s:.1f} samples/s ({r.sampling_seconds:.1f} s of sampling, DuckDB "
        f"writes included; start-up {total - r.sampling_seconds:.1f} s)"
    )

    # where a sample goes: the same damages again, power solved each time
    sim, hazard, base = _worker_state(sc)
    damages = [sample_damage(hazard, sim, base, 2, i) for i in range(min(n, 60))]
    model = dispatch.mld_model(sim.net, sim.weights)
    highs = model.highs
    run_s, mld_s, highs_s, iters = [], [], [], []
    orig_solve = highs.solve

    def timed_solve(**kw):
        t = time.perf_counter()
        res = orig_solve(**kw)
        highs_s.append(time.perf_counter() - t)
        iters.append(res.iterations)
        return res

    highs.solve = timed_solve  # type: ignore[method-assign]
    orig_mld = dispatch.max_load_delivery

    def timed_mld(*a, **kw):
        t = time.perf_counter()
        out = orig_mld(*a, **kw)
        mld_s.append(time.perf_counter() - t)
        return out

    dispatch.max_load_delivery = timed_mld  # type: ignore[assignment]
    try:
        for d in damages:
            sim.clear_cache()
            t = time.perf_counter()
            sim.run(d)
            run_s.append(time.perf_counter() - t)
    finally:
        dispatch.max_load_delivery = orig_mld  # type: ignore[assignment]
        highs.solve = orig_solve  # type: ignore[method-assign]
    med = statistics.median
    print(f"  one replay (median of {len(damages)}, power solved): {1e3 * med(run_s):.1f} ms")
    print(
        f"    MLD {1e3 * med(mld_s):.1f} ms, of which HiGHS {1e3 * med(highs_s):.1f} ms "
        f"({med(iters):.0f} dual simplex iterations from the undamaged optimum's basis; "
        f"LP {highs.num_row:,} rows x {highs.num_col:,} columns)"
    )
    print(
        f"    the rest of the replay (services, temperatures, outcomes): "
        f"{1e3 * (med(run_s) - med(mld_s)):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
