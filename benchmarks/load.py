"""Load time of a bundled case: warmgrid (cold and warm cache) vs pandapower itself.

Every measurement runs in a fresh Python process, so each pays its own imports, as a
user running a command would. Reported per run: the time of the import plus the load
call measured inside the process, the whole process's wall time, and its peak memory.

- pandapower: ``import pandapower.networks as pn; pn.<case>()``.
- warmgrid cold: ``load_grid(<case>)`` with an empty cache (pandapower loads the case,
  warmgrid converts it and writes the Parquet cache).
- warmgrid warm: ``load_grid(<case>)`` reading the Parquet cache (pandapower is not
  imported).
- warmgrid info CLI: ``warmgrid info <case> --json`` on the warm cache.

Usage: ``python benchmarks/load.py [case9241pegase] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
case, what = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if what == "pandapower":
    import pandapower.networks as pn
    t1 = time.perf_counter()
    net = getattr(pn, case)()
    n_bus = len(net.bus)
else:
    from warmgrid.io import load_grid
    t1 = time.perf_counter()
    g = load_grid(case)
    n_bus = len(g.bus)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "total_s": t2 - t0, "buses": n_bus,
                  "pandapower_imported": "pandapower" in sys.modules,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(case: str, what: str, env: dict[str, str]) -> dict:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, case, what],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = time.perf_counter() - t
    return out


def _cli(case: str, env: dict[str, str]) -> dict:
    exe = Path(sys.executable).parent / "warmgrid"
    t = time.perf_counter()
    proc = subprocess.run(
        [str(exe), "info", case, "--json"], capture_output=True, text=True, env=env, check=True
    )
    wall = time.perf_counter() - t
    return {"wall_s": wall, "buses": json.loads(proc.stdout)["buses"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", nargs="?", default="case9241pegase")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    rows: dict[str, list[dict]] = {
        "pandapower": [],
        "warmgrid cold": [],
        "warmgrid warm": [],
        "warmgrid info CLI": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeat):
            env = dict(os.environ, WARMGRID_CACHE=str(Path(tmp) / f"cache{r}"))
            rows["pandapower"].append(_child(args.case, "pandapower", env))
            rows["warmgrid cold"].append(_child(args.case, "warmgrid", env))
            rows["warmgrid warm"].append(_child(args.case, "warmgrid", env))
            rows["warmgrid info CLI"].append(_cli(args.case, env))

    def med(name: str, key: str) -> float:
        vals = [r[key] for r in rows[name] if key in r]
        return statistics.median(vals) if vals else float("nan")

    print(f"{args.case}: load time, median of {args.repeat} fresh processes (seconds)")
    print(
        f"{'':20s} {'import':>8s} {'load':>8s} {'import+load':>12s} {'process wall':>13s} {'peak MB':>8s}"
    )
    for name in rows:
        print(
            f"{name:20s} {med(name, 'import_s'):8.2f} {med(name, 'load_s'):8.2f} {med(name, 'total_s'):12.2f} "
            f"{med(name, 'wall_s'):13.2f} {med(name, 'peak_mb'):8.0f}"
        )
    pp_total = med("pandapower", "total_s")
    print(
        f"ratio pandapower / warmgrid warm (import+load): {pp_total / med('warmgrid warm', 'total_s'):.1f}x"
    )
    print(
        f"ratio pandapower / warmgrid cold (import+load): {pp_total / med('warmgrid cold', 'total_s'):.2f}x"
    )
    assert all(r["buses"] for rs in rows.values() for r in rs)
    assert not any(r["pandapower_imported"] for r in rows["warmgrid warm"]), (
        "warm load imported pandapower"
    )


if __name__ == "__main__":
    main()
