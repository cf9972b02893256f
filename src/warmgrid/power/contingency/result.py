"""The result of a contingency screening run (:class:`ContingencyResult`) and its read-back.

The per-contingency and per-branch arrays are filled by the screening
(:mod:`warmgrid.power.contingency.summary`); this module only reads them back as tables,
the worst contingencies and the JSON summary of ``warmgrid contingency``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from warmgrid.power.dc import DCResult

__all__ = ["ContingencyResult"]


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
                # no rated branch carrying flow: no loading (null), not 0 %
                "max_loading_percent": None
                if self.max_branch[i] < 0
                else float(self.max_loading_percent[i]),
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
                "max_loading_percent": np.where(mb >= 0, self.max_loading_percent, np.nan),
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


def _cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    """The streamed parts joined, or an empty array of ``dtype`` when there are none."""
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
