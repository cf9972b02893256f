"""One DC power flow: warmgrid ``dc_flow`` vs pandapower ``rundcpp`` on the same case.

Usage: ``.venv/bin/python benchmarks/dcflow.py [--case case9241pegase ...]``

Both are timed after the case is loaded (best of 5 after a warm-up call):

- pandapower ``rundcpp(net)`` (it rebuilds its internal arrays on every call);
- warmgrid ``dc_flow(net)`` with the factorisation cache cleared before every call (so
  each call builds Bbus, finds islands, factorises and solves), and with the cache warm
  (the re-solve an engine pays when only the injections change).

The flows are compared too (max |difference|, MW).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Row, best_of, print_table

warnings.simplefilter("ignore")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", action="append", default=None)
    a = ap.parse_args(argv)
    import pandapower as pp
    import pandapower.networks as pn

    import warmgrid.power.dc as dc
    from warmgrid.io import load_grid
    from warmgrid.power.network import compile_network

    for case in a.case or ["case1354pegase", "case9241pegase"]:
        ppn = getattr(pn, case)()
        pp.rundcpp(ppn)
        t_pp, _ = best_of(lambda ppn=ppn: pp.rundcpp(ppn), 5)
        ref = np.concatenate([ppn.res_line.p_from_mw.to_numpy(), ppn.res_trafo.p_hv_mw.to_numpy()])
        net = compile_network(load_grid(case))

        def cold(net=net):
            dc._CACHE.clear()
            return dc.dc_flow(net)

        cold()
        t_cold, r = best_of(cold, 5)
        t_warm, _ = best_of(lambda net=net: dc.dc_flow(net), 5)
        diff = float(np.nanmax(np.abs(r.flow_mw - ref)))
        rows = [
            Row("warmgrid", t_cold, "dc_flow, factorisation cache cleared each call"),
            Row("warmgrid (cached factor)", t_warm, "same topology, re-solve"),
            Row("pandapower rundcpp", t_pp, f"max |flow difference| {diff:.2e} MW"),
        ]
        print_table(f"{case}: one DC power flow ({net.n_bus} buses, {net.n_branch} branches)", rows)


if __name__ == "__main__":
    main()
