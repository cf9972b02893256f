"""DC power flow, PTDF and LODF from one sparse factorisation per topology.

The model is MATPOWER's DC power flow (Zimmerman et al., MATPOWER manual, section 3.7;
the arrays come from :class:`~warmgrid.power.network.Network`)::

    Bbus · θ = P − Aᵀ · Pfinj,        flow = Bf · θ + Pfinj        (p.u. on base_mva)

The rows of the reference buses (angle fixed at 0) are removed and the reduced ``Bbus``
of all energised islands is factorised once with SuperLU (``scipy.sparse.linalg.splu``,
column ordering :data:`ORDERING`);
:class:`DCFactor` then answers flows, PTDF columns and rows, and LODF blocks by triangular
solves against that one factorisation. Factorisations are cached per topology, so a
caller that solves many injections on the same topology pays for one.

Sensitivities (Wood & Wollenberg, *Power Generation, Operation and Control*, 3rd ed.,
section 7.3; Guo et al., "Direct calculation of line outage distribution factors",
IEEE Trans. Power Syst. 24(3), 2009):

* PTDF column of bus j (1 MW injected at j, taken at the island's reference):
  ``ψ_j = diag(b) · A · B⁻¹ · e_j``.
* Transfer sensitivity of branch k (1 MW from f_k to t_k): ``φ_k = diag(b) · A · B⁻¹ · a_k``.
* LODF: ``LODF[l, k] = φ_k[l] / (1 − φ_k[k])`` for l ≠ k, and −1 on the diagonal;
  undefined (the outage islands) when ``φ_k[k] = 1``.
* Several outages K at once (Woodbury): ``Δf = Φ_K · (I − Φ_K[K])⁻¹ · f_K``, a k×k system.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from warmgrid.errors import InputError
from warmgrid.power._fast import HAVE_NUMBA, LUSolver
from warmgrid.power.network import Network, State
from warmgrid.power.topology import Islands, islands

__all__ = ["DCFactor", "DCResult", "dc_flow", "dispatch_note", "factorize", "woodbury_flows"]

Energised = Literal["slack", "balanced"]

#: SuperLU's column ordering for the reduced susceptance matrix, chosen by measurement of
#: the factorisation plus the solves that follow (``benchmarks/dc_ordering.py``). COLAMD
#: orders in O(nnz): 0.12 s on MATPOWER's ACTIVSg70k where MMD_AT_PLUS_A takes 4.5 s. Its
#: fill is 15-30 % larger, yet its factors solve faster (a flow solve 4.3 ms against 21.7
#: ms on ACTIVSg70k; unit columns for a contingency screening 0.7 ms against 3.9 ms each),
#: and it is as fast or faster on every PEGASE case (1354 to 13659 buses).
ORDERING = "COLAMD"


@dataclass(frozen=True)
class DCResult:
    """A DC power flow.

    Attributes
    ----------
    theta_rad : (n_bus,) voltage angles, rad, 0 at each island's reference; NaN on dark buses.
    flow_mw : (n_branch,) active power at the from end, MW; NaN for branches out of
        service or in a dark island.
    island : (n_bus,) island label; −1 for a bus out of service.
    dark_bus : (n_bus,) bool, bus out of service or in an island that is not solved.
    slack_p_mw : (n_gen,) output of each slack unit after balancing, MW; 0 for the other
        units and in ``energised="balanced"`` mode (no balancing is done there).
    rate_mw : (n_branch,) the ratings used for :attr:`loading_percent` (inf = unlimited).
    """

    theta_rad: np.ndarray
    flow_mw: np.ndarray
    island: np.ndarray
    dark_bus: np.ndarray
    slack_p_mw: np.ndarray
    rate_mw: np.ndarray

    @property
    def loading_percent(self) -> np.ndarray:
        """(n_branch,) |flow| / rate · 100; NaN where the flow is NaN or the branch has no
        rating (an unrated branch has no loading, not a loading of 0)."""
        with np.errstate(invalid="ignore"):
            ld = np.abs(self.flow_mw) / self.rate_mw * 100.0
        return np.where(np.isfinite(self.rate_mw), ld, np.nan)


class DCFactor:
    """The factorised reduced susceptance matrix of one topology.

    Build it with :func:`factorize`. All sensitivities are in MW per MW.

    Attributes
    ----------
    net : the network.
    state : the effective state it was built for.
    islands : island labels of that state.
    live_bus : (n_bus,) bool, the bus is in a solved island.
    ref_bus : (n_ref,) int, buses whose angle is fixed (one or more per solved island).
    ref_theta : (n_ref,) their angles, rad.
    branch_on : (n_branch,) bool, in service and in a solved island.
    b : (n_branch,) susceptance b · on, p.u. (0 for branches not in ``branch_on``).
    """

    def __init__(
        self,
        net: Network,
        state: State,
        isl: Islands,
        live_bus: np.ndarray,
        ref_bus: np.ndarray,
        ref_theta: np.ndarray | None = None,
    ) -> None:
        self.net = net
        self.state = state
        self.islands = isl
        self.live_bus = live_bus
        self.ref_bus = ref_bus
        self.ref_theta = np.zeros(len(ref_bus)) if ref_theta is None else ref_theta
        self.branch_on = state.branch_on & live_bus[net.f] & live_bus[net.t]
        self.b = net.b_pu * self.branch_on
        unknown = live_bus.copy()
        unknown[ref_bus] = False
        self.unknown = np.flatnonzero(unknown)
        self.pos = np.full(net.n_bus, -1, dtype=np.int64)
        self.pos[self.unknown] = np.arange(len(self.unknown))
        self.pf_inj = net.pf_inj(self.branch_on)
        bbus = net.bbus(self.branch_on)
        self.bbus = bbus
        red = bbus[self.unknown][:, self.unknown].tocsc()
        self.lu = spl.splu(red, permc_spec=ORDERING) if len(self.unknown) else None
        self._solver: LUSolver | None = None
        # reduced incidence of the solved branches: (n_branch, n_unknown)
        a = (
            net.incidence[:, self.unknown]
            if len(self.unknown)
            else sp.csr_matrix((net.n_branch, 0))
        )
        self.a_red = sp.csr_matrix(sp.diags(self.branch_on.astype(float)) @ a)

    # ------------------------------------------------------------------ solves
    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Solve the reduced system for right-hand sides in reduced coordinates.

        Parameters
        ----------
        rhs : (n_unknown,) or (n_unknown, m) p.u.

        Returns
        -------
        (n_unknown,) or (n_unknown, m) angles, rad.
        """
        if self.lu is None:
            return np.zeros(rhs.shape)
        if rhs.ndim == 1 or rhs.shape[1] < 8 or not HAVE_NUMBA:
            if rhs.ndim == 2 and rhs.shape[1] > 16:  # SuperLU slows down on wide blocks
                return np.concatenate(
                    [
                        self.lu.solve(np.asfortranarray(rhs[:, s : s + 16]))
                        for s in range(0, rhs.shape[1], 16)
                    ],
                    axis=1,
                )
            return self.lu.solve(np.asfortranarray(rhs))
        if self._solver is None:
            self._solver = LUSolver(self.lu)
        return self._solver.solve(rhs)

    def theta(self, p_pu: np.ndarray) -> np.ndarray:
        """(n_bus,) angles for bus injections ``p_pu`` (already net of Aᵀ·Pfinj).

        Reference buses hold ``ref_theta``; dark buses read 0.
        """
        th = np.zeros(self.net.n_bus)
        rhs = p_pu[self.unknown]
        if np.any(self.ref_theta):
            th[self.ref_bus] = self.ref_theta
            rhs = rhs - self.bbus[self.unknown][:, self.ref_bus] @ self.ref_theta
        th[self.unknown] = self.solve(rhs)
        return th

    def _unit_rhs(self, buses: np.ndarray) -> np.ndarray:
        """(n_unknown, len) columns e_j in reduced coordinates (zero for reference buses)."""
        buses = np.asarray(buses, dtype=np.int64)
        rhs = np.zeros((len(self.unknown), len(buses)), order="F")
        p = self.pos[buses]
        ok = p >= 0
        rhs[p[ok], np.flatnonzero(ok)] = 1.0
        return rhs

    def ptdf_columns(self, buses: np.ndarray) -> np.ndarray:
        """(n_branch, len(buses)) flow change per MW injected at each bus, taken at the reference.

        Zero for reference buses and for buses not in a solved island.
        """
        z = self.solve(self._unit_rhs(buses))
        return np.asarray(self.a_red @ z) * self.b[:, None]

    def ptdf_rows(self, branches: np.ndarray) -> np.ndarray:
        """(len(branches), n_bus) flow on each branch per MW injected at every bus.

        Uses the symmetry of Bbus: row l is ``b_l · (B⁻¹ a_l)ᵀ``.
        """
        branches = np.asarray(branches, dtype=np.int64)
        rhs = np.asarray(self.a_red[branches].T.todense(), order="F")
        z = self.solve(rhs)
        out = np.zeros((len(branches), self.net.n_bus))
        out[:, self.unknown] = (z * self.b[branches][None, :]).T
        return out

    def transfer_columns(self, branches: np.ndarray) -> np.ndarray:
        """(n_branch, len(branches)) flow change per MW sent from f_k to t_k (φ_k)."""
        branches = np.asarray(branches, dtype=np.int64)
        rhs = np.asarray(self.a_red[branches].T.todense(), order="F")
        z = self.solve(rhs)
        return np.asarray(self.a_red @ z) * self.b[:, None]

    def lodf(self, outages: np.ndarray, monitored: np.ndarray | None = None) -> np.ndarray:
        """A block of line outage distribution factors.

        Parameters
        ----------
        outages : (k,) branch indices (in service, in a solved island).
        monitored : optional (m,) branch indices; all branches when omitted.

        Returns
        -------
        (m, k) LODF: flow change on l per MW flowing on k before k goes out. −1 on k
        itself; a column of NaN for an outage that islands (a bridge).
        """
        outages = np.asarray(outages, dtype=np.int64)
        phi = self.transfer_columns(outages)
        den = 1.0 - phi[outages, np.arange(len(outages))]
        bridge = np.abs(den) < 1e-10
        with np.errstate(divide="ignore", invalid="ignore"):
            lodf = phi / np.where(bridge, np.nan, den)[None, :]
        lodf[outages, np.arange(len(outages))] = -1.0
        lodf[:, bridge] = np.nan
        return lodf if monitored is None else lodf[np.asarray(monitored, dtype=np.int64)]


