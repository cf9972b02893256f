"""A hand-made pandapower net with every element type warmgrid imports, and pandapower's
results keyed by warmgrid ids (shared by tests/io and tests/validation).

The net (110/20/10 kV, 10 buses): an external grid, a generator with reactive limits, a
static generator, loads, a shunt, lines, a two-winding transformer with a tap and a phase
shift, a three-winding transformer with taps and phase shifts, an asymmetric impedance and
one out of service, a ward, an extended ward, an HVDC link, and switches of every kind: a
closed bus-bus switch (buses 1 and 6 fuse), an open one (buses 2 and 7 stay apart), a
closed one with an impedance, a closed and an open line switch, a transformer switch and
a three-winding transformer switch.
"""

from __future__ import annotations

import warnings

import numpy as np


def every_element_net():
    """The net of the module docstring (fresh each call)."""
    import pandapower as pp

    net = pp.create_empty_network(sn_mva=100)
    kv = [110, 110, 110, 20, 20, 10, 110, 110, 20, 110]
    b = [
        pp.create_bus(net, v, name=f"b{i}", min_vm_pu=0.9, max_vm_pu=1.1) for i, v in enumerate(kv)
    ]
    pp.create_ext_grid(net, b[0], vm_pu=1.02, va_degree=0.0)
    lt = {"r_ohm_per_km": 0.12, "x_ohm_per_km": 0.39, "c_nf_per_km": 9.5, "max_i_ka": 0.6}
    l01 = pp.create_line_from_parameters(net, b[0], b[1], 20, **lt)
    for f, t, km in ((1, 2, 15), (0, 2, 30), (6, 2, 12), (0, 7, 25), (7, 9, 18)):
        pp.create_line_from_parameters(net, b[f], b[t], km, **lt)
    l67 = pp.create_line_from_parameters(net, b[6], b[7], 10, **lt)
    pp.create_line_from_parameters(net, b[2], b[9], 40, **lt)
    pp.create_line_from_parameters(
        net, b[3], b[4], 5, r_ohm_per_km=0.16, x_ohm_per_km=0.12, c_nf_per_km=280, max_i_ka=0.4
    )
    tap = {"tap_side": "hv", "tap_neutral": 0, "tap_min": -9, "tap_max": 9}
    t0 = pp.create_transformer_from_parameters(
        net, b[1], b[3], sn_mva=40, vn_hv_kv=110, vn_lv_kv=20, vkr_percent=0.3,
        vk_percent=12, pfe_kw=30, i0_percent=0.06, shift_degree=30,
        tap_step_percent=1.5, tap_pos=2, tap_changer_type="Ratio", **tap,
    )  # fmt: skip
    t3 = pp.create_transformer3w_from_parameters(
        net, b[2], b[4], b[5], vn_hv_kv=110, vn_mv_kv=20, vn_lv_kv=10, sn_hv_mva=60,
        sn_mv_mva=40, sn_lv_mva=25, vk_hv_percent=10.1, vk_mv_percent=10.5,
        vk_lv_percent=10.3, vkr_hv_percent=0.3, vkr_mv_percent=0.35, vkr_lv_percent=0.32,
        pfe_kw=40, i0_percent=0.08, shift_mv_degree=30, shift_lv_degree=150,
        tap_step_percent=1.25, tap_pos=-1, tap_changer_type="Ratio", **tap,
    )  # fmt: skip
    pp.create_impedance(
        net, b[4], b[8], rft_pu=0.02, xft_pu=0.08, rtf_pu=0.025, xtf_pu=0.09, sn_mva=50,
        gf_pu=0.001, bf_pu=0.004, gt_pu=0.002, bt_pu=0.003,
    )  # fmt: skip
    pp.create_impedance(net, b[3], b[8], rft_pu=0.03, xft_pu=0.1, sn_mva=50, in_service=False)
    pp.create_ward(net, b[5], ps_mw=4.0, qs_mvar=1.5, pz_mw=0.8, qz_mvar=-0.6)
    pp.create_xward(
        net, b[8], ps_mw=3.0, qs_mvar=1.0, pz_mw=0.4, qz_mvar=0.2, r_ohm=0.5, x_ohm=4.0,
        vm_pu=1.0,
    )  # fmt: skip
    pp.create_dcline(
        net, b[2], b[9], p_mw=20.0, loss_percent=1.2, loss_mw=0.5, vm_from_pu=1.01,
        vm_to_pu=1.0, min_q_from_mvar=-15, max_q_from_mvar=15, min_q_to_mvar=-15,
        max_q_to_mvar=15,
    )  # fmt: skip
    pp.create_gen(net, b[7], p_mw=35.0, vm_pu=1.01, min_q_mvar=-20, max_q_mvar=5)
    pp.create_sgen(net, b[5], p_mw=6.0, q_mvar=1.0)
    for i, p, q in ((1, 15, 4), (6, 22, 6), (9, 30, 8), (3, 12, 3), (4, 9, 2), (7, 10, 2)):
        pp.create_load(net, b[i], p_mw=p, q_mvar=q)
    pp.create_shunt(net, b[3], q_mvar=-3.0, p_mw=0.1)
    pp.create_switch(net, b[1], b[6], et="b", closed=True)  # switch:0, fuses bus:6 into bus:1
    pp.create_switch(net, b[2], b[7], et="b", closed=False)  # switch:1, open
    pp.create_switch(net, b[3], b[8], et="b", closed=True, z_ohm=0.05)  # switch:2, a branch
    pp.create_switch(net, b[0], l01, et="l", closed=True)  # switch:3
    pp.create_switch(net, b[7], l67, et="l", closed=False)  # switch:4, takes line:6 out
    pp.create_switch(net, b[1], t0, et="t", closed=True)  # switch:5
    pp.create_switch(net, b[5], t3, et="t3", closed=True)  # switch:6, the lv winding
    return net


