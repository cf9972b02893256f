"""Contingency screening: N-1 over all branches (and units) and N-k for given sets.

Everything runs on one factorisation of the pre-outage topology (:mod:`warmgrid.power.dc`):

* **Non-islanding branch outages** by LODF, computed in blocks of outages. Each block
  needs the PTDF columns of the block's end buses (one triangular solve per bus, not per
  branch) and never a dense branches × branches matrix.
* **Islanding branch outages** (bridges, known from one depth-first search before any
  arithmetic) exactly: with each island rooted at its slack bus, the side cut off by a
  bridge is a DFS subtree; it goes dark and its load and generation are reported lost.
  The slack side sees the bridge's pre-outage flow vanish at the bridge's slack-side end,
  an injection change whose effect is one PTDF column.
* **Unit outages**: the lost output is picked up by the slack or pro rata to the other
  units' ``p_max`` in the island (``generators="pro_rata"``).
* **N-k sets** by a Woodbury update with a k×k system (:func:`warmgrid.power.dc.woodbury_flows`);
  bridges in a set become injection changes as above, and only a set whose non-bridge
  branches cut the grid falls back to refactorising.

Results stream into per-contingency and per-branch summaries and a violation table; no
flow matrix is kept. The violation table is kept in memory, streamed to a Parquet or CSV
file as it grows (``violations_out``), or only counted.

**Against the base case.** Many published cases overload branches before any outage
(case9241pegase has thousands of such rows per contingency). Counting those again for
every outage says nothing about the outage. By default (``worsening_pp=1.0``), a
post-contingency loading is a violation only if the branch is within its rating before
the outage and above ``threshold_percent`` after, or was already above it and rises by
more than ``worsening_pp`` percentage points: the "increased violation" rule of security
analysis tools (pypowsybl's ``increased_violations_threshold``, PowSyBl's limit
reductions). ``worsening_pp=None`` counts every loading above the threshold, as before.
The base case's own overloads are reported apart (:meth:`ContingencyResult.base_overloads`).

**Memory.** Before screening, the memory the run needs is estimated and checked against
what the machine has available (:func:`check_memory`); a run that would not fit is an
:class:`~warmgrid.errors.InputError` naming the option to change, never a process the
kernel kills.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from warmgrid.errors import InputError
from warmgrid.power._fast import HAVE_NUMBA, LUSolver, Transfers, screen_block, transfer_solutions
from warmgrid.power.dc import DCFactor, DCResult, dc_flow, factorize
from warmgrid.power.network import Network, State
from warmgrid.power.topology import BridgeTree, bridge_tree

__all__ = [
    "ContingencyResult",
    "available_memory",
    "check_memory",
    "n_minus_1",
    "n_minus_k",
    "n_minus_k_pairs",
    "post_outage_flows",
]

Progress = Callable[[int, int], None]


@dataclass
class ContingencyResult:
    """A contingency screening run.

    Attributes
    ----------
    outages : one tuple of element ids per contingency.
    islanding : (n_c,) bool, the outage splits off part of an energised island.
    max_loading_percent : (n_c,) highest post-contingency loading, %.
    max_branch : (n_c,) index of the branch with that loading (−1 if none).
    n_overloaded : (n_c,) branches above ``threshold_percent``.
    lost_load_mw, lost_gen_mw : (n_c,) load (with shunt conductance) and generation set
        points on buses that go dark, MW.
    dark_buses : (n_c,) buses that go dark.
    branch_worst_loading_percent : (n_branch,) worst post-contingency loading per branch.
    branch_worst_contingency : (n_branch,) index of the contingency causing it (−1 none).
    violations : table ``contingency, outage, branch, p_mw, loading_percent`` of every
        post-contingency loading above the threshold.
    base : the pre-contingency DC flow.
    threshold_percent : the overload threshold.
    worsening_pp : a base-case overload counts again only above its base loading plus this
        many percentage points; None: every loading above the threshold counts.
    base_loading_percent : (n_branch,) pre-contingency loading (0 unrated or out), %.
    branch_threshold_percent : (n_branch,) loading above which each branch is a violation.
    n_violations : violations found (also when they were streamed or only counted).
    seconds : screening wall time (after loading and compiling), s.
    branch_ids : (n_branch,) ids, for reporting.
    """

    outages: list[tuple[str, ...]]
    islanding: np.ndarray
    max_loading_percent: np.ndarray
    max_branch: np.ndarray
    n_overloaded: np.ndarray
    lost_load_mw: np.ndarray
    lost_gen_mw: np.ndarray
    dark_buses: np.ndarray
    branch_worst_loading_percent: np.ndarray
    branch_worst_contingency: np.ndarray
    base: DCResult
    threshold_percent: float
    seconds: float
    branch_ids: np.ndarray = field(repr=False)
    worsening_pp: float | None = None
    base_loading_percent: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    branch_threshold_percent: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    n_violations: int = 0
    violations_kept: bool = True
    _viol: tuple[list[np.ndarray], ...] = field(repr=False, default=([], [], [], []))

    def base_overloads(self) -> list[dict[str, Any]]:
        """Branches above the threshold before any outage, worst first:
        ``[{"branch", "p_mw", "loading_percent"}]``."""
        ld = self.base_loading_percent
        idx = np.flatnonzero(ld > self.threshold_percent)
        idx = idx[np.argsort(-ld[idx], kind="stable")]
        return [
            {
                "branch": str(self.branch_ids[k]),
                "p_mw": float(self.base.flow_mw[k]),
                "loading_percent": float(ld[k]),
            }
            for k in idx
        ]

    @cached_property
    def violations(self) -> pd.DataFrame:
        """Every violation, one row each (see the module docstring for what counts).

        Columns ``contingency`` (index), ``outage`` (ids joined by commas), ``branch``,
        ``p_mw`` (post-contingency flow at the from end), ``loading_percent`` and
        ``base_loading_percent``; the id columns are categorical. Built on first access
        from the streamed arrays.

        Raises
        ------
        ValueError : the run did not keep them (``keep_violations=False``).
        """
        if not self.violations_kept:
            raise ValueError("the violations were not kept (keep_violations=False)")
        vc = _cat(self._viol[0], np.int64)
        vb = _cat(self._viol[1], np.int64)
        names = [",".join(o) for o in self.outages]
        outage_col: Any = (
            pd.Categorical.from_codes(vc, categories=names)
            if len(set(names)) == len(names)
            else np.asarray(names, dtype=object)[vc]
        )
        return pd.DataFrame(
            {
                "contingency": vc,
                "outage": outage_col,
                "branch": pd.Categorical.from_codes(vb, categories=list(self.branch_ids)),
                "p_mw": _cat(self._viol[2], float),
                "loading_percent": _cat(self._viol[3], float),
                "base_loading_percent": self.base_loading_percent[vb]
                if len(self.base_loading_percent)
                else np.zeros(len(vb)),
            }
        )

    @property
    def count(self) -> int:
        return len(self.outages)

    def worst(self, n: int = 10) -> list[dict[str, Any]]:
        """The ``n`` contingencies with the highest maximum loading."""
        ml = np.nan_to_num(self.max_loading_percent, nan=-np.inf)
        top = np.argsort(-ml, kind="stable")[:n]
        return [
            {
                "outage": list(self.outages[i]),
                "max_loading_percent": float(self.max_loading_percent[i]),
                "branch": None
                if self.max_branch[i] < 0
                else str(self.branch_ids[self.max_branch[i]]),
                "n_overloaded": int(self.n_overloaded[i]),
                "islanding": bool(self.islanding[i]),
                "lost_load_mw": float(self.lost_load_mw[i]),
            }
            for i in top
        ]

    def table(self) -> pd.DataFrame:
        """One row per contingency."""
        mb = self.max_branch
        return pd.DataFrame(
            {
                "outage": [",".join(o) for o in self.outages],
                "max_loading_percent": self.max_loading_percent,
                "max_branch": np.where(mb >= 0, self.branch_ids[np.maximum(mb, 0)], None),
                "n_overloaded": self.n_overloaded,
                "islanding": self.islanding,
                "lost_load_mw": self.lost_load_mw,
                "lost_gen_mw": self.lost_gen_mw,
                "dark_buses": self.dark_buses,
            }
        )

    def summary(self) -> dict[str, Any]:
        """The JSON contract of ``warmgrid contingency``.

        ``with_overloads`` counts the contingencies with at least one violation (a new
        overload, or a base-case one worsened by more than ``worsening_pp``);
        ``base_overloads`` lists the branches overloaded before any outage.
        """
        base = self.base_overloads()
        return {
            "contingencies": self.count,
            "islanding": int(self.islanding.sum()),
            "with_overloads": int((self.n_overloaded > 0).sum()),
            "violations": self.n_violations,
            "seconds": self.seconds,
            "threshold_percent": self.threshold_percent,
            "worsening_pp": self.worsening_pp,
            "counting": "all" if self.worsening_pp is None else "new_or_worsened",
            "base_overloads": base,
            "n_base_overloads": len(base),
            "worst": self.worst(10),
        }


# ---------------------------------------------------------------------- streaming summary
class _ViolationFile:
    """Violations streamed to a Parquet or CSV file in row groups (bounded memory).

    The file is written where it is told (the caller renames it into place when the run
    succeeds, :func:`warmgrid.io.atomic.atomic_file`).
    """

    ROWS = 500_000  # rows buffered before a write

    def __init__(
        self,
        path: str | Path,
        outages: Sequence[tuple[str, ...]],
        branch_ids: np.ndarray,
        base_loading: np.ndarray,
    ) -> None:
        import pyarrow as pa

        self.path = Path(path)
        self.outages, self.branch_ids, self.base = outages, branch_ids, base_loading
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.n = 0
        self.schema = pa.schema(
            [
                ("contingency", pa.int64()),
                ("outage", pa.string()),
                ("branch", pa.string()),
                ("p_mw", pa.float64()),
                ("loading_percent", pa.float64()),
                ("base_loading_percent", pa.float64()),
            ]
        )
        if self.path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            self.writer: Any = pq.ParquetWriter(str(self.path), self.schema)
        else:
            import pyarrow.csv as pcsv

            self.writer = pcsv.CSVWriter(str(self.path), self.schema)

    def add(self, c: np.ndarray, b: np.ndarray, p: np.ndarray, ld: np.ndarray) -> None:
        self.parts.append((c, b, p, ld))
        self.n += len(c)
        if self.n >= self.ROWS:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if not self.parts:
            return
        c, b, p, ld = (np.concatenate(x) for x in zip(*self.parts, strict=True))
        self.parts.clear()
        self.n = 0
        order = np.lexsort((b, c))
        c, b, p, ld = c[order], b[order], p[order], ld[order]
        names = np.array([",".join(self.outages[i]) for i in np.unique(c)], dtype=object)
        outage = names[np.searchsorted(np.unique(c), c)]
        table = pa.table(
            [c, outage, self.branch_ids[b].astype(str), p, ld, self.base[b]], schema=self.schema
        )
        self.writer.write_table(table)

    def close(self) -> None:
        self.flush()
        self.writer.close()


class _Accumulator:
    """Per-contingency and per-branch maxima and the violations, fed block by block.

    ``branch_thr`` is each branch's violation threshold (see the module docstring); the
    violations are kept (``keep``), written to ``sink``, or only counted.
    """

    def __init__(
        self,
        n_c: int,
        n_branch: int,
        threshold: float,
        branch_thr: np.ndarray | None = None,
        *,
        keep: bool = True,
        sink: _ViolationFile | None = None,
    ) -> None:
        self.thr = threshold
        self.branch_thr = np.full(n_branch, float(threshold)) if branch_thr is None else branch_thr
        self.keep, self.sink, self.n_viol = keep, sink, 0
        self.max_loading = np.full(n_c, np.nan)
        self.max_branch = np.full(n_c, -1, dtype=np.int64)
        self.n_over = np.zeros(n_c, dtype=np.int64)
        self.branch_worst = np.zeros(n_branch)
        self.branch_worst_c = np.full(n_branch, -1, dtype=np.int64)
        self.v_c: list[np.ndarray] = []
        self.v_b: list[np.ndarray] = []
        self.v_p: list[np.ndarray] = []
        self.v_l: list[np.ndarray] = []

    def _violations(self, c: np.ndarray, b: np.ndarray, p: np.ndarray, ld: np.ndarray) -> None:
        self.n_viol += len(c)
        if not len(c):
            return
        if self.keep:
            self.v_c.append(c)
            self.v_b.append(b)
            self.v_p.append(p)
            self.v_l.append(ld)
        if self.sink is not None:
            self.sink.add(c, b, p, ld)

    def add(self, cidx: np.ndarray, post: np.ndarray, loading: np.ndarray) -> None:
        """Record a block.

        Parameters
        ----------
        cidx : (m,) contingency indices.
        post : (n_branch, m) post-contingency flows, MW (any value where loading is 0).
        loading : (n_branch, m) loading, %, with 0 for branches out, dark or unlimited.
        """
        if len(cidx) == 0:
            return
        am = loading.argmax(axis=0)
        cols = np.arange(len(cidx))
        mx = loading[am, cols]
        self.max_loading[cidx] = mx
        self.max_branch[cidx] = np.where(mx > 0.0, am, -1)
        over = loading > self.branch_thr[:, None]
        self.n_over[cidx] = over.sum(axis=0)
        bm = loading.argmax(axis=1)
        bv = loading[np.arange(loading.shape[0]), bm]
        better = bv > self.branch_worst
        self.branch_worst[better] = bv[better]
        self.branch_worst_c[better] = cidx[bm[better]]
        r, c = np.nonzero(over)
        self._violations(cidx[c], r, post[r, c], loading[r, c])

    def add_stats(
        self,
        cidx: np.ndarray,
        colmax: np.ndarray,
        colarg: np.ndarray,
        colcnt: np.ndarray,
        viol: tuple[np.ndarray, ...],
    ) -> None:
        """Record a block already reduced by :func:`warmgrid.power._fast.screen_block`."""
        self.max_loading[cidx] = colmax
        self.max_branch[cidx] = colarg
        self.n_over[cidx] = colcnt
        self._violations(*viol)


def _cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _accumulator(
    net: Network,
    ctx: _Context,
    outages: Sequence[tuple[str, ...]],
    threshold_percent: float,
    worsening_pp: float | None,
    keep: bool,
    violations_out: str | Path | None,
) -> _Accumulator:
    """The accumulator of a run, with each branch's violation threshold and the sink."""
    if not (np.isfinite(threshold_percent) and threshold_percent > 0):
        raise InputError(
            f"threshold must be a number > 0, got {threshold_percent!r}", field="--threshold"
        )
    if worsening_pp is not None and not (np.isfinite(worsening_pp) and worsening_pp >= 0):
        raise InputError(
            f"worsening must be a number >= 0, got {worsening_pp!r}", field="--worsening"
        )
    base = ctx.base_loading
    thr = np.full(net.n_branch, float(threshold_percent))
    if worsening_pp is not None:
        over = base > threshold_percent
        # at least 1e-6 points: a smaller change is floating-point noise, not an outage's
        thr[over] = base[over] + max(worsening_pp, 1e-6)
    sink = (
        _ViolationFile(violations_out, outages, net.branch_ids, base)
        if violations_out is not None
        else None
    )
    return _Accumulator(len(outages), net.n_branch, threshold_percent, thr, keep=keep, sink=sink)