def woodbury_flows(
    fac: DCFactor, flow_mw: np.ndarray, outages: np.ndarray, phi: np.ndarray | None = None
) -> np.ndarray | None:
    """Flows after taking several branches out at once, by a k×k Woodbury update.

    ``f' = f + Φ_K · (I − Φ_K[K])⁻¹ · f_K`` (see the module docstring), with Φ_K the
    transfer sensitivities of the outaged branches.

    Parameters
    ----------
    fac : factorisation of the pre-outage topology.
    flow_mw : (n_branch,) pre-outage flows, MW.
    outages : (k,) branch indices, in service in ``fac``.
    phi : optional precomputed (n_branch, k) transfer columns of ``outages``.

    Returns
    -------
    (n_branch,) post-outage flows with NaN on the outaged branches, or None when the set
    islands the grid (the k×k system is singular).
    """
    outages = np.asarray(outages, dtype=np.int64)
    if phi is None:
        phi = fac.transfer_columns(outages)
    h = np.eye(len(outages)) - phi[outages]
    fk = flow_mw[outages]
    # singular <=> the set cuts an island; scale-free test on the smallest singular value
    s = np.linalg.svd(h, compute_uv=False)
    if s[-1] < 1e-9 * max(1.0, s[0]):
        return None
    out = flow_mw + phi @ np.linalg.solve(h, fk)
    out[outages] = np.nan
    return out


