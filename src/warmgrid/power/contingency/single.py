"""N-1: every single branch outage (and optionally every unit outage), screened in blocks.

* **Non-islanding branch outages** by LODF, in blocks ordered so outages share end buses;
  each block needs one triangular solve per distinct end bus.
* **Islanding branch outages** (bridges): an injection change at the slack-side end, the
  cut-off DFS subtree dark; a cut-off side holding another slack is solved directly.
* **Unit outages**: the lost output picked up by the slack or pro rata to ``p_max``.

With numba each block is folded into the summaries by one fused kernel
(:func:`warmgrid.power._fast.screen_block`) that never materialises branches × outages.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from warmgrid.power._fast import HAVE_NUMBA, Transfers, screen_block
from warmgrid.power.contingency.context import (
    Progress,
    _branch_index,
    _Context,
    _direct,
    _Islanding,
)
from warmgrid.power.contingency.memory import _per_contingency_bytes, check_memory
from warmgrid.power.contingency.result import ContingencyResult
from warmgrid.power.contingency.summary import _Accumulator, _accumulator, _finish
from warmgrid.power.network import Network, State

__all__ = ["n_minus_1"]


def n_minus_1(
    net: Network,
    state: State | None = None,
    *,
    branches: Sequence[str] | None = None,
    generators: Literal[False, "slack", "pro_rata"] = False,
    threshold_percent: float = 100.0,
    worsening_pp: float | None = 1.0,
    keep_violations: bool = True,
    violations_out: str | Path | None = None,
    block_mb: float = 64.0,
    progress: Progress | None = None,
) -> ContingencyResult:
    """Screen every single branch outage (and optionally every unit outage).

    Parameters
    ----------
    net : compiled network.
    state : pre-outage masks; the base state when omitted.
    branches : ids of the branches to take out one at a time; all in-service branches of
        energised islands when omitted (others have no effect and are skipped).
    generators : also take out every in-service non-slack unit, its output picked up by
        the slack (``"slack"``) or by the island's other non-slack units pro rata to their
        finite ``p_max`` (``"pro_rata"``; the slack takes it if there are none).
    threshold_percent : loading above which a branch counts as overloaded.
    worsening_pp : a branch overloaded before the outage counts only when the outage
        raises its loading by more than this, percentage points; None counts every
        loading above the threshold (module docstring).
    keep_violations : keep the violation table in memory (:attr:`ContingencyResult.violations`).
    violations_out : also stream the violations to this ``.parquet`` or ``.csv`` file.
    block_mb : memory for one block of post-contingency flows; peak memory is a few times this.
    progress : called with (done, total) after each block.

    Returns
    -------
    ContingencyResult

    Raises
    ------
    InputError : an unknown or non-branch id, a bad threshold, or a run that would not fit
        in the available memory.
    """
    t0 = time.perf_counter()
    ctx = _Context(net, state)
    normal, bridge, gens = _single_outages(net, ctx, branches, generators)
    ids = [*net.branch_ids[normal], *net.branch_ids[bridge], *net.gen_ids[gens]]
    outages: list[tuple[str, ...]] = [(str(i),) for i in ids]
    n_c = len(outages)
    nb = net.n_branch
    check_memory(
        n_c * _per_contingency_bytes(keep_violations, 1) + 3 * 8 * nb * 4096,
        what=f"N-1 over {n_c:,} contingencies",
        field="--out",
        hint="write the violations to a file (--out) instead of keeping them in memory",
    )
    acc = _accumulator(
        net, ctx, outages, threshold_percent, worsening_pp, keep_violations, violations_out
    )
    cut = _Islanding.zeros(n_c)
    if HAVE_NUMBA:  # the fused kernel never materialises branches x outages
        blk = 512
    else:
        blk = int(max(16, min(4096, block_mb * 1e6 / (8 * nb * 4))))
    run = _Screening(ctx, acc, n_c, progress)
    _screen_lodf(run, normal, blk)
    _screen_bridges(run, bridge, len(normal), blk, outages, cut)
    if len(gens):
        ci = len(normal) + len(bridge) + np.arange(len(gens))
        if generators == "slack":
            _screen_units_slack(run, gens, ci, blk)
        else:
            _screen_units_pro_rata(run, gens, ci, blk)
    return _finish(net, ctx, acc, outages, cut, t0, worsening_pp)


def _single_outages(
    net: Network,
    ctx: _Context,
    branches: Sequence[str] | None,
    generators: Literal[False, "slack", "pro_rata"],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The elements an N-1 run takes out, in screening order.

    Returns
    -------
    normal : in-service non-bridge branches (non-islanding outages).
    bridge : in-service bridges (islanding outages).
    gens : in-service non-slack units on live buses when ``generators``, else empty.
    """
    fac = ctx.fac
    cand = _branch_index(net, branches, fac.branch_on)
    cand = cand[fac.branch_on[cand]]
    isb = ctx.tree.is_bridge[cand]
    normal, bridge = cand[~isb], cand[isb]
    gens = np.zeros(0, dtype=np.int64)
    if generators:
        gons = ctx.state.gen_on & ~net.gen_slack & fac.live_bus[net.gen_bus]
        gens = np.flatnonzero(gons)
    return normal, bridge, gens


