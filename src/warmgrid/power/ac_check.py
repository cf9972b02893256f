"""AC verification of a DC dispatch: does the damaged, islanded grid hold its voltages?

A dispatch that balances in DC can still collapse in voltage. :func:`ac_check` takes the
DC engine's answer for one state (the served fraction of every load), gives every
island's units the output primary control would (their set points moved pro rata to
capacity until the island's served load is met, :func:`~warmgrid.power.cascade.
balance_islands`: the MLD's LP picks one of many equally good dispatches, often far from
any the grid was built for), and solves the AC power flow of every island
(:func:`~warmgrid.power.ac.ac_flow`, reactive limits enforced, each island balanced by
its largest voltage-controlling unit, which takes the losses).

While the flow does not converge or a bus falls below its lower voltage limit
(``vm_min_pu``; NaN: no limit), it sheds load in priority order: in each round, up to
:data:`STEP_SHARE` of the served MW of the loads within :data:`NEAR_HOPS` branches of a
bus below its limit (a voltage problem is local), or of the whole island when the flow
does not converge; the lowest-weight loads go first, and among equal weights the nearest
to the trouble. Less load would raise a high voltage further, so buses above their upper
limit are reported, never shed for.

Only what the damage does counts (:func:`baseline`): a bus is too low when it is below
both its limit and its voltage in the undamaged grid under the same dispatch rule, too
high when above both; several published cases hold buses outside their limits before
any damage, and some converge only without reactive limits (the check then runs without
them, and says so). It reports the extra MW shed, the worst voltages and the buses
outside their limits.

This is "DC dispatch, AC verification", the standard way to check a DC answer; it is not
an AC optimal power flow: voltages are whatever the units' set points give.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field, replace

import numpy as np

from warmgrid.power.ac import ac_flow
from warmgrid.power.ac_types import ACOptions, ACResult
from warmgrid.power.network import Network, State

__all__ = ["STEP_SHARE", "ACCheck", "Baseline", "ac_check", "baseline"]

#: Share of the troubled loads' served MW shed per round, at most.
STEP_SHARE = 0.05

#: Loads this many branches or fewer from a bus below its limit are the ones in trouble.
NEAR_HOPS = 3

#: Voltage tolerance beyond a limit before it counts as violated, p.u.
VM_TOL = 1e-4

#: Every AC check's flow: reactive limits on, each island balanced by its largest unit.
_OPTIONS = ACOptions(energised="balanced", q_limits=True, max_iter=20)


@dataclass(frozen=True)
class ACCheck:
    """The outcome of :func:`ac_check`.

    Attributes
    ----------
    converged : the final AC flow converged within the limits (False: everything was
        shed and it still does not, or the round limit was met).
    load_frac : (n_load,) served fraction after the extra shedding.
    extra_shed_mw : MW shed beyond the DC answer.
    rounds : AC solves done.
    min_vm, max_vm : (bus id, p.u.) of the lowest and highest voltage of the final flow.
    outside : bus ids outside their limits and beyond their undamaged voltage (high
        voltages are reported, never shed for).
    result : the final AC flow.
    note : how this network's check differs from the standard (:class:`Baseline`), or "".
    checked : False when the undamaged grid's AC flow does not converge, so no check was
        made (the DC answer stands).
    """

    converged: bool
    load_frac: np.ndarray
    extra_shed_mw: float
    rounds: int
    min_vm: tuple[str, float] | None
    max_vm: tuple[str, float] | None
    outside: list[str] = field(default_factory=list)
    result: ACResult | None = None
    note: str = ""
    checked: bool = True

    def to_dict(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "converged": self.converged,
            "extra_shed_mw": float(self.extra_shed_mw),
            "rounds": self.rounds,
            "min_vm": None
            if self.min_vm is None
            else {"bus": self.min_vm[0], "vm_pu": self.min_vm[1]},
            "max_vm": None
            if self.max_vm is None
            else {"bus": self.max_vm[0], "vm_pu": self.max_vm[1]},
            "buses_outside_limits": list(self.outside),
            "note": self.note,
        }


@dataclass(frozen=True)
class Baseline:
    """How the AC check runs on one network, fixed by its undamaged grid.

    Attributes
    ----------
    options : the AC options of every check (reactive limits on, unless the undamaged
        grid does not converge with them; then off).
    vm_pu : (n_bus,) the undamaged grid's voltages under the check's own dispatch, or
        None when the undamaged grid does not converge at all (no check is possible).
    note : why the options or the check differ from the standard, or "".
    """

    options: ACOptions
    vm_pu: np.ndarray | None
    note: str = ""


_BASE: weakref.WeakKeyDictionary[Network, Baseline] = weakref.WeakKeyDictionary()


def baseline(net: Network) -> Baseline:
    """The undamaged grid under the check's own dispatch (every load served, units moved
    pro rata as in :func:`ac_check`), cached per network.

    Harm is counted against it: a published case that holds buses outside their limits,
    or converges only without reactive limits, before any damage is not damage. The
    check uses reactive limits when the undamaged grid converges with them, and not
    otherwise (said in :attr:`Baseline.note`); when it converges neither way, the check
    cannot tell the damage's voltages from the case's and is skipped.
    """
    hit = _BASE.get(net)
    if hit is None:
        st = net.base_state
        ones = np.ones(len(net.load_p_mw))
        hit = Baseline(_OPTIONS, None, "the undamaged grid's AC flow does not converge")
        for opts, note in (
            (_OPTIONS, ""),
            (
                replace(_OPTIONS, q_limits=False),
                "reactive limits off: the undamaged grid converges only without them",
            ),
        ):
            r = ac_flow(_dispatch(net, st, ones), replace(st, load_scale=ones), options=opts)
            if r.converged:
                hit = Baseline(opts, r.vm_pu.copy(), note)
                break
        _BASE[net] = hit
    return hit


def _violations(
    net: Network, r: ACResult, *, high: bool = True, base: np.ndarray | None = None
) -> np.ndarray:
    """(n_bus,) bool: live bus below its lower voltage limit (and below ``base``, the
    undamaged voltage, when given), or with ``high`` above its upper one (and above
    ``base``)."""
    vm = r.vm_pu
    lo = np.where(np.isfinite(net.bus_vm_min_pu), net.bus_vm_min_pu, -np.inf)
    hi = np.where(np.isfinite(net.bus_vm_max_pu), net.bus_vm_max_pu, np.inf)
    if base is not None:
        lo = np.minimum(lo, np.where(np.isfinite(base), base, lo))
        hi = np.maximum(hi, np.where(np.isfinite(base), base, hi))
    with np.errstate(invalid="ignore"):
        low = ~r.dark_bus & (vm < lo - VM_TOL)
        return low | (~r.dark_bus & (vm > hi + VM_TOL)) if high else low


def _hops(net: Network, r: ACResult, bad: np.ndarray) -> np.ndarray:
    """(n_bus,) branches from each bus to the nearest bus in ``bad`` (inf: unreachable)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    on = np.isfinite(r.p_from_mw)
    adj = sp.coo_matrix(
        (np.ones(on.sum()), (net.f[on], net.t[on])), shape=(net.n_bus, net.n_bus)
    ).tocsr()
    src = np.flatnonzero(bad)
    if not len(src):
        return np.zeros(net.n_bus)
    return dijkstra(adj, directed=False, indices=src, unweighted=True, min_only=True)


