"""Uncontrolled cascade: nobody acts, overloaded branches trip until the grid is stable.

Each stage (a deterministic, quasi-static DC model in the spirit of the OPA / Manchester
cascade models; Dobson et al., "An initial model for complex dynamics in electric power
system blackouts", HICSS 2001):

1. Find the islands. An island without an in-service unit (``p_max > 0``) is dark.
2. Balance each energised island with primary control:

   * a deficit is covered by raising the online units in proportion to their capacity
     ``p_max``, each capped at ``p_max`` (water-filling, so the units that saturate pass
     their share on). Units with an unlimited ``p_max`` (an external grid) take the whole
     deficit, shared equally;
   * if the island's headroom is not enough, under-frequency load shedding cuts every
     load in the island by the same fraction (the shunt conductance stays fixed, and so
     does a negative load: it is a fixed injection, never shed, never counted as served
     or as demand);
   * a surplus lowers the units with positive output in proportion to capacity, at most
     down to 0 (p_min relaxed, units may trip);
   * an island that can balance neither way (its units cannot even feed the fixed shunt
     load, or cannot absorb a fixed injection) collapses and goes dark.

3. Solve the DC flow of the balanced islands (:func:`warmgrid.power.dc.dc_flow`,
   ``energised="balanced"``) and trip every branch with ``|flow| > trip_factor · rate``.
4. Repeat until nothing trips.

Unit set points are the case's ``p_mw`` (negative set points, e.g. pumping units, stay as
they are). The stages report what tripped, the islands and the served MW; the result is
deterministic (no randomness, no dependence on ordering).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from warmgrid.errors import InputError
from warmgrid.power.dc import dc_flow
from warmgrid.power.network import Network, State
from warmgrid.power.topology import Islands, islands

__all__ = ["CascadeResult", "CascadeStage", "balance_islands", "cascade"]


@dataclass(frozen=True)
class CascadeStage:
    """One stage of a cascade.

    Attributes
    ----------
    index : stage number, 0 for the damaged grid before any trip.
    tripped : (k,) ids of the branches that trip at the end of this stage (overloaded).
    islands : islands among in-service buses.
    energised_islands : islands that hold generation and balanced.
    served_mw, shed_mw : load served and not served in this stage, MW.
    max_loading_percent : highest |flow| / rate · 100 among limited branches (NaN if none).
    """

    index: int
    tripped: tuple[str, ...]
    islands: int
    energised_islands: int
    served_mw: float
    shed_mw: float
    max_loading_percent: float


@dataclass(frozen=True)
class CascadeResult:
    """The stable end of a cascade and every stage on the way.

    Attributes
    ----------
    stages : the stages, in order; the last one trips nothing (unless ``max_stages`` hit).
    state : the final state (tripped branches out, collapsed islands' units out).
    served_fraction : (n_load,) final served fraction per load.
    gen_p_mw : (n_gen,) final unit outputs, MW.
    flow_mw : (n_branch,) final flows, MW (NaN out or dark).
    served_mw, demand_mw, shed_mw : final totals, MW (demand over the base state's loads).
    islands : final island labels.
    dark_bus : (n_bus,) bool, final dark buses.
    converged : False when ``max_stages`` stopped a cascade that was still tripping.
    seconds : wall time.
    """

    stages: list[CascadeStage]
    state: State
    served_fraction: np.ndarray
    gen_p_mw: np.ndarray
    flow_mw: np.ndarray
    served_mw: float
    demand_mw: float
    shed_mw: float
    islands: Islands
    dark_bus: np.ndarray
    converged: bool
    seconds: float

    @property
    def tripped(self) -> list[str]:
        """Every branch id that tripped, in stage order."""
        return [b for s in self.stages for b in s.tripped]


def _fill(
    amount: np.ndarray, grp: np.ndarray, weight: np.ndarray, room: np.ndarray, k: int
) -> np.ndarray:
    """Share ``amount[g]`` among the members of each group in proportion to ``weight``,
    capped at ``room`` (water-filling, all groups at once). Returns (n,) shares."""
    out = np.zeros(len(grp))
    rem = amount.astype(float).copy()
    free = room > 0
    for _ in range(len(grp) + 1):
        act = free & (rem[grp] > 1e-12)
        if not act.any():
            break
        wsum = np.bincount(grp[act], weights=weight[act], minlength=k)
        alpha = np.where(wsum > 0, rem / np.where(wsum > 0, wsum, 1.0), 0.0)
        give = np.where(act, np.minimum(alpha[grp] * weight, room - out), 0.0)
        out += give
        rem -= np.bincount(grp, weights=give, minlength=k)
        free &= out < room - 1e-12
    return out


def balance_islands(
    net: Network, state: State, isl: Islands
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Primary-control balance of every island (see the module docstring).

    Parameters
    ----------
    net : compiled network.
    state : effective masks.
    isl : islands of ``state``.

    Returns
    -------
    gen_p_mw : (n_gen,) balanced outputs (0 for units out, dark or collapsed), MW.
    load_fraction : (n_load,) served fraction per load.
    live_island : (count,) bool, the island holds generation and balanced.
    """
    k = isl.count
    live = isl.has_gen.copy()
    gon = state.gen_on & (isl.label[net.gen_bus] >= 0)
    gon &= live[isl.label[net.gen_bus]] if k else gon
    g = np.flatnonzero(gon)
    gi = isl.label[net.gen_bus[g]]
    pmax = np.maximum(net.gen_pmax_mw[g], 0.0)
    p0 = np.minimum(net.gen_p_mw[g], pmax)
    scale = state.load_scale if state.load_scale is not None else 1.0
    dem = net.load_p_mw * scale
    lon = np.flatnonzero(state.load_on & (isl.label[net.load_bus] >= 0))
    li = isl.label[net.load_bus[lon]]
    demanding = dem[lon] > 0  # negative loads are fixed injections
    son = np.flatnonzero(state.bus_on[net.shunt_bus] & (isl.label[net.shunt_bus] >= 0))
    si = isl.label[net.shunt_bus[son]]
    load_isl = np.bincount(li[demanding], weights=dem[lon][demanding], minlength=k).astype(float)
    fixed_isl = np.bincount(si, weights=net.shunt_g_mw[son], minlength=k).astype(float)
    fixed_isl += np.bincount(li[~demanding], weights=dem[lon][~demanding], minlength=k)
    deficit = load_isl + fixed_isl - np.bincount(gi, weights=p0, minlength=k)

    p = p0.copy()
    unlimited = ~np.isfinite(pmax)
    n_unl = np.bincount(gi[unlimited], minlength=k)
    # deficits: unlimited units take all (equal shares), others fill in proportion to p_max
    up = np.maximum(deficit, 0.0)
    has_unl = n_unl > 0
    p[unlimited] += up[gi[unlimited]] / n_unl[gi[unlimited]]
    lim = ~unlimited
    amt = np.where(has_unl, 0.0, up)
    share = _fill(amt, gi[lim], pmax[lim], pmax[lim] - p[lim], k)
    p[lim] += share
    short = amt - np.bincount(gi[lim], weights=share, minlength=k)
    # surpluses: lower positive outputs in proportion to capacity, down to 0
    down = np.maximum(-deficit, 0.0)
    pos = p > 0
    cap_w = np.where(unlimited, np.maximum(p, 0.0), pmax)  # unlimited units: by their output
    cut = _fill(down, gi[pos], cap_w[pos], p[pos], k)
    p[pos] -= cut
    excess = down - np.bincount(gi[pos], weights=cut, minlength=k)
    # under-frequency shedding where headroom ran out
    frac_isl = np.ones(k)
    need = short > 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(load_isl > 0, (load_isl - short) / load_isl, 0.0)
    frac_isl[need] = f[need]
    collapse = (need & (frac_isl < 0)) | (excess > 1e-6)
    frac_isl = np.clip(frac_isl, 0.0, 1.0)
    live &= ~collapse
    frac_isl[~live] = 0.0
    gen_p = np.zeros(len(net.gen_ids))
    gen_p[g] = np.where(live[gi], p, 0.0)
    load_fraction = np.zeros(len(net.load_ids))
    load_fraction[lon] = np.where(demanding, frac_isl[li], live[li].astype(float))
    return gen_p, load_fraction, live


def _balanced(net: Network, st: State) -> tuple[State, Islands, np.ndarray, np.ndarray, np.ndarray]:
    """The islands of ``st`` and their balance (:func:`balance_islands`); the units of a
    collapsed island trip, so the flow solver leaves it dark, and the rest balances again.

    Returns the state (collapsed islands' units out), the islands, the units' outputs
    (MW), the loads' served fractions and which islands are live.
    """
    isl = islands(net, st)
    gen_p, frac, live_isl = balance_islands(net, st, isl)
    dead_gen = st.gen_on & (isl.label[net.gen_bus] >= 0)
    dead_gen &= ~live_isl[np.maximum(isl.label[net.gen_bus], 0)] if isl.count else dead_gen
    if dead_gen.any():
        st = replace(st, gen_on=st.gen_on & ~dead_gen)
        isl = islands(net, st)
        gen_p, frac, live_isl = balance_islands(net, st, isl)
    return st, isl, gen_p, frac, live_isl


def _balanced_flows(
    net: Network,
    st: State,
    isl: Islands,
    live_isl: np.ndarray,
    gen_p: np.ndarray,
    load_mw: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(n_branch,) DC flows of the balanced islands, MW (NaN out or dark), and (n_bus,)
    bool, the buses of live islands; ``load_mw``: (n_load,) the load served, MW."""
    inj = np.zeros(net.n_bus)
    np.add.at(inj, net.gen_bus, gen_p)
    np.subtract.at(inj, net.load_bus, load_mw)
    bus_live = np.zeros(net.n_bus, dtype=bool)
    on = isl.label >= 0
    bus_live[on] = live_isl[isl.label[on]]
    sh = bus_live[net.shunt_bus]
    np.subtract.at(inj, net.shunt_bus[sh], net.shunt_g_mw[sh])
    return dc_flow(net, st, inj, energised="balanced").flow_mw, bus_live


def _max_loading_percent(net: Network, flow: np.ndarray, absf: np.ndarray) -> float:
    """Highest ``|flow| / rate · 100`` among rated branches with a flow (NaN if none)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ld = np.where(np.isfinite(net.rate_mw) & ~np.isnan(flow), absf / net.rate_mw * 100, np.nan)
    return float(np.nanmax(ld)) if np.isfinite(ld).any() else float("nan")


def cascade(
    net: Network, state: State | None = None, *, trip_factor: float = 1.0, max_stages: int = 100
) -> CascadeResult:
    """Run an uncontrolled cascade from a (damaged) state.

    Parameters
    ----------
    net : compiled network.
    state : the damaged masks; the base state when omitted. Not mutated.
    trip_factor : a branch trips when ``|flow| > trip_factor · rate`` (rate inf: never).
    max_stages : stop after this many stages (the result says ``converged=False``).

    Returns
    -------
    CascadeResult
    """
    if not trip_factor > 0:
        raise InputError(f"trip_factor must be > 0, got {trip_factor}", field="trip_factor")
    t0 = time.perf_counter()
    st = (state or net.base_state).effective(net)
    scale = st.load_scale if st.load_scale is not None else 1.0
    dem = net.load_p_mw * scale
    positive = np.maximum(dem, 0.0)  # negative loads are fixed injections, not demand
    demand_mw = float((positive * net.base_state.load_on).sum())
    limit = trip_factor * net.rate_mw
    stages: list[CascadeStage] = []
    converged = False
    while True:
        st, isl, gen_p, frac, live_isl = _balanced(net, st)
        flow, bus_live = _balanced_flows(net, st, isl, live_isl, gen_p, dem * frac)
        absf = np.abs(np.nan_to_num(flow))
        trip = np.flatnonzero(absf > limit + 1e-6)
        served = min(float((positive * frac).sum()), demand_mw)
        stages.append(
            CascadeStage(
                index=len(stages),
                tripped=tuple(net.branch_ids[trip].tolist()),
                islands=int(isl.count),
                energised_islands=int(live_isl.sum()),
                served_mw=served,
                shed_mw=demand_mw - served,
                max_loading_percent=_max_loading_percent(net, flow, absf),
            )
        )
        if len(trip) == 0:
            converged = True
            break
        if len(stages) >= max_stages:
            break
        branch_on = st.branch_on.copy()
        branch_on[trip] = False
        st = replace(st, branch_on=branch_on)
    return CascadeResult(
        stages=stages,
        state=st,
        served_fraction=frac,
        gen_p_mw=gen_p,
        flow_mw=flow,
        served_mw=served,
        demand_mw=demand_mw,
        shed_mw=demand_mw - served,
        islands=isl,
        dark_bus=~bus_live,
        converged=converged,
        seconds=time.perf_counter() - t0,
    )
