"""AC verification of the worst DC contingencies.

DC screening ranks thousands of outages in a second but ignores reactive power and
voltage: a branch's DC loading is ``|P| / rating`` at 1 p.u., its AC loading counts the
current of ``P + jQ`` at the actual voltage. :func:`ac_verify` re-solves the ``n`` worst
DC contingencies in AC (:func:`~warmgrid.power.ac.ac_flow`, the file's dispatch, the
slack unit taking the change, islands without a slack dark, as pandapower's ``runpp``;
warm-started from the pre-outage AC flow)
and reports both loadings side by side, so the ranking can be trusted or corrected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from warmgrid.power.ac import ac_flow
from warmgrid.power.ac_types import ACOptions
from warmgrid.power.network import Network

__all__ = ["ac_verify"]


def _top(values: np.ndarray) -> tuple[float | None, int]:
    """(largest finite value or None, its index or −1)."""
    ok = np.isfinite(values)
    if not ok.any():
        return None, -1
    i = int(np.flatnonzero(ok)[np.argmax(values[ok])])
    return float(values[i]), i


def ac_verify(
    net: Network,
    worst: Sequence[dict[str, Any]],
    *,
    q_limits: bool = False,
) -> list[dict[str, Any]]:
    """Re-solve each of ``worst`` (rows of :meth:`ContingencyResult.worst`) in AC.

    Returns one dict per row: ``outage``, ``dc_max_loading_percent``, ``dc_branch``,
    ``ac_converged``, ``ac_max_loading_percent`` and ``ac_branch`` (None when the flow
    does not converge or no rated branch is live), ``ac_loading_on_dc_branch`` (the AC
    loading of the branch DC found worst), ``min_vm_pu`` and ``max_vm_pu`` (live buses),
    ``dark_buses`` and ``seconds``.
    """
    opts = ACOptions(q_limits=q_limits)
    pre = ac_flow(net, options=opts)
    rows = []
    for w in worst:
        outage = list(w["outage"])
        st = net.base_state.without(net, outage)
        r = ac_flow(net, st, options=opts, start=pre)
        row: dict[str, Any] = {
            "outage": outage,
            "dc_max_loading_percent": w["max_loading_percent"],
            "dc_branch": w["branch"],
            "ac_converged": bool(r.converged),
            "ac_max_loading_percent": None,
            "ac_branch": None,
            "ac_loading_on_dc_branch": None,
            "min_vm_pu": None,
            "max_vm_pu": None,
            "dark_buses": int(r.dark_bus.sum()),
            "seconds": float(r.seconds),
        }
        if r.converged:
            ld = r.loading_percent
            top, i = _top(ld)
            row["ac_max_loading_percent"] = top
            row["ac_branch"] = None if i < 0 else str(net.branch_ids[i])
            if w["branch"] is not None:
                j = int(np.flatnonzero(net.branch_ids == w["branch"])[0])
                row["ac_loading_on_dc_branch"] = float(ld[j]) if np.isfinite(ld[j]) else None
            live = ~r.dark_bus
            if live.any():
                row["min_vm_pu"] = float(np.min(r.vm_pu[live]))
                row["max_vm_pu"] = float(np.max(r.vm_pu[live]))
        rows.append(row)
    return rows
