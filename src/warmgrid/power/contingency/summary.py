"""Streaming summaries: per-contingency and per-branch maxima and the violation table.

Screening feeds :class:`_Accumulator` block by block; no flow matrix is kept. The
violations are kept in memory, streamed to a Parquet or CSV file (:class:`_ViolationFile`)
or only counted. :func:`_finish` reads the accumulator back into a
:class:`~warmgrid.power.contingency.result.ContingencyResult`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from warmgrid.errors import InputError
from warmgrid.power.contingency.context import _Context, _Islanding
from warmgrid.power.contingency.result import ContingencyResult
from warmgrid.power.network import Network


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


def _finish(
    net: Network,
    ctx: _Context,
    acc: _Accumulator,
    outages: list[tuple[str, ...]],
    cut: _Islanding,
    t0: float,
    worsening_pp: float | None,
) -> ContingencyResult:
    """Close the violation file and read the run back as a :class:`ContingencyResult`.

    Parameters
    ----------
    net : compiled network.
    ctx : the run's pre-outage context (base flow and loading).
    acc : the filled accumulator.
    outages : element ids per contingency.
    cut : what each contingency cut off.
    t0 : ``time.perf_counter()`` at the start of the screening, s.
    worsening_pp : the run's worsening rule (None: every loading above the threshold).
    """
    if acc.sink is not None:
        acc.sink.close()
    return ContingencyResult(
        outages=outages,
        islanding=cut.islanding,
        max_loading_percent=acc.max_loading,
        max_branch=acc.max_branch,
        n_overloaded=acc.n_over,
        lost_load_mw=cut.lost_load_mw,
        lost_gen_mw=cut.lost_gen_mw,
        dark_buses=cut.dark_buses,
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
