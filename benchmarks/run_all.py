"""Run every benchmark in one go (``make bench``): warmgrid and its peers, ratios printed.

Each script runs warmgrid and the peers named in its issue in one process on the same
case, because this machine is noisy. Peers that take minutes are sampled and
extrapolated, and the scripts say so.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

RUNS = [
    ["load.py"],
    ["dcflow.py"],
    ["acflow.py"],
    [
        "contingency.py",
        "--case",
        "case1354pegase",
        "--case",
        "case9241pegase",
        "--samples",
        "100,400",
    ],
    ["impact.py"],
    ["water.py"],
    ["restore.py", "--quick"],
    ["montecarlo.py", "--samples", "2000"],
    ["montecarlo_large.py", "--samples", "200"],
    ["replay.py"],
    ["dc_ordering.py"],
    ["public_cases.py"],
]


def main() -> int:
    failed = 0
    for args in RUNS:
        print(f"\n=== benchmarks/{' '.join(args)} ===", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / args[0]), *args[1:]])
        if rc:
            print(f"benchmarks/{args[0]} exited with {rc}", flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
