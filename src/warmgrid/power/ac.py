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
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from warmgrid.errors import InputError
from warmgrid.power._fast import (
    HAVE_NUMBA,
    jacobian_values,
    lu_numeric,
    lu_solve_vec,
    lu_symbolic,
)
from warmgrid.power.network import Network, State
from warmgrid.power.topology import islands

__all__ = ["DARK", "PQ", "PV", "REF", "ACOptions", "ACResult", "ac_flow", "make_ybus"]

Energised = Literal["slack", "balanced"]

#: Bus type codes of :attr:`ACResult.bus_type` (MATPOWER's, with 4 for a dark bus).
PQ, PV, REF, DARK = 1, 2, 3, 4

#: Reactive limit used for an unbounded unit when sharing a bus's reactive output
#: (pandapower's ``q_lim_default``), Mvar.
_Q_UNBOUNDED = 1e9

#: SuperLU's threshold for keeping a diagonal pivot (1 = partial pivoting). Power-flow
#: Jacobians are close to diagonally dominant; a small threshold keeps the minimum-degree
#: ordering's fill while still pivoting away from a tiny diagonal.
_PIVOT = 0.01


@dataclass(frozen=True)
class ACOptions:
    """Options of :func:`ac_flow`.

    Parameters
    ----------
    tol_pu : convergence tolerance on the largest active or reactive bus mismatch, p.u.
        on ``base_mva`` (pandapower's ``tolerance_mva`` default, 1e-8, is applied the
        same way).
    max_iter : Newton iterations per solve (10, as MATPOWER and pandapower).
    init : ``"dc"`` starts from the DC power flow's angles with PQ-bus magnitudes at the
        mean voltage set point of the units that hold one (pandapower's ``init="auto"``
        for grids with angles); ``"flat"`` starts at 1 p.u. and 0 rad. PV and slack
        buses always start at their set points.
    q_limits : enforce the units' reactive limits (PV → PQ switching, see the module
        docstring).
    max_q_rounds : most solves of the reactive-limit outer loop.
    energised : ``"slack"`` (pandapower) or ``"balanced"`` (see the module docstring).
    """

    tol_pu: float = 1e-8
    max_iter: int = 10
    init: Literal["dc", "flat"] = "dc"
    q_limits: bool = False
    max_q_rounds: int = 50
    energised: Energised = "slack"

    def check(self) -> None:
        """Raise :class:`InputError` for an option out of range."""
        if not (np.isfinite(self.tol_pu) and self.tol_pu > 0):
            raise InputError(f"tol_pu must be > 0, got {self.tol_pu}", field="tol_pu")
        if int(self.max_iter) != self.max_iter or self.max_iter < 1:
            raise InputError(
                f"max_iter must be an integer >= 1, got {self.max_iter}", field="max_iter"
            )
        if self.init not in ("dc", "flat"):
            raise InputError(f"init must be 'dc' or 'flat', got {self.init!r}", field="init")
        if self.energised not in ("slack", "balanced"):
            raise InputError(
                f"energised must be 'slack' or 'balanced', got {self.energised!r}",
                field="energised",
            )
        if int(self.max_q_rounds) != self.max_q_rounds or self.max_q_rounds < 1:
            raise InputError(
                f"max_q_rounds must be an integer >= 1, got {self.max_q_rounds}",
                field="max_q_rounds",
            )


