"""Optional compiled kernels (numba) for the DC engines, with pure numpy/SciPy fallbacks.

numba is *optional* (:mod:`warmgrid.power._jit`): when it cannot be imported every caller
falls back to SuperLU's own solve and to numpy, with identical results (the tests compare
both paths). Every switch between the two paths reads :data:`HAVE_NUMBA` of this module.

* :func:`lu_solve` does the forward and backward substitutions of a SuperLU factor
  (``Pr · A · Pc = L · U``) for many right-hand sides at once, row-major, so the inner
  loop runs over contiguous right-hand sides. SuperLU's ``dgstrs`` loops over them one
  at a time and is 5–8× slower on power-grid matrices, whose supernodes are tiny.
* :func:`screen_block` evaluates one block of single-outage post-contingency flows and
  folds them straight into the running maxima and the violation list, in one pass over
  the block, without materialising the branches × outages flow matrix.
* The AC power flow's kernels (:func:`jacobian_values`, :func:`lu_symbolic`,
  :func:`lu_numeric`, :func:`lu_solve_vec`) live in :mod:`warmgrid.power._fast_ac` and
  are importable from here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from warmgrid.power._fast_ac import jacobian_values, lu_numeric, lu_solve_vec, lu_symbolic
from warmgrid.power._jit import HAVE_NUMBA, _njit, _njit_fast, _njit_inline

__all__ = [
    "HAVE_NUMBA",
    "LUSolver",
    "Transfers",
    "jacobian_values",
    "lu_numeric",
    "lu_solve",
    "lu_solve_vec",
    "lu_symbolic",
    "screen_block",
    "transfer_solutions",
]


@_njit
def _lu_rows(lp, li, lx, up, ui, ux, ud, x):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = ud.shape[0]  # x may carry extra zero rows/columns beyond the system's n
    m = x.shape[1]
    for j in range(n):  # L is unit lower triangular, CSC, diagonal stored
        for q in range(lp[j], lp[j + 1]):
            i = li[q]
            if i > j:
                a = lx[q]
                for c in range(m):
                    x[i, c] -= a * x[j, c]
    for j in range(n - 1, -1, -1):  # U upper triangular, CSC
        inv = 1.0 / ud[j]
        for c in range(m):
            x[j, c] *= inv
        for q in range(up[j], up[j + 1]):
            i = ui[q]
            if i < j:
                a = ux[q]
                for c in range(m):
                    x[i, c] -= a * x[j, c]


class LUSolver:
    """Many-right-hand-side substitutions with the factors of a ``scipy`` SuperLU object."""

    def __init__(self, lu: Any) -> None:
        self.lu = lu
        if HAVE_NUMBA:
            low = lu.L.tocsc()
            upp = lu.U.tocsc()
            low.sort_indices()
            upp.sort_indices()
            self.low, self.upp = low, upp
            self.ud = upp.diagonal().copy()
            self.perm_r = lu.perm_r
            self.perm_c = lu.perm_c

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """(n, m) solutions of A x = rhs (rhs (n, m) or (n,))."""
        if not HAVE_NUMBA:
            return self.lu.solve(np.asfortranarray(rhs))
        vec = rhs.ndim == 1
        b = rhs[:, None] if vec else rhs
        y = np.empty((b.shape[0], b.shape[1]))
        y[self.perm_r] = b
        lo, up = self.low, self.upp
        _lu_rows(lo.indptr, lo.indices, lo.data, up.indptr, up.indices, up.data, self.ud, y)
        x = y[self.perm_c]
        return x[:, 0] if vec else x

    def solve_units(self, pos: np.ndarray) -> np.ndarray:
        """Solutions for unit right-hand sides, padded for gathers.

        Parameters
        ----------
        pos : (m,) row of the 1 in each right-hand side; −1 for an all-zero one.

        Returns
        -------
        (n + 1, m + 1) C-ordered: column j solves A x = e_pos[j]; the last row and the
        last column are zero.
        """
        n = self.lu.shape[0]
        m = len(pos)
        out = np.zeros((n + 1, m + 1))
        ok = pos >= 0
        cols = np.flatnonzero(ok)
        if not HAVE_NUMBA:
            for s in range(0, len(cols), 16):  # SuperLU slows down on wide blocks
                c = cols[s : s + 16]
                rhs = np.zeros((n, len(c)), order="F")
                rhs[pos[c], np.arange(len(c))] = 1.0
                out[:n, c] = self.lu.solve(rhs)
            return out
        y = self.solve_units_raw(pos)
        _take_rows(y[:n, :m], self.perm_c, out)
        return out

    def solve_units_raw(self, pos: np.ndarray) -> np.ndarray:
        """(n + 1, m + 1) solutions for unit right-hand sides in the factor's order (numba only).

        Row ``i`` of the true solution is row ``perm_c[i]`` of the result; the last row and
        column are zero. :func:`screen_block` applies the permutation while it reads.
        """
        n = self.lu.shape[0]
        m = len(pos)
        ok = pos >= 0
        y = np.zeros((n + 1, m + 1))  # last row and column stay zero (padding for gathers)
        y[self.perm_r[pos[ok]], np.flatnonzero(ok)] = 1.0
        lo, up = self.low, self.upp
        _lu_rows(lo.indptr, lo.indices, lo.data, up.indptr, up.indices, up.data, self.ud, y)
        return y


def lu_solve(solver: LUSolver, rhs: np.ndarray) -> np.ndarray:
    """Solve with a :class:`LUSolver` (module-level convenience)."""
    return solver.solve(rhs)


@_njit
def _take_rows(y, perm, out):  # type: ignore[no-untyped-def]  # pragma: no cover
    n, m = y.shape
    for i in range(n):
        src = perm[i]
        for c in range(m):
            out[i, c] = y[src, c]


class Transfers(NamedTuple):
    """Unit solutions and which pair of them each outage uses.

    Outage c's reduced solution is ``x[:, cf[c]] − x[:, ct[c]]`` where reduced row i of x is
    row ``rowmap[i]`` of ``y``; ``y`` has a zero last row and a zero last column (``ct = m``
    selects a single injection, ``rowmap = n`` a reference bus).
    """

    y: np.ndarray
    rowmap: np.ndarray
    cf: np.ndarray
    ct: np.ndarray


def transfer_solutions(
    solver: LUSolver, pos: np.ndarray, cf: np.ndarray, ct: np.ndarray
) -> Transfers:
    """Solve ``A x_j = e_pos[j]`` for each distinct bus and pair them per outage.

    Parameters
    ----------
    pos : (m_bus,) reduced row of each bus (−1: reference bus, zero solution).
    cf, ct : (m,) indices into ``pos`` per outage; ``ct = −1`` for a single injection.
    """
    n = solver.lu.shape[0]
    m = len(pos)
    ct = np.where(ct < 0, m, ct)
    if not HAVE_NUMBA:
        return Transfers(solver.solve_units(pos), np.arange(n + 1), cf, ct)
    # 32-bit column indices: half the index traffic in the screening kernel's hot loop
    return Transfers(
        solver.solve_units_raw(pos),
        np.append(solver.perm_c, n),
        cf.astype(np.int32),
        ct.astype(np.int32),
    )


# ---------------------------------------------------------------------- N-1 screening
@_njit_inline
def _excluding_columns(excl, nb):  # type: ignore[no-untyped-def]  # pragma: no cover
    """The columns that exclude each row (the outaged branch itself), CSR by row.

    Returns ``(start, ecol)``: row r's columns are ``ecol[start[r] : start[r + 1]]``.
    """
    m = excl.shape[0]
    start = np.zeros(nb + 1, dtype=np.int64)
    for c in range(m):
        if excl[c] >= 0:
            start[excl[c] + 1] += 1
    for i in range(nb):
        start[i + 1] += start[i]
    fill = start[:nb].copy()
    ecol = np.empty(start[nb], dtype=np.int64)
    for c in range(m):
        e = excl[c]
        if e >= 0:
            ecol[fill[e]] = c
            fill[e] += 1
    return start, ecol


@_njit_inline
def _raise_column_max(row, ld, colmax, colarg):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Raise each column's running max to row ``row``'s loading ``ld`` where it is higher;
    return the new minimum over the columns' maxima."""
    m = ld.shape[0]
    for c in range(m):
        v = ld[c]
        if v > colmax[c]:
            colmax[c] = v
            colarg[c] = row
    cmin = colmax[0]
    for c in range(m):
        cmin = min(cmin, colmax[c])
    return cmin


