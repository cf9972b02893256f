"""Optional compiled kernels (numba) for the DC engines, with pure numpy/SciPy fallbacks.

numba is *optional*: when it cannot be imported every caller falls back to SuperLU's own
solve and to numpy, with identical results (the tests compare both paths).

* :func:`lu_solve` does the forward and backward substitutions of a SuperLU factor
  (``Pr · A · Pc = L · U``) for many right-hand sides at once, row-major, so the inner
  loop runs over contiguous right-hand sides. SuperLU's ``dgstrs`` loops over them one
  at a time and is 5–8× slower on power-grid matrices, whose supernodes are tiny.
* :func:`jacobian_values` fills the values of the AC power flow's polar Jacobian on its
  fixed sparsity pattern in one pass over Ybus (see :mod:`warmgrid.power.ac`).
* :func:`lu_symbolic`, :func:`lu_numeric` and :func:`lu_solve_vec` factorise a
  structurally symmetric matrix in a given order without pivoting, with the symbolic
  part done once: the Newton iterations of the AC flow refactorise the same pattern.
* :func:`screen_block` evaluates one block of single-outage post-contingency flows and
  folds them straight into the running maxima and the violation list, in one pass over
  the block, without materialising the branches × outages flow matrix.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np

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

try:  # pragma: no cover - depends on the environment
    if os.environ.get("WARMGRID_NO_NUMBA"):
        raise ImportError
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    numba = None
    HAVE_NUMBA = False


def _njit(fn: Any) -> Any:
    if HAVE_NUMBA:
        return numba.njit(cache=True, nogil=True)(fn)
    return fn


def _njit_fast(fn: Any) -> Any:
    # fastmath only lets LLVM vectorise the max/abs/compare loops; no reductions are reordered
    if HAVE_NUMBA:
        return numba.njit(cache=True, nogil=True, fastmath=True, error_model="numpy")(fn)
    return fn


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
    cap = vc.shape[0]
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
    # columns that exclude each row (the outaged branch itself), CSR by row
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
            for c in range(m):
                v = ld[c]
                if v > colmax[c]:
                    colmax[c] = v
                    colarg[c] = row
            cmin = colmax[0]
            for c in range(m):
                cmin = min(cmin, colmax[c])
        if loc > rowmax[row]:
            for c in range(m):
                if ld[c] == loc:
                    rowmax[row] = loc
                    rowarg[row] = cidx[c]
                    break
        t = thr[row]
        if loc > t:
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
    pf, pt : (n_branch,) rows of ``z`` for each branch end.
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
    m = len(coef)
    if not HAVE_NUMBA:
        return _screen_numpy(
            tr, pf, pt, b, f0, w, coef, excl, lo, hi, tinf, thr, cidx, rowmax, rowarg
        )
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
        rf, rt = tr.rowmap[pf], tr.rowmap[pt]
        nv = _screen(
            tr.y,
            tr.cf,
            tr.ct,
            rf,
            rt,
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
            0,
        )
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


@_njit
def jacobian_values(indptr, indices, data, v, ibus, slots, out):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Fill ``out`` (the Jacobian's CSC values) from Ybus (CSR) at voltages ``v``.

    For the Ybus entry k = (i, j): ``∂S_i/∂θ_j = j V_i (δ_ij I_i − Y_ij V_j)*`` and
    ``∂S_i/∂|V_j| = V_i (Y_ij V_j/|V_j|)* + δ_ij I_i* V_i/|V_i|`` (MATPOWER ``dSbus_dV``);
    ``slots[b, k]`` is the value slot of entry k in block b (Re ∂S/∂θ, Re ∂S/∂|V|,
    Im ∂S/∂θ, Im ∂S/∂|V|) or −1.
    """
    n = v.shape[0]
    for i in range(n):
        vi = v[i]
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            vj = v[j]
            yv = data[k] * vj
            da = 1j * vi * np.conj(-yv)
            avj = abs(vj)
            dm = vi * np.conj(yv / avj) if avj > 0 else 0j
            if i == j:
                da += 1j * vi * np.conj(ibus[i])
                if avj > 0:
                    dm += np.conj(ibus[i]) * vi / avj
            s = slots[0, k]
            if s >= 0:
                out[s] = da.real
            s = slots[1, k]
            if s >= 0:
                out[s] = dm.real
            s = slots[2, k]
            if s >= 0:
                out[s] = da.imag
            s = slots[3, k]
            if s >= 0:
                out[s] = dm.imag


