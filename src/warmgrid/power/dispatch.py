"""Maximum load delivery (MLD): the best operator response to a damaged grid (DC).

The linear programme is DESIGN.md's reference formulation, the DC version of the MLD
problem of PowerModelsRestoration.jl (Coffrin, Bent, Tasseff, Sundar, Backhaus,
"Relaxations of AC Maximal Load Delivery for Severe Contingency Analysis",
IEEE Trans. Power Syst. 34(2), 2019)::

    maximise    Σ_l w_l · P_l · x_l
    subject to  Σ_{g at i} p_g − Σ_{l at i} P_l x_l − G_i = Σ_{k from i} f_k − Σ_{k to i} f_k
                f_k = base · b_k · (θ_f − θ_t − shift_k)          (MATPOWER makeBdc)
                |f_k| ≤ rate_k                                     (rate inf: no limit)
                0 ≤ x_l ≤ 1,   0 ≤ p_g ≤ p_max_g                   (p_min relaxed)
                θ_ref(island) = 0                                  (one per island)

Modelling choices
-----------------
* An island is energised when it holds an in-service unit with ``p_max > 0``; the
  buses of the other islands are dark and their units and loads give and take nothing.
* ``p_min`` is relaxed to 0: a unit may be switched off. Static generators (pandapower
  ``sgen``, kind ``"static"``) are treated like any unit, so they can be curtailed to 0.
  A ``p_max`` of inf (an external grid) is an unbounded supply.
* Shunt conductance ``G_i`` (``shunt_g_mw``) is a load at an energised bus, as in the
  DC power flow, served before any load: its weight is ten times the highest load
  weight, so it goes unserved only where the branch ratings or the units cannot feed it
  at all (case145 has 70 GW of it). What goes unserved is reported as
  ``shunt_shed_mw``, apart from the shed load (it is not demand and has no people).
* A load's ``P_l`` is its demand times ``state.load_scale`` when given.
* A load with ``P_l <= 0`` (a negative load: embedded generation or an exchange, common
  in the PEGASE and RTE cases) is a fixed injection at an energised bus, like the shunt
  conductance with the opposite sign: never shed, never counted as served or as demand.
  ``served_mw <= demand_mw`` and ``shed_mw >= 0`` always hold.

How it is solved fast
---------------------
The angles are eliminated nowhere; the balance rows use the sparse susceptance matrix
built directly with scipy and handed to HiGHS in CSC form (:mod:`warmgrid.solve.highs`).
Branch limits are generated lazily: the LP is solved without them, the violated limits
are added as rows and HiGHS re-solves from the previous basis (dual simplex warm start),
until no flow exceeds its rating. The final LP is a relaxation of the full one whose
optimum is feasible for it, hence optimal for the full LP as well. Islands need no
special treatment: the constraint matrix is block diagonal by island, and each island
gets its own reference angle.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from warmgrid.errors import InfeasibleError, InputError
from warmgrid.power.network import Network, State
from warmgrid.power.topology import Islands, islands
from warmgrid.solve.highs import BasisStatus, HighsModel, LinearProgram, SolveStatus

__all__ = ["HIGHS_DEFAULTS", "MLDResult", "max_load_delivery", "typical_binding"]


@dataclass(frozen=True)
class MLDResult:
    """The outcome of a maximum-load-delivery solve.

    Attributes
    ----------
    served_fraction : (n_load,) float in [0, 1]; 0 for loads out of service or dark; 1
        for a negative load on an energised bus (a fixed injection).
    load_served_mw : (n_load,) MW served per load (0 for negative loads).
    gen_p_mw : (n_gen,) dispatch per unit, MW; 0 for units out or dark.
    flow_mw : (n_branch,) DC flow at the from end, MW; NaN for branches out or dark.
    theta_rad : (n_bus,) voltage angle; NaN at dark buses.
    served_mw : total served load, MW.
    weighted_served_mw : the objective Σ w·P·x (equals ``served_mw`` for equal weights).
    demand_mw : positive demand of the base state's loads (before damage), MW.
    shed_mw : ``demand_mw − served_mw``, >= 0.
    shunt_mw : shunt-conductance load served on energised buses, MW.
    shunt_shed_mw : shunt-conductance load that could not be fed, MW.
    injection_mw : fixed injection of negative loads on energised buses, MW (>= 0).
    islands : the island labels of the damaged state.
    dark_bus : (n_bus,) bool, bus out of service or in an island without generation.
    binding : (k,) int, branches whose limit rows entered the LP (lazy generation).
    rounds : LP solves done (1 + rounds of added limits).
    seconds : wall time, build plus solve.
    """

    served_fraction: np.ndarray
    load_served_mw: np.ndarray
    gen_p_mw: np.ndarray
    flow_mw: np.ndarray
    theta_rad: np.ndarray
    served_mw: float
    weighted_served_mw: float
    demand_mw: float
    shed_mw: float
    shunt_mw: float
    islands: Islands
    dark_bus: np.ndarray
    binding: np.ndarray
    rounds: int
    seconds: float
    injection_mw: float = 0.0
    shunt_shed_mw: float = 0.0

    @property
    def energised_islands(self) -> int:
        return int(self.islands.has_gen.sum())


def _demand(net: Network, state: State) -> np.ndarray:
    """(n_load,) MW demand of every load (scaled), regardless of service."""
    scale = state.load_scale if state.load_scale is not None else 1.0
    return net.load_p_mw * scale


#: HiGHS defaults for this LP. Devex pricing: exact dual steepest-edge weights cost one
#: BTRAN per row at every warm restart, which dominated the lazy re-solves (~0.7 s each
#: on case9241pegase); Devex needs none.
HIGHS_DEFAULTS: dict[str, object] = {"solver": "simplex", "simplex_dual_edge_weight_strategy": 1}


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


def max_load_delivery(
    net: Network,
    state: State | None = None,
    *,
    weights: np.ndarray | None = None,
    monitor: np.ndarray | None = None,
    lazy: bool = True,
    max_rounds: int = 100,
    tol_mw: float = 1e-6,
    **highs_options: object,
) -> MLDResult:
    """Serve as much (weighted) load as the damaged grid allows, DC model.

    Parameters
    ----------
    net : compiled network.
    state : masks after damage; the base state when omitted.
    weights : (n_load,) non-negative priority weight per load; equal weights when None.
    monitor : (k,) branch indices whose limits enter the LP from the start (a guess of
        the binding set, e.g. :func:`typical_binding`); the others are added when violated.
    lazy : add branch limits only when violated (True) or all upfront (False).
    max_rounds : cap on lazy rounds (each adds at least one limit, so it always ends).
    tol_mw : flow tolerance above a rating before a limit row is added, MW.
    highs_options : HiGHS options, over :data:`HIGHS_DEFAULTS` (``time_limit=...``).

    Returns
    -------
    MLDResult

    Raises
    ------
    InputError : weights of the wrong shape or negative.
    InfeasibleError : an island cannot absorb the fixed injection of its negative loads.
    """
    t0 = time.perf_counter()
    state = state or net.base_state
    st = state.effective(net)
    n_load = len(net.load_ids)
    if weights is None:
        w = np.ones(n_load)
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (n_load,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise InputError(
                f"weights must be {n_load} finite values >= 0, got shape {w.shape}", field="weights"
            )
    isl = islands(net, st)
    dark = isl.dark(need_slack=False)
    live = ~dark
    base = net.base_mva

    # ---- columns: scaled angles φ = base·θ (energised buses), unit outputs, load fractions
    bus_col = np.full(net.n_bus, -1, dtype=np.int64)
    ebus = np.flatnonzero(live)
    nb = len(ebus)
    bus_col[ebus] = np.arange(nb)
    gen = np.flatnonzero(st.gen_on & live[net.gen_bus])
    ng = len(gen)
    demand = _demand(net, state)
    on_load = st.load_on & live[net.load_bus]
    load = np.flatnonzero(on_load & (demand > 0))
    fixed = np.flatnonzero(on_load & (demand <= 0))  # negative loads: fixed injections
    nl = len(load)
    shunt_on = live[net.shunt_bus]
    g_bus = np.bincount(
        bus_col[net.shunt_bus[shunt_on]], weights=net.shunt_g_mw[shunt_on], minlength=nb
    ).astype(float)
    sb = np.flatnonzero(g_bus > 0)  # buses whose shunt conductance is a (sheddable) load
    ns = len(sb)
    n = nb + ng + nl + ns
    p_load = demand[load]
    br = np.flatnonzero(st.branch_on & live[net.f])
    m = len(br)
    bk = net.b_pu[br]
    fc, tc = bus_col[net.f[br]], bus_col[net.t[br]]
    pfinj = -bk * net.shift_rad[br]  # p.u.
    rate = net.rate_mw[br]

    # ---- balance rows (one per energised bus), MW:  p − P x − Bbus φ = G + base·Aᵀ Pfinj
    rows = np.concatenate(
        [fc, tc, fc, tc, bus_col[net.gen_bus[gen]], bus_col[net.load_bus[load]], sb]
    )
    cols = np.concatenate(
        [fc, tc, tc, fc, nb + np.arange(ng), nb + ng + np.arange(nl), nb + ng + nl + np.arange(ns)]
    )
    vals = np.concatenate([-bk, -bk, bk, bk, np.ones(ng), -p_load, -g_bus[sb]])
    a_bal = sp.csr_matrix((vals, (rows, cols)), shape=(nb, n))
    g_fixed = np.where(g_bus > 0, 0.0, g_bus)  # a negative conductance injects: fixed
    inj_bus = np.bincount(bus_col[net.load_bus[fixed]], weights=demand[fixed], minlength=nb).astype(
        float
    )  # <= 0: a negative load takes negative power
    ainj = np.bincount(fc, weights=pfinj, minlength=nb) - np.bincount(
        tc, weights=pfinj, minlength=nb
    )
    rhs = g_fixed + inj_bus + base * ainj

    # ---- branch-limit rows:  −rate − base·Pfinj ≤ b (φf − φt) ≤ rate − base·Pfinj
    def limit_rows(k: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        kk = len(k)
        r = np.repeat(np.arange(kk), 2)
        cc = np.column_stack([fc[k], tc[k]]).ravel()
        vv = np.column_stack([bk[k], -bk[k]]).ravel()
        mat = sp.csr_matrix((vv, (r, cc)), shape=(kk, n))
        off = base * pfinj[k]
        return mat, -rate[k] - off, rate[k] - off

    limited = np.isfinite(rate)
    added = np.zeros(m, dtype=bool)
    if not lazy:
        added |= limited
    if monitor is not None:
        pos = np.full(net.n_branch, -1, dtype=np.int64)
        pos[br] = np.arange(m)
        mon = pos[np.asarray(monitor, dtype=np.int64)]
        added[mon[mon >= 0]] = True
        added &= limited
    first_rows = np.flatnonzero(added)
    a_lim, lo_lim, up_lim = limit_rows(first_rows)

    lower = np.concatenate([np.full(nb, -np.inf), np.zeros(ng + nl + ns)])
    upper = np.concatenate(
        [np.full(nb, np.inf), np.maximum(net.gen_pmax_mw[gen], 0.0), np.ones(nl + ns)]
    )
    # one reference angle per energised island: its first bus
    e_isl = np.unique(isl.label[ebus], return_inverse=True)[1]
    _, first = np.unique(e_isl, return_index=True)
    lower[first] = 0.0
    upper[first] = 0.0
    w_shunt = 10.0 * max(float(w[load].max()) if nl else 1.0, 1.0)
    c = np.concatenate([np.zeros(nb + ng), w[load] * p_load, w_shunt * g_bus[sb]])
    lp = LinearProgram(
        c=c,
        a=sp.vstack([a_bal, a_lim], format="csc"),
        row_lower=np.concatenate([rhs, lo_lim]),
        row_upper=np.concatenate([rhs, up_lim]),
        lower=lower,
        upper=upper,
        maximize=True,
    )
    model = HighsModel(lp, **{**HIGHS_DEFAULTS, **highs_options})

    # ---- crash basis: angles basic, loads served, merit-order units, one basic unit per island
    g_isl = e_isl[bus_col[net.gen_bus[gen]]]
    # (np.bincount returns int64 for empty input, hence the casts)
    need = np.bincount(
        e_isl[bus_col[net.load_bus[load]]], weights=p_load, minlength=len(first)
    ).astype(float)
    need += np.bincount(e_isl, weights=g_bus + inj_bus, minlength=len(first)).astype(float)
    pmax = net.gen_pmax_mw[gen]
    with np.errstate(divide="ignore", invalid="ignore"):
        prio = np.where(pmax > 0, net.gen_p_mw[gen] / pmax, 0.0)
    at_upper, basic = _crash_gens(g_isl, pmax, np.nan_to_num(prio), need)
    col_status = np.full(n, BasisStatus.BASIC, dtype=np.int8)
    col_status[first] = BasisStatus.LOWER
    gs = np.where(at_upper, BasisStatus.UPPER, BasisStatus.LOWER).astype(np.int8)
    gs[basic] = BasisStatus.BASIC
    col_status[nb : nb + ng] = gs
    col_status[nb + ng :] = BasisStatus.UPPER
    row_status = np.concatenate(
        [
            np.full(nb, BasisStatus.LOWER, dtype=np.int8),
            np.full(len(first_rows), BasisStatus.BASIC, dtype=np.int8),
        ]
    )
    model.set_basis(col_status, row_status)

    rounds = 0
    while True:
        res = model.solve()
        rounds += 1
        if res.status is not SolveStatus.OPTIMAL:
            raise InfeasibleError(
                f"maximum load delivery on {net.name}: HiGHS status {res.status.value}"
                " (an island cannot feed its fixed shunt load, or cannot absorb the"
                " fixed injection of its negative loads?)"
            )
        phi = res.x[:nb]
        flow = bk * (phi[fc] - phi[tc]) + base * pfinj
        cand = np.flatnonzero(limited & ~added)
        viol = cand[np.abs(flow[cand]) > rate[cand] + tol_mw]
        if len(viol) == 0:
            break
        if rounds >= max_rounds:
            raise InfeasibleError(
                f"maximum load delivery on {net.name}: branch limits still violated "
                f"after {max_rounds} rounds"
            )
        added[viol] = True
        model.add_rows(*limit_rows(viol))

    frac = np.zeros(n_load)
    x_load = np.clip(res.x[nb + ng : nb + ng + nl], 0.0, 1.0)
    frac[load] = x_load
    s_shunt = np.clip(res.x[nb + ng + nl :], 0.0, 1.0)
    frac[fixed] = 1.0
    gen_p = np.zeros(len(net.gen_ids))
    gen_p[gen] = res.x[nb : nb + ng]
    flow_all = np.full(net.n_branch, np.nan)
    flow_all[br] = flow
    theta = np.full(net.n_bus, np.nan)
    theta[ebus] = phi / base
    positive = np.maximum(demand, 0.0)
    served = frac * positive
    demand_mw = float(positive[net.base_state.load_on].sum())
    served_mw = min(float(served.sum()), demand_mw)
    return MLDResult(
        served_fraction=frac,
        load_served_mw=served,
        gen_p_mw=gen_p,
        flow_mw=flow_all,
        theta_rad=theta,
        served_mw=served_mw,
        weighted_served_mw=float(w[load] @ (p_load * x_load)),
        demand_mw=demand_mw,
        shed_mw=max(demand_mw - served_mw, 0.0),
        shunt_mw=float(g_bus[sb] @ s_shunt + g_fixed.sum()),
        islands=isl,
        dark_bus=dark,
        binding=br[added],
        rounds=rounds,
        seconds=time.perf_counter() - t0,
        injection_mw=float(-inj_bus.sum()),
        shunt_shed_mw=float(g_bus[sb] @ (1.0 - s_shunt)),
    )


_TYPICAL: weakref.WeakKeyDictionary[Network, np.ndarray] = weakref.WeakKeyDictionary()


def typical_binding(net: Network, *, tol_mw: float = 1e-4) -> np.ndarray:
    """Branches whose limits bind in the undamaged MLD (equal weights), cached per network.

    Damage rarely moves the binding set far (on case9241pegase with 20 branches out, 97%
    of the binding limits also bind undamaged), so passing this as ``monitor`` to
    :func:`max_load_delivery` saves most lazy rounds in Monte Carlo and restoration
    replays: the warm start from the undamaged solution.

    Returns
    -------
    (k,) int branch indices, sorted.
    """
    hit = _TYPICAL.get(net)
    if hit is None:
        r = max_load_delivery(net)
        with np.errstate(invalid="ignore"):
            hit = np.flatnonzero(np.abs(r.flow_mw) >= net.rate_mw - tol_mw)
        _TYPICAL[net] = hit
    return hit
