"""Maximum load delivery (MLD): the best operator response to a damaged grid (DC).

The linear programme is the DC version of the MLD problem of PowerModelsRestoration.jl
(Coffrin, Bent, Tasseff, Sundar, Backhaus, "Relaxations of AC Maximal Load Delivery for
Severe Contingency Analysis", IEEE Trans. Power Syst. 34(2), 2019)::

    maximise    Σ_l w_l · P_l · x_l  +  M · Σ_g u_g
    subject to  Σ_{g at i} p_g − Σ_{l at i} P_l x_l − G_i = Σ_{k from i} f_k − Σ_{k to i} f_k
                f_k = base · b_k · (θ_f − θ_t − shift_k)          (MATPOWER makeBdc)
                |f_k| ≤ rate_k                                     (rate inf: no limit)
                angmin_k ≤ θ_f − θ_t ≤ angmax_k                    (in-service branches)
                0 ≤ x_l ≤ 1
                p_min_g · u_g ≤ p_g ≤ p_max_g · u_g,  0 ≤ u_g ≤ 1  (units with p_min > 0)
                0 ≤ p_g ≤ p_max_g                                  (the other units)
                θ_ref(island) = 0                                  (one per island)

Modelling choices
-----------------
* An island is energised when it holds an in-service unit with ``p_max > 0``; the
  buses of the other islands are dark and their units and loads give and take nothing.
* **Unit minimums** (``unit_minimums="continuous"``, the default): a unit with
  ``p_min > 0`` has a continuous commitment ``u`` in [0, 1], and each unit of ``u`` is
  rewarded by ``M``, ten times the largest weighted load of the state: PowerModels-
  Restoration's ``mld`` (``objective_max_loadability``, ``z_gen``). A unit runs at or
  above its minimum whenever the island can absorb it, and ramps down through ``u`` only
  when it cannot (a small island). With ``"relaxed"``, ``p_min`` is 0: a unit may be
  switched off. Static generators (pandapower ``sgen``, kind ``"static"``) are treated
  like any unit. A ``p_max`` of inf (an external grid) is an unbounded supply; its
  minimum is not honoured.
* **HVDC links** (units of kind ``dcline``, ``<link>:from`` and ``<link>:to``, fixed at
  their set points, negative at the sending end) hold both set points while both ends
  are energised, and carry nothing when either end is out or dark.
* **Angle-difference limits** (``ang_min_rad``, ``ang_max_rad``; MATPOWER's ANGMIN and
  ANGMAX, where 0 or ±360° mean none) hold on in-service branches. Since
  ``f = base·b·(θ_f − θ_t − shift)``, each is a bound on the branch's flow column and
  needs no row (``_mld_lp._flow_bounds``).
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
The LP is solved in flow form, with the flows as columns and one Ohm row per branch::

    columns  φ_i = base·θ_i (every bus), f_k (every branch), p_g (every unit),
             y_l = P_l x_l in MW (every load), z_i = served shunt conductance in MW,
             q_g = p_min_g·u_g, the minimum part of a committed unit's output (its
             p_g column is then the rest, in [0, p_max − p_min])
    rows     p + q − y − z − Σ_out f + Σ_in f = F_i   (balance per bus; F: fixed injections)
             f_k − b_k (φ_f − φ_t) = −base·b_k·shift_k (Ohm per branch)

The unit minimums need no rows: for a given output P, the best commitment is
``u = min(1, P/p_min)`` (u is rewarded, and ``p_min·u ≤ P ≤ p_max·u`` allows it), so the
reward ``M·u`` is ``(M/p_min)·min(P, p_min)``, which the LP gets by splitting P into a
minimum part q in [0, p_min] earning ``M/p_min`` per MW and the rest earning nothing:
the same optimum as PowerModelsRestoration's rows (the reference LP in the tests has the
rows), and a merit-order start with every unit at its minimum is often optimal already
(0 iterations on ACTIVSg70k's 10,390 units; 2,800 from the relaxed optimum).

so that **a damage state changes only bounds**, never the matrix: the LP of a network
(and of one set of weights) is built once (:class:`MLDModel`, cached per network) and each
state overwrites the column and row bounds. A branch out of service (or in a dark island)
has its flow fixed at 0 and its Ohm row freed; a dark bus has its angle fixed at 0 and its
balance row freed; units, loads and shunts out of service or dark are fixed at 0; one
angle per energised island is fixed at 0. Branch limits are the bounds of the flow
columns, which the dual simplex handles without rows: one solve per state, where the
angle formulation added violated limits as rows over several rounds (on case2869pegase
with 10 branches out, from the same warm start: 57 iterations over 2 rounds against 39
in one solve).

**Warm start, the same answer whatever came before.** The undamaged network is solved
once, from a merit-order crash basis, when the model is built; that solution answers the
undamaged state, and each other state starts from its optimal basis, adapted to the
state: the flows of the branches out leave the basis for their Ohm rows, the angles
of dark buses for their balance rows. The solver's state is cleared before each solve,
so the result is a function of the network, the weights and the state alone, to the bit,
whatever was solved before in the process: a Monte Carlo gives the same samples on one
worker or many, in any order (a test checks it). Islands need no special treatment: the
constraint matrix is block diagonal by island.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from warmgrid.errors import InfeasibleError, InputError
from warmgrid.power._mld_lp import (
    _build_lp,
    _crash_basis,
    _dc_pairs,
    _Graph,
    _Layout,
    _State,
    _state,
    _warm_basis,
)
from warmgrid.power.network import Network, State
from warmgrid.power.topology import Islands
from warmgrid.solve.highs import HighsModel, SolveResult, SolveStatus

__all__ = [
    "HIGHS_DEFAULTS",
    "UNIT_MINIMUMS",
    "MLDModel",
    "MLDResult",
    "max_load_delivery",
    "typical_binding",
]


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
    binding : (k,) int, rated branches whose flow is at its limit (within ``tol_mw``).
    rounds : LP solves done (1: branch limits are bounds, never added rows).
    seconds : wall time, bounds plus solve.
    commitment : (n_gen,) commitment fraction u of each unit (1 for a unit in the LP
        whose minimum is not honoured, 0 for one out or dark).
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
    commitment: np.ndarray | None = None

    @property
    def energised_islands(self) -> int:
        return int(self.islands.has_gen.sum())


#: HiGHS defaults for this LP. Devex pricing: exact dual steepest-edge weights cost one
#: BTRAN per row at every restart, which dominated the re-solves (~0.7 s each on
#: case9241pegase); Devex needs none.
HIGHS_DEFAULTS: dict[str, object] = {"solver": "simplex", "simplex_dual_edge_weight_strategy": 1}

#: How the MLD treats unit minimums (``p_min_mw > 0``): ``continuous`` (default), each
#: such unit with a commitment u in [0, 1], ``p_min·u ≤ p ≤ p_max·u``, rewarded by ten
#: times the largest weighted load (PowerModelsRestoration's ``mld``); ``relaxed``,
#: ``0 ≤ p ≤ p_max`` (every unit may run down to nothing).
UNIT_MINIMUMS = ("continuous", "relaxed")

# ---------------------------------------------------------------------------- the model


class MLDModel:
    """The MLD LP of one network and one set of load weights, built once and solved for
    any number of damage states (see the module docstring).

    :func:`max_load_delivery` keeps one per network and weights; a model holds no
    reference to its network (pass it to :meth:`solve`). Solves are serialised by a lock.
    """

    def __init__(
        self,
        net: Network,
        weights: np.ndarray,
        unit_minimums: str = "continuous",
        **highs_options: object,
    ) -> None:
        if unit_minimums not in UNIT_MINIMUMS:
            raise InputError(
                f"unit_minimums must be one of {', '.join(UNIT_MINIMUMS)}, got {unit_minimums!r}",
                field="unit_minimums",
            )
        self.weights = np.array(weights, dtype=float)
        g_bus = np.bincount(net.shunt_bus, weights=net.shunt_g_mw, minlength=net.n_bus)
        self.g_bus = g_bus.astype(float)
        self.sb = np.flatnonzero(self.g_bus > 0)  # buses whose conductance is a sheddable load
        self.graph = _Graph(net)
        self.unit_minimums = unit_minimums
        # the units whose minimum output is honoured, each with a commitment column
        self.dc, self.dc_partner = _dc_pairs(net)
        is_dc = np.zeros(len(net.gen_ids), dtype=bool)
        is_dc[self.dc] = True
        self.is_dc = is_dc
        self.commit = (
            np.flatnonzero((net.gen_pmin_mw > 0) & np.isfinite(net.gen_pmax_mw) & ~is_dc)
            if unit_minimums == "continuous"
            else np.zeros(0, dtype=np.int64)
        )
        self.pmin_c = net.gen_pmin_mw[self.commit].astype(float)
        self.layout = _Layout(
            net.n_bus,
            net.n_branch,
            len(net.gen_ids),
            len(net.load_ids),
            len(self.sb),
            len(self.commit),
        )
        self.highs = HighsModel(
            _build_lp(net, self.layout, self.weights, self.sb, self.commit),
            **{**HIGHS_DEFAULTS, **highs_options},
        )
        self._w_shunt = 0.0
        self._w_commit = 0.0
        self._lock = threading.Lock()
        self._start: tuple[np.ndarray, np.ndarray] | None = None
        self._base_x: np.ndarray | None = None
        # the undamaged optimum: its basis starts every state, and it answers the
        # undamaged state itself (one factorisation less: seconds on 70,000 buses)
        with self._lock:
            base = _state(self, net, net.base_state)
            res = self._run(base, *_crash_basis(self, net, base), alien=False)
            if res.status.ok:
                self._start = self.highs.basis()
                self._base_x = res.x

    def _run(
        self, s: _State, cols: np.ndarray, rows: np.ndarray, alien: bool = False
    ) -> SolveResult:
        """One solve from a cleared solver and the given basis (a function of ``s`` alone)."""
        h = self.highs
        lay = self.layout
        if lay.ns:
            w_load = self.weights[s.load]
            w_shunt = 10.0 * max(float(w_load.max()) if len(w_load) else 1.0, 1.0)
            if w_shunt != self._w_shunt:
                h.set_costs(lay.z0 + np.arange(lay.ns), np.full(lay.ns, w_shunt))
                self._w_shunt = w_shunt
        if lay.nc:  # PowerModelsRestoration's M: ten times the largest weighted load
            wp = self.weights[s.load] * s.demand[s.load]
            w_commit = 10.0 * max(float(wp.max()) if len(wp) else 1.0, 1.0)
            if w_commit != self._w_commit:  # M per unit of u = q / p_min
                h.set_costs(lay.c0 + np.arange(lay.nc), w_commit / self.pmin_c)
                self._w_commit = w_commit
        h.clear_solver()
        h.set_bounds(s.col_lower, s.col_upper, s.row_lower, s.row_upper)
        if not h.set_basis(cols, rows, alien=alien) and not alien:
            h.clear_solver()
            h.set_basis(cols, rows, alien=True)
        return h.solve(row_values=False)

    def solve(self, net: Network, state: State, *, tol_mw: float = 1e-6) -> MLDResult:
        """The MLD of ``state`` (see :func:`max_load_delivery`)."""
        t0 = time.perf_counter()
        s = _state(self, net, state)
        if self._base_x is not None and _is_base(net, state):
            return _result(self, net, s, self._base_x, t0, tol_mw)
        with self._lock:
            if self._start is None:
                res = self._run(s, *_crash_basis(self, net, s), alien=False)
            else:
                res = self._run(s, *_warm_basis(self, net, s))
                if not res.status.ok:  # numerical trouble from the warm start: start over
                    res = self._run(s, *_crash_basis(self, net, s), alien=False)
        if res.status is not SolveStatus.OPTIMAL:
            raise InfeasibleError(
                f"maximum load delivery on {net.name}: HiGHS status {res.status.value}"
                " (an island cannot feed its fixed shunt load, or cannot absorb the"
                " fixed injection of its negative loads?)"
            )
        return _result(self, net, s, res.x, t0, tol_mw)


def _is_base(net: Network, state: State) -> bool:
    """Whether ``state`` has exactly the masks of the network's base state."""
    b = net.base_state
    if state is b:
        return True
    return state.load_scale is None and all(
        np.array_equal(getattr(state, f), getattr(b, f))
        for f in ("bus_on", "branch_on", "gen_on", "load_on")
    )