# ---------------------------------------------------------------------- memory
def available_memory() -> int:
    """Bytes of memory the machine can give this process now (``MemAvailable``)."""
    import psutil

    return int(psutil.virtual_memory().available)


def check_memory(need: float, *, what: str, field: str, hint: str) -> None:
    """Raise :class:`InputError` when ``need`` bytes exceed 80 % of the available memory.

    Parameters
    ----------
    need : the estimate, bytes.
    what : the run, for the message ("N-2 over 1,200 candidates").
    field : the option to change.
    hint : what to change.
    """
    avail = available_memory()
    if need > 0.8 * avail:
        raise InputError(
            f"{what} needs about {need / 1e9:,.1f} GB of memory and "
            f"{avail / 1e9:,.1f} GB is available; {hint}",
            field=field,
        )


def _per_contingency_bytes(keep_violations: bool, k: int) -> float:
    """Memory per contingency: its id tuple and strings (~70 B + 60 B per element), the
    summary arrays (~60 B), and, when violations are kept in memory, a reserve of 40
    violation rows (32 B each): base-case overloads no longer repeat per contingency, so
    real runs stay well under it."""
    return 70 + 60 * k + 60 + (40 * 32 if keep_violations else 0)


# ---------------------------------------------------------------------- shared set-up
class _Context:
    """Base flow, factorisation, bridge tree and per-bus sums of one pre-outage state."""

    def __init__(self, net: Network, state: State | None) -> None:
        self.net = net
        self.state = (state or net.base_state).effective(net)
        self.fac: DCFactor = factorize(net, self.state, energised="slack")
        self.base = dc_flow(net, self.state, energised="slack", factor=self.fac)
        fac = self.fac
        self.f0 = np.nan_to_num(self.base.flow_mw)
        with np.errstate(divide="ignore"):
            self.w = np.where(fac.branch_on, 100.0 / net.rate_mw, 0.0)
        #: (n_branch,) pre-outage loading, % (0 for unrated, out or dark branches)
        self.base_loading = np.abs(self.f0) * self.w
        self.tree: BridgeTree = bridge_tree(net, self.state, roots=fac.ref_bus)
        nu = len(fac.unknown)
        self.pf = np.where(fac.pos[net.f] >= 0, fac.pos[net.f], nu)
        self.pt = np.where(fac.pos[net.t] >= 0, fac.pos[net.t], nu)
        # per-bus load and generation in DFS preorder, for lost power of a cut-off side
        st = self.state
        load = np.zeros(net.n_bus)
        np.add.at(
            load,
            net.load_bus,
            net.load_p_mw * st.load_on * (st.load_scale if st.load_scale is not None else 1.0),
        )
        np.add.at(load, net.shunt_bus, net.shunt_g_mw * st.bus_on[net.shunt_bus])
        gen = np.zeros(net.n_bus)
        gon = st.gen_on
        np.add.at(gen, net.gen_bus[gon], net.gen_p_mw[gon])
        isref = np.zeros(net.n_bus)
        isref[fac.ref_bus] = 1.0
        order = self.tree.order

        def csum(x: np.ndarray) -> np.ndarray:
            return np.concatenate([[0.0], np.cumsum(x[order])])

        self.c_load, self.c_gen, self.c_ref = csum(load), csum(gen), csum(isref)
        self._cols: dict[int, np.ndarray] = {}

    # -- solves ----------------------------------------------------------------
    def bus_solutions(self, buses: np.ndarray) -> np.ndarray:
        """(n_unknown + 1, len + 1) B⁻¹ e_j per bus; the last row (reference buses) and the
        last column are zero."""
        fac = self.fac
        if fac.lu is None:
            return np.zeros((len(fac.unknown) + 1, len(buses) + 1))
        return self.solver().solve_units(fac.pos[buses])

    def solver(self) -> LUSolver:
        fac = self.fac
        if fac._solver is None:
            fac._solver = LUSolver(fac.lu)
        return fac._solver

    def transfers(self, buses: np.ndarray, cf: np.ndarray, ct: np.ndarray) -> Transfers:
        """Solutions B⁻¹(e_buses[cf] − e_buses[ct]) per outage (ct = −1: one bus)."""
        if self.fac.lu is None:
            return Transfers(
                np.zeros((1, len(buses) + 1)),
                np.zeros(1, dtype=np.int64),
                cf,
                np.where(ct < 0, len(buses), ct),
            )
        return transfer_solutions(self.solver(), self.fac.pos[buses], cf, ct)

    def ptdf(self, buses: np.ndarray) -> np.ndarray:
        """(n_branch, len) PTDF columns (MW per MW injected at the bus, taken at the slack)."""
        z = self.bus_solutions(buses)[:, :-1]
        return (z[self.pf] - z[self.pt]) * self.fac.b[:, None]

    def ptdf_cached(self, buses: np.ndarray) -> np.ndarray:
        """Like :meth:`ptdf`, memoising columns (bounded at ~256 MB)."""
        need = (
            np.unique(buses[np.array([b not in self._cols for b in buses.tolist()], dtype=bool)])
            if len(buses)
            else buses
        )
        if len(need):
            cols = self.ptdf(need)
            budget = max(64, int(256e6 / (8 * max(1, self.net.n_branch))))
            if len(self._cols) + len(need) > budget:
                self._cols.clear()
            for j, b in enumerate(need.tolist()):
                self._cols[b] = cols[:, j]
        if len(buses) == 0:
            return np.zeros((self.net.n_branch, 0))
        return np.stack([self._cols[b] for b in buses.tolist()], axis=1)

    # -- bridges ---------------------------------------------------------------
    def cut(self, k: int) -> tuple[int, int, int]:
        """(parent bus, first preorder position, end position) of the side bridge k cuts off."""
        v = int(self.tree.child[k])
        p = int(self.net.t[k] if self.net.f[k] == v else self.net.f[k])
        lo = int(self.tree.tin[v])
        return p, lo, lo + int(self.tree.size[v])

    def side_sums(
        self, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lost load, lost generation and slack buses of preorder ranges [lo, hi)."""
        return (
            self.c_load[hi] - self.c_load[lo],
            self.c_gen[hi] - self.c_gen[lo],
            self.c_ref[hi] - self.c_ref[lo],
        )


def _branch_index(net: Network, ids: Sequence[str] | None, default: np.ndarray) -> np.ndarray:
    if ids is None:
        return np.flatnonzero(default)
    r = net.resolve(ids)
    bad = [i for i in ids if net.index_of(i)[0] != "branch"] if len(r["branch"]) != len(ids) else []
    if bad:
        raise InputError(f"{bad[0]!r} is not a branch", row=bad[0], field="outage")
    return r["branch"]


# ---------------------------------------------------------------------- N-1
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
    fac = ctx.fac
    cand = _branch_index(net, branches, fac.branch_on)
    cand = cand[fac.branch_on[cand]]
    isb = ctx.tree.is_bridge[cand]
    normal, bridge = cand[~isb], cand[isb]
    gens = np.zeros(0, dtype=np.int64)
    if generators:
        gons = ctx.state.gen_on & ~net.gen_slack & fac.live_bus[net.gen_bus]
        gens = np.flatnonzero(gons)
    outages = (
        [(str(net.branch_ids[k]),) for k in normal]
        + [(str(net.branch_ids[k]),) for k in bridge]
        + [(str(net.gen_ids[g]),) for g in gens]
    )
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
    islanding = np.zeros(n_c, dtype=bool)
    lost_load = np.zeros(n_c)
    lost_gen = np.zeros(n_c)
    dark = np.zeros(n_c, dtype=np.int64)
    if HAVE_NUMBA:  # the fused kernel never materialises branches x outages
        blk = 512
    else:
        blk = int(max(16, min(4096, block_mb * 1e6 / (8 * nb * 4))))
    done = 0
    tinf = ctx.tree.tin[net.f]

    def screen(
        cidx: np.ndarray,
        tr: Transfers,
        coef: np.ndarray,
        excl: np.ndarray,
        lo: np.ndarray | None = None,
        hi: np.ndarray | None = None,
    ) -> None:
        nonlocal done
        if lo is None or hi is None:
            lo = hi = np.zeros(len(cidx), dtype=np.int64)
        stats = screen_block(
            tr,
            ctx.pf,
            ctx.pt,
            fac.b,
            ctx.f0,
            ctx.w,
            coef,
            excl,
            lo,
            hi,
            tinf,
            acc.branch_thr,
            cidx,
            acc.branch_worst,
            acc.branch_worst_c,
        )
        acc.add_stats(cidx, *stats)
        done += len(cidx)
        if progress:
            progress(done, n_c)

    # --- non-islanding branch outages: LODF in blocks, ordered for shared end buses.
    # post = f0 + φ_k · f0[k] / (1 − φ_k[k]),  φ_k = b ⊙ A · B⁻¹ (e_f − e_t)
    key = np.maximum(ctx.tree.tin[net.f[normal]], ctx.tree.tin[net.t[normal]])
    ordn = np.argsort(key, kind="stable")
    for s in range(0, len(normal), blk):
        sel = ordn[s : s + blk]
        k = normal[sel]
        ub, inv = np.unique(np.concatenate([net.f[k], net.t[k]]), return_inverse=True)
        tr = ctx.transfers(ub, inv[: len(k)], inv[len(k) :])
        rf, rt, y = tr.rowmap[ctx.pf[k]], tr.rowmap[ctx.pt[k]], tr.y
        phikk = fac.b[k] * ((y[rf, tr.cf] - y[rf, tr.ct]) - (y[rt, tr.cf] - y[rt, tr.ct]))
        screen(sel, tr, ctx.f0[k] / (1.0 - phikk), k)

    # --- islanding branch outages: injection change at the slack-side end, subtree dark
    off = len(normal)
    if len(bridge):
        parts = [ctx.cut(int(k)) for k in bridge]
        par = np.array([p[0] for p in parts], dtype=np.int64)
        lo = np.array([p[1] for p in parts], dtype=np.int64)
        hi = np.array([p[2] for p in parts], dtype=np.int64)
        ll, lg, lref = ctx.side_sums(lo, hi)
        ci = off + np.arange(len(bridge))
        islanding[ci] = True
        lost_load[ci], lost_gen[ci], dark[ci] = ll, lg, hi - lo
        dinj = ctx.f0[bridge] * np.where(net.f[bridge] == par, 1.0, -1.0)
        direct = lref > 0  # another slack on the cut-off side: solve it directly
        idx = np.flatnonzero(~direct)
        for s in range(0, len(idx), blk):
            j = idx[s : s + blk]
            up, inv = np.unique(par[j], return_inverse=True)
            tr = ctx.transfers(up, inv, np.full(len(j), -1, dtype=np.int64))
            screen(ci[j], tr, dinj[j], bridge[j], lo[j], hi[j])
        for j in np.flatnonzero(direct):
            _direct(net, ctx, acc, int(ci[j]), outages[ci[j]], islanding, lost_load, lost_gen, dark)
            done += 1

    # --- unit outages
    off += len(bridge)
    if len(gens):
        ci = off + np.arange(len(gens))
        pg = net.gen_p_mw[gens]
        if generators == "slack":
            for s in range(0, len(gens), blk):
                j = np.arange(s, min(s + blk, len(gens)))
                up, inv = np.unique(net.gen_bus[gens[j]], return_inverse=True)
                tr = ctx.transfers(up, inv, np.full(len(j), -1, dtype=np.int64))
                screen(ci[j], tr, -pg[j], np.full(len(j), -1, dtype=np.int64))
        else:
            gblk = int(max(16, min(4096, block_mb * 1e6 / (8 * nb * 4))))
            ub, inv = np.unique(net.gen_bus[gens], return_inverse=True)
            for s in range(0, len(gens), gblk):
                j = np.arange(s, min(s + gblk, len(gens)))
                ubj, invj = np.unique(inv[j], return_inverse=True)
                post = -ctx.ptdf(ub[ubj])[:, invj] * pg[j][None, :]
                post += _pro_rata(net, ctx, gens[j], pg[j])
                post += ctx.f0[:, None]
                load = np.abs(post)
                load *= ctx.w[:, None]
                acc.add(ci[j], post, load)
                done += len(j)
                if progress:
                    progress(done, n_c)
    return _finish(net, ctx, acc, outages, islanding, lost_load, lost_gen, dark, t0, worsening_pp)


def _pro_rata(net: Network, ctx: _Context, gens: np.ndarray, pg: np.ndarray) -> np.ndarray:
    """(n_branch, len) flow change of the other units picking up ``pg`` pro rata to p_max."""
    st = ctx.state
    pmax = np.where(np.isfinite(net.gen_pmax_mw), np.maximum(net.gen_pmax_mw, 0.0), 0.0)
    share = pmax * (st.gen_on & ~net.gen_slack & ctx.fac.live_bus[net.gen_bus])
    isl = ctx.base.island
    gl = isl[net.gen_bus]
    out = np.zeros((net.n_branch, len(gens)))
    for lab in np.unique(gl[gens]):
        members = np.flatnonzero((gl == lab) & (share > 0))
        inj = np.zeros(net.n_bus)
        np.add.at(inj, net.gen_bus[members], share[members])
        tot = share[members].sum()
        ub = np.unique(net.gen_bus[members])
        # flows of the island-wide p_max-weighted injection, taken at the slack
        field_ = ctx.ptdf(ub) @ inj[ub] if len(ub) else np.zeros(net.n_branch)
        cols = np.flatnonzero(gl[gens] == lab)
        for c in cols:
            g = gens[c]
            rest = tot - share[g]
            if rest <= 0:
                continue
            own = ctx.ptdf_cached(np.array([net.gen_bus[g]]))[:, 0] * share[g]
            out[:, c] = pg[c] * (field_ - own) / rest
    return out


def _direct(
    net: Network,
    ctx: _Context,
    acc: _Accumulator,
    ci: int,
    ids: Sequence[str],
    islanding: np.ndarray,
    lost_load: np.ndarray,
    lost_gen: np.ndarray,
    dark: np.ndarray,
) -> None:
    """Solve one contingency by refactorising (sets that cut the grid in unusual ways)."""
    st = ctx.state.without(net, ids)
    r = dc_flow(net, st, energised="slack")
    newly = r.dark_bus & ~ctx.base.dark_bus
    islanding[ci] = bool(newly.any())
    dark[ci] = int(newly.sum())
    inj_load = np.zeros(net.n_bus)
    np.add.at(inj_load, net.load_bus, net.load_p_mw * ctx.state.load_on)
    np.add.at(inj_load, net.shunt_bus, net.shunt_g_mw * ctx.state.bus_on[net.shunt_bus])
    gen = np.zeros(net.n_bus)
    np.add.at(gen, net.gen_bus, net.gen_p_mw * ctx.state.gen_on)
    lost_load[ci] = inj_load[newly].sum()
    lost_gen[ci] = gen[newly].sum()
    post = np.nan_to_num(r.flow_mw)[:, None]
    load = np.nan_to_num(r.loading_percent)[:, None] * (np.isfinite(net.rate_mw))[:, None]
    acc.add(np.array([ci]), post, load)


def _finish(
    net: Network,
    ctx: _Context,
    acc: _Accumulator,
    outages: list[tuple[str, ...]],
    islanding: np.ndarray,
    lost_load: np.ndarray,
    lost_gen: np.ndarray,
    dark: np.ndarray,
    t0: float,
    worsening_pp: float | None,
) -> ContingencyResult:
    if acc.sink is not None:
        acc.sink.close()
    return ContingencyResult(
        outages=outages,
        islanding=islanding,
        max_loading_percent=acc.max_loading,
        max_branch=acc.max_branch,
        n_overloaded=acc.n_over,
        lost_load_mw=lost_load,
        lost_gen_mw=lost_gen,
        dark_buses=dark,
        branch_worst_loading_percent=acc.branch_worst,
        branch_worst_contingency=acc.branch_worst_c,
        base=ctx.base,
        threshold_percent=acc.thr,
        seconds=time.perf_counter() - t0,
        branch_ids=net.branch_ids,
        worsening_pp=worsening_pp,
        base_loading_percent=ctx.base_loading,
        branch_threshold_percent=acc.branch_thr,
        n_violations=acc.n_viol,
        violations_kept=acc.keep,
        _viol=(acc.v_c, acc.v_b, acc.v_p, acc.v_l),
    )


# ---------------------------------------------------------------------- N-k
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
    islanding = np.zeros(n_c, dtype=bool)
    lost_load = np.zeros(n_c)
    lost_gen = np.zeros(n_c)
    dark = np.zeros(n_c, dtype=np.int64)
    posts = np.zeros((net.n_branch, block))
    loads = np.zeros((net.n_branch, block))
    idx: list[int] = []

    def flush() -> None:
        m = len(idx)
        if m:
            acc.add(np.asarray(idx), posts[:, :m], loads[:, :m])
            idx.clear()

    for i, s in enumerate(outages):
        if _done is not None and _done[i]:
            continue
        f, _gone, ll, lg, nd = _set_flows(net, ctx, s)
        if f is None:
            _direct(net, ctx, acc, i, s, islanding, lost_load, lost_gen, dark)
        else:
            islanding[i], lost_load[i], lost_gen[i], dark[i] = nd > 0, ll, lg, nd
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
    return _finish(net, ctx, acc, outages, islanding, lost_load, lost_gen, dark, t0, worsening_pp)


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