#: Shares of the served load the probe tries, in turn, when the flow does not converge.
PROBE_SHARES = (0.5, 0.25, 0.125)

#: Buses within this many p.u. of the probe's largest voltage drop are the weak ones.
PROBE_BAND = 0.01


def _probe(
    net: Network,
    state: State,
    scale: np.ndarray,
    opts: ACOptions,
    base: np.ndarray,
    island: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Where to shed when the flow does not converge: solve again at a share of the
    served load (:data:`PROBE_SHARES`, the first that converges); the buses whose
    voltage dropped most from the undamaged grid's (within :data:`PROBE_BAND`) are the
    weak spot, and the loads near them go first. When no probe converges, every island
    is suspect and no bus is nearer. Returns (island labels to shed on, hops)."""
    for share in PROBE_SHARES:
        part = np.where(net.load_p_mw > 0, scale * share, scale)
        p = ac_flow(_dispatch(net, state, part), replace(state, load_scale=part), options=opts)
        if p.converged:
            break
    else:
        return island, np.zeros(net.n_bus)
    live = ~p.dark_bus & np.isfinite(base)
    drop = np.where(live, base - p.vm_pu, -np.inf)
    weak = live & (drop >= drop.max() - PROBE_BAND)
    return np.where(np.isin(island, np.unique(island[weak])), island, -1), _hops(net, p, weak)


def _shed_round(
    net: Network,
    frac: np.ndarray,
    demand: np.ndarray,
    weights: np.ndarray,
    islands: np.ndarray,
    hops: np.ndarray,
) -> float:
    """Shed up to :data:`STEP_SHARE` of the served MW of the loads on ``islands`` (bus
    labels), lowest weight first, nearest to the trouble (``hops``) next, in place;
    return the MW shed."""
    on = np.isin(islands[net.load_bus], np.unique(islands[islands >= 0])) & (frac > 0)
    on &= (demand > 0) & (hops[net.load_bus] <= NEAR_HOPS)
    idx = np.flatnonzero(on)
    if not len(idx):
        return 0.0
    served = frac[idx] * demand[idx]
    budget = STEP_SHARE * served.sum()
    shed = 0.0
    near = hops[net.load_bus[idx]]
    for i in idx[np.lexsort((-served, near, weights[idx]))]:  # weight, nearness, size
        take = min(frac[i] * demand[i], budget - shed)
        frac[i] -= take / demand[i]
        shed += take
        if shed >= budget - 1e-9:
            break
    return shed


def _dispatch(net: Network, state: State, scale: np.ndarray) -> Network:
    """The network with its units at the output primary control gives the served load."""
    from warmgrid.power.cascade import balance_islands
    from warmgrid.power.topology import islands

    st = replace(state, load_scale=scale).effective(net)
    gen_p, _, _ = balance_islands(net, st, islands(net, st))
    return replace(net, gen_p_mw=gen_p)


def ac_check(
    net: Network,
    state: State,
    load_frac: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    max_rounds: int = 100,
) -> ACCheck:
    """Verify a DC answer in AC and shed load until it holds (module docstring).

    Parameters
    ----------
    net : compiled network (with its AC data: resistances, charging, voltage set points).
    state : the damaged masks.
    load_frac : (n_load,) served fraction of each load in the DC answer.
    weights : (n_load,) priority weights (equal when None): lowest shed first.
    max_rounds : AC solves at most.
    """
    frac = np.asarray(load_frac, dtype=float).copy()
    demand = np.maximum(net.load_p_mw, 0.0)
    w = np.ones(len(frac)) if weights is None else np.asarray(weights, dtype=float)
    ref = baseline(net)
    if ref.vm_pu is None:
        return ACCheck(False, frac, 0.0, 0, None, None, note=ref.note, checked=False)
    opts, base = ref.options, ref.vm_pu
    extra = 0.0
    r = None
    rounds = 0
    for rounds in range(1, max_rounds + 1):  # noqa: B007 - the count is reported
        scale = np.where(net.load_p_mw > 0, frac, 1.0)  # negative loads stay fixed
        r = ac_flow(_dispatch(net, state, scale), replace(state, load_scale=scale), options=opts)
        if r.converged:
            # shedding load cannot lower a high voltage; a low one from before is not ours
            bad = _violations(net, r, high=False, base=base)
            if not bad.any():
                break
            trouble = np.where(np.isin(r.island, np.unique(r.island[bad])), r.island, -1)
            hops = _hops(net, r, bad)
        else:
            trouble, hops = _probe(net, state, scale, opts, base, r.island)
        step = _shed_round(net, frac, demand, w, trouble, hops)
        if step <= 0.0:
            break
        extra += step
    assert r is not None
    ok = bool(r.converged) and not _violations(net, r, high=False, base=base).any()
    live = np.flatnonzero(~r.dark_bus & np.isfinite(r.vm_pu)) if r.converged else np.zeros(0, int)
    lo = int(live[np.argmin(r.vm_pu[live])]) if len(live) else None
    hi = int(live[np.argmax(r.vm_pu[live])]) if len(live) else None
    return ACCheck(
        converged=ok,
        load_frac=frac,
        extra_shed_mw=extra,
        rounds=rounds,
        min_vm=None if lo is None else (str(net.bus_ids[lo]), float(r.vm_pu[lo])),
        max_vm=None if hi is None else (str(net.bus_ids[hi]), float(r.vm_pu[hi])),
        outside=[str(b) for b in net.bus_ids[_violations(net, r, base=base)]]
        if r.converged
        else [],
        result=r,
        note=ref.note,
    )
