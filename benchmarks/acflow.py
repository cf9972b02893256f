"""One AC power flow: warmgrid ``ac_flow`` vs pandapower, pypowsybl and power-grid-model.

Usage: ``.venv/bin/python benchmarks/acflow.py [--case case9241pegase ...] [--repeat 5]``

Every tool solves the same bundled case in this process, timed as the best of
``--repeat`` calls after a warm-up call (imports, JIT compilation, the JVM-free native
image of pypowsybl), with the case already loaded:

- warmgrid ``ac_flow(net)`` on the compiled network: Ybus, islands, DC start, Newton,
  flows and unit outputs, all from scratch each call (no cache);
- pandapower ``runpp(net)`` with numba (it converts its tables to arrays on every call;
  its Newton–Raphson time alone, ``net._ppc["et"]``, is printed as a note);
- pypowsybl OpenLoadFlow ``run_ac`` on the network from ``convert_from_pandapower``,
  with voltage control by units only (no tap, shunt or phase-shifter regulation, no
  reactive limits, no distributed slack; units at 0 MW keep voltage control), started
  from DC angles, tolerance 1e-8 per equation. Its max |dvm| note is not ~0: the
  converter's model of the case differs slightly (about 1e-4 p.u. on the PEGASE cases);
- power-grid-model Newton–Raphson (``calculate_power_flow``) on a model built from
  warmgrid's arrays: every branch a ``generic_branch`` (same π model, tap and shift),
  ext_grids as ``source`` (an ideal one: sk = 1e30 VA), loads and shunts as they are.
  power-grid-model has no voltage-controlling generators, so every unit is a PQ
  injection at the reactive output warmgrid's solution gives it: the same operating
  point, solved as an all-PQ problem (its tolerance is on the voltage step, 1e-8 p.u.).
  From its own start it converges on case1354pegase but diverges on case2869pegase and
  case9241pegase (it takes no initial voltages); the script says so and goes on.

Each peer's largest |vm − vm_warmgrid| shows that they solve the same problem.
``--breakdown`` adds where warmgrid's time goes (Ybus, DC start, Jacobian pattern and
values, LU factorisations and solves; nested stages overlap, so shares add past 100 %).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Row, best_of, print_table, skip

warnings.simplefilter("ignore")


def _pandapower(ppn: Any, repeat: int) -> tuple[Row, np.ndarray]:
    import pandapower as pp

    def run() -> None:
        pp.runpp(ppn, calculate_voltage_angles=True, numba=True)

    run()
    t, _ = best_of(run, repeat)
    nr = float(ppn._ppc["et"])
    vm = ppn.res_bus.vm_pu.to_numpy()
    return Row("pandapower runpp", t, f"numba; its Newton-Raphson alone {nr:.3f} s"), vm


def _pypowsybl(ppn: Any, repeat: int) -> tuple[Row, np.ndarray]:
    import pypowsybl.loadflow as lf
    import pypowsybl.network as pn

    n = pn.convert_from_pandapower(ppn)
    params = lf.Parameters(
        voltage_init_mode=lf.VoltageInitMode.DC_VALUES,
        transformer_voltage_control_on=False,
        use_reactive_limits=False,
        shunt_compensator_voltage_control_on=False,
        phase_shifter_regulation_on=False,
        distributed_slack=False,
        # units at 0 MW still hold their voltage (condensers), and a tight tolerance
        provider_parameters={
            "generatorsWithZeroMwTargetAreNotStarted": "false",
            "newtonRaphsonConvEpsPerEq": "1e-8",
        },
    )
    res = lf.run_ac(n, params)
    t, res = best_of(lambda: lf.run_ac(n, params), repeat)
    status = str(res[0].status).rsplit(".", 1)[-1]
    buses = n.get_bus_breaker_view_buses().reindex([f"bus_{i}" for i in ppn.bus.index])
    vl = n.get_voltage_levels()
    vm = (buses["v_mag"] / vl.loc[buses["voltage_level_id"], "nominal_v"].to_numpy()).to_numpy()
    return Row("pypowsybl OpenLoadFlow", t, f"{status}, {res[0].iteration_count} iterations"), vm


def _pgm_input(net: Any, r: Any) -> dict[str, np.ndarray]:
    """power-grid-model input arrays for warmgrid's network at its solution ``r``."""
    from power_grid_model import ComponentType, initialize_array

    st = net.base_state.effective(net)
    base = net.base_mva * 1e6
    u = net.bus_vn_kv * 1e3
    nb = net.n_bus
    node = initialize_array("input", ComponentType.node, nb)
    node["id"] = np.arange(nb)
    node["u_rated"] = u
    on = np.flatnonzero(st.branch_on)
    gb = initialize_array("input", ComponentType.generic_branch, len(on))
    nid = nb
    gb["id"] = np.arange(nid, nid + len(on))
    nid += len(on)
    gb["from_node"] = net.f[on]
    gb["to_node"] = net.t[on]
    gb["from_status"] = 1
    gb["to_status"] = 1
    # per unit on (base_mva, bus kV) -> ohm and siemens referred to the to side
    zb = u[net.t[on]] ** 2 / base
    z = (net.r_pu[on] + 1j * net.x_pu[on]) * zb
    gb["r1"], gb["x1"] = z.real, z.imag
    gb["g1"] = net.charging_g_pu[on] / zb
    gb["b1"] = net.charging_b_pu[on] / zb
    gb["k"] = net.tap[on]
    gb["theta"] = net.shift_rad[on]
    slack = np.flatnonzero(st.gen_on & net.gen_slack)
    src = initialize_array("input", ComponentType.source, len(slack))
    src["id"] = np.arange(nid, nid + len(slack))
    nid += len(slack)
    src["node"] = net.gen_bus[slack]
    src["status"] = 1
    src["u_ref"] = net.gen_vm_pu[slack]
    src["u_ref_angle"] = net.gen_va_rad[slack]
    src["sk"] = 1e30
    units = np.flatnonzero(st.gen_on & ~net.gen_slack)
    gen = initialize_array("input", ComponentType.sym_gen, len(units))
    gen["id"] = np.arange(nid, nid + len(units))
    nid += len(units)
    gen["node"] = net.gen_bus[units]
    gen["status"] = 1
    gen["type"] = 0  # constant power
    gen["p_specified"] = net.gen_p_mw[units] * 1e6
    gen["q_specified"] = r.gen_q_mvar[units] * 1e6
    lo = np.flatnonzero(st.load_on)
    load = initialize_array("input", ComponentType.sym_load, len(lo))
    load["id"] = np.arange(nid, nid + len(lo))
    nid += len(lo)
    load["node"] = net.load_bus[lo]
    load["status"] = 1
    load["type"] = 0
    load["p_specified"] = net.load_p_mw[lo] * 1e6
    load["q_specified"] = net.load_q_mvar[lo] * 1e6
    sh = initialize_array("input", ComponentType.shunt, len(net.shunt_bus))
    sh["id"] = np.arange(nid, nid + len(net.shunt_bus))
    sh["node"] = net.shunt_bus
    sh["status"] = 1
    ub2 = u[net.shunt_bus] ** 2
    sh["g1"] = net.shunt_g_mw * 1e6 / ub2
    sh["b1"] = net.shunt_b_mvar * 1e6 / ub2
    sh["g0"] = 0.0
    sh["b0"] = 0.0
    return {
        ComponentType.node: node,
        ComponentType.generic_branch: gb,
        ComponentType.source: src,
        ComponentType.sym_gen: gen,
        ComponentType.sym_load: load,
        ComponentType.shunt: sh,
    }