@_njit_inline
def _record_violations(row, t, ld, dz, cf, ct, bl, coef, f, cidx, colcnt, vc, vb, vp, vl, nv):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Count and record the columns of row ``row`` whose loading ``ld`` exceeds ``t``.

    Rows beyond the buffers' capacity are counted, not written; returns the new count.
    """
    m = ld.shape[0]
    cap = vc.shape[0]
    for c in range(m):
        v = ld[c]
        if v > t:
            colcnt[c] += 1
            if nv < cap:
                vc[nv] = cidx[c]
                vb[nv] = row
                vp[nv] = (dz[cf[c]] - dz[ct[c]]) * bl * coef[c] + f
                vl[nv] = v
            nv += 1
    return nv


@_njit_fast
def _screen(
    y,
    cf,
    ct,
    pf,
    pt,
    b,
    f0,
    w,
    coef,
    excl,
    lo,
    hi,
    tinf,
    thr,
    colmax,
    colarg,
    colcnt,
    rowmax,
    rowarg,
    cidx,
    vc,
    vb,
    vp,
    vl,
    nv0,
):  # type: ignore[no-untyped-def]  # pragma: no cover
    nb = pf.shape[0]
    m = coef.shape[0]
    nv = nv0
    ld = np.empty(m)
    cmin = 0.0  # min over columns of colmax (all start at 0)
    for c in range(m):
        cmin = min(cmin, colmax[c])
    mb = y.shape[1]
    dz = np.empty(mb)
    ranges = False
    for c in range(m):
        if lo[c] < hi[c]:
            ranges = True
    start, ecol = _excluding_columns(excl, nb)
    for row in range(nb):
        wl = w[row]
        if wl == 0.0:
            continue
        bl = b[row]
        zf = y[pf[row]]
        zt = y[pt[row]]
        f = f0[row]
        for j in range(mb):  # angle difference across the branch per unit solution
            dz[j] = zf[j] - zt[j]
        for c in range(m):  # two gathers from dz (in L1), no branches
            ld[c] = abs((dz[cf[c]] - dz[ct[c]]) * bl * coef[c] + f) * wl
        for q in range(start[row], start[row + 1]):
            ld[ecol[q]] = 0.0
        if ranges:
            tl = tinf[row]
            for c in range(m):
                if tl >= lo[c] and tl < hi[c]:
                    ld[c] = 0.0
        loc = 0.0
        for c in range(m):  # vectorised max
            loc = max(loc, ld[c])
        if loc > cmin:  # some column's running max may rise (rare once they are warm)
            cmin = _raise_column_max(row, ld, colmax, colarg)
        if loc > rowmax[row]:
            for c in range(m):
                if ld[c] == loc:
                    rowmax[row] = loc
                    rowarg[row] = cidx[c]
                    break
        t = thr[row]
        if loc > t:
            nv = _record_violations(
                row, t, ld, dz, cf, ct, bl, coef, f, cidx, colcnt, vc, vb, vp, vl, nv
            )
    return nv


class _Block(NamedTuple):
    """The arguments of :func:`_screen` that describe one block (:func:`screen_block`'s,
    with the branch ends already mapped to rows of ``y``)."""

    y: np.ndarray
    cf: np.ndarray
    ct: np.ndarray
    rf: np.ndarray
    rt: np.ndarray
    b: np.ndarray
    f0: np.ndarray
    w: np.ndarray
    coef: np.ndarray
    excl: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    tinf: np.ndarray
    thr: np.ndarray


def screen_block(
    tr: Transfers,
    pf: np.ndarray,
    pt: np.ndarray,
    b: np.ndarray,
    f0: np.ndarray,
    w: np.ndarray,
    coef: np.ndarray,
    excl: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tinf: np.ndarray,
    thr: np.ndarray,
    cidx: np.ndarray,
    rowmax: np.ndarray,
    rowarg: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Fold one block of outages into the running summaries.

    Post-outage flow of branch l in column c: ``f0[l] + coef[c] · b[l] · (zc[pf[l]] − zc[pt[l]])``
    with ``zc`` outage c's reduced solution from :func:`transfer_solutions` (a transfer
    or a single-bus injection);
    its loading counts as 0 on ``excl[c]`` and on branches whose from-bus preorder
    position lies in ``[lo[c], hi[c])`` (a dark side).

    Parameters
    ----------
    tr : the outages' solutions (:func:`transfer_solutions`).
    pf, pt : (n_branch,) reduced row of each branch end (n_unknown for a reference bus).
    b : (n_branch,) susceptance (0 off), p.u.; f0 : base flows MW; w : 100 / rate (0 off).
    coef : (m,) MW scale per column; excl : (m,) excluded branch or −1.
    lo, hi, tinf : dark-side ranges and branch from-bus preorder positions.
    thr : (n_branch,) loading above which each branch counts as a violation, %.
    cidx : (m,) contingency indices.
    rowmax, rowarg : (n_branch,) per-branch worst loading and contingency, updated in place.

    Returns
    -------
    colmax, colarg, colcnt : per column max loading, its branch, count above ``thr``.
    violations : (contingency, branch, p_mw, loading) arrays.
    """
    if not HAVE_NUMBA:
        return _screen_numpy(
            tr, pf, pt, b, f0, w, coef, excl, lo, hi, tinf, thr, cidx, rowmax, rowarg
        )
    blk = _Block(
        tr.y, tr.cf, tr.ct, tr.rowmap[pf], tr.rowmap[pt], b, f0, w, coef, excl, lo, hi, tinf, thr
    )
    return _screen_fused(blk, cidx, rowmax, rowarg)