@dataclass(frozen=True)
class ACResult:
    """An AC power flow.

    When :attr:`converged` is False every electrical quantity is NaN: a flow that did not
    converge has no answer, and none is given.

    Attributes
    ----------
    converged : the last solve met the tolerance (and, with reactive limits, no unit
        violates one).
    iterations : Newton iterations, summed over the reactive-limit rounds.
    q_rounds : solves done (1 without reactive limits).
    max_mismatch_pu : largest bus power mismatch of the last iterate, p.u.
    seconds : wall time of the call, s.
    vm_pu : (n_bus,) voltage magnitude, p.u.; NaN on dark buses.
    va_deg : (n_bus,) voltage angle, degrees; NaN on dark buses.
    p_from_mw, q_from_mvar, p_to_mw, q_to_mvar : (n_branch,) power entering the branch at
        each end, MW and Mvar; NaN for branches out of service or dark.
    gen_p_mw, gen_q_mvar : (n_gen,) unit output; NaN for units out of service or dark.
    q_limited : (n_gen,) bool, the unit was fixed at a reactive limit.
    bus_type : (n_bus,) int8, :data:`PQ`, :data:`PV`, :data:`REF` or :data:`DARK`, as of
        the last solve.
    island : (n_bus,) island label; −1 for a bus out of service.
    dark_bus : (n_bus,) bool, out of service or in an island that is not solved.
    rate_mva : (n_branch,) ratings used by :attr:`loading_percent` (inf: unrated).
    """

    converged: bool
    iterations: int
    q_rounds: int
    max_mismatch_pu: float
    seconds: float
    vm_pu: np.ndarray
    va_deg: np.ndarray
    p_from_mw: np.ndarray
    q_from_mvar: np.ndarray
    p_to_mw: np.ndarray
    q_to_mvar: np.ndarray
    gen_p_mw: np.ndarray
    gen_q_mvar: np.ndarray
    q_limited: np.ndarray
    bus_type: np.ndarray
    island: np.ndarray
    dark_bus: np.ndarray
    rate_mva: np.ndarray
    f: np.ndarray
    t: np.ndarray

    @property
    def loading_percent(self) -> np.ndarray:
        """(n_branch,) current loading, % of the rating at nominal voltage.

        ``max(|S_f| / |V_f|, |S_t| / |V_t|) / rate · 100``: pandapower's current-based
        loading (``trafo_loading="current"``; lines by ``max_i_ka``). NaN for unrated
        branches (never 0) and for branches out of service or dark.
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            sf = np.hypot(self.p_from_mw, self.q_from_mvar) / self.vm_pu[self.f]
            st = np.hypot(self.p_to_mw, self.q_to_mvar) / self.vm_pu[self.t]
            rate = np.where(np.isfinite(self.rate_mva), self.rate_mva, np.nan)
            return np.fmax(sf, st) / rate * 100.0

    @property
    def loss_mw(self) -> np.ndarray:
        """(n_branch,) active losses of each branch, MW (``p_from + p_to``)."""
        return self.p_from_mw + self.p_to_mw


# ---------------------------------------------------------------------- admittances
def _branch_admittances(
    net: Network, on: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(yff, yft, ytf, ytt) of the branches in ``on`` (the module docstring's π model)."""
    ys = 1.0 / (net.r_pu[on] + 1j * net.x_pu[on])
    yc = 0.5 * (net.charging_g_pu[on] + 1j * net.charging_b_pu[on])
    tap = net.tap[on]
    tau = tap * np.exp(1j * net.shift_rad[on])
    yff = (ys + yc) / (tap * tap)
    yft = -ys / np.conj(tau)
    ytf = -ys / tau
    ytt = ys + yc
    return yff, yft, ytf, ytt


def make_ybus(
    net: Network, branch_on: np.ndarray, bus_on: np.ndarray | None = None
) -> sp.csr_matrix:
    """The (n_bus, n_bus) complex bus admittance matrix, p.u.

    Parameters
    ----------
    net : compiled network.
    branch_on : (n_branch,) bool, branches to include.
    bus_on : (n_bus,) bool, buses whose shunts count (all when omitted).

    Returns
    -------
    CSR matrix with sorted indices and an explicit (possibly zero) diagonal entry for
    every bus, so a Jacobian pattern built from it has every diagonal block.
    """
    n = net.n_bus
    on = np.flatnonzero(branch_on)
    f, t = net.f[on], net.t[on]
    yff, yft, ytf, ytt = _branch_admittances(net, on)
    ysh = np.zeros(n, dtype=complex)
    sh_on = np.ones(len(net.shunt_bus), dtype=bool) if bus_on is None else bus_on[net.shunt_bus]
    np.add.at(
        ysh,
        net.shunt_bus[sh_on],
        (net.shunt_g_mw[sh_on] + 1j * net.shunt_b_mvar[sh_on]) / net.base_mva,
    )
    diag = np.arange(n)
    rows = np.concatenate([f, f, t, t, diag])
    cols = np.concatenate([f, t, f, t, diag])
    vals = np.concatenate([yff, yft, ytf, ytt, ysh])
    y = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    y.sum_duplicates()
    y.sort_indices()
    return y


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