def _power_grid_model(net: Any, r: Any, repeat: int) -> tuple[list[Row], np.ndarray]:
    from power_grid_model import CalculationMethod, ComponentType, PowerGridModel

    data = _pgm_input(net, r)

    def solve(model: Any) -> Any:
        return model.calculate_power_flow(
            symmetric=True,
            calculation_method=CalculationMethod.newton_raphson,
            error_tolerance=1e-8,
            max_iterations=20,
        )

    model = PowerGridModel(data)
    solve(model)
    t_solve, out = best_of(lambda: solve(model), repeat)
    t_both, _ = best_of(lambda: solve(PowerGridModel(data)), repeat)
    vm = out[ComponentType.node]["u_pu"]
    return [
        Row("power-grid-model", t_both, "build the model + Newton-Raphson, all units PQ"),
        Row("power-grid-model (built)", t_solve, "Newton-Raphson on a model built once"),
    ], vm


def _breakdown(net: Any, repeat: int) -> None:
    """Where ``ac_flow`` spends its time: wrap its stages with timers."""
    import scipy.sparse.linalg as spl

    import warmgrid.power.ac as ac

    spent: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0

        return wrapper

    names = ("make_ybus", "_dc_angles", "lu_numeric", "lu_solve_vec", "lu_symbolic")
    saved = {k: getattr(ac, k) for k in names}
    saved_j = (ac._Jacobian.__init__, ac._Jacobian.fill, spl.splu)
    ac.make_ybus = timed("Ybus", ac.make_ybus)
    ac._dc_angles = timed("DC start (SuperLU, ordering)", ac._dc_angles)
    ac._Jacobian.__init__ = timed("Jacobian pattern + symbolic", ac._Jacobian.__init__)
    ac._Jacobian.fill = timed("Jacobian values", ac._Jacobian.fill)
    ac.lu_numeric = timed("LU factorisations", ac.lu_numeric)
    ac.lu_solve_vec = timed("LU solves", ac.lu_solve_vec)
    spl.splu = timed("SuperLU (DC; fallbacks)", spl.splu)
    try:
        ac.ac_flow(net)
        spent.clear()
        total = 0.0
        for _ in range(repeat):
            t0 = time.perf_counter()
            r = ac.ac_flow(net)
            total += time.perf_counter() - t0
    finally:
        for k, fn in saved.items():
            setattr(ac, k, fn)
        ac._Jacobian.__init__, ac._Jacobian.fill, spl.splu = saved_j
    print(f"  where warmgrid's time goes ({r.iterations} Newton iterations, mean of {repeat}):")
    for name, s in spent.items():
        print(f"    {name:<28} {s / repeat * 1e3:8.1f} ms  {s / total * 100:5.1f} %")
    print(f"    {'total':<28} {total / repeat * 1e3:8.1f} ms")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", action="append", default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--breakdown", action="store_true", help="where warmgrid's time goes")
    a = ap.parse_args(argv)
    import pandapower.networks as pn

    from warmgrid.io.pandapower import from_pandapower_net
    from warmgrid.power.ac import ac_flow
    from warmgrid.power.network import compile_network

    for case in a.case or ["case1354pegase", "case2869pegase", "case9241pegase"]:
        ppn = getattr(pn, case)()
        net = compile_network(from_pandapower_net(ppn, name=case, source=case))
        ac_flow(net)
        t_wg, r = best_of(lambda net=net: ac_flow(net), a.repeat)
        rows = [Row("warmgrid", t_wg, f"ac_flow, {r.iterations} iterations, from scratch")]
        for name, peer in (("pandapower", _pandapower), ("pypowsybl", _pypowsybl)):
            try:
                row, vm = peer(ppn, a.repeat)
                row.note += f"; max |dvm| {np.nanmax(np.abs(vm - r.vm_pu)):.1e}"
                rows.append(row)
            except Exception as exc:  # a peer that fails is reported, not fatal
                skip(name, exc)
        try:
            pgm_rows, vm = _power_grid_model(net, r, a.repeat)
            pgm_rows[0].note += f"; max |dvm| {np.nanmax(np.abs(vm - r.vm_pu)):.1e}"
            rows.extend(pgm_rows)
        except Exception as exc:
            skip("power-grid-model", exc)
        print_table(
            f"{case}: one AC power flow ({net.n_bus} buses, {net.n_branch} branches, "
            f"best of {a.repeat})",
            rows,
        )
        if a.breakdown:
            _breakdown(net, a.repeat)


if __name__ == "__main__":
    main()