# ---------------------------------------------------------------------- sparse LU, fixed order
# A left-looking ("row-by-row", IKJ) LU without pivoting for structurally symmetric
# matrices in a fill-reducing order, the classical power-flow factorisation (Tinney &
# Walker, "Direct solutions of sparse network equations by optimally ordered triangular
# factorization", Proc. IEEE 55(11), 1967). The symbolic part (elimination tree and the
# row patterns of L, Liu's "row subtrees"; Davis, *Direct Methods for Sparse Linear
# Systems*, SIAM 2006, sections 4.1-4.2) is done once per pattern; each Newton iteration
# then only runs the numeric part, which SuperLU cannot reuse.


@_njit
def lu_symbolic(indptr, indices):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Row patterns of L (strictly lower, ascending) and U (diagonal first, ascending).

    ``indptr, indices``: CSR pattern of a structurally symmetric n×n matrix with its
    diagonal. Returns ``(lp, li, up, ui)``, CSR patterns of L and U = pattern of Lᵀ + I.
    """
    n = indptr.shape[0] - 1
    parent = np.full(n, -1, dtype=np.int64)
    ancestor = np.full(n, -1, dtype=np.int64)
    for i in range(n):  # elimination tree (Davis, cs_etree)
        for p in range(indptr[i], indptr[i + 1]):
            k = indices[p]
            while k != -1 and k < i:
                nxt = ancestor[k]
                ancestor[k] = i
                if nxt == -1:
                    parent[k] = i
                k = nxt
    mark = np.full(n, -1, dtype=np.int64)
    count = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):  # sizes of the row subtrees
        mark[i] = i
        for p in range(indptr[i], indptr[i + 1]):
            k = indices[p]
            while k < i and mark[k] != i:
                mark[k] = i
                count[i + 1] += 1
                k = parent[k]
    lp = np.cumsum(count)
    li = np.empty(lp[n], dtype=np.int64)
    mark[:] = -1
    for i in range(n):
        mark[i] = i
        q = lp[i]
        for p in range(indptr[i], indptr[i + 1]):
            k = indices[p]
            while k < i and mark[k] != i:
                mark[k] = i
                li[q] = k
                q += 1
                k = parent[k]
        li[lp[i] : lp[i + 1]] = np.sort(li[lp[i] : lp[i + 1]])
    # U = Lᵀ + I by rows: row k holds k and every j with L[j, k] != 0, ascending
    ucount = np.ones(n + 1, dtype=np.int64)
    ucount[0] = 0
    for q in range(lp[n]):
        ucount[li[q] + 1] += 1
    up = np.cumsum(ucount)
    ui = np.empty(up[n], dtype=np.int64)
    fill = up[:-1].copy()
    for k in range(n):
        ui[fill[k]] = k
        fill[k] += 1
    for j in range(n):  # rows j ascending, so every U row comes out sorted
        for q in range(lp[j], lp[j + 1]):
            k = li[q]
            ui[fill[k]] = j
            fill[k] += 1
    return lp, li, up, ui


@_njit
def lu_numeric(indptr, indices, data, lp, li, lx, up, ui, ux, work):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Factor A = L·U (unit L) on the patterns of :func:`lu_symbolic`; False on a tiny pivot.

    ``work`` is an (n,) float array of zeros; it is left zero.
    """
    n = indptr.shape[0] - 1
    for i in range(n):
        big = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            work[indices[p]] = data[p]
            a = abs(data[p])
            if a > big:
                big = a
        for p in range(lp[i], lp[i + 1]):
            k = li[p]
            lik = work[k] / ux[up[k]]
            lx[p] = lik
            work[k] = 0.0
            if lik != 0.0:
                for q in range(up[k] + 1, up[k + 1]):
                    work[ui[q]] -= lik * ux[q]
        for q in range(up[i], up[i + 1]):
            j = ui[q]
            ux[q] = work[j]
            work[j] = 0.0
        if not abs(ux[up[i]]) > 1e-13 * big:
            for q in range(up[i], up[i + 1]):  # leave the work vector clean
                work[ui[q]] = 0.0
            return False
    return True


@_njit
def lu_solve_vec(lp, li, lx, up, ui, ux, b):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Solve L·U·x = b in place (b becomes x)."""
    n = up.shape[0] - 1
    for i in range(n):
        s = b[i]
        for p in range(lp[i], lp[i + 1]):
            s -= lx[p] * b[li[p]]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for q in range(up[i] + 1, up[i + 1]):
            s -= ux[q] * b[ui[q]]
        b[i] = s / ux[up[i]]
    return b
