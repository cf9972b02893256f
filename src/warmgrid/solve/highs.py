"""The one boundary to HiGHS (highspy): build -> solve -> :class:`SolveResult`.

Engines describe a linear programme as arrays (:class:`LinearProgram`, the constraint
matrix in scipy CSC form) and get back a typed result: a :class:`SolveStatus` and the
primal (and dual) values. Nothing else in warmgrid imports highspy. An infeasible
model is a status, never a log line (docs/architecture.md, "House habits", 5).

:class:`HighsModel` keeps the solver alive between solves, so a caller can add rows
(lazy constraint generation) or change bounds and costs and re-solve from the previous
basis: HiGHS restarts the dual simplex from the last optimal basis (a warm start). A
caller that needs every solve to be a function of the model alone (the same answer, to
the bit, whatever was solved before) calls :meth:`HighsModel.clear_solver` and
:meth:`HighsModel.set_basis` with a starting basis of its own first: HiGHS then keeps
nothing from the previous solves.
"""

from __future__ import annotations

import enum
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["BasisStatus", "HighsModel", "LinearProgram", "SolveResult", "SolveStatus", "solve_lp"]


class BasisStatus(enum.IntEnum):
    """Status of a column or row in a simplex basis (HiGHS ``HighsBasisStatus``)."""

    LOWER = 0
    BASIC = 1
    UPPER = 2
    ZERO = 3  # free and nonbasic