# ---------------------------------------------------------------------------- read back


def _result(
    model: MLDModel, net: Network, s: _State, x: np.ndarray, t0: float, tol_mw: float
) -> MLDResult:
    """The solution in the network's terms."""
    lay = model.layout
    n_load = lay.nl
    demand, load = s.demand, s.load
    y = x[lay.y0 : lay.z0]
    frac = np.zeros(n_load)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac[load] = np.clip(y[load] / demand[load], 0.0, 1.0)
    frac[s.fixed] = 1.0
    out = x[lay.p0 : lay.y0].copy()
    np.add.at(out, model.commit, x[lay.c0 :])  # a committed unit: minimum part + the rest
    gen_p = np.where(s.gen, out, 0.0)
    flow = np.where(s.on, x[lay.f0 : lay.p0], np.nan)
    theta = np.where(s.live, x[: lay.nb] / net.base_mva, np.nan)
    positive = np.maximum(demand, 0.0)
    served = frac * positive
    demand_mw = float(positive[net.base_state.load_on].sum())
    served_mw = min(float(served.sum()), demand_mw)
    shunt = np.clip(x[lay.z0 : lay.c0], 0.0, model.g_bus[model.sb])
    commitment = np.where(s.gen, 1.0, 0.0)
    commitment[model.commit] = np.where(
        s.gen[model.commit], np.clip(x[lay.c0 :] / model.pmin_c, 0.0, 1.0), 0.0
    )
    g_sb = s.g_bus[model.sb]
    g_fixed = np.where(s.g_bus > 0, 0.0, s.g_bus)
    rated = s.on & np.isfinite(net.rate_mw)
    with np.errstate(invalid="ignore"):
        binding = np.flatnonzero(rated & (np.abs(flow) >= net.rate_mw - tol_mw))
    return MLDResult(
        served_fraction=frac,
        load_served_mw=served,
        gen_p_mw=gen_p,
        flow_mw=flow,
        theta_rad=theta,
        served_mw=served_mw,
        weighted_served_mw=float(model.weights[load] @ np.clip(y[load], 0.0, demand[load])),
        demand_mw=demand_mw,
        shed_mw=max(demand_mw - served_mw, 0.0),
        shunt_mw=float(shunt.sum() + g_fixed.sum()),
        islands=s.isl,
        dark_bus=~s.live,
        binding=binding,
        rounds=1,
        seconds=time.perf_counter() - t0,
        injection_mw=float(-s.inj_bus.sum()),
        shunt_shed_mw=float(np.maximum(g_sb - shunt, 0.0).sum()),
        commitment=commitment,
    )


