"""The flow-form LP of :mod:`warmgrid.power.dispatch` (maximum load delivery): its
column layout and matrix, the bounds of one damage state, and the starting bases (a
merit-order crash and the undamaged optimum adapted to the state). The formulation and
why it is solved this way are in that module's docstring and in ``docs/model.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from warmgrid.power.network import Network, State
from warmgrid.power.topology import Islands
from warmgrid.solve.highs import BasisStatus, LinearProgram

if TYPE_CHECKING:
    from warmgrid.power.dispatch import MLDModel

_BASIC, _LOWER, _UPPER, _ZERO = (
    int(BasisStatus.BASIC),
    int(BasisStatus.LOWER),
    int(BasisStatus.UPPER),
    int(BasisStatus.ZERO),
)


def _crash_gens(
    isl: np.ndarray, pmax: np.ndarray, prio: np.ndarray, need: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A merit-order start: which units sit at p_max and which one per island is basic.

    Within each island the units are taken in decreasing ``prio`` (set-point loading) and
    put at ``p_max`` while the island still needs power; the marginal unit (or an
    unlimited one, or the last one when capacity is short) is basic.

    Parameters
    ----------
    isl : (n,) island index of each unit (0..k-1, every island has a unit).
    pmax : (n,) capacity, MW (inf allowed).
    prio : (n,) ordering key, larger first.
    need : (k,) demand to cover per island, MW.

    Returns
    -------
    at_upper : (n,) bool.
    basic : (k,) unit index basic in each island.
    """
    n, k = len(isl), len(need)
    finite = np.isfinite(pmax)
    order = np.lexsort((-prio, isl))
    pm = np.where(finite, pmax, 0.0)[order]
    cs = np.cumsum(pm)
    excl = cs - pm
    gi = isl[order]
    _, first = np.unique(gi, return_index=True)
    before = excl - excl[first][gi]  # capacity of the units ahead in the same island
    upto = before + pm
    d = need[gi]
    at_upper = np.zeros(n, dtype=bool)
    at_upper[order] = finite[order] & (upto <= d)
    basic = np.full(k, -1, dtype=np.int64)
    basic[gi] = order  # last in order per island (capacity short)
    marg = finite[order] & (before < d) & (upto > d)
    basic[gi[marg]] = order[marg]
    inf_units = order[~finite[order]]
    basic[isl[inf_units[::-1]]] = inf_units[::-1]  # the first unlimited unit wins
    at_upper[basic] = False
    return at_upper, basic


# ---------------------------------------------------------------------------- the state


class _Graph:
    """Both directions of every branch, sorted by the first bus (a CSR pattern), so that
    the in-service subgraph of a state is a mask away."""

    def __init__(self, net: Network) -> None:
        ends = np.concatenate([net.f, net.t])
        order = np.argsort(ends, kind="stable")
        self.order = order
        self.head = ends[order]
        self.tail = np.concatenate([net.t, net.f])[order].astype(np.int32)


def _components(n: int, g: _Graph, on: np.ndarray) -> np.ndarray:
    """(n,) connected-component label of every bus over the branches ``on``, numbered in
    order of each component's lowest bus (as ``scipy.sparse.csgraph.connected_components``)."""
    keep = np.concatenate([on, on])[g.order]
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(g.head[keep], minlength=n), out=indptr[1:])
    tail = g.tail[keep]
    if _undirected is not None:  # SciPy's own kernel, without the COO/CSR round trips
        lab = np.full(n, -1, dtype=np.int32)
        _undirected(tail, indptr, tail, indptr, lab)
        return lab
    adj = sp.csr_matrix((np.ones(len(tail)), tail, indptr), shape=(n, n))  # pragma: no cover
    return connected_components(adj, directed=False)[1]  # pragma: no cover


try:  # private to SciPy (1.11 to 1.17 at least); the public function is the fallback
    from scipy.sparse.csgraph._traversal import (
        _connected_components_undirected as _undirected,
    )
except ImportError:  # pragma: no cover
    _undirected = None


def _islands(net: Network, st: State, g: _Graph) -> Islands:
    """:func:`warmgrid.power.topology.islands` of an effective state, the same labels,
    in a tenth of its time on small grids (no sparse-matrix conversions)."""
    n = net.n_bus
    lab = _components(n, g, st.branch_on)
    present = np.zeros(n, dtype=bool)
    present[lab[st.bus_on]] = True
    rank = np.cumsum(present) - 1  # component -> island number over in-service buses
    label = np.where(st.bus_on, rank[lab], -1).astype(np.int64)
    count = int(present.sum())
    has_slack = np.zeros(count, dtype=bool)
    has_gen = np.zeros(count, dtype=bool)
    g_on = st.gen_on
    gl = label[net.gen_bus[g_on]]
    has_slack[gl[net.gen_slack[g_on]]] = True
    has_gen[gl[net.gen_pmax_mw[g_on] > 0]] = True
    return Islands(label=label, count=count, has_slack=has_slack, has_gen=has_gen)