def bus_positions(net, ppn) -> np.ndarray:
    """(n_pandapower_bus,) warmgrid bus index of each pandapower bus (fused ones included)."""
    pos = {b: i for i, b in enumerate(net.bus_ids.tolist())}
    return np.array([pos[net.aliases.get(f"bus:{i}", (f"bus:{i}",))[0]] for i in ppn.bus.index])


def run(ppn, *, ac: bool, q_limits: bool = False) -> bool:
    """pandapower's flow on ``ppn`` (AC: Newton-Raphson with voltage angles, a branch
    behind an open switch out of service, as warmgrid imports it); False if it fails."""
    import pandapower as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if ac:
                pp.runpp(
                    ppn,
                    calculate_voltage_angles=True,
                    neglect_open_switch_branches=True,
                    enforce_q_lims=q_limits,
                    numba=False,
                )
            else:
                pp.rundcpp(ppn)
        except pp.LoadflowNotConverged:
            return False
    return True


def reference(ppn) -> dict:
    """pandapower's results (after :func:`run`) keyed by warmgrid id.

    Returns
    -------
    dict with ``vm``, ``va`` (per pandapower bus), ``internal`` (bus id -> (vm, va) of
    the star buses and extended wards' internal buses), ``ends`` ((branch id, "from" or
    "to") -> (P, Q) at that end, MW and Mvar: lines, transformers, the windings' outer
    ends, impedances and impedance switches) and ``units`` (unit id -> (P, Q) injected).
    """
    ends: dict[tuple[str, str], tuple[float, float]] = {}

    def put(table, name, end, p_col, q_col):
        res = ppn[f"res_{table}"]
        for i in ppn[table].index:
            if table == "switch" and not np.isfinite(res.loc[i, p_col]):
                continue
            ends[(name.format(i), end)] = (float(res.loc[i, p_col]), float(res.loc[i, q_col]))

    for table, name in (
        ("line", "line:{}"),
        ("impedance", "impedance:{}"),
        ("switch", "switch:{}"),
    ):
        put(table, name, "from", "p_from_mw", "q_from_mvar")
        put(table, name, "to", "p_to_mw", "q_to_mvar")
    put("trafo", "trafo:{}", "from", "p_hv_mw", "q_hv_mvar")
    put("trafo", "trafo:{}", "to", "p_lv_mw", "q_lv_mvar")
    put("trafo3w", "trafo3w:{}:hv", "from", "p_hv_mw", "q_hv_mvar")
    put("trafo3w", "trafo3w:{}:mv", "to", "p_mv_mw", "q_mv_mvar")
    put("trafo3w", "trafo3w:{}:lv", "to", "p_lv_mw", "q_lv_mvar")
    units: dict[str, tuple[float, float]] = {}
    for table in ("ext_grid", "gen", "sgen"):
        res = ppn[f"res_{table}"]
        for i in ppn[table].index:
            units[f"{table}:{i}"] = (float(res.loc[i, "p_mw"]), float(res.loc[i, "q_mvar"]))
    for i, r in ppn.res_dcline.iterrows():  # pandapower reports what each end draws
        units[f"dcline:{i}:from"] = (-r["p_from_mw"], -r["q_from_mvar"])
        units[f"dcline:{i}:to"] = (-r["p_to_mw"], -r["q_to_mvar"])
    internal = {}
    for table, name in (("xward", "bus:xward-{}"), ("trafo3w", "bus:trafo3w-{}-star")):
        res = ppn[f"res_{table}"]
        for i in ppn[table].index:
            if "vm_internal_pu" in res:
                internal[name.format(i)] = (
                    float(res.loc[i, "vm_internal_pu"]),
                    float(res.loc[i, "va_internal_degree"]),
                )
    return {
        "vm": ppn.res_bus.vm_pu.to_numpy(dtype=float),
        "va": ppn.res_bus.va_degree.to_numpy(dtype=float),
        "internal": internal,
        "ends": ends,
        "units": units,
    }
