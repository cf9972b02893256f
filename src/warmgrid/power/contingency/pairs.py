"""N-2 pairs: every pair of branch outages drawn from a candidate list.

The pairs of in-service non-bridge candidates are screened together, vectorised, by a
2×2 Woodbury update on the candidates' transfer columns; the rest (pairs with a bridge,
an out-of-service candidate or a singular 2×2 system) go through
:func:`~warmgrid.power.contingency.sets.n_minus_k`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from warmgrid.power.contingency.context import Progress, _branch_index, _Context
from warmgrid.power.contingency.memory import _per_contingency_bytes, check_memory
from warmgrid.power.contingency.result import ContingencyResult
from warmgrid.power.contingency.sets import n_minus_k
from warmgrid.power.contingency.summary import _Accumulator, _accumulator
from warmgrid.power.network import Network, State

__all__ = ["n_minus_k_pairs"]


def n_minus_k_pairs(
    net: Network,
    candidates: int | Sequence[str] = 200,
    state: State | None = None,
    *,
    threshold_percent: float = 100.0,
    worsening_pp: float | None = 1.0,
    keep_violations: bool = True,
    violations_out: str | Path | None = None,
    progress: Progress | None = None,
) -> ContingencyResult:
    """Screen every pair of branch outages drawn from a candidate list.

    Parameters
    ----------
    candidates : branch ids, or a count: that many branches with the highest
        pre-outage loading (energised, in service, rated).
    threshold_percent, worsening_pp, keep_violations, violations_out : as in
        :func:`n_minus_1`.

    Raises
    ------
    InputError : an unknown candidate, or more pairs than fit in the available memory
        (the estimate: the candidates' transfer columns, 3 × 8 B × branches × candidates,
        plus about 0.5 kB per pair, plus the kept violations).
    """
    ctx = _Context(net, state)
    if isinstance(candidates, int):
        ld = np.where(ctx.fac.branch_on, np.abs(ctx.f0) * ctx.w, -1.0)
        top = np.argsort(-ld, kind="stable")[:candidates]
        top = top[ld[top] >= 0]
        cids = [str(x) for x in net.branch_ids[top]]
    else:
        cids = list(candidates)
    r = _branch_index(net, cids, ctx.fac.branch_on)
    c = len(cids)
    n_pairs = c * (c - 1) // 2
    check_memory(
        3 * 8 * net.n_branch * c + n_pairs * (500 + _per_contingency_bytes(keep_violations, 2)),
        what=f"N-2 over {c:,} candidates ({n_pairs:,} pairs)",
        field="--candidates",
        hint="use fewer --candidates" + ("" if not keep_violations else " or --out"),
    )
    ii, jj = np.triu_indices(c, k=1)
    sets = [(cids[i], cids[j]) for i, j in zip(ii.tolist(), jj.tolist(), strict=True)]
    acc = _accumulator(
        net, ctx, sets, threshold_percent, worsening_pp, keep_violations, violations_out
    )
    done = _pairs_vectorised(ctx, r, ii, jj, acc, progress)
    return n_minus_k(
        net,
        sets,
        threshold_percent=threshold_percent,
        worsening_pp=worsening_pp,
        progress=progress,
        _ctx=ctx,
        _done=done,
        _acc=acc,
    )


def _pairs_vectorised(
    ctx: _Context,
    r: np.ndarray,
    ii: np.ndarray,
    jj: np.ndarray,
    acc: _Accumulator,
    progress: Progress | None,
) -> np.ndarray:
    """Screen the pairs of in-service non-bridge candidates by 2×2 Woodbury, in blocks.

    With ``φ`` the candidates' transfer columns and ``H[a, b] = φ_b[r_a]``, the pair (i, j)
    gives ``f' = f + φ_i α_i + φ_j α_j`` with ``[[1 − H_ii, −H_ij], [−H_ji, 1 − H_jj]] α =
    (f_i, f_j)``. A pair whose 2×2 system is singular cuts the grid and is left to the
    per-set path, as are pairs with a bridge or an out-of-service candidate.

    Returns
    -------
    (n_pairs,) bool: the pairs handled here.
    """
    net, fac = ctx.net, ctx.fac
    ok_c = fac.branch_on[r] & ~ctx.tree.is_bridge[r]
    done = np.zeros(len(ii), dtype=bool)
    if not ok_c.any():
        return done
    ends = ctx.ptdf(np.concatenate([net.f[r], net.t[r]]))
    phi = ends[:, : len(r)] - ends[:, len(r) :]  # (n_branch, c) transfer sensitivities
    h = phi[r]  # h[a, b] = φ_b[r_a]
    f = ctx.f0[r]
    a11 = 1.0 - h[ii, ii]
    a22 = 1.0 - h[jj, jj]
    a12 = -h[ii, jj]
    a21 = -h[jj, ii]
    det = a11 * a22 - a12 * a21
    scale = np.maximum(1.0, np.maximum(np.abs(a11), np.abs(a22)))
    good = ok_c[ii] & ok_c[jj] & (np.abs(det) > 1e-9 * scale**2)
    idx = np.flatnonzero(good)
    with np.errstate(divide="ignore", invalid="ignore"):
        al_i = (a22 * f[ii] - a12 * f[jj]) / det
        al_j = (a11 * f[jj] - a21 * f[ii]) / det
    nb = net.n_branch
    blk = int(max(16, min(2048, 64e6 / (8 * nb * 3))))
    for s in range(0, len(idx), blk):
        q = idx[s : s + blk]
        post = phi[:, ii[q]] * al_i[q][None, :]
        post += phi[:, jj[q]] * al_j[q][None, :]
        post += ctx.f0[:, None]
        load = np.abs(post)
        load *= ctx.w[:, None]
        cols = np.arange(len(q))
        load[r[ii[q]], cols] = 0.0
        load[r[jj[q]], cols] = 0.0
        acc.add(q, post, load)
        if progress:
            progress(s + len(q), len(ii))
    done[idx] = True
    return done