class _Screening:
    """The blocks of one N-1 run: folds them into the accumulator and reports progress.

    Parameters
    ----------
    ctx : the run's pre-outage context.
    acc : the accumulator of the run.
    n_c : contingencies in the run (the progress total).
    progress : called with (done, total) after each block.
    """

    def __init__(
        self, ctx: _Context, acc: _Accumulator, n_c: int, progress: Progress | None
    ) -> None:
        self.ctx, self.acc, self.n_c, self.progress = ctx, acc, n_c, progress
        self.done = 0
        self.tinf = ctx.tree.tin[ctx.net.f]  # (n_branch,) from-bus preorder positions

    def block(
        self,
        cidx: np.ndarray,
        tr: Transfers,
        coef: np.ndarray,
        excl: np.ndarray,
        lo: np.ndarray | None = None,
        hi: np.ndarray | None = None,
    ) -> None:
        """Screen one block of single-injection or transfer outages.

        Parameters
        ----------
        cidx : (m,) contingency indices.
        tr : the outages' unit solutions (:meth:`_Context.transfers`).
        coef : (m,) MW per unit solution of each outage.
        excl : (m,) branch whose loading counts as 0 (the outaged one), or −1.
        lo, hi : (m,) preorder range of the side each outage cuts off (none when omitted).
        """
        ctx, acc = self.ctx, self.acc
        if lo is None or hi is None:
            lo = hi = np.zeros(len(cidx), dtype=np.int64)
        stats = screen_block(
            tr,
            ctx.pf,
            ctx.pt,
            ctx.fac.b,
            ctx.f0,
            ctx.w,
            coef,
            excl,
            lo,
            hi,
            self.tinf,
            acc.branch_thr,
            cidx,
            acc.branch_worst,
            acc.branch_worst_c,
        )
        acc.add_stats(cidx, *stats)
        self.advance(len(cidx))

    def advance(self, m: int) -> None:
        """Count ``m`` more contingencies done and report progress."""
        self.done += m
        if self.progress:
            self.progress(self.done, self.n_c)


def _screen_lodf(run: _Screening, normal: np.ndarray, blk: int) -> None:
    """Non-islanding branch outages by LODF, in blocks ordered for shared end buses.

    ``post = f0 + φ_k · f0[k] / (1 − φ_k[k])`` with ``φ_k = b ⊙ A · B⁻¹ (e_f − e_t)``;
    the outage of ``normal[i]`` is contingency ``i``.

    Parameters
    ----------
    run : the run's screening state.
    normal : (n_normal,) in-service non-bridge branches.
    blk : outages per block.
    """
    ctx = run.ctx
    net, fac = ctx.net, ctx.fac
    key = np.maximum(ctx.tree.tin[net.f[normal]], ctx.tree.tin[net.t[normal]])
    ordn = np.argsort(key, kind="stable")
    for s in range(0, len(normal), blk):
        sel = ordn[s : s + blk]
        k = normal[sel]
        ub, inv = np.unique(np.concatenate([net.f[k], net.t[k]]), return_inverse=True)
        tr = ctx.transfers(ub, inv[: len(k)], inv[len(k) :])
        rf, rt, y = tr.rowmap[ctx.pf[k]], tr.rowmap[ctx.pt[k]], tr.y
        phikk = fac.b[k] * ((y[rf, tr.cf] - y[rf, tr.ct]) - (y[rt, tr.cf] - y[rt, tr.ct]))
        run.block(sel, tr, ctx.f0[k] / (1.0 - phikk), k)


