"""Benchmark: restoration optimisers on frost-strike (winter-city).

Times each method (priority rules, greedy, local search, brute force) and counts its
timeline replays, power states and distinct hydraulic water runs (EPANET simulations;
a run is cached per pump-outage pattern), on the bundled frost-strike and on harder variants (fewer crews, a
longer horizon, a 7th damaged element), and prints brute force vs local search (time
ratio, objective gap). Each method gets a fresh simulator, so no method profits from
another's power-flow cache. Usage::

    python benchmarks/restore.py [--budget-s 60] [--quick]
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)


def variant(crews: int, hours: int, extra: list[str]):
    """frost-strike with another crew count, horizon and extra damage."""
    from warmgrid.model.scenario import load_scenario, parse_scenario

    sc = load_scenario("frost-strike")
    d = sc.model_dump(exclude={"source"})
    d["damage"] = {"elements": [*d["damage"]["elements"], *extra]}
    d["horizon"] = {**d["horizon"], "hours": hours}
    d["repair"] = {**d["repair"], "crews": crews}
    return parse_scenario(d, source=sc.source)


def run_case(title: str, sc, methods: list[str], budget_s: float) -> None:
    from warmgrid.restore.search import optimise
    from warmgrid.study.restore import problem_from_study
    from warmgrid.study.run import prepare

    rows = []
    for m in methods:
        study = prepare(sc)  # fresh power cache per method
        sim = study.simulator
        t0 = time.perf_counter()
        p = problem_from_study(study)
        setup = time.perf_counter() - t0
        r = optimise(p, method=m, budget_s=budget_s)
        runs = sim.water.model.hydraulic_runs if sim.water is not None else 0
        rows.append((m, r, setup, len(sim._cache), runs))

    best = min(r.total for _, r, _, _, _ in rows)
    none_total = problem_from_study(prepare(sc)).no_repair().total
    print(
        f"\n{title}: {len(sc.damage.elements)} damaged, {sc.repair.crews} crew(s), "
        f"{sc.horizon.hours} h; no-repair objective {none_total:,.0f}"
    )
    print(
        f"  {'method':<16}{'seconds':>9}{'replays':>9}{'calls':>8}{'states':>8}"
        f"{'hydraulic':>10}{'objective':>16}{'gap %':>9}{'vs none %':>10}"
    )
    for _, r, _, states, runs in rows:
        gap = 100.0 * (r.total - best) / best
        red = 100.0 * (none_total - r.total) / none_total
        print(
            f"  {r.method:<16}{r.seconds:>9.3f}{r.evaluations:>9}{r.calls:>8}{states:>8}"
            f"{runs:>10}{r.total:>16,.0f}{gap:>9.3f}{red:>10.1f}"
        )
    by = {m: r for m, r, _, _, _ in rows}
    if "brute" in by and "local" in by:
        b, loc = by["brute"], by["local"]
        print(
            f"  brute / local time: {b.seconds / loc.seconds:,.1f}x; local gap to the optimum "
            f"{100.0 * (loc.total - b.total) / b.total:.4f}%; replays {b.evaluations} vs "
            f"{loc.evaluations}"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget-s", type=float, default=60.0, help="local search budget, s")
    ap.add_argument("--quick", action="store_true", help="skip the 7-element 1-crew case")
    a = ap.parse_args()
    from warmgrid.model.scenario import load_scenario
    from warmgrid.study.run import prepare

    t0 = time.perf_counter()
    sim = prepare(load_scenario("frost-strike")).simulator
    dmg = load_scenario("frost-strike").damage.elements
    sim.run(dmg)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(20):
        sim.run(dmg).metrics()
    t_replay = (time.perf_counter() - t0) / 20
    print(
        f"prepare + first replay {t_first:.3f} s; cached replay {1e3 * t_replay:.1f} ms "
        f"(72 h, {len(sim.services.areas)} areas)"
    )
    methods = ["rule", "greedy", "local", "brute"]
    run_case("frost-strike as bundled", load_scenario("frost-strike"), methods, a.budget_s)
    run_case("frost-strike, 2 crews, 120 h", variant(2, 120, []), methods, a.budget_s)
    run_case(
        "frost-strike + substation:obrii, 2 crews, 120 h",
        variant(2, 120, ["substation:obrii"]),
        methods,
        a.budget_s,
    )
    if not a.quick:
        run_case(
            "frost-strike + line:kalynova-obrii, 1 crew, 120 h",
            variant(1, 120, ["line:kalynova-obrii"]),
            methods,
            a.budget_s,
        )


if __name__ == "__main__":
    main()