def _diag_positions(y: sp.csr_matrix) -> np.ndarray:
    """(n,) position of each diagonal entry in ``y.data`` (it must be present)."""
    n = y.shape[0]
    rows = np.repeat(np.arange(n), np.diff(y.indptr))
    hit = np.flatnonzero(rows == y.indices)
    if len(hit) != n:  # pragma: no cover - make_ybus always stores the diagonal
        raise ValueError("Ybus lacks diagonal entries")
    return hit


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


# ---------------------------------------------------------------------- set-up helpers
def _first_per_bus(units: np.ndarray, gen_bus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(buses, first unit of each) for the unit indices ``units`` (kept in index order)."""
    if len(units) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    buses, first = np.unique(gen_bus[units], return_index=True)
    return buses, units[first]


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


def _share_q(
    q_bus: np.ndarray, units: np.ndarray, gen_bus: np.ndarray, qmin: np.ndarray, qmax: np.ndarray
) -> np.ndarray:
    """Share each bus's reactive output among its ``units`` (MATPOWER ``pfsoln``).

    Each unit gets ``q_min + (Q − Σq_min) / (Σq_max − Σq_min) · (q_max − q_min)`` of its
    bus's ``Q``; equal shares where the bus's range is zero. Returns (len(units),) Mvar.
    """
    if len(units) == 0:
        return np.zeros(0)
    b = gen_bus[units]
    lo = np.clip(qmin[units], -_Q_UNBOUNDED, _Q_UNBOUNDED)
    hi = np.clip(qmax[units], -_Q_UNBOUNDED, _Q_UNBOUNDED)
    n = len(q_bus)
    count = np.bincount(b, minlength=n)
    sum_lo = np.bincount(b, weights=lo, minlength=n)
    sum_hi = np.bincount(b, weights=hi, minlength=n)
    rng = sum_hi - sum_lo
    single = count[b] == 1
    flat = rng[b] == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = lo + (q_bus[b] - sum_lo[b]) / rng[b] * (hi - lo)
    equal = q_bus[b] / count[b]
    return np.where(single, q_bus[b], np.where(flat, equal, share))


# ---------------------------------------------------------------------- the engine
def ac_flow(
    net: Network, state: State | None = None, *, options: ACOptions | None = None
) -> ACResult:
    """Solve an AC power flow (Newton–Raphson, polar; see the module docstring).

    Parameters
    ----------
    net : compiled network.
    state : masks; the base state when omitted. ``load_scale`` scales P and Q of loads.
    options : :class:`ACOptions`; defaults when omitted.

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
    base = net.base_mva
    n = net.n_bus
    ng = len(net.gen_ids)
    isl = islands(net, st)
    gen_on = st.gen_on
    slack = gen_on & net.gen_slack
    on_bus = isl.label >= 0

    # ---- energised islands and their slack units
    has_slack = np.zeros(isl.count, dtype=bool)
    has_slack[isl.label[net.gen_bus[slack]]] = True
    if opt.energised == "balanced":
        cand = np.flatnonzero(gen_on & net.gen_pv & ~has_slack[isl.label[net.gen_bus]])
        if len(cand):
            lab = isl.label[net.gen_bus[cand]]
            # largest p_max per island, first index on ties: sort by (island, -pmax, index)
            order = np.lexsort((cand, -net.gen_pmax_mw[cand], lab))
            _, first = np.unique(lab[order], return_index=True)
            slack = slack.copy()
            slack[cand[order[first]]] = True
            has_slack[lab[order[first]]] = True
    live = np.zeros(n, dtype=bool)
    live[on_bus] = has_slack[isl.label[on_bus]]
    g_live = gen_on & live[net.gen_bus]
    l_live = st.load_on & live[net.load_bus]
    br_live = st.branch_on & live[net.f] & live[net.t]

    # ---- fixed injections: loads and units without voltage control
    scale = st.load_scale if st.load_scale is not None else 1.0
    load_s = np.zeros(n, dtype=complex)
    np.add.at(
        load_s,
        net.load_bus,
        (net.load_p_mw + 1j * net.load_q_mvar) * scale * l_live,
    )
    q_set = net.gen_q_mvar
    if opt.q_limits:
        q_set = np.clip(q_set, net.gen_qmin_mvar, net.gen_qmax_mvar)
    fixed_q = np.full(ng, np.nan)
    pq_units = g_live & ~net.gen_pv & ~slack
    fixed_q[pq_units] = q_set[pq_units]
    gen_p = np.where(g_live, net.gen_p_mw, 0.0)

    y = make_ybus(net, br_live, live)
    ref, ref_unit = _first_per_bus(np.flatnonzero(slack), net.gen_bus)
    ref_mask = np.zeros(n, dtype=bool)
    ref_mask[ref] = True

    # ---- initial voltages
    vctl = np.flatnonzero(g_live & (net.gen_pv | slack))
    if opt.init == "dc" and len(vctl):
        vm0 = float(np.mean(net.gen_vm_pu[vctl]))
    else:
        vm0 = 1.0
    ref_va = net.gen_va_rad[ref_unit]
    # the DC solve also gives the elimination order of the Newton unknowns' buses
    p_dc = np.zeros(n)
    if opt.init == "dc":
        np.add.at(p_dc, net.gen_bus, gen_p)
        p_dc -= load_s.real
        np.subtract.at(p_dc, net.shunt_bus, net.shunt_g_mw * live[net.shunt_bus])
    va, bus_order = _dc_angles(net, br_live, live, ref, ref_va, p_dc / base)
    if opt.init == "flat":
        va = np.zeros(n)
        va[ref] = ref_va
    vm = np.where(live, vm0, 0.0)
    v = vm * np.exp(1j * va)

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
        free = g_live & np.isnan(fixed_q)  # units whose reactive output is solved for
        pv_mask = np.zeros(n, dtype=bool)
        pv_mask[net.gen_bus[free & (net.gen_pv | slack)]] = True
        pv_mask &= ~ref_mask
        bus_type[:] = DARK
        bus_type[live] = PQ
        bus_type[pv_mask] = PV
        bus_type[ref] = REF
        pv = np.flatnonzero(pv_mask)
        pq = np.flatnonzero(bus_type == PQ)
        # set points: slack buses from their first slack unit, PV buses from their first free unit
        _, pv_unit = _first_per_bus(np.flatnonzero(free & net.gen_pv & ~slack), net.gen_bus)
        vset = np.abs(v)
        vset[net.gen_bus[pv_unit]] = net.gen_vm_pu[pv_unit]
        vset[ref] = net.gen_vm_pu[ref_unit]
        ang = np.angle(v)
        ang[ref] = ref_va
        v = np.where(live, vset * np.exp(1j * ang), 0.0)
        sbus = np.zeros(n, dtype=complex)
        np.add.at(sbus, net.gen_bus, gen_p + 1j * np.nan_to_num(fixed_q) * g_live)
        sbus = (sbus - load_s) / base
        v, ok, it, norm = _newton(y, sbus, v, pv, pq, opt.tol_pu, opt.max_iter, bus_order)
        total_it += it
        if not ok:
            break
        s_inj = v * np.conj(y @ v) * base
        # reactive output of the free units: the bus's, net of loads and fixed units
        q_bus = s_inj.imag + load_s.imag
        np.subtract.at(q_bus, net.gen_bus, np.nan_to_num(fixed_q) * g_live)
        fu = np.flatnonzero(free)
        q_unit = np.where(g_live, fixed_q, np.nan)
        q_unit[fu] = _share_q(q_bus, fu, net.gen_bus, net.gen_qmin_mvar, net.gen_qmax_mvar)
        if not opt.q_limits:
            converged = True
            break
        cand = free & net.gen_pv & ~slack
        over = cand & (q_unit > net.gen_qmax_mvar)
        under = cand & (q_unit < net.gen_qmin_mvar)
        if not (over.any() or under.any()):
            converged = True
            break
        if rounds >= opt.max_q_rounds:
            break
        fixed_q[over] = net.gen_qmax_mvar[over]
        fixed_q[under] = net.gen_qmin_mvar[under]
        hit = over | under
        limited |= hit
        # the other units on those (non-slack) buses keep the output they have now
        hit_bus = np.zeros(n, dtype=bool)
        hit_bus[net.gen_bus[hit]] = True
        hit_bus &= ~ref_mask
        freeze = free & ~hit & hit_bus[net.gen_bus]
        fixed_q[freeze] = q_unit[freeze]

    nan_b = np.full(n, np.nan)
    nan_br = np.full(net.n_branch, np.nan)
    nan_g = np.full(ng, np.nan)
    common = {
        "converged": converged,
        "iterations": total_it,
        "q_rounds": rounds,
        "max_mismatch_pu": float(norm),
        "q_limited": limited & g_live,
        "bus_type": bus_type,
        "island": isl.label,
        "dark_bus": ~live,
        "rate_mva": net.rate_mw,
        "f": net.f,
        "t": net.t,
    }
    if not converged:
        return ACResult(
            seconds=time.perf_counter() - t0,
            vm_pu=nan_b,
            va_deg=nan_b.copy(),
            p_from_mw=nan_br,
            q_from_mvar=nan_br.copy(),
            p_to_mw=nan_br.copy(),
            q_to_mvar=nan_br.copy(),
            gen_p_mw=nan_g,
            gen_q_mvar=nan_g.copy(),
            **common,
        )

    # ---- results
    on = np.flatnonzero(br_live)
    yff, yft, ytf, ytt = _branch_admittances(net, on)
    vf, vt = v[net.f[on]], v[net.t[on]]
    sf = vf * np.conj(yff * vf + yft * vt) * base
    s_t = vt * np.conj(ytf * vf + ytt * vt) * base
    pf, qf, pt, qt = nan_br.copy(), nan_br.copy(), nan_br.copy(), nan_br.copy()
    pf[on], qf[on], pt[on], qt[on] = sf.real, sf.imag, s_t.real, s_t.imag
    # slack units: the bus's active output net of loads and the other units, shared equally
    p_unit = np.where(g_live, net.gen_p_mw, np.nan)
    sl = np.flatnonzero(slack & g_live)
    p_bus = s_inj.real + load_s.real
    np.subtract.at(p_bus, net.gen_bus, np.where(g_live & ~slack, net.gen_p_mw, 0.0))
    n_sl = np.bincount(net.gen_bus[sl], minlength=n)
    p_unit[sl] = p_bus[net.gen_bus[sl]] / n_sl[net.gen_bus[sl]]
    vm_out = np.where(live, np.abs(v), np.nan)
    va_out = np.where(live, np.rad2deg(np.angle(v)), np.nan)
    return ACResult(
        seconds=time.perf_counter() - t0,
        vm_pu=vm_out,
        va_deg=va_out,
        p_from_mw=pf,
        q_from_mvar=qf,
        p_to_mw=pt,
        q_to_mvar=qt,
        gen_p_mw=p_unit,
        gen_q_mvar=q_unit,
        **common,
    )
