"""AC power flow: Newton–Raphson in polar coordinates on a sparse Jacobian.

The model is MATPOWER's (Zimmerman, Murillo-Sánchez & Thomas, "MATPOWER: Steady-state
operations, planning and analysis tools", IEEE Trans. Power Syst. 26(1), 2011; MATPOWER
manual, sections 3.2 and 4.1), the one pandapower solves after its ``_pd2ppc``:

* Branch (π model with an ideal transformer at the from end, ``τ = tap · e^{j·shift}``,
  series admittance ``y_s = 1 / (r + jx)``, branch shunt ``y_c = g + jb`` split half to
  each end)::

      | I_f |   | (y_s + y_c/2) / |τ|²    −y_s / τ* |   | V_f |
      |     | = |                                    | · |     |
      | I_t |   |      −y_s / τ           y_s + y_c/2 |   | V_t |

  ``Ybus = Cfᵀ Yf + Ctᵀ Yt + diag(y_sh)`` with bus shunts ``y_sh = (g_mw + j b_mvar) / base``.
* Power balance at every bus of an energised island: ``S(V) = V ⊙ (Ybus V)* = S_bus``
  with ``S_bus`` = units − loads (p.u.). Unknowns: the angle of every PV and PQ bus and
  the magnitude of every PQ bus; reference (slack) buses hold magnitude and angle.
* Newton–Raphson (Tinney & Hart, "Power flow solution by Newton's method", IEEE Trans.
  PAS-86(11), 1967) with the complex derivatives of MATPOWER's ``dSbus_dV`` (polar)::

      ∂S/∂θ = j · diag(V) · (diag(I) − Ybus · diag(V))*,
      ∂S/∂|V| = diag(V) · (Ybus · diag(V/|V|))* + diag(I)* · diag(V/|V|),    I = Ybus V

  and ``J = [[Re ∂S/∂θ, Re ∂S/∂|V|], [Im ∂S/∂θ, Im ∂S/∂|V|]]`` restricted to the P rows
  of PV+PQ buses and the Q rows of PQ buses. The iteration stops when
  ``max |mismatch| < tol_pu`` (MATPOWER's and pandapower's ``∞``-norm test), or fails
  after ``max_iter`` iterations (10 by default, as both).

Linear algebra. The Jacobian's sparsity pattern is built once per set of bus types and
each iteration only refills its values (a numba kernel; vectorised numpy without numba).
With numba it is factorised in a fixed block order (each bus's angle and magnitude
together, buses in the minimum-degree order SuperLU finds for the DC start's reduced
``Bbus``) by a left-looking LU without pivoting whose symbolic part is computed once
(:func:`warmgrid.power._fast.lu_symbolic`, Tinney's classical scheme); an iteration
that meets a tiny pivot in that order is factorised by SuperLU with pivoting instead.
Without numba every iteration uses SuperLU, reusing the ordering of its first
factorisation. On case9241pegase this is about 3 ms per factorisation against about
18 ms for SuperLU (``benchmarks/acflow.py --breakdown``).

Islands follow pandapower's ``runpp``: an island is solved when it holds an in-service
slack unit (an ``ext_grid`` or a generator with ``slack``); every slack bus holds its
unit's ``vm_pu`` and ``va_deg``; the buses of the other islands are dark.
``energised="balanced"`` also solves islands without a slack unit but with a
voltage-controlling unit: the island's largest such unit (by ``p_max_mw``, the first on
ties) becomes its slack. pandapower never solves those islands, so that mode has no
reference to match and is not its default.

Reactive limits (``q_limits=True``) follow MATPOWER's ``runpf`` with ``ENFORCE_Q_LIMS``,
which is what pandapower's ``enforce_q_lims`` does: after a converged solve, every
non-slack voltage-controlling unit outside ``[q_min, q_max]`` is fixed at the violated
limit, its bus becomes PQ (other units on that bus keep the reactive output they had),
and the flow is solved again from the last voltages, until no unit violates a limit. A
unit never returns to voltage control. As pandapower 3.x does for its ``sgen``, the
reactive output of a unit without voltage control is clipped to its limits in that mode.

The reactive output of a PV bus is shared among its units as MATPOWER's ``pfsoln`` does
(in proportion to their reactive ranges, unbounded limits counting as ±1e9 Mvar like
pandapower's ``q_lim_default``); the active output of a slack bus, net of its other
units' set points, is shared equally by its slack units.

Modules: :mod:`warmgrid.power.ac_types` (options, result, bus types);
:mod:`warmgrid.power.ybus` and :mod:`warmgrid.power.ac_build` (build); this module
(Newton–Raphson, the DC start and the reactive-limit loop);
:mod:`warmgrid.power.ac_readback` (unit outputs and branch flows).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from warmgrid.power._fast import (
    HAVE_NUMBA,
    jacobian_values,
    lu_numeric,
    lu_solve_vec,
    lu_symbolic,
)
from warmgrid.power.ac_build import _energise, _first_per_bus
from warmgrid.power.ac_readback import _read_back, _share_q
from warmgrid.power.ac_types import (
    DARK,
    PQ,
    PV,
    REF,
    ACOptions,
    ACResult,
    _Energised,
    _Solution,
)
from warmgrid.power.network import Network, State
from warmgrid.power.ybus import _diag_positions, make_ybus

__all__ = ["DARK", "PQ", "PV", "REF", "ACOptions", "ACResult", "ac_flow", "make_ybus"]

#: SuperLU's threshold for keeping a diagonal pivot (1 = partial pivoting). Power-flow
#: Jacobians are close to diagonally dominant; a small threshold keeps the minimum-degree
#: ordering's fill while still pivoting away from a tiny diagonal.
_PIVOT = 0.01


# ---------------------------------------------------------------------- Newton–Raphson
class _Jacobian:
    """The fixed sparsity pattern of the polar Jacobian for one set of bus types.

    The entries of the four blocks come from the Ybus entries ``k1..k4`` that fall in
    them; their values are written straight into the CSC ``matrix`` of the *permuted*
    Jacobian ``J[q][:, q]`` (``q`` the inverse of :attr:`perm`). The permutation is
    SuperLU's minimum-degree ordering of ``J + Jᵀ`` found at the first factorisation;
    later factorisations reuse it (``permc_spec="NATURAL"``, symmetric mode), which
    skips the ordering step and gives the same fill.
    """

    def __init__(
        self,
        y: sp.csr_matrix,
        pvpq: np.ndarray,
        pq: np.ndarray,
        bus_order: np.ndarray | None = None,
    ) -> None:
        n = y.shape[0]
        npvpq, npq = len(pvpq), len(pq)
        self.size = npvpq + npq
        pos_a = np.full(n, -1, dtype=np.int64)
        pos_a[pvpq] = np.arange(npvpq)
        pos_m = np.full(n, -1, dtype=np.int64)
        pos_m[pq] = np.arange(npq)
        rows = np.repeat(np.arange(n), np.diff(y.indptr))
        cols = y.indices.astype(np.int64)
        ra, ca, rm, cm = pos_a[rows], pos_a[cols], pos_m[rows], pos_m[cols]
        blocks = [
            ((ra >= 0) & (ca >= 0), ra, ca),
            ((ra >= 0) & (cm >= 0), ra, npvpq + cm),
            ((rm >= 0) & (ca >= 0), npvpq + rm, ca),
            ((rm >= 0) & (cm >= 0), npvpq + rm, npvpq + cm),
        ]
        ks, jr, jc = [], [], []
        for mask, r, c in blocks:
            k = np.flatnonzero(mask)
            ks.append(k)
            jr.append(r[k])
            jc.append(c[k])
        self.k = ks
        self._jr = np.concatenate(jr)
        self._jc = np.concatenate(jc)
        self.nnz_y = y.nnz
        self.diag = _diag_positions(y)
        self.perm: np.ndarray | None = None
        self.lu: tuple[np.ndarray, ...] | None = None
        if HAVE_NUMBA and bus_order is not None and len(bus_order) == npvpq:
            # block order: each bus's angle, then its magnitude (PQ), buses in bus_order
            th = pos_a[bus_order]
            vm = np.where(pos_m[bus_order] >= 0, npvpq + pos_m[bus_order], -1)
            seq = np.stack([th, vm], axis=1).ravel()
            seq = seq[seq >= 0]
            perm = np.empty(self.size, dtype=np.int64)
            perm[seq] = np.arange(self.size)
            self.perm = perm
            self._layout(perm, csr=True)
            m = self.matrix
            self.lu = lu_symbolic(m.indptr.astype(np.int64), m.indices.astype(np.int64))
            self._lx = np.zeros(len(self.lu[1]))
            self._ux = np.zeros(len(self.lu[3]))
            self._work = np.zeros(self.size)
        else:
            self._layout(np.arange(self.size), csr=False)

    def _layout(self, perm: np.ndarray, *, csr: bool) -> None:
        """CSC (or CSR) pattern and value slots of ``J`` with row and column r at ``perm[r]``."""
        jr, jc = perm[self._jr], perm[self._jc]
        # compressed order with SciPy's counting sort: entry e's 1-based number rides
        # along as its value (the (row, col) pairs are unique)
        m = len(jr)
        kind = sp.csr_matrix if csr else sp.csc_matrix
        pattern = kind((np.arange(1, m + 1, dtype=float), (jr, jc)), shape=(self.size, self.size))
        pattern.sort_indices()
        order = pattern.data.astype(np.int64) - 1
        self.order = order
        inv = np.empty(m, dtype=np.int64)
        inv[order] = np.arange(m)
        slots = np.full((4, self.nnz_y), -1, dtype=np.int64)
        start = 0
        for b, k in enumerate(self.k):
            slots[b, k] = inv[start : start + len(k)]
            start += len(k)
        self.slots = slots
        pattern.data[:] = 0.0
        self.matrix = pattern

    def fill(self, y: sp.csr_matrix, v: np.ndarray, ibus: np.ndarray) -> sp.csc_matrix:
        """The (permuted) Jacobian at voltages ``v`` (with ``ibus = Ybus v``)."""
        if HAVE_NUMBA:
            jacobian_values(y.indptr, y.indices, y.data, v, ibus, self.slots, self.matrix.data)
            return self.matrix
        rows = np.repeat(np.arange(y.shape[0]), np.diff(y.indptr))
        cols = y.indices
        vn = v / np.abs(v)
        vi = v[rows]
        d_a = 1j * vi * np.conj(-y.data * v[cols])
        d_m = vi * np.conj(y.data * vn[cols])
        dk = self.diag
        d_a[dk] += 1j * v * np.conj(ibus)
        d_m[dk] += np.conj(ibus) * vn
        k1, k2, k3, k4 = self.k
        vals = np.concatenate([d_a.real[k1], d_m.real[k2], d_a.imag[k3], d_m.imag[k4]])
        self.matrix.data[:] = vals[self.order]
        return self.matrix

    def step(self, y: sp.csr_matrix, v: np.ndarray, ibus: np.ndarray, f: np.ndarray) -> np.ndarray:
        """The Newton step ``J⁻¹ f`` at ``v``; raises RuntimeError for a singular J."""
        j = self.fill(y, v, ibus)
        if self.lu is not None:
            lp, li, up, ui = self.lu
            ok = lu_numeric(
                j.indptr, j.indices, j.data, lp, li, self._lx, up, ui, self._ux, self._work
            )
            if ok:
                fp = np.empty_like(f)
                fp[self.perm] = f
                return lu_solve_vec(lp, li, self._lx, up, ui, self._ux, fp)[self.perm]
            # a tiny pivot in the fixed order: this iteration pivots with SuperLU
            lu = spl.splu(j.tocsc(), permc_spec="MMD_AT_PLUS_A")
            fp = np.empty_like(f)
            fp[self.perm] = f
            return lu.solve(fp)[self.perm]
        if self.perm is None:
            lu = spl.splu(
                j,
                permc_spec="MMD_AT_PLUS_A",
                diag_pivot_thresh=_PIVOT,
                options={"SymmetricMode": True},
            )
            dx = lu.solve(f)
            self.perm = lu.perm_c.astype(np.int64)
            self._layout(self.perm, csr=False)
            return dx
        lu = spl.splu(
            j, permc_spec="NATURAL", diag_pivot_thresh=_PIVOT, options={"SymmetricMode": True}
        )
        fp = np.empty_like(f)
        fp[self.perm] = f
        return lu.solve(fp)[self.perm]


def _mismatch(
    y: sp.csr_matrix, v: np.ndarray, sbus: np.ndarray, pvpq: np.ndarray, pq: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    ibus = y @ v
    mis = v * np.conj(ibus) - sbus
    f = np.concatenate([mis.real[pvpq], mis.imag[pq]])
    norm = float(np.max(np.abs(f))) if len(f) else 0.0
    return ibus, f, norm


def _newton(
    y: sp.csr_matrix,
    sbus: np.ndarray,
    v0: np.ndarray,
    pv: np.ndarray,
    pq: np.ndarray,
    tol: float,
    max_iter: int,
    bus_order: np.ndarray | None = None,
) -> tuple[np.ndarray, bool, int, float]:
    """Solve ``V ⊙ (Y V)* = S_bus`` for the PV angles and PQ angles and magnitudes.

    ``bus_order``: the PV and PQ buses in a fill-reducing elimination order; with numba
    the Jacobian is then factorised in that (block) order by :func:`lu_numeric`.

    Returns
    -------
    (V, converged, iterations, max |mismatch| p.u.)
    """
    pvpq = np.concatenate([pv, pq])
    npvpq = len(pvpq)
    v = v0.copy()
    va = np.angle(v)
    vm = np.abs(v)
    ibus, f, norm = _mismatch(y, v, sbus, pvpq, pq)
    if norm < tol:
        return v, True, 0, norm
    jac = _Jacobian(y, pvpq, pq, bus_order)
    it = 0
    while it < max_iter:
        it += 1
        try:
            dx = jac.step(y, v, ibus, f)
        except RuntimeError:  # exactly singular: no Newton step exists
            return v, False, it, norm
        va[pvpq] -= dx[:npvpq]
        vm[pq] -= dx[npvpq:]
        v = vm * np.exp(1j * va)
        ibus, f, norm = _mismatch(y, v, sbus, pvpq, pq)
        if not np.isfinite(norm):
            return v, False, it, norm
        if norm < tol:
            return v, True, it, norm
    return v, False, it, norm


# ---------------------------------------------------------------------- DC start
def _dc_angles(
    net: Network,
    branch_on: np.ndarray,
    live: np.ndarray,
    ref: np.ndarray,
    ref_va: np.ndarray,
    p_pu: np.ndarray,
) -> tuple[np.ndarray, np.ndarray | None]:
    """DC power flow angles with the reference buses at ``ref_va``, and a bus order.

    MATPOWER's ``dcpf`` (``Bbus θ = P − Aᵀ Pfinj − G_sh``), the start pandapower uses.

    Returns
    -------
    (n_bus,) angles, rad, and the non-reference live buses in the elimination order
    SuperLU chose for the reduced ``Bbus`` (minimum degree on its graph, the bus graph
    of the Newton unknowns), or None when there is none.
    """
    th = np.zeros(net.n_bus)
    th[ref] = ref_va
    unknown = live.copy()
    unknown[ref] = False
    u = np.flatnonzero(unknown)
    if len(u) == 0:
        return th, None
    bbus = net.bbus(branch_on)
    pinj = net.pf_inj(branch_on)
    p = p_pu - net.incidence.T @ pinj
    rows = bbus[u]
    rhs = p[u] - rows[:, ref] @ ref_va
    try:
        lu = spl.splu(
            rows[:, u].tocsc(), permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True}
        )
    except RuntimeError:  # pragma: no cover - a connected island's Bbus is regular
        return th, None
    th[u] = lu.solve(rhs)
    # position perm_c[r] is where unknown r is eliminated
    order = np.empty(len(u), dtype=np.int64)
    order[lu.perm_c] = u
    return th, order


# ---------------------------------------------------------------------- the engine
def ac_flow(
    net: Network,
    state: State | None = None,
    *,
    options: ACOptions | None = None,
    start: ACResult | None = None,
) -> ACResult:
    """Solve an AC power flow (Newton–Raphson, polar; see the module docstring).

    Parameters
    ----------
    net : compiled network.
    state : masks; the base state when omitted. ``load_scale`` scales P and Q of loads.
    options : :class:`ACOptions`; defaults when omitted.
    start : a converged flow of the same network (the pre-outage one, say) to warm-start
        from: its voltages replace ``options.init``'s on every bus live in both.

    Returns
    -------
    ACResult
        ``converged`` False (with NaN quantities) when Newton's method does not meet the
        tolerance within ``max_iter`` iterations, diverges, or meets a singular Jacobian.
    """
    t0 = time.perf_counter()
    opt = options or ACOptions()
    opt.check()
    st = (state or net.base_state).effective(net)
    e = _energise(net, st, opt)
    y = make_ybus(net, e.br_live, e.live)
    v, bus_order = _start(net, e, opt)
    if start is not None and start.converged:
        warm = start.vm_pu * np.exp(1j * np.deg2rad(start.va_deg))
        ok = e.live & np.isfinite(warm)
        v[ok] = warm[ok]
    sol = _solve(net, e, y, v, bus_order, opt)
    return _read_back(net, e, sol, t0)


def _start(net: Network, e: _Energised, opt: ACOptions) -> tuple[np.ndarray, np.ndarray | None]:
    """Initial voltages (``opt.init``) and the elimination order of the unknowns' buses.

    Returns
    -------
    v : (n_bus,) complex, p.u.; 0 on dark buses.
    bus_order : the non-reference live buses in the DC start's elimination order, or None.
    """
    n = net.n_bus
    vctl = np.flatnonzero(e.g_live & (net.gen_pv | e.slack))
    if opt.init == "dc" and len(vctl):
        vm0 = float(np.mean(net.gen_vm_pu[vctl]))
    else:
        vm0 = 1.0
    # the DC solve also gives the elimination order of the Newton unknowns' buses
    p_dc = np.zeros(n)
    if opt.init == "dc":
        np.add.at(p_dc, net.gen_bus, e.gen_p)
        p_dc -= e.load_s.real
        np.subtract.at(p_dc, net.shunt_bus, net.shunt_g_mw * e.live[net.shunt_bus])
    va, bus_order = _dc_angles(net, e.br_live, e.live, e.ref, e.ref_va, p_dc / net.base_mva)
    if opt.init == "flat":
        va = np.zeros(n)
        va[e.ref] = e.ref_va
    vm = np.where(e.live, vm0, 0.0)
    return vm * np.exp(1j * va), bus_order


def _solve(
    net: Network,
    e: _Energised,
    y: sp.csr_matrix,
    v: np.ndarray,
    bus_order: np.ndarray | None,
    opt: ACOptions,
) -> _Solution:
    """The solve step: Newton solves until no unit violates a reactive limit.

    Without ``q_limits`` one solve. With them, after each converged solve every
    non-slack voltage-controlling unit outside its limits is fixed at the violated one
    (module docstring) and the flow is solved again from the last voltages.

    Parameters
    ----------
    net : compiled network.
    e : the build step.
    y : (n_bus, n_bus) Ybus of the live branches, p.u.
    v : (n_bus,) complex initial voltages, p.u.
    bus_order : elimination order of the unknowns' buses (:func:`_dc_angles`), or None.
    opt : the options.
    """
    n, ng = net.n_bus, len(net.gen_ids)
    fixed_q = e.fixed_q.copy()
    limited = np.zeros(ng, dtype=bool)
    total_it = 0
    rounds = 0
    converged = False
    norm = np.nan
    bus_type = np.full(n, DARK, dtype=np.int8)
    q_unit = np.full(ng, np.nan)
    s_inj = np.zeros(n, dtype=complex)
    while True:
        rounds += 1
        free = e.g_live & np.isnan(fixed_q)  # units whose reactive output is solved for
        pv, pq = _bus_types(net, e, free, bus_type)
        v = _hold_set_points(net, e, free, v)
        sbus = np.zeros(n, dtype=complex)
        np.add.at(sbus, net.gen_bus, e.gen_p + 1j * np.nan_to_num(fixed_q) * e.g_live)
        sbus = (sbus - e.load_s) / net.base_mva
        v, ok, it, norm = _newton(y, sbus, v, pv, pq, opt.tol_pu, opt.max_iter, bus_order)
        total_it += it
        if not ok:
            break
        s_inj = v * np.conj(y @ v) * net.base_mva
        q_unit = _unit_q(net, e, s_inj, fixed_q, free)
        if not opt.q_limits:
            converged = True
            break
        cand = free & net.gen_pv & ~e.slack
        over = cand & (q_unit > net.gen_qmax_mvar)
        under = cand & (q_unit < net.gen_qmin_mvar)
        if not (over.any() or under.any()):
            converged = True
            break
        if rounds >= opt.max_q_rounds:
            break
        limited |= _fix_at_limits(net, e, fixed_q, q_unit, free, over, under)
    return _Solution(v, converged, total_it, rounds, norm, bus_type, q_unit, s_inj, limited)


def _bus_types(
    net: Network, e: _Energised, free: np.ndarray, bus_type: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Write this solve's bus types into ``bus_type``; return the PV and PQ buses.

    A live bus is PV when a free (voltage-controlling, not at a reactive limit) unit or a
    slack unit holds it, REF when it is a slack bus, PQ otherwise; other buses are DARK.
    """
    pv_mask = np.zeros(net.n_bus, dtype=bool)
    pv_mask[net.gen_bus[free & (net.gen_pv | e.slack)]] = True
    pv_mask &= ~e.ref_mask
    bus_type[:] = DARK
    bus_type[e.live] = PQ
    bus_type[pv_mask] = PV
    bus_type[e.ref] = REF
    return np.flatnonzero(pv_mask), np.flatnonzero(bus_type == PQ)