@dataclass(frozen=True, eq=False)
class _State:
    """One damage state in the LP's terms: what is in it, and the bounds that say so."""

    isl: Islands
    live: np.ndarray  # (n_bus,) energised
    e_isl: np.ndarray  # (n_bus,) energised-island index, -1 when dark
    ref: np.ndarray  # (k,) one reference bus per energised island
    on: np.ndarray  # (n_branch,) branch in the LP
    gen: np.ndarray  # (n_gen,) unit in the LP
    load: np.ndarray  # (n_load,) load with a column in the LP (P > 0)
    fixed: np.ndarray  # (n_load,) negative load: fixed injection
    demand: np.ndarray  # (n_load,) P, MW (scaled)
    g_bus: np.ndarray  # (n_bus,) shunt conductance of energised buses, MW
    inj_bus: np.ndarray  # (n_bus,) fixed injection of negative loads (<= 0), MW
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray


def _state(model: MLDModel, net: Network, state: State) -> _State:
    """The masks, islands and LP bounds of ``state``."""
    st = state.effective(net)
    isl = _islands(net, st, model.graph)
    dark = isl.dark(need_slack=False)
    live = ~dark
    nb = net.n_bus
    ebus = np.flatnonzero(live)
    e_isl = np.full(nb, -1, dtype=np.int64)
    e_isl[ebus] = np.unique(isl.label[ebus], return_inverse=True)[1]
    _, first = np.unique(e_isl[ebus], return_index=True)
    ref = ebus[first]
    on = st.branch_on & live[net.f]
    gen = st.gen_on & live[net.gen_bus]
    scale = state.load_scale if state.load_scale is not None else 1.0
    demand = net.load_p_mw * scale
    on_load = st.load_on & live[net.load_bus]
    load, fixed = on_load & (demand > 0), on_load & (demand <= 0)
    g_bus = np.where(live, model.g_bus, 0.0)
    inj_bus = np.bincount(net.load_bus[fixed], weights=demand[fixed], minlength=nb).astype(float)
    lay = model.layout
    inf = np.inf
    lo, up = np.zeros(lay.n), np.zeros(lay.n)
    lo[:nb], up[:nb] = np.where(live, -inf, 0.0), np.where(live, inf, 0.0)
    lo[ref] = up[ref] = 0.0
    f_lo, f_up = _flow_bounds(net)
    lo[lay.f0 : lay.p0], up[lay.f0 : lay.p0] = np.where(on, f_lo, 0.0), np.where(on, f_up, 0.0)
    up[lay.p0 : lay.y0] = np.where(gen, np.maximum(net.gen_pmax_mw, 0.0), 0.0)
    # a committed unit's output is its minimum part q (its own column) plus the rest
    pmin_c = net.gen_pmin_mw[model.commit]
    up[lay.p0 + model.commit] = np.where(
        gen[model.commit], net.gen_pmax_mw[model.commit] - pmin_c, 0.0
    )
    if len(model.dc):  # an HVDC link holds its set point at both ends, or is down at both
        link = gen[model.dc] & gen[model.dc_partner]
        lo[lay.p0 + model.dc] = up[lay.p0 + model.dc] = np.where(link, net.gen_p_mw[model.dc], 0.0)
    up[lay.y0 : lay.z0] = np.where(load, demand, 0.0)
    up[lay.z0 : lay.c0] = g_bus[model.sb]
    up[lay.c0 :] = np.where(gen[model.commit], pmin_c, 0.0)
    rhs = np.where(g_bus > 0, 0.0, g_bus) + inj_bus  # a negative conductance injects: fixed
    ohm = -net.base_mva * net.b_pu * net.shift_rad
    row_lo = np.concatenate([np.where(live, rhs, -inf), np.where(on, ohm, -inf)])
    row_up = np.concatenate([np.where(live, rhs, inf), np.where(on, ohm, inf)])
    return _State(
        isl, live, e_isl, ref, on, gen, load, fixed, demand, g_bus, inj_bus, lo, up, row_lo, row_up
    )


