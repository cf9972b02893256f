"""Benchmark: MLD (build + solve) and cascade on PEGASE cases with random damage.

Runs the same MLD LP through PyPSA's optimisation (linopy + HiGHS, load shedding as
generators) in the same process when pypsa is importable, checks the objectives agree and
prints the time ratio. Usage::

    python benchmarks/impact.py [--cases case1354pegase case9241pegase] [--seeds 3] [--k 20]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
import warnings
from dataclasses import replace

import numpy as np

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)


def pypsa_mld(net, state):
    """The MLD LP in PyPSA: units as generators, each load backed by a shedding generator
    with marginal cost 1 (the weight), shunt conductance as fixed loads, every branch as a
    transformer (per unit on its rating, tap folded into x), dark islands left out.
    PyPSA's optimisation ignores transformer ``phase_shift`` (pypsa/optimization never reads
    it; checked on PyPSA 1.2.4), so callers compare on a shift-free copy of the network.
    Returns (served MW, seconds in ``optimize``)."""
    import pypsa

    from warmgrid.power.topology import islands

    st = state.effective(net)
    isl = islands(net, st)
    live = ~isl.dark(need_slack=False)
    n = pypsa.Network()
    buses = np.flatnonzero(live)
    names = [str(b) for b in net.bus_ids[buses]]
    n.add("Bus", names, v_nom=1.0, carrier="AC")
    br = np.flatnonzero(st.branch_on & live[net.f])
    rate = np.where(np.isfinite(net.rate_mw[br]), net.rate_mw[br], 1e9)
    x_1mva = net.x_pu[br] * net.tap[br] / net.base_mva  # per unit on 1 MVA
    n.add(
        "Transformer",
        [f"k{i}" for i in br],
        bus0=net.bus_ids[net.f[br]].astype(str),
        bus1=net.bus_ids[net.t[br]].astype(str),
        x=x_1mva * rate,
        r=0.0,
        s_nom=rate,
        tap_ratio=1.0,
        phase_shift=np.rad2deg(net.shift_rad[br]),
        model="t",
    )
    g = np.flatnonzero(st.gen_on & live[net.gen_bus])
    pmax = np.where(np.isfinite(net.gen_pmax_mw[g]), np.maximum(net.gen_pmax_mw[g], 0), 1e7)
    n.add(
        "Generator",
        [f"g{i}" for i in g],
        bus=net.bus_ids[net.gen_bus[g]].astype(str),
        p_nom=pmax,
        marginal_cost=0.0,
    )
    ld = np.flatnonzero(st.load_on & live[net.load_bus])
    lbus = net.bus_ids[net.load_bus[ld]].astype(str)
    n.add("Load", [f"l{i}" for i in ld], bus=lbus, p_set=net.load_p_mw[ld])
    n.add(
        "Generator", [f"shed{i}" for i in ld], bus=lbus, p_nom=net.load_p_mw[ld], marginal_cost=1.0
    )
    sh = np.flatnonzero(live[net.shunt_bus] & (net.shunt_g_mw != 0))
    n.add(
        "Load",
        [f"sh{i}" for i in sh],
        bus=net.bus_ids[net.shunt_bus[sh]].astype(str),
        p_set=net.shunt_g_mw[sh],
    )
    t0 = time.perf_counter()
    status, _ = n.optimize(solver_name="highs", solver_options={"output_flag": False})
    sec = time.perf_counter() - t0
    assert status == "ok", status
    shed = float(n.generators_t.p[[f"shed{i}" for i in ld]].sum(axis=1).iloc[0]) if len(ld) else 0.0
    return float(net.load_p_mw[ld].sum()) - shed, sec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", nargs="+", default=["case1354pegase", "case9241pegase"])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--k", type=int, default=20, help="damaged branches per scenario")
    ap.add_argument("--no-pypsa", action="store_true")
    ap.add_argument(
        "--pypsa-seeds",
        type=int,
        default=1,
        help="scenarios also run through PyPSA (it takes minutes on case9241pegase)",
    )
    args = ap.parse_args()

    from warmgrid.io import load_grid
    from warmgrid.power.cascade import cascade
    from warmgrid.power.dispatch import max_load_delivery, typical_binding
    from warmgrid.power.network import compile_network

    try:
        if args.no_pypsa:
            raise ImportError
        import pypsa  # noqa: F401

        have_pypsa = True
    except ImportError:
        have_pypsa = False
    max_load_delivery(
        compile_network(load_grid("case9"))
    )  # import and HiGHS start-up outside timing
    for case in args.cases:
        net = compile_network(load_grid(case))
        print(
            f"\n== {case}: {net.n_bus} buses, {net.n_branch} branches, {args.k} random branches out"
        )
        t0 = time.perf_counter()
        typ = typical_binding(net)
        t_typ = time.perf_counter() - t0
        print(
            f"  undamaged MLD for the warm start: {t_typ:.2f} s once per network ({len(typ)} binding)"
        )
        cold, warm, pyp, same, casc, stages = [], [], [], [], [], []
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            dmg = [str(e) for e in rng.choice(net.branch_ids, args.k, replace=False)]
            st = net.state(dmg)
            t0 = time.perf_counter()
            r = max_load_delivery(net, st)
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            rw = max_load_delivery(net, st, monitor=typ)
            warm.append(time.perf_counter() - t0)
            assert abs(rw.served_mw - r.served_mw) <= 1e-6 * r.served_mw
            t0 = time.perf_counter()
            c = cascade(net, st, trip_factor=1.0)
            casc.append(time.perf_counter() - t0)
            stages.append(len(c.stages))
            line = (
                f"  seed {seed}: MLD served {r.served_mw:,.1f} MW  cold {cold[-1]:.3f} s ({r.rounds} rounds)"
                f"  warm {warm[-1]:.3f} s ({rw.rounds} rounds) | cascade {casc[-1]:.3f} s, "
                f"{len(c.stages)} stages, served {c.served_mw:,.1f} MW"
            )
            if have_pypsa and seed < args.pypsa_seeds:
                # the same LP on both sides: PyPSA's LOPF has no phase shifters
                net0 = replace(net, shift_rad=np.zeros(net.n_branch))
                t0 = time.perf_counter()
                r0 = max_load_delivery(net0, st)
                same.append(time.perf_counter() - t0)
                served_p, sec = pypsa_mld(net0, st)
                pyp.append(sec)
                rel = abs(served_p - r0.served_mw) / max(r0.served_mw, 1.0)
                line += (
                    f" | same LP without shifters: warmgrid {same[-1]:.3f} s, PyPSA {sec:.2f} s"
                    f" (objective rel diff {rel:.1e})"
                )
            print(line)
        med = statistics.median
        print(
            f"  median: MLD cold {med(cold):.3f} s, warm {med(warm):.3f} s; "
            f"cascade {med(casc):.3f} s for {med(stages):.0f} stages "
            f"({1000 * med(casc) / max(med(stages), 1):.0f} ms/stage)"
        )
        if have_pypsa:
            print(
                f"  PyPSA/linopy optimize median {med(pyp):.2f} s vs warmgrid {med(same):.3f} s on the same LP"
                f" -> ratio {med(pyp) / med(same):.1f}x (cold warmgrid with shifters: "
                f"{med(pyp) / med(cold):.1f}x)"
            )


if __name__ == "__main__":
    main()