def _hold_set_points(net: Network, e: _Energised, free: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``v`` with the slack buses at their first slack unit's magnitude and angle and the
    PV buses at their first free unit's magnitude (0 on dark buses)."""
    _, pv_unit = _first_per_bus(np.flatnonzero(free & net.gen_pv & ~e.slack), net.gen_bus)
    vset = np.abs(v)
    vset[net.gen_bus[pv_unit]] = net.gen_vm_pu[pv_unit]
    vset[e.ref] = net.gen_vm_pu[e.ref_unit]
    ang = np.angle(v)
    ang[e.ref] = e.ref_va
    return np.where(e.live, vset * np.exp(1j * ang), 0.0)


def _unit_q(
    net: Network, e: _Energised, s_inj: np.ndarray, fixed_q: np.ndarray, free: np.ndarray
) -> np.ndarray:
    """(n_gen,) reactive output per unit, Mvar: the fixed ones, and for the free units
    their bus's output net of loads and fixed units, shared (:func:`_share_q`)."""
    q_bus = s_inj.imag + e.load_s.imag
    np.subtract.at(q_bus, net.gen_bus, np.nan_to_num(fixed_q) * e.g_live)
    fu = np.flatnonzero(free)
    q_unit = np.where(e.g_live, fixed_q, np.nan)
    q_unit[fu] = _share_q(q_bus, fu, net.gen_bus, net.gen_qmin_mvar, net.gen_qmax_mvar)
    return q_unit


def _fix_at_limits(
    net: Network,
    e: _Energised,
    fixed_q: np.ndarray,
    q_unit: np.ndarray,
    free: np.ndarray,
    over: np.ndarray,
    under: np.ndarray,
) -> np.ndarray:
    """Fix the violating units at their limits in ``fixed_q``; return them ((n_gen,) bool).

    The other units on those (non-slack) buses keep the output they have now.
    """
    fixed_q[over] = net.gen_qmax_mvar[over]
    fixed_q[under] = net.gen_qmin_mvar[under]
    hit = over | under
    hit_bus = np.zeros(net.n_bus, dtype=bool)
    hit_bus[net.gen_bus[hit]] = True
    hit_bus &= ~e.ref_mask
    freeze = free & ~hit & hit_bus[net.gen_bus]
    fixed_q[freeze] = q_unit[freeze]
    return hit
