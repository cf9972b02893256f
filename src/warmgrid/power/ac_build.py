"""The build step of the AC power flow: energised islands, slack buses, fixed injections.

Islands follow pandapower's ``runpp``: an island is solved when it holds an in-service
slack unit; ``energised="balanced"`` also solves islands with a voltage-controlling unit
(the largest becomes the slack). Loads and units without voltage control are fixed
injections. The bus admittance matrix is built by :func:`warmgrid.power.ybus.make_ybus`.
See :mod:`warmgrid.power.ac` for the model.
"""

from __future__ import annotations

import numpy as np

from warmgrid.power.ac_types import ACOptions, Energised, _Energised
from warmgrid.power.network import Network, State
from warmgrid.power.topology import Islands, islands


def _first_per_bus(units: np.ndarray, gen_bus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(buses, first unit of each) for the unit indices ``units`` (kept in index order)."""
    if len(units) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    buses, first = np.unique(gen_bus[units], return_index=True)
    return buses, units[first]


def _energise(net: Network, st: State, opt: ACOptions) -> _Energised:
    """The build step: energised islands, their slack units and the fixed injections.

    Parameters
    ----------
    net : compiled network.
    st : the effective state.
    opt : the options (``energised``; ``q_limits`` clips fixed reactive set points).
    """
    n = net.n_bus
    ng = len(net.gen_ids)
    isl = islands(net, st)
    slack, live = _live_islands(net, st, isl, opt.energised)
    g_live = st.gen_on & live[net.gen_bus]
    l_live = st.load_on & live[net.load_bus]
    br_live = st.branch_on & live[net.f] & live[net.t]

    # ---- fixed injections: loads and units without voltage control
    scale = st.load_scale if st.load_scale is not None else 1.0
    load_s = np.zeros(n, dtype=complex)
    np.add.at(
        load_s,
        net.load_bus,
        (net.load_p_mw + 1j * net.load_q_mvar) * scale * l_live,
    )
    q_set = net.gen_q_mvar
    if opt.q_limits:
        q_set = np.clip(q_set, net.gen_qmin_mvar, net.gen_qmax_mvar)
    fixed_q = np.full(ng, np.nan)
    pq_units = g_live & ~net.gen_pv & ~slack
    fixed_q[pq_units] = q_set[pq_units]
    gen_p = np.where(g_live, net.gen_p_mw, 0.0)

    ref, ref_unit = _first_per_bus(np.flatnonzero(slack), net.gen_bus)
    ref_mask = np.zeros(n, dtype=bool)
    ref_mask[ref] = True
    return _Energised(
        island=isl.label,
        live=live,
        slack=slack,
        g_live=g_live,
        br_live=br_live,
        load_s=load_s,
        fixed_q=fixed_q,
        gen_p=gen_p,
        ref=ref,
        ref_unit=ref_unit,
        ref_mask=ref_mask,
        ref_va=net.gen_va_rad[ref_unit],
    )


def _live_islands(
    net: Network, st: State, isl: Islands, energised: Energised
) -> tuple[np.ndarray, np.ndarray]:
    """Energised islands and their slack units.

    An island is solved when it holds an in-service slack unit; with
    ``energised="balanced"`` an island without one but with a voltage-controlling unit
    gets its largest such unit (by ``p_max``, the first on ties) as its slack.

    Returns
    -------
    slack : (n_gen,) bool, the slack units.
    live : (n_bus,) bool, the buses of the solved islands.
    """
    gen_on = st.gen_on
    slack = gen_on & net.gen_slack
    on_bus = isl.label >= 0
    has_slack = np.zeros(isl.count, dtype=bool)
    has_slack[isl.label[net.gen_bus[slack]]] = True
    if energised == "balanced":
        cand = np.flatnonzero(gen_on & net.gen_pv & ~has_slack[isl.label[net.gen_bus]])
        if len(cand):
            lab = isl.label[net.gen_bus[cand]]
            # largest p_max per island, first index on ties: sort by (island, -pmax, index)
            order = np.lexsort((cand, -net.gen_pmax_mw[cand], lab))
            _, first = np.unique(lab[order], return_index=True)
            slack = slack.copy()
            slack[cand[order[first]]] = True
            has_slack[lab[order[first]]] = True
    live = np.zeros(net.n_bus, dtype=bool)
    live[on_bus] = has_slack[isl.label[on_bus]]
    return slack, live