def _dc_pairs(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """The units that are ends of HVDC links (kind ``dcline``, ``<link>:from`` and
    ``<link>:to``) and, for each, the unit at its other end."""
    dc = np.flatnonzero(net.gen_kind == "dcline")
    ids = net.gen_ids[dc].tolist()
    pos = {x: i for i, x in zip(dc.tolist(), ids, strict=True)}
    other = {"from": "to", "to": "from"}
    partner = []
    for x in ids:
        link, _, end = x.rpartition(":")
        partner.append(pos.get(f"{link}:{other.get(end, end)}", pos[x]))
    return dc, np.asarray(partner, dtype=np.int64)


def _flow_bounds(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """(n_branch,) bounds of each branch's flow, MW: its rating, and its angle-difference
    limits where it has them (``ang_min_rad ≤ θ_f − θ_t ≤ ang_max_rad``; with
    ``f = base·b·(θ_f − θ_t − shift)`` a limit on the angles is one on the flow, so it
    needs no row: PowerModels' ``constraint_voltage_angle_difference``)."""
    lo, up = -net.rate_mw, net.rate_mw.copy()
    if net.ang_min_rad is None or net.ang_max_rad is None:
        return lo, up
    k = net.base_mva * net.b_pu
    with np.errstate(invalid="ignore"):
        a = np.where(
            np.isnan(net.ang_min_rad), -np.inf * np.sign(k), k * (net.ang_min_rad - net.shift_rad)
        )
        c = np.where(
            np.isnan(net.ang_max_rad), np.inf * np.sign(k), k * (net.ang_max_rad - net.shift_rad)
        )
    return np.maximum(lo, np.minimum(a, c)), np.minimum(up, np.maximum(a, c))


# ---------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class _Layout:
    """Column blocks of the flow-form LP: angles, flows, units, loads, shunts and the
    commitment of the units with a minimum (``nc``). Rows: n_bus balance rows, n_branch
    Ohm rows, then per committed unit ``p − p_min·u ≥ 0`` and ``p − p_max·u ≤ 0``."""

    nb: int
    m: int
    ng: int
    nl: int
    ns: int
    nc: int = 0

    @property
    def f0(self) -> int:
        return self.nb

    @property
    def p0(self) -> int:
        return self.nb + self.m

    @property
    def y0(self) -> int:
        return self.p0 + self.ng

    @property
    def z0(self) -> int:
        return self.y0 + self.nl

    @property
    def c0(self) -> int:
        return self.z0 + self.ns

    @property
    def n(self) -> int:
        return self.c0 + self.nc

    @property
    def rows(self) -> int:
        return self.nb + self.m


def _build_lp(
    net: Network, lay: _Layout, w: np.ndarray, sb: np.ndarray, commit: np.ndarray
) -> LinearProgram:
    """The flow-form LP of a network, every element in; the states only change bounds."""
    nb, m, nc = lay.nb, lay.m, lay.nc
    k, b = np.arange(m), net.b_pu
    ohm = nb + k
    rows = np.concatenate(
        [net.f, net.t, ohm, ohm, ohm, net.gen_bus, net.load_bus, sb, net.gen_bus[commit]],
    )
    cols = np.concatenate(
        [
            lay.f0 + k,
            lay.f0 + k,
            lay.f0 + k,
            net.f,
            net.t,
            lay.p0 + np.arange(lay.ng),
            lay.y0 + np.arange(lay.nl),
            lay.z0 + np.arange(lay.ns),
            lay.c0 + np.arange(nc),
        ]
    )
    vals = np.concatenate(
        [
            -np.ones(m),
            np.ones(m),
            np.ones(m),
            -b,
            b,
            np.ones(lay.ng),
            -np.ones(lay.nl),
            -np.ones(lay.ns),
            np.ones(nc),
        ]
    )
    a = sp.csc_matrix((vals, (rows, cols)), shape=(lay.rows, lay.n))
    a.sum_duplicates()  # a branch from a bus to itself: its angle terms cancel
    a.eliminate_zeros()
    c = np.concatenate([np.zeros(lay.y0), w, np.zeros(lay.ns + nc)])
    zc, zr = np.zeros(lay.n), np.zeros(lay.rows)
    return LinearProgram(c=c, a=a, row_lower=zr, row_upper=zr, lower=zc, upper=zc, maximize=True)


# ---------------------------------------------------------------------------- bases


def _crash_basis(model: MLDModel, net: Network, s: _State) -> tuple[np.ndarray, np.ndarray]:
    """A merit-order start: angles and flows basic, loads served, units by merit order with
    one basic per island, the rows of dark buses and branches out basic."""
    lay = model.layout
    nb = lay.nb
    cols = np.full(lay.n, _LOWER, dtype=np.int8)
    cols[:nb] = np.where(s.live, _BASIC, _LOWER)
    cols[s.ref] = _LOWER
    cols[lay.f0 : lay.p0] = np.where(s.on, _BASIC, _LOWER)
    cols[lay.y0 : lay.z0] = np.where(s.load, _UPPER, _LOWER)
    cols[lay.z0 : lay.c0] = np.where(s.g_bus[model.sb] > 0, _UPPER, _LOWER)
    cols[lay.c0 :] = np.where(s.gen[model.commit], _UPPER, _LOWER)  # at their minimum
    rows = np.concatenate(
        [np.where(s.live, _LOWER, _BASIC), np.where(s.on, _LOWER, _BASIC)]
    ).astype(np.int8)
    gen = np.flatnonzero(s.gen & ~model.is_dc)  # (HVDC ends are fixed: nonbasic)
    if len(gen):
        k = len(s.ref)
        need = np.bincount(
            s.e_isl[net.load_bus[s.load]], weights=s.demand[s.load], minlength=k
        ).astype(float)  # (np.bincount returns int64 for empty input)
        live = np.flatnonzero(s.live)
        need += np.bincount(s.e_isl[live], weights=(s.g_bus + s.inj_bus)[live], minlength=k)
        # committed units start at their minimum; the merit order covers the rest
        pmin = np.zeros(len(net.gen_ids))
        pmin[model.commit] = model.pmin_c
        isl = s.e_isl[net.gen_bus[gen]]
        need -= np.bincount(isl, weights=pmin[gen], minlength=k)
        pmax = net.gen_pmax_mw[gen]
        with np.errstate(divide="ignore", invalid="ignore"):
            prio = np.where(pmax > 0, net.gen_p_mw[gen] / pmax, 0.0)
        at_upper, basic = _crash_gens(isl, pmax - pmin[gen], np.nan_to_num(prio), need)
        gs = np.where(at_upper, _UPPER, _LOWER).astype(np.int8)
        gs[basic] = _BASIC
        cols[lay.p0 + gen] = gs
    return cols, rows


def _nonbasic(status: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Statuses with every nonbasic entry at a bound it has (upper kept where finite)."""
    at = np.where(np.isfinite(lower), _LOWER, np.where(np.isfinite(upper), _UPPER, _ZERO)).astype(
        np.int8
    )
    at = np.where((status == _UPPER) & np.isfinite(upper), _UPPER, at).astype(np.int8)
    return np.where(status == _BASIC, _BASIC, at).astype(np.int8)


def _warm_basis(model: MLDModel, net: Network, s: _State) -> tuple[np.ndarray, np.ndarray, bool]:
    """The undamaged optimum's basis adapted to ``s``, and whether HiGHS must complete it.

    A branch out of the LP swaps its flow out of the basis for its (now free) Ohm row, a
    dark bus its angle for its balance row; a branch or bus back in does the reverse.
    Every energised island gets its reference angle out of the basis and, when none of
    its units, loads or shunts is basic (a split island), its largest unit in, so that its
    balance has a basic injection. When the count of basic entries does not add up (a
    flow at its limit in the undamaged optimum goes out, a split island), HiGHS completes
    the basis (an alien basis).
    """
    assert model._start is not None
    lay = model.layout
    nb = lay.nb
    cols, rows = model._start[0].copy(), model._start[1].copy()
    ohm_rows = rows[nb : nb + lay.m]
    for x, r, inside in ((cols[lay.f0 : lay.p0], ohm_rows, s.on), (cols[:nb], rows[:nb], s.live)):
        out = ~inside
        x[out] = _LOWER  # (views into cols and rows)
        r[out] = _BASIC
        back = inside & (r == _BASIC) & (x != _BASIC)
        x[back] = _BASIC
        r[back] = _LOWER
    cols[s.ref] = _LOWER
    # an island without a basic injection (a unit, load or shunt) has a singular basis:
    # its largest unit enters
    k = len(s.ref)
    inj = np.zeros(k, dtype=np.int64)
    for c0, c1, bus, inside in (
        (lay.p0, lay.y0, net.gen_bus, s.gen),
        (lay.y0, lay.z0, net.load_bus, s.load),
        (lay.z0, lay.c0, model.sb, s.g_bus[model.sb] > 0),
        (lay.c0, lay.n, net.gen_bus[model.commit], s.gen[model.commit]),
    ):
        j = np.flatnonzero(inside & (cols[c0:c1] == _BASIC))
        np.add.at(inj, s.e_isl[bus[j]], 1)
    short = np.flatnonzero(inj == 0)
    if len(short):
        gen = np.flatnonzero(s.gen)
        gi = s.e_isl[net.gen_bus[gen]]
        gen, gi = gen[np.isin(gi, short)], gi[np.isin(gi, short)]
        pmax = np.nan_to_num(net.gen_pmax_mw[gen], posinf=np.finfo(float).max)
        first = np.lexsort((gen, -pmax, gi))
        _, pick = np.unique(gi[first], return_index=True)
        cols[lay.p0 + gen[first[pick]]] = _BASIC
    excess = int((cols == _BASIC).sum() + (rows == _BASIC).sum()) - lay.rows
    cols = _nonbasic(cols, s.col_lower, s.col_upper)
    rows = _nonbasic(rows, s.row_lower, s.row_upper)
    return cols, rows, excess != 0