# ---------------------------------------------------------------------- factorisation cache
_CACHE: weakref.WeakKeyDictionary[Network, OrderedDict[tuple[bytes, ...], DCFactor]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_SIZE = 8


def _live_and_refs(
    net: Network, st: State, isl: Islands, energised: Energised
) -> tuple[np.ndarray, np.ndarray]:
    on = isl.label >= 0
    if energised == "slack":
        live_isl = isl.has_slack
        g = np.flatnonzero(st.gen_on & net.gen_slack)
        ref = np.unique(net.gen_bus[g])
        ref = ref[on[ref]]
    elif energised == "balanced":
        live_isl = isl.has_gen
        # the first (lowest-index) bus of each live island
        lab = isl.label
        buses = np.flatnonzero(on)
        _, first = np.unique(lab[buses], return_index=True)
        ref = buses[first]
        ref = ref[live_isl[lab[ref]]]
    else:
        raise InputError(
            f"energised must be 'slack' or 'balanced', got {energised!r}", field="energised"
        )
    live = np.zeros(net.n_bus, dtype=bool)
    live[on] = live_isl[isl.label[on]]
    return live, ref


def _ref_angles(net: Network, st: State, ref: np.ndarray) -> np.ndarray:
    """(n_ref,) angle each slack bus holds: its first in-service slack unit's ``va``.

    pandapower's ``rundcpp`` and MATPOWER's ``dcpf`` hold every reference bus at its set
    angle (ext_grid ``va_degree``, bus ``VA``); with several slack buses in one island the
    angle differences drive flows (case6495rte has six ext_grids at 0.5°–17°).
    """
    g = np.flatnonzero(st.gen_on & net.gen_slack)
    first: dict[int, float] = {}
    for i in g.tolist():
        first.setdefault(int(net.gen_bus[i]), float(net.gen_va_rad[i]))
    return np.array([first.get(int(b), 0.0) for b in ref.tolist()])


def factorize(
    net: Network, state: State | None = None, *, energised: Energised = "slack", cache: bool = True
) -> DCFactor:
    """Factorise the reduced susceptance matrix of a state (cached per topology).

    Parameters
    ----------
    net : compiled network.
    state : masks; the base state when omitted.
    energised : ``"slack"`` solves the islands holding an in-service slack unit, with every
        slack bus as an angle reference; ``"balanced"`` solves every island with an
        in-service generator (p_max > 0), referenced at its lowest-index bus.
    cache : reuse and keep the factorisation in a small per-network LRU cache.
    """
    st = (state or net.base_state).effective(net)
    isl = islands(net, st)
    live, ref = _live_and_refs(net, st, isl, energised)
    ref_theta = _ref_angles(net, st, ref) if energised == "slack" else np.zeros(len(ref))
    key = (
        live.tobytes(),
        ref.tobytes(),
        ref_theta.tobytes(),
        (st.branch_on & live[net.f]).tobytes(),
    )
    if cache:
        per = _CACHE.setdefault(net, OrderedDict())
        hit = per.get(key)
        if hit is not None:
            per.move_to_end(key)
            # the topology matches; hand back a factor bound to this state's masks
            if hit.state is st:
                return hit
            fac = object.__new__(DCFactor)
            fac.__dict__.update(hit.__dict__)
            fac.state = st
            fac.islands = isl
            return fac
    fac = DCFactor(net, st, isl, live, ref, ref_theta)
    if cache:
        per[key] = fac
        while len(per) > _CACHE_SIZE:
            per.popitem(last=False)
    return fac


def dc_flow(
    net: Network,
    state: State | None = None,
    injection_mw: np.ndarray | None = None,
    *,
    energised: Energised = "slack",
    factor: DCFactor | None = None,
) -> DCResult:
    """Solve a DC power flow.

    Parameters
    ----------
    net : compiled network.
    state : masks; the base state when omitted.
    injection_mw : (n_bus,) net injection per bus, MW. ``None`` means
        ``net.bus_injection_mw(state)``: units and loads at their set points, slack units
        at their set point before they absorb the mismatch.
    energised : ``"slack"`` (pandapower ``rundcpp`` semantics): only islands with an
        in-service slack unit are solved and their slack absorbs the island's mismatch;
        the other islands are dark. Every slack bus holds its unit's angle (``va_deg``),
        as pandapower holds every ext_grid bus at its ``va_degree``; with several slack
        buses in one island the mismatch therefore splits as the network and those
        angles dictate. Several slack units on one bus share that bus's balance
        equally. ``"balanced"``: every island with an in-service generator is solved,
        referenced at its lowest-index bus; the caller guarantees each island's
        injections sum to zero (a residual would land on the reference bus). Islands
        without generation are dark.

    factor : optional factorisation of this very state (from :func:`factorize` with the
        same ``energised``), to skip the topology look-up when the caller already has it.

    Returns
    -------
    DCResult
    """
    st = (state or net.base_state).effective(net)
    fac = factor if factor is not None else factorize(net, st, energised=energised)
    if injection_mw is None:
        inj = net.bus_injection_mw(st)
    else:
        inj = np.asarray(injection_mw, dtype=float)
        if inj.shape != (net.n_bus,):
            raise InputError(
                f"injection_mw must have shape ({net.n_bus},), got {inj.shape}",
                field="injection_mw",
            )
    base = net.base_mva
    at_pf = net.incidence.T @ fac.pf_inj
    p = inj / base - at_pf
    th = fac.theta(p)
    flow = (fac.b * (net.incidence @ th) + fac.pf_inj) * base
    flow[~fac.branch_on] = np.nan
    slack = np.zeros(len(net.gen_ids))
    if energised == "slack" and len(fac.ref_bus):
        calc = (fac.bbus[fac.ref_bus] @ th + at_pf[fac.ref_bus]) * base
        delta = calc - inj[fac.ref_bus]
        g = np.flatnonzero(st.gen_on & net.gen_slack & fac.live_bus[net.gen_bus])
        per_bus = np.zeros(net.n_bus)
        np.add.at(per_bus, net.gen_bus[g], 1.0)
        d = np.zeros(net.n_bus)
        d[fac.ref_bus] = delta
        slack[g] = net.gen_p_mw[g] + d[net.gen_bus[g]] / per_bus[net.gen_bus[g]]
    th = np.where(fac.live_bus, th, np.nan)
    return DCResult(
        theta_rad=th,
        flow_mw=flow,
        island=fac.islands.label,
        dark_bus=~fac.live_bus,
        slack_p_mw=slack,
        rate_mw=net.rate_mw,
    )


def dispatch_note(net: Network, *, how: str = "the slack units take it") -> str | None:
    """A sentence when the file's dispatch does not balance its load, else None.

    The units' set points (slack units' included) against the in-service load plus the
    shunt conductance (nothing to compare when the slack is an external grid with no set
    point, as pandapower's ``ext_grid``: it is the balance by definition); a gap larger than 5 % of the load (and 1 MW) is more than the
    losses an AC dispatch covers, so it is said, with where it goes (``how``: the slack
    units in a plain DC flow, a redispatch in the MLD, pro rata in the cascade).
    """
    st = net.base_state
    on = st.gen_on
    if np.any(on & net.gen_slack & (net.gen_kind == "external") & (net.gen_p_mw == 0.0)):
        return None  # an external grid without a set point (pandapower's ext_grid) is the balance
    gen = float(net.gen_p_mw[st.gen_on].sum())
    load = float((net.load_p_mw * st.load_on).sum() + net.shunt_g_mw.sum())
    gap = load - gen
    if abs(gap) <= max(1.0, 0.05 * abs(load)):
        return None

    def mw(x: float) -> str:
        return f"{x / 1e3:,.1f} GW" if abs(x) >= 1e3 else f"{x:,.0f} MW"

    return (
        f"the file's dispatch ({mw(gen)}) does not balance its load ({mw(load)} with "
        f"shunts): {mw(abs(gap))} {'short' if gap > 0 else 'too much'}; {how}"
    )
