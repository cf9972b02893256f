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

Modules
-------
``result``: :class:`ContingencyResult` and its read-back. ``summary``: the streaming
accumulator and the violation file. ``memory``: :func:`check_memory`. ``context``: the
shared pre-outage set-up. ``single``: :func:`n_minus_1`. ``sets``: :func:`n_minus_k` and
:func:`post_outage_flows`. ``pairs``: :func:`n_minus_k_pairs`.
"""

from __future__ import annotations

# Progress and _Context stay importable from here (benchmarks/contingency.py times _Context)
from warmgrid.power.contingency.context import Progress as Progress
from warmgrid.power.contingency.context import _Context as _Context
from warmgrid.power.contingency.memory import available_memory, check_memory
from warmgrid.power.contingency.pairs import n_minus_k_pairs
from warmgrid.power.contingency.result import ContingencyResult
from warmgrid.power.contingency.sets import n_minus_k, post_outage_flows
from warmgrid.power.contingency.single import n_minus_1

__all__ = [
    "ContingencyResult",
    "available_memory",
    "check_memory",
    "n_minus_1",
    "n_minus_k",
    "n_minus_k_pairs",
    "post_outage_flows",
]
