"""Benchmark: hydraulic water runs (72 h, pressure-dependent) with warmgrid and with WNTR.

Times, in one process on the same machine:

* Net3 and winter-city's water network, 72 h: warmgrid's :class:`HydraulicModel.run`
  (EPANET 2.2 toolkit stepped in memory, cache cleared before each call) against a direct
  :class:`wntr.sim.EpanetSimulator` run of the same network (WNTR writes an .inp, EPANET
  solves hydraulics and quality into a binary file, WNTR reads it back), with every pump
  powered and with an outage pattern; prints the ratios and checks the runs agree.
* ``import wntr`` (which warmgrid's hydraulic model avoids) and opening each network.
* frost-strike end to end as the timeline will run it: the power timeline (existing
  :class:`warmgrid.timeline.Simulator`), the pumps' power from their loads' served
  fractions, the hydraulic run and the water service per area.

Usage::

    python benchmarks/water.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Row, best_of, print_table

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)


def wntr_run(wn, folder: str):
    """One direct WNTR run: EpanetSimulator in its own folder (it writes temp files)."""
    import wntr

    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return wntr.sim.EpanetSimulator(wn).run_sim()
    finally:
        os.chdir(cwd)


def closed_copy(wn, pump: str, h0: int, h1: int):
    """A WNTR model with ``pump`` closed in hours [h0, h1) by timer controls, its own
    controls removed (the networks here control it by tank level or timers)."""
    import copy

    import wntr
    from wntr.network.controls import Control, ControlAction, SimTimeCondition

    wn = copy.deepcopy(wn)
    for name, ctrl in list(wn.controls()):
        if any(a.target()[0].name == pump for a in ctrl.actions()):
            wn.remove_control(name)
    link = wn.get_link(pump)
    for t, status in ((h0, wntr.network.LinkStatus.Closed), (h1, wntr.network.LinkStatus.Open)):
        act = ControlAction(link, "status", status)
        wn.add_control(f"bench-{pump}-{t}", Control(SimTimeCondition(wn, "=", t * 3600), act))
    return wn


def case(title: str, inp: Path, pump: str, h0: int, h1: int, repeat: int) -> None:
    import wntr

    from warmgrid.water import HydraulicModel

    t0 = time.perf_counter()
    model = HydraulicModel(inp)
    t_open = time.perf_counter() - t0
    on = np.ones((72, len(model.pumps)), dtype=bool)
    cut = on.copy()
    cut[h0:h1, model.pumps.index(pump)] = False

    def ours(pattern):
        def go():
            model.clear_cache()
            return model.run(pattern)

        return go

    t_base, base = best_of(ours(on), repeat)
    t_cut_only = np.inf  # the outage run alone: the baseline it resumes from is cached
    for _ in range(repeat):
        model.clear_cache()
        model.baseline(72)
        t1 = time.perf_counter()
        res = model.run(cut)
        t_cut_only = min(t_cut_only, time.perf_counter() - t1)
    wn = wntr.network.WaterNetworkModel(str(inp))
    o = wn.options
    o.hydraulic.demand_model = "PDD"
    o.hydraulic.required_pressure = model.required_pressure_m
    o.hydraulic.minimum_pressure = model.minimum_pressure_m
    o.time.duration = 72 * 3600
    o.time.hydraulic_timestep = o.time.report_timestep = 3600
    folder = tempfile.mkdtemp(prefix="bench-water-")
    t_w, ref = best_of(lambda: wntr_run(wn, folder), repeat)
    wcut = closed_copy(wn, pump, h0, h1)
    t_wc, _ = best_of(lambda: wntr_run(wcut, folder), repeat)
    cols = list(model.junctions)
    want = ref.node["demand"][cols].to_numpy() * 3600.0
    err = np.abs(base.demand_m3h - want).max() / max(np.abs(want).max(), 1e-9)
    print(
        f"\n{title}: {len(model.junctions)} junctions, {len(model.tanks)} tanks, "
        f"{len(model.pumps)} pumps; open {t_open * 1e3:.0f} ms; EPANET steps "
        f"{base.solves} (all on), {res.solves} ({pump} off {h0}-{h1} h); "
        f"baseline vs WNTR max rel. diff {err:.1e}"
    )
    print_table(
        f"{title}, 72 h, every pump powered",
        [Row("warmgrid", t_base), Row("wntr EpanetSimulator", t_w)],
    )
    print_table(
        f"{title}, 72 h, {pump} unpowered hours {h0}-{h1}",
        [
            Row("warmgrid", t_cut_only, "outage run (the baseline it resumes from is cached)"),
            Row("wntr EpanetSimulator", t_wc, "controls rewritten by hand"),
        ],
    )
    model.close()


def frost_strike() -> None:
    """The frost-strike impact with hydraulic water, timed piece by piece."""
    from warmgrid.examples.winter_city_water import winter_city_water
    from warmgrid.model.scenario import load_scenario
    from warmgrid.study.run import prepare
    from warmgrid.water import HydraulicModel, area_map_from_table, area_water

    t = {}
    t0 = time.perf_counter()
    sc = load_scenario("frost-strike")
    sim = prepare(sc).simulator
    tl = sim.run(sc.damage.elements)
    t["power + heat timeline"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cw = winter_city_water()
    inp, _ = cw.write(tempfile.mkdtemp(prefix="bench-city-"))
    model = HydraulicModel(inp, pump_power=cw.pump_power)
    amap = area_map_from_table(cw.area_junctions, sim.services.areas["id"], model.junctions)
    t["water network: build + open"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    loads = {x: i for i, x in enumerate(sim.net.load_ids.tolist())}
    frac = np.array([p.load_frac for p in tl.power])
    supply = {g: frac[:, loads[g]] for g in set(cw.pump_power.values())}
    on = model.pump_on(supply, sim.n_steps)
    res = model.run(on)
    water = area_water(res, amap, sim.population, service_share=0.5)
    t["hydraulics + areas"] = time.perf_counter() - t0
    off = sorted({p for _, s in model.pattern(on) for p in s})
    print(
        f"\nfrost-strike with hydraulic water ({sim.n_steps} h); unpowered pumps: {off or 'none'}"
    )
    print(
        f"  hydraulic runs {model.hydraulic_runs}, EPANET steps {res.solves}; people in areas "
        f"below half their water: max {water.people_without.max():,.0f}; Σ people × share "
        f"of demand missing: max {((1 - water.fraction) @ sim.population).max():,.0f} "
        f"(hydraulic) vs {tl.people_without_water.max():,.0f} (rule-based)"
    )
    for k, v in t.items():
        print(f"  {k:<30} {v:6.2f} s")
    print(f"  {'total (after imports)':<30} {sum(t.values()):6.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    import wntr  # noqa: F401

    print(
        f"import wntr: {time.perf_counter() - t0:.2f} s (warmgrid's hydraulic runs do not need it)"
    )
    from warmgrid.examples.winter_city_water import winter_city_water
    from warmgrid.water.network import network_path

    case("Net3", network_path("Net3"), "10", 10, 40, args.repeat)
    city, _ = winter_city_water().write(tempfile.mkdtemp(prefix="bench-city-"))
    case("winter-city", city, "river-works", 6, 30, args.repeat)
    frost_strike()


if __name__ == "__main__":
    main()
