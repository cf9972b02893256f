"""N-k: given outage sets of branches and units, by injection changes and a Woodbury update.

Bridges in a set become injection changes at their slack-side end with the cut-off side
dark; the remaining branches go out by a Woodbury update with a k×k system
(:func:`warmgrid.power.dc.woodbury_flows`); only a set whose non-bridge branches cut the
grid, or that takes out a bus, a load, a shunt or a slack unit, is solved by
refactorising (:func:`~warmgrid.power.contingency.context._direct`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from warmgrid.power.contingency.context import Progress, _Context, _direct, _Islanding
from warmgrid.power.contingency.memory import _per_contingency_bytes, check_memory
from warmgrid.power.contingency.result import ContingencyResult
from warmgrid.power.contingency.summary import _Accumulator, _accumulator, _finish
from warmgrid.power.dc import dc_flow
from warmgrid.power.network import Network, State

__all__ = ["n_minus_k", "post_outage_flows"]


def _set_flows(
    net: Network, ctx: _Context, ids: Sequence[str]
) -> tuple[np.ndarray | None, np.ndarray, float, float, int]:
    """Post-outage flows of one set by injection changes + Woodbury.

    Returns (flows with NaN on out/dark branches or None if the set needs a direct solve,
    dark branch mask, lost load MW, lost generation MW, dark bus count).
    """
    fac, tree = ctx.fac, ctx.tree
    r = net.resolve(ids)
    if len(r["bus"]) or len(r["load"]) or len(r["shunt"]):
        return None, np.zeros(0, dtype=bool), 0.0, 0.0, 0
    br = r["branch"]
    br = br[fac.branch_on[br]]
    gens = r["gen"]
    gens = gens[ctx.state.gen_on[gens] & fac.live_bus[net.gen_bus[gens]]]
    if net.gen_slack[gens].any():
        return None, np.zeros(0, dtype=bool), 0.0, 0.0, 0
    # outermost bridges: their cut-off sides, nested ones dropped
    bri = br[tree.is_bridge[br]]
    cuts = sorted(((*ctx.cut(int(k)), int(k)) for k in bri), key=lambda c: (c[1], -c[2]))
    outer: list[tuple[int, int, int, int]] = []
    for c in cuts:
        if outer and c[1] < outer[-1][2]:
            continue
        outer.append(c)
    tinf = tree.tin[net.f]
    tinb = tree.tin
    gone = np.zeros(net.n_branch, dtype=bool)
    dark_bus = np.zeros(net.n_bus, dtype=bool)
    lost_l = lost_g = 0.0
    ndark = 0
    dinj_bus: list[int] = []
    dinj_mw: list[float] = []
    for p, lo, hi, k in outer:
        ll, lg, lr = ctx.side_sums(np.array([lo]), np.array([hi]))
        if lr[0] > 0:
            return None, gone, 0.0, 0.0, 0
        gone |= (tinf >= lo) & (tinf < hi)
        dark_bus |= (tinb >= lo) & (tinb < hi)
        lost_l += float(ll[0])
        lost_g += float(lg[0])
        ndark += hi - lo
        dinj_bus.append(p)
        dinj_mw.append(float(ctx.f0[k] * (1.0 if net.f[k] == p else -1.0)))
    rest = br[~tree.is_bridge[br] & ~gone[br]]
    gens = gens[~dark_bus[net.gen_bus[gens]]]
    for g in gens:
        dinj_bus.append(int(net.gen_bus[g]))
        dinj_mw.append(-float(net.gen_p_mw[g]))
    f1 = ctx.f0.copy()
    if dinj_bus:
        psi = ctx.ptdf_cached(np.asarray(dinj_bus, dtype=np.int64))
        f1 += psi @ np.asarray(dinj_mw)
    if len(rest):
        ends = ctx.ptdf_cached(np.concatenate([net.f[rest], net.t[rest]]))
        phi = ends[:, : len(rest)] - ends[:, len(rest) :]
        h = np.eye(len(rest)) - phi[rest]
        sv = np.linalg.svd(h, compute_uv=False)
        if sv[-1] < 1e-9 * max(1.0, sv[0]):
            return None, gone, 0.0, 0.0, 0
        f1 += phi @ np.linalg.solve(h, f1[rest])
    gone[br] = True
    gone |= ~fac.branch_on
    f1[gone] = np.nan
    return f1, gone, lost_l, lost_g, ndark


def post_outage_flows(
    net: Network, outage_ids: Sequence[str], state: State | None = None
) -> np.ndarray:
    """(n_branch,) DC flows after taking a set of branches and units out, MW.

    Computed from the pre-outage factorisation (injection changes and a Woodbury update);
    refactorises only when the set cuts the grid in a way the bridge tree cannot resolve.
    NaN on branches out of service or dark.
    """
    ctx = _Context(net, state)
    f, *_ = _set_flows(net, ctx, outage_ids)
    if f is None:
        f = dc_flow(net, ctx.state.without(net, outage_ids)).flow_mw
    return f


def n_minus_k(
    net: Network,
    sets: Sequence[Sequence[str]],
    state: State | None = None,
    *,
    threshold_percent: float = 100.0,
    worsening_pp: float | None = 1.0,
    keep_violations: bool = True,
    violations_out: str | Path | None = None,
    block: int = 64,
    progress: Progress | None = None,
    _ctx: _Context | None = None,
    _done: np.ndarray | None = None,
    _acc: _Accumulator | None = None,
) -> ContingencyResult:
    """Screen given outage sets (branches and units; k elements each).

    Bridges in a set become injection changes at their slack-side end with the cut-off
    side dark; the remaining branches go out by a Woodbury update with a k×k system;
    units' output is picked up by the slack. A set whose branches cut the grid into
    pieces the bridge tree does not describe (e.g. two parallel paths taken together),
    or that takes out a bus or a slack unit, is solved by refactorising.

    Parameters
    ----------
    net : compiled network.
    sets : element ids per contingency.
    state : pre-outage masks; the base state when omitted.
    threshold_percent : overload threshold, %.
    worsening_pp, keep_violations, violations_out : as in :func:`n_minus_1`.
    block : contingencies per streamed block.
    progress : called with (done, total).
    """
    t0 = time.perf_counter()
    ctx = _ctx or _Context(net, state)
    outages = [tuple(s) for s in sets]
    for s in outages:  # unknown ids fail fast, before any arithmetic
        for e in s:
            if e not in net.groups:
                net.index_of(e)
    n_c = len(outages)
    if _acc is None:
        k = max((len(s) for s in outages), default=1)
        check_memory(
            n_c * _per_contingency_bytes(keep_violations, k) + 2 * 8 * net.n_branch * block,
            what=f"N-k over {n_c:,} outage sets",
            field="--out",
            hint="write the violations to a file (--out) or screen fewer sets",
        )
    acc = _acc or _accumulator(
        net, ctx, outages, threshold_percent, worsening_pp, keep_violations, violations_out
    )
    cut = _Islanding.zeros(n_c)
    _screen_sets(net, ctx, acc, outages, cut, block, progress, _done)
    return _finish(net, ctx, acc, outages, cut, t0, worsening_pp)


def _screen_sets(
    net: Network,
    ctx: _Context,
    acc: _Accumulator,
    outages: list[tuple[str, ...]],
    cut: _Islanding,
    block: int,
    progress: Progress | None,
    done: np.ndarray | None,
) -> None:
    """Screen the sets one by one, recording their flows in blocks of ``block`` columns.

    Parameters
    ----------
    net : compiled network.
    ctx : the run's pre-outage context.
    acc : the accumulator of the run.
    outages : element ids per contingency.
    cut : written per set: islanding, lost load and generation, dark buses.
    block : contingencies per recorded block (and per progress report).
    progress : called with (done, total).
    done : (n_c,) bool, sets already screened elsewhere (skipped), or None.
    """
    n_c = len(outages)
    posts = np.zeros((net.n_branch, block))
    loads = np.zeros((net.n_branch, block))
    idx: list[int] = []

    def flush() -> None:
        m = len(idx)
        if m:
            acc.add(np.asarray(idx), posts[:, :m], loads[:, :m])
            idx.clear()

    for i, s in enumerate(outages):
        if done is not None and done[i]:
            continue
        f, _gone, ll, lg, nd = _set_flows(net, ctx, s)
        if f is None:
            _direct(net, ctx, acc, i, s, cut)
        else:
            cut.islanding[i], cut.dark_buses[i] = nd > 0, nd
            cut.lost_load_mw[i], cut.lost_gen_mw[i] = ll, lg
            j = len(idx)
            np.nan_to_num(f, copy=False)
            posts[:, j] = f
            loads[:, j] = np.abs(f) * ctx.w
            idx.append(i)
            if len(idx) == block:
                flush()
        if progress and (i + 1) % block == 0:
            progress(i + 1, n_c)
    flush()
    if progress:
        progress(n_c, n_c)