def _screen_bridges(
    run: _Screening,
    bridge: np.ndarray,
    off: int,
    blk: int,
    outages: Sequence[tuple[str, ...]],
    cut: _Islanding,
) -> None:
    """Islanding branch outages: an injection change at the slack-side end, subtree dark.

    A bridge whose cut-off side holds another slack is solved directly (:func:`_direct`).

    Parameters
    ----------
    run : the run's screening state.
    bridge : (n_bridge,) in-service bridges; ``bridge[i]`` is contingency ``off + i``.
    off : index of the first bridge contingency.
    blk : outages per block.
    outages : element ids per contingency (for the direct solves).
    cut : written for each bridge: islanding, lost load and generation, dark buses.
    """
    if not len(bridge):
        return
    ctx = run.ctx
    net = ctx.net
    parts = [ctx.cut(int(k)) for k in bridge]
    par = np.array([p[0] for p in parts], dtype=np.int64)
    lo = np.array([p[1] for p in parts], dtype=np.int64)
    hi = np.array([p[2] for p in parts], dtype=np.int64)
    ll, lg, lref = ctx.side_sums(lo, hi)
    ci = off + np.arange(len(bridge))
    cut.islanding[ci] = True
    cut.lost_load_mw[ci], cut.lost_gen_mw[ci], cut.dark_buses[ci] = ll, lg, hi - lo
    dinj = ctx.f0[bridge] * np.where(net.f[bridge] == par, 1.0, -1.0)
    direct = lref > 0  # another slack on the cut-off side: solve it directly
    idx = np.flatnonzero(~direct)
    for s in range(0, len(idx), blk):
        j = idx[s : s + blk]
        up, inv = np.unique(par[j], return_inverse=True)
        tr = ctx.transfers(up, inv, np.full(len(j), -1, dtype=np.int64))
        run.block(ci[j], tr, dinj[j], bridge[j], lo[j], hi[j])
    for jd in np.flatnonzero(direct):
        _direct(net, ctx, run.acc, int(ci[jd]), outages[ci[jd]], cut)
        run.done += 1


def _screen_units_slack(run: _Screening, gens: np.ndarray, ci: np.ndarray, blk: int) -> None:
    """Unit outages whose output the slack picks up: one injection change each.

    Parameters
    ----------
    run : the run's screening state.
    gens : (n_unit,) units to take out; ``gens[i]`` is contingency ``ci[i]``.
    ci : (n_unit,) contingency indices.
    blk : outages per block.
    """
    ctx = run.ctx
    net = ctx.net
    pg = net.gen_p_mw[gens]
    for s in range(0, len(gens), blk):
        j = np.arange(s, min(s + blk, len(gens)))
        up, inv = np.unique(net.gen_bus[gens[j]], return_inverse=True)
        tr = ctx.transfers(up, inv, np.full(len(j), -1, dtype=np.int64))
        run.block(ci[j], tr, -pg[j], np.full(len(j), -1, dtype=np.int64))