class SolveStatus(enum.Enum):
    """Outcome of a solve."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ERROR = "error"

    @property
    def ok(self) -> bool:
        return self is SolveStatus.OPTIMAL


@dataclass(frozen=True)
class LinearProgram:
    """``min`` (or ``max``) ``c·x`` s.t. ``row_lower ≤ A x ≤ row_upper``, ``lower ≤ x ≤ upper``.

    Attributes
    ----------
    c : (n,) float, objective coefficients.
    a : (m, n) scipy sparse matrix, converted to CSC for HiGHS.
    row_lower, row_upper : (m,) float; ±inf for a one-sided row.
    lower, upper : (n,) float; ±inf for a free side.
    maximize : maximise instead of minimise.
    integrality : (n,) bool, True for an integer column (a MILP); None: all continuous.
        HiGHS solves a MILP by branch and cut; duals are then not available. Pass
        ``mip_rel_gap=0.0`` as an option for a proven optimum.
    """

    c: np.ndarray
    a: sp.spmatrix | sp.sparray
    row_lower: np.ndarray
    row_upper: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    maximize: bool = False
    integrality: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.row_lower), len(self.c))


@dataclass(frozen=True)
class SolveResult:
    """A solve's outcome.

    Attributes
    ----------
    status : the typed outcome; ``x`` and ``objective`` are meaningful only when optimal.
    x : (n,) column values.
    objective : objective value (in the sense of the programme, max or min).
    row_value : (m,) ``A x``.
    row_dual, col_dual : (m,), (n,) duals (HiGHS sign convention), or None.
    iterations : simplex iterations of this solve.
    seconds : wall time of this solve.
    """

    status: SolveStatus
    x: np.ndarray
    objective: float
    row_value: np.ndarray
    row_dual: np.ndarray | None = None
    col_dual: np.ndarray | None = None
    iterations: int = 0
    seconds: float = 0.0


_BANNER_SHOWN = False


def _new_highs() -> Any:
    """A silent ``highspy.Highs``.

    HiGHS prints a copyright banner on stdout when the first solver of the process is
    constructed, before any option can be set; it would corrupt ``--json`` output, so the
    first construction runs with file descriptor 1 pointed at ``/dev/null``.
    """
    global _BANNER_SHOWN
    import highspy

    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        _BANNER_SHOWN = True
        try:
            sys.stdout.flush()
            saved = os.dup(1)
        except (OSError, ValueError):  # pragma: no cover - no real stdout
            saved = None
        if saved is None:  # pragma: no cover
            h = highspy.Highs()
        else:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
    h.setOptionValue("output_flag", False)
    return h


_STATUS = {
    "kOptimal": SolveStatus.OPTIMAL,
    "kInfeasible": SolveStatus.INFEASIBLE,
    "kUnboundedOrInfeasible": SolveStatus.INFEASIBLE,
    "kUnbounded": SolveStatus.UNBOUNDED,
    "kTimeLimit": SolveStatus.TIME_LIMIT,
    "kIterationLimit": SolveStatus.TIME_LIMIT,
    "kModelEmpty": SolveStatus.OPTIMAL,
}


class HighsModel:
    """A live HiGHS model that can grow rows and change bounds between solves.

    Parameters
    ----------
    lp : the programme to load.
    options : HiGHS options (``{"solver": "simplex", "time_limit": 10.0}``).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> lp = LinearProgram(c=np.array([1.0, 1.0]), a=sp.csc_matrix([[1.0, 2.0]]),
    ...                    row_lower=np.array([-np.inf]), row_upper=np.array([4.0]),
    ...                    lower=np.zeros(2), upper=np.array([3.0, 3.0]), maximize=True)
    >>> r = HighsModel(lp).solve()
    >>> r.status.name, round(r.objective, 6)
    ('OPTIMAL', 3.5)
    """

    def __init__(self, lp: LinearProgram, **options: Any) -> None:
        import highspy

        self._hp = highspy
        self.h = _new_highs()
        for k, v in options.items():
            self.h.setOptionValue(k, v)
        a = sp.csc_matrix(lp.a)
        m, n = a.shape
        if len(lp.c) != n or len(lp.row_lower) != m:
            raise ValueError(
                f"inconsistent LP shapes: A {a.shape}, c {len(lp.c)}, rows {len(lp.row_lower)}"
            )
        model = highspy.HighsLp()
        model.num_col_ = n
        model.num_row_ = m
        model.col_cost_ = np.asarray(lp.c, dtype=np.float64)
        model.col_lower_ = np.asarray(lp.lower, dtype=np.float64)
        model.col_upper_ = np.asarray(lp.upper, dtype=np.float64)
        model.row_lower_ = np.asarray(lp.row_lower, dtype=np.float64)
        model.row_upper_ = np.asarray(lp.row_upper, dtype=np.float64)
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.num_col_ = n
        model.a_matrix_.num_row_ = m
        model.a_matrix_.start_ = a.indptr.astype(np.int32)
        model.a_matrix_.index_ = a.indices.astype(np.int32)
        model.a_matrix_.value_ = a.data.astype(np.float64)
        model.sense_ = highspy.ObjSense.kMaximize if lp.maximize else highspy.ObjSense.kMinimize
        if lp.integrality is not None:
            integ = np.asarray(lp.integrality, dtype=bool)
            if len(integ) != n:
                raise ValueError(f"integrality has {len(integ)} entries, expected {n}")
            kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
            model.integrality_ = [kinds[int(v)] for v in integ]
        self.h.passModel(model)
        self.num_col = n
        self.num_row = m
        # the bounds HiGHS holds, to hand it only what changes (set_bounds)
        self._bounds: tuple[np.ndarray, ...] | None = tuple(
            np.array(v, dtype=np.float64) for v in (lp.lower, lp.upper, lp.row_lower, lp.row_upper)
        )
        self._ran = False
        self._codes = np.array(
            [
                highspy.HighsBasisStatus.kLower,
                highspy.HighsBasisStatus.kBasic,
                highspy.HighsBasisStatus.kUpper,
                highspy.HighsBasisStatus.kZero,
            ],
            dtype=object,
        )

    def add_rows(
        self, a_rows: sp.spmatrix | sp.sparray, lower: np.ndarray, upper: np.ndarray
    ) -> None:
        """Append rows ``lower ≤ a_rows x ≤ upper`` ((k, n) sparse, (k,), (k,))."""
        r = sp.csr_matrix(a_rows)
        k = r.shape[0]
        if k == 0:
            return
        self.h.addRows(
            k,
            np.asarray(lower, dtype=np.float64),
            np.asarray(upper, dtype=np.float64),
            r.nnz,
            r.indptr[:-1].astype(np.int32),
            r.indices.astype(np.int32),
            r.data.astype(np.float64),
        )
        self.num_row += k

    def set_col_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Change the bounds of columns ``cols`` ((k,) int, (k,), (k,))."""
        cols = np.asarray(cols, dtype=np.int32)
        if len(cols):
            lower = np.asarray(lower, dtype=np.float64)
            upper = np.asarray(upper, dtype=np.float64)
            self.h.changeColsBounds(len(cols), cols, lower, upper)
            if self._bounds is not None:
                self._bounds[0][cols], self._bounds[1][cols] = lower, upper

    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Change the bounds of rows ``rows`` ((k,) int, (k,), (k,)); ±inf frees a side."""
        rows = np.asarray(rows, dtype=np.int32)
        if len(rows):
            lower = np.asarray(lower, dtype=np.float64)
            upper = np.asarray(upper, dtype=np.float64)
            self.h.changeRowsBounds(len(rows), rows, lower, upper)
            if self._bounds is not None and len(self._bounds[2]) == self.num_row:
                self._bounds[2][rows], self._bounds[3][rows] = lower, upper

    def set_bounds(
        self,
        col_lower: np.ndarray,
        col_upper: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
    ) -> None:
        """Give every column and every row these bounds ((n,), (n,), (m,), (m,)).

        Only the entries that differ from the bounds set last are handed to HiGHS (its
        bound changes cost ~0.1 µs each, a millisecond on a 10,000-column model); the
        model ends up the same either way. Rows added since then are passed in full.
        """
        new = [
            np.asarray(v, dtype=np.float64) for v in (col_lower, col_upper, row_lower, row_upper)
        ]
        last = self._bounds
        if last is None or len(last[0]) != self.num_col or len(last[2]) != self.num_row:
            cols = np.arange(self.num_col, dtype=np.int32)
            rows = np.arange(self.num_row, dtype=np.int32)
        else:
            cols = np.flatnonzero((new[0] != last[0]) | (new[1] != last[1])).astype(np.int32)
            rows = np.flatnonzero((new[2] != last[2]) | (new[3] != last[3])).astype(np.int32)
        self._bounds = None
        self.set_col_bounds(cols, new[0][cols], new[1][cols])
        self.set_row_bounds(rows, new[2][rows], new[3][rows])
        self._bounds = tuple(v.copy() for v in new)

    def set_costs(self, cols: np.ndarray, costs: np.ndarray) -> None:
        """Change the objective coefficients of columns ``cols``."""
        cols = np.asarray(cols, dtype=np.int32)
        if len(cols):
            self.h.changeColsCost(len(cols), cols, np.asarray(costs, dtype=np.float64))

    def clear_solver(self) -> None:
        """Forget the previous solves (basis, factorisation, solution); keep the model."""
        self.h.clearSolver()

    def basis(self) -> tuple[np.ndarray, np.ndarray]:
        """The current basis: (n,) and (m,) :class:`BasisStatus` codes (int8)."""
        b = self.h.getBasis()
        cols = np.fromiter((int(s) for s in b.col_status), dtype=np.int8, count=self.num_col)
        rows = np.fromiter((int(s) for s in b.row_status), dtype=np.int8, count=self.num_row)
        return cols, rows

    def set_basis(
        self, col_status: np.ndarray, row_status: np.ndarray, *, alien: bool = False
    ) -> bool:
        """Start the next solve from a basis (a crash or a previous solve's basis).

        Parameters
        ----------
        col_status : (n,) :class:`BasisStatus` codes of the columns.
        row_status : (m,) codes of the rows (a row's status is its slack's).
        alien : the basis may have more or fewer than m basic entries; HiGHS then makes
            a valid basis of it (an extra factorisation). Otherwise it must have exactly m.

        Returns
        -------
        True when HiGHS accepted the basis.
        """
        hp = self._hp
        codes = self._codes
        basis = hp.HighsBasis()
        basis.col_status = codes[np.asarray(col_status, dtype=np.intp)].tolist()
        basis.row_status = codes[np.asarray(row_status, dtype=np.intp)].tolist()
        basis.valid = True
        basis.alien = alien
        return self.h.setBasis(basis) == hp.HighsStatus.kOk

    def solve(self, *, duals: bool = False, row_values: bool = True) -> SolveResult:
        """Solve (from the last basis when there is one) and read the solution back.

        ``row_values=False`` skips reading ``A x`` back (``row_value`` is then empty).
        """
        t0 = time.perf_counter()
        it0 = int(self.h.getInfo().simplex_iteration_count) if self._ran else 0
        self._ran = True
        self.h.run()
        seconds = time.perf_counter() - t0
        name = self.h.getModelStatus().name
        status = _STATUS.get(name, SolveStatus.ERROR)
        info = self.h.getInfo()
        it1 = int(info.simplex_iteration_count)
        iters = it1 - it0 if it1 >= it0 > 0 else max(it1, 0)  # HiGHS may count per run
        if status is not SolveStatus.OPTIMAL:
            nan_x = np.full(self.num_col, np.nan)
            return SolveResult(
                status,
                nan_x,
                float("nan"),
                np.full(self.num_row, np.nan),
                iterations=iters,
                seconds=seconds,
            )
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        rv = np.asarray(sol.row_value, dtype=float) if row_values else np.empty(0)
        rd = np.asarray(sol.row_dual, dtype=float) if duals and sol.dual_valid else None
        cd = np.asarray(sol.col_dual, dtype=float) if duals and sol.dual_valid else None
        return SolveResult(
            status, x, float(info.objective_function_value), rv, rd, cd, iters, seconds
        )


def solve_lp(lp: LinearProgram, *, duals: bool = False, **options: Any) -> SolveResult:
    """Build and solve ``lp`` once; see :class:`HighsModel`."""
    return HighsModel(lp, **options).solve(duals=duals)