# ---------------------------------------------------------------------------- the entry


_MODELS: weakref.WeakKeyDictionary[Network, OrderedDict[tuple[bytes, str], MLDModel]] = (
    weakref.WeakKeyDictionary()
)
_MODELS_PER_NETWORK = 4
_MODELS_LOCK = threading.Lock()


def mld_model(
    net: Network, weights: np.ndarray, unit_minimums: str = "continuous", **highs_options: object
) -> MLDModel:
    """The cached :class:`MLDModel` of ``net`` for these weights, unit minimums and HiGHS
    options (the last few per network are kept; a network that is garbage-collected takes
    them along)."""
    w = np.ascontiguousarray(weights, dtype=float)
    key = (
        hashlib.sha256(w.tobytes()).digest(),
        repr((unit_minimums, sorted(highs_options.items()))),
    )
    with _MODELS_LOCK:
        per = _MODELS.setdefault(net, OrderedDict())
        hit = per.get(key)
        if hit is not None:
            per.move_to_end(key)
            return hit
    model = MLDModel(net, w, unit_minimums, **highs_options)
    with _MODELS_LOCK:
        per[key] = model
        while len(per) > _MODELS_PER_NETWORK:
            per.popitem(last=False)
    return model


def max_load_delivery(
    net: Network,
    state: State | None = None,
    *,
    weights: np.ndarray | None = None,
    monitor: np.ndarray | None = None,
    lazy: bool = True,
    max_rounds: int = 100,
    tol_mw: float = 1e-6,
    unit_minimums: str = "continuous",
    **highs_options: object,
) -> MLDResult:
    """Serve as much (weighted) load as the damaged grid allows, DC model.

    Parameters
    ----------
    net : compiled network.
    state : masks after damage; the base state when omitted.
    weights : (n_load,) non-negative priority weight per load; equal weights when None.
    monitor, lazy, max_rounds : accepted for compatibility with the angle formulation,
        which added violated branch limits as rows; every limit is now a bound of its
        flow column from the start (the same optimum), so they change nothing.
    tol_mw : a rated branch within this of its limit is reported in ``binding``, MW.
    unit_minimums : :data:`UNIT_MINIMUMS` (``continuous``: PowerModelsRestoration's
        commitment fraction per unit with a minimum).
    highs_options : HiGHS options, over :data:`HIGHS_DEFAULTS` (``time_limit=...``).

    Returns
    -------
    MLDResult

    Raises
    ------
    InputError : weights of the wrong shape or negative.
    InfeasibleError : an island cannot absorb the fixed injection of its negative loads.
    """
    del monitor, lazy, max_rounds
    n_load = len(net.load_ids)
    if weights is None:
        w = np.ones(n_load)
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (n_load,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise InputError(
                f"weights must be {n_load} finite values >= 0, got shape {w.shape}", field="weights"
            )
    model = mld_model(net, w, unit_minimums, **highs_options)
    return model.solve(net, state or net.base_state, tol_mw=tol_mw)


_TYPICAL: weakref.WeakKeyDictionary[Network, np.ndarray] = weakref.WeakKeyDictionary()


def typical_binding(net: Network, *, tol_mw: float = 1e-4) -> np.ndarray:
    """Branches whose limits bind in the undamaged MLD (equal weights), cached per network.

    Damage rarely moves the binding set far (on case9241pegase with 20 branches out, 97%
    of the binding limits also bind undamaged).

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
