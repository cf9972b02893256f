"""Full DC N-1 over all branches: warmgrid vs pandapower, PyPSA, pypowsybl and GridCal.

Usage::

    .venv/bin/python benchmarks/contingency.py --case case1354pegase [--case case9241pegase]
        [--peers pandapower,pypsa,pypowsybl,gridcal] [--budget 300] [--no-units]

What is timed (wall clock, this machine, one run):

- **warmgrid** ``n_minus_1``: base flow, factorisation, bridge search, every branch outage
  (LODF for the non-islanding ones, exact bridge handling for the islanding ones), the
  per-contingency and per-branch maxima and the violation list above 100 %. Best of 3
  after one warm-up call (the warm-up pays numba's cache load; its time is printed).
- **warmgrid floor**: one factorisation plus the triangular solves screening needs (one
  per distinct end bus of a non-islanding outage, one per slack-side end of a bridge),
  with the same solve kernel.
- **warmgrid units, slack / pro_rata** (``--no-units`` skips them): ``n_minus_1`` with
  every non-slack unit's outage too, its output picked up by the slack
  (``generators="slack"``) or by the island's other units pro rata to ``p_max``
  (``"pro_rata"``), and the unit outages alone (``branches=[]``); best of 3 each, the
  pro-rata time as a multiple of the slack one.
- **pandapower** ``pandapower.contingency.run_contingency`` with ``rundcpp`` over every
  line and transformer (it loops full DC power flows).
- **PyPSA** ``lpf_contingency`` over every passive branch, on a network imported with
  ``pandapower.converter.pypower.to_ppc`` + ``import_from_pypower_ppc`` (exact; the
  direct pandapower importer gets transformers wrong).
- **pypowsybl** DC security analysis (OpenLoadFlow), network loaded from a MATPOWER
  ``.mat`` export, every line/transformer as a contingency; violations only ("fast mode").
  Peer ``pypowsybl_all`` (not in the default list) also monitors every branch flow,
  which exhausts its Java heap on large cases.
- **GridCal** contingency analysis with the PTDF/LODF method, grid read from a MATPOWER
  ``.m`` file written with the 13 standard bus columns (its parser rejects 18).

A peer whose full run would exceed ``--budget`` seconds is timed on two random samples
of outages and extrapolated (fixed cost + per-outage cost), which the table says.
Peers are optional and skipped with a message when they cannot be imported or fail.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Row, best_of, extrapolate, peak_memory_mb, print_table, rss_mb, skip

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)


# ---------------------------------------------------------------------- warmgrid
def warmgrid_rows(case: str) -> tuple[list[Row], Any]:
    from warmgrid.io import load_grid
    from warmgrid.power._fast import HAVE_NUMBA, LUSolver
    from warmgrid.power.contingency import _Context, n_minus_1
    from warmgrid.power.dc import factorize
    from warmgrid.power.network import compile_network

    net = compile_network(load_grid(case))
    t0 = time.perf_counter()
    r = n_minus_1(net)
    cold = time.perf_counter() - t0
    t, r = best_of(lambda: n_minus_1(net), 3)
    mem, _ = peak_memory_mb(lambda: n_minus_1(net))

    # floor: factorise + the same solves (each needed bus once), same kernel
    def floor_only() -> None:
        fac = factorize(net, cache=False)
        solver = LUSolver(fac.lu)
        for group in floor_groups:
            for s in range(0, len(group), 1024):
                solver.solve_units_raw(fac.pos[group[s : s + 1024]])

    ctx = _Context(net, None)
    nbm = ~ctx.tree.is_bridge & ctx.fac.branch_on
    brm = np.flatnonzero(ctx.tree.is_bridge & ctx.fac.branch_on)
    floor_groups = [
        np.unique(np.concatenate([net.f[nbm], net.t[nbm]])),
        np.unique([ctx.cut(int(k))[0] for k in brm]).astype(np.int64),
    ]
    tf, _ = best_of(floor_only, 3)
    n_rhs = sum(len(g) for g in floor_groups)

    # the textbook floor: factorise + one solve per outage (B⁻¹(e_f − e_t), or B⁻¹e_p for a bridge)
    ends_f = np.concatenate([net.f[nbm], [ctx.cut(int(k))[0] for k in brm]]).astype(np.int64)
    ends_t = np.concatenate([net.t[nbm], -np.ones(len(brm), dtype=np.int64)])

    def floor_per_outage() -> None:
        import warmgrid.power._fast as fast

        fac = factorize(net, cache=False)
        solver = LUSolver(fac.lu)
        n = fac.lu.shape[0]
        for s in range(0, len(ends_f), 1024):
            pf = fac.pos[ends_f[s : s + 1024]]
            et = ends_t[s : s + 1024]
            pt = np.where(et >= 0, fac.pos[np.maximum(et, 0)], -1)
            y = np.zeros((n, len(pf)))
            cols = np.arange(len(pf))
            perm = solver.perm_r if HAVE_NUMBA else np.arange(n)
            y[perm[pf[pf >= 0]], cols[pf >= 0]] = 1.0
            y[perm[pt[pt >= 0]], cols[pt >= 0]] -= 1.0
            if HAVE_NUMBA:
                lo, up = solver.low, solver.upp
                fast._lu_rows(
                    lo.indptr, lo.indices, lo.data, up.indptr, up.indices, up.data, solver.ud, y
                )
            else:
                solver.solve(y)

    tp, _ = best_of(floor_per_outage, 3)
    rows = [
        Row(
            "warmgrid",
            t,
            f"{r.count} outages ({int(r.islanding.sum())} islanding), "
            f"{len(r.violations):,} violations; cold first call {cold:.2f} s; numba={HAVE_NUMBA}",
        ),
        Row(
            "warmgrid floor",
            tf,
            f"factorise + {n_rhs} unit solves (one per distinct end bus, what screening "
            f"solves); screening = {t / tf:.2f}x this floor",
        ),
        Row(
            "warmgrid floor/outage",
            tp,
            f"factorise + {len(ends_f)} solves, one per outage (textbook LODF); "
            f"screening = {t / tp:.2f}x this floor",
        ),
    ]
    print(
        f"  warmgrid peak memory: {mem:,.0f} MB traced (numpy), process peak RSS {rss_mb():,.0f} MB"
    )
    return rows, r


def unit_rows(case: str) -> list[Row]:
    """N-1 with unit outages, the lost output picked up by the slack or pro rata to p_max."""
    from warmgrid.io import load_grid
    from warmgrid.power.contingency import n_minus_1
    from warmgrid.power.network import compile_network

    net = compile_network(load_grid(case))
    n_minus_1(net, branches=[], generators="pro_rata")  # warm-up (numba cache load)
    rows: list[Row] = []
    for what, branches in (("N-1 + units", None), ("units only", [])):
        t: dict[str, float] = {}
        for gens in ("slack", "pro_rata"):
            t[gens], r = best_of(
                lambda g=gens, b=branches: n_minus_1(net, branches=b, generators=g)
            )
            note = f"{r.count:,} outages, {len(r.violations):,} violations"
            if gens == "pro_rata":
                note += f"; pro_rata = {t['pro_rata'] / t['slack']:.2f}x slack"
            rows.append(Row(f"warmgrid {what}, {gens}", t[gens], note))
    return rows


# ---------------------------------------------------------------------- peers
_SAMPLES = [20, 80]


def _extrapolate(run: Any, items: list[Any], budget: float) -> tuple[float, str]:
    return extrapolate(run, items, budget_s=budget, sizes=(_SAMPLES[0], _SAMPLES[1]))


def _pp_net(case: str) -> Any:
    import pandapower.networks as pn

    return getattr(pn, case)()


def pandapower_row(case: str, budget: float) -> Row:
    import pandapower as pp
    from pandapower.contingency import run_contingency

    net = _pp_net(case)
    for tbl in ("line", "trafo"):
        if "max_loading_percent" not in net[tbl]:
            net[tbl]["max_loading_percent"] = 100.0
    items = [("line", i) for i in net.line.index[net.line.in_service]] + [
        ("trafo", i) for i in net.trafo.index[net.trafo.in_service]
    ]

    def run(sel: list[tuple[str, int]]) -> None:
        cases = {
            "line": {"index": [i for k, i in sel if k == "line"]},
            "trafo": {"index": [i for k, i in sel if k == "trafo"]},
        }
        with contextlib.redirect_stdout(io.StringIO()):
            run_contingency(net, cases, contingency_evaluation_function=pp.rundcpp)

    t, note = _extrapolate(run, items, budget)
    return Row("pandapower run_contingency", t, note)


def pypsa_row(case: str, budget: float) -> Row:
    import pypsa
    from pandapower.converter.pypower import to_ppc

    net = _pp_net(case)
    ppc = to_ppc(net, init="flat")
    n = pypsa.Network()
    with contextlib.redirect_stdout(io.StringIO()):
        n.import_from_pypower_ppc(ppc)
    items = list(n.passive_branches().index)

    def run(sel: list[Any]) -> None:
        n.lpf_contingency(list(n.snapshots), branch_outages=sel)

    t, note = _extrapolate(run, items, budget)
    return Row("PyPSA lpf_contingency", t, note)


def pypowsybl_row(case: str, budget: float, tmp: Path, monitor_all: bool = False) -> Row:
    import pypowsybl as ppow
    from pandapower.converter.matpower import to_mpc

    net = _pp_net(case)
    path = tmp / f"{case}.mat"
    to_mpc(net, str(path), init="flat")
    pn = ppow.network.load(str(path))
    ids = list(pn.get_lines().index) + list(pn.get_2_windings_transformers().index)
    params = ppow.loadflow.Parameters(distributed_slack=False)

    def run(sel: list[str]) -> None:
        sa = ppow.security.create_analysis()
        sa.add_single_element_contingencies(sel)
        if monitor_all:  # every branch flow after every contingency
            sa.add_monitored_elements(branch_ids=ids)
        sa.run_dc(pn, parameters=params)

    t, note = _extrapolate(run, ids, budget)
    name = "pypowsybl DC security (all flows)" if monitor_all else "pypowsybl DC security (fast)"
    return Row(name, t, note)


def _write_m(ppc: dict[str, Any], path: Path) -> None:
    """A MATPOWER .m file with the standard column counts (bus 13, gen 21, branch 13)."""

    def mat(a: np.ndarray) -> str:
        return "\n".join("\t".join(f"{v:.12g}" for v in row) + ";" for row in a)

    gen = np.zeros((len(ppc["gen"]), 21))
    gen[:, : min(21, ppc["gen"].shape[1])] = ppc["gen"][:, :21]
    txt = (
        f"function mpc = case\nmpc.version = '2';\nmpc.baseMVA = {ppc['baseMVA']};\n"
        f"mpc.bus = [\n{mat(ppc['bus'][:, :13])}\n];\n"
        f"mpc.gen = [\n{mat(gen)}\n];\n"
        f"mpc.branch = [\n{mat(ppc['branch'][:, :13].real)}\n];\n"
    )
    path.write_text(txt)


def gridcal_row(case: str, budget: float, tmp: Path) -> Row:
    import GridCalEngine.api as gce
    from GridCalEngine.enumerations import ContingencyMethod, DeviceType
    from GridCalEngine.Simulations.ContingencyAnalysis.contingency_plan import add_n1_contingencies
    from pandapower.converter.pypower import to_ppc

    net = _pp_net(case)
    ppc = to_ppc(net, init="flat")
    path = tmp / f"{case}.m"
    _write_m(ppc, path)
    with contextlib.redirect_stdout(io.StringIO()):
        grid = gce.open_file(str(path))
    branches = grid.get_branches()

    def run(sel: list[int]) -> None:
        g = grid  # its contingency lists are replaced each run (copying the grid costs ~12 s)
        conts, groups = add_n1_contingencies(
            [branches[i] for i in sel],
            0.0,
            1e9,
            False,
            [DeviceType.LineDevice, DeviceType.Transformer2WDevice],
        )
        g.contingencies = conts
        g.contingency_groups = groups
        opts = gce.ContingencyAnalysisOptions(
            contingency_method=ContingencyMethod.PTDF,
            pf_options=gce.PowerFlowOptions(gce.SolverType.Linear),
        )
        drv = gce.ContingencyAnalysisDriver(g, opts)
        with contextlib.redirect_stdout(io.StringIO()):
            drv.run()

    t, note = _extrapolate(run, list(range(len(branches))), budget)
    return Row("GridCal LODF contingency", t, note)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", action="append", default=None)
    ap.add_argument("--peers", default="pandapower,pypsa,pypowsybl,gridcal")
    ap.add_argument("--samples", default="20,80", help="two sample sizes for extrapolation")
    ap.add_argument("--no-units", action="store_true", help="skip the unit-outage rows")
    ap.add_argument(
        "--budget", type=float, default=300.0, help="seconds before a peer is extrapolated"
    )
    a = ap.parse_args(argv)
    peers = [p for p in a.peers.split(",") if p]
    _SAMPLES[:] = [int(x) for x in a.samples.split(",")]
    for case in a.case or ["case1354pegase"]:
        print(f"\n=== {case}: full DC N-1 over all branches ===")
        rows, _ = warmgrid_rows(case)
        if not a.no_units:
            rows += unit_rows(case)
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            runners: dict[str, Any] = {
                "pandapower": lambda c: pandapower_row(c, a.budget),
                "pypsa": lambda c: pypsa_row(c, a.budget),
                "pypowsybl": lambda c: pypowsybl_row(c, a.budget, tmp),  # noqa: B023
                "pypowsybl_all": lambda c: pypowsybl_row(c, a.budget, tmp, True),  # noqa: B023
                "gridcal": lambda c: gridcal_row(c, a.budget, tmp),  # noqa: B023
            }
            for name in peers:
                print(f"  running {name} ...", flush=True)
                try:
                    rows.append(runners[name](case))
                except Exception as e:  # a broken peer must not stop the run
                    skip(name, e)
        print_table(f"{case}: full DC N-1 (ratios vs warmgrid, one run)", rows)
        fastest = min(
            (r for r in rows if not r.name.startswith("warmgrid")),
            key=lambda r: r.seconds,
            default=None,
        )
        if fastest is not None:
            print(
                f"  fastest peer: {fastest.name}, {fastest.seconds / rows[0].seconds:,.1f}x warmgrid"
            )


if __name__ == "__main__":
    main()