def _screen_units_pro_rata(run: _Screening, gens: np.ndarray, ci: np.ndarray, blk: int) -> None:
    """Unit outages picked up pro rata to ``p_max`` by the island's other units.

    With shares ``s_h`` (:func:`_pro_rata_shares`), island total ``S = Σ_h s_h`` and the
    island's weight vector ``ω = Σ_h s_h e_bus(h) / S``, the others pick up ``p_g`` in
    proportion to ``s_h / (S − s_g)`` when unit g trips, an injection change

    ``Δp = −p_g e_g + p_g (S ω − s_g e_g) / (S − s_g) = −p_g S / (S − s_g) · (e_g − ω)``

    (the rank-one correction ``ω_{−g} = (ω − w_g e_g) / (1 − w_g)``, ``w_g = s_g / S``, of
    the unit's own share): a transfer from the unit's bus to the island's weight vector,
    ``Δf = −p_g / (1 − w_g) · b ⊙ A B⁻¹ (e_g − ω)``. So a block needs the unit solutions of
    its buses (as with slack pick-up) plus one solve ``B⁻¹ω`` per island it touches.
    A unit with no other share in its island is picked up by the slack (``ω`` dropped).

    Parameters
    ----------
    run : the run's screening state.
    gens : (n_unit,) units to take out; ``gens[i]`` is contingency ``ci[i]``.
    ci : (n_unit,) contingency indices.
    blk : outages per block.
    """
    ctx = run.ctx
    net = ctx.net
    pick = _PickUp(net, ctx, gens)
    coef = -net.gen_p_mw[gens] * pick.scale
    for s in range(0, len(gens), blk):
        j = np.arange(s, min(s + blk, len(gens)))
        up, inv = np.unique(net.gen_bus[gens[j]], return_inverse=True)
        isl, iinv = np.unique(pick.island[j], return_inverse=True)
        has = isl >= 0  # −1 (slack pick-up) sorts first and needs no column
        ct = np.where(pick.island[j] >= 0, len(up) + iinv - int((~has).sum()), -1)
        omega = ctx.solve_injections(pick.weights(isl[has]))
        tr = ctx.transfers_to(up, omega, inv, ct)
        run.block(ci[j], tr, coef[j], np.full(len(j), -1, dtype=np.int64))


def _pro_rata_shares(net: Network, ctx: _Context) -> np.ndarray:
    """(n_gen,) MW share of each unit in a pro-rata pick-up: its finite ``p_max`` (≥ 0) if
    it is in service, not a slack and on a live bus, else 0."""
    st = ctx.state
    pmax = np.where(np.isfinite(net.gen_pmax_mw), np.maximum(net.gen_pmax_mw, 0.0), 0.0)
    return pmax * (st.gen_on & ~net.gen_slack & ctx.fac.live_bus[net.gen_bus])


class _PickUp:
    """Each unit outage as a transfer to its island's weight vector
    (:func:`_screen_units_pro_rata`).

    Attributes
    ----------
    island : (n_unit,) index of the unit's island among those with shares; −1 when no
        other unit of the island has a share (the slack picks the output up).
    scale : (n_unit,) ``S / (S − s_g) = 1 / (1 − w_g)`` (1 where ``island`` is −1).
    """

    def __init__(self, net: Network, ctx: _Context, gens: np.ndarray) -> None:
        self.n_bus = net.n_bus
        share = _pro_rata_shares(net, ctx)
        gl = ctx.base.island[net.gen_bus]
        has = np.flatnonzero(share > 0)
        order = has[np.argsort(gl[has], kind="stable")]  # sharers by island, then index
        labs, start = np.unique(gl[order], return_index=True)
        self.start = np.append(start, len(order))
        tot = np.array([share[order[a:b]].sum() for a, b in itertools.pairwise(self.start)])
        self.bus = net.gen_bus[order]
        self.weight = share[order] / np.repeat(tot, np.diff(self.start))
        k = np.searchsorted(labs, gl[gens])
        known = k < len(labs)
        known[known] = labs[k[known]] == gl[gens[known]]
        k = np.where(known, k, 0)
        rest = np.where(known, tot[k] if len(tot) else 0.0, 0.0) - share[gens]
        ok = known & (rest > 0)
        self.island = np.where(ok, k, -1)
        self.scale = np.ones(len(gens))
        self.scale[ok] = tot[k[ok]] / rest[ok]

    def weights(self, islands: np.ndarray) -> np.ndarray:
        """(n_bus, len) weight vectors ``ω`` of the given islands (indices as ``island``)."""
        inj = np.zeros((self.n_bus, len(islands)))
        for c, k in enumerate(islands.tolist()):
            a, b = self.start[k], self.start[k + 1]
            np.add.at(inj[:, c], self.bus[a:b], self.weight[a:b])
        return inj
