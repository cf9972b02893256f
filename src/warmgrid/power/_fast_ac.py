"""Compiled kernels (numba) of the AC power flow's Newton iteration.

* :func:`jacobian_values` fills the values of the AC power flow's polar Jacobian on its
  fixed sparsity pattern in one pass over Ybus (see :mod:`warmgrid.power.ac`).
* :func:`lu_symbolic`, :func:`lu_numeric` and :func:`lu_solve_vec` factorise a
  structurally symmetric matrix in a given order without pivoting, with the symbolic
  part done once: the Newton iterations of the AC flow refactorise the same pattern.

Without numba they are plain Python functions (correct but slow); the AC flow then uses
numpy for the Jacobian and SuperLU instead (:mod:`warmgrid.power.ac`).
"""

from __future__ import annotations

import numpy as np

from warmgrid.power._jit import _njit

__all__ = ["jacobian_values", "lu_numeric", "lu_solve_vec", "lu_symbolic"]


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