def _screen_fused(
    blk: _Block, cidx: np.ndarray, rowmax: np.ndarray, rowarg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """The numba path of :func:`screen_block`: :func:`_screen` with a violation buffer,
    the block redone with a larger buffer when it overflows (same returns)."""
    m = len(blk.coef)
    colmax = np.zeros(m)
    colarg = np.full(m, -1, dtype=np.int64)
    colcnt = np.zeros(m, dtype=np.int64)
    cap = max(1024, 4 * m, int(1.25 * _CAP_HINT[0] * m))
    while True:
        vc = np.empty(cap, dtype=np.int64)
        vb = np.empty(cap, dtype=np.int64)
        vp = np.empty(cap)
        vl = np.empty(cap)
        rm0, ra0 = rowmax.copy(), rowarg.copy()
        nv = _screen(*blk, colmax, colarg, colcnt, rowmax, rowarg, cidx, vc, vb, vp, vl, 0)
        _CAP_HINT[0] = max(_CAP_HINT[0], nv / max(1, m))
        if nv <= cap:
            return colmax, colarg, colcnt, (vc[:nv], vb[:nv], vp[:nv], vl[:nv])
        # too many violations for the buffer: redo the block with room for all of them
        cap = int(nv)
        rowmax[:], rowarg[:] = rm0, ra0
        colmax[:] = 0.0
        colarg[:] = -1
        colcnt[:] = 0


_CAP_HINT = [0.0]  # violations per outage seen so far, to size the next buffer


def _screen_numpy(
    tr: Transfers,
    pf: np.ndarray,
    pt: np.ndarray,
    b: np.ndarray,
    f0: np.ndarray,
    w: np.ndarray,
    coef: np.ndarray,
    excl: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tinf: np.ndarray,
    thr: np.ndarray,
    cidx: np.ndarray,
    rowmax: np.ndarray,
    rowarg: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """The numpy version of :func:`screen_block` (materialises the block)."""
    m = len(coef)
    cols = np.arange(m)
    dz = tr.y[tr.rowmap[pf]] - tr.y[tr.rowmap[pt]]  # (n_branch, n_solutions)
    post = dz[:, tr.cf] - dz[:, tr.ct]
    post *= b[:, None]
    post *= coef[None, :]
    post += f0[:, None]
    ld = np.abs(post)
    ld *= w[:, None]
    ex = excl >= 0
    ld[excl[ex], cols[ex]] = 0.0
    rng = lo < hi
    if rng.any():
        c = cols[rng]
        ld[:, c] *= ~((tinf[:, None] >= lo[c][None, :]) & (tinf[:, None] < hi[c][None, :]))
    colarg = ld.argmax(axis=0)
    colmax = ld[colarg, cols]
    colarg[colmax <= 0.0] = -1
    over = ld > thr[:, None]
    colcnt = over.sum(axis=0)
    bm = ld.argmax(axis=1)
    bv = ld[np.arange(ld.shape[0]), bm]
    better = bv > rowmax
    rowmax[better] = bv[better]
    rowarg[better] = cidx[bm[better]]
    r, c = np.nonzero(over)
    return colmax, colarg, colcnt, (cidx[c], r, post[r, c], ld[r, c])
