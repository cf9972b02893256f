"""Islands and dark buses (scipy.sparse.csgraph).

An island is a connected set of in-service buses joined by in-service branches. An
island is *energised* when it holds a slack unit (pandapower semantics for a plain DC
flow) or, for impact analysis, any in-service generator with capacity; the buses of the
other islands are *dark*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from warmgrid.power.network import Network, State

__all__ = ["Islands", "islands"]


@dataclass(frozen=True)
class Islands:
    """Island labels of a state.

    Attributes
    ----------
    label : (n_bus,) int, island number per bus; −1 for a bus out of service.
    count : number of islands among in-service buses.
    has_slack : (count,) bool, the island holds an in-service slack unit.
    has_gen : (count,) bool, the island holds an in-service unit with p_max > 0.
    """

    label: np.ndarray
    count: int
    has_slack: np.ndarray
    has_gen: np.ndarray

    def dark(self, *, need_slack: bool = True) -> np.ndarray:
        """(n_bus,) bool: bus out of service or in an island without a source.

        ``need_slack=True`` follows pandapower's DC flow (only slack islands are solved);
        ``False`` counts any island with a generator as energised.
        """
        live = self.has_slack if need_slack else self.has_gen
        out = np.ones(len(self.label), dtype=bool)
        on = self.label >= 0
        out[on] = ~live[self.label[on]]
        return out


def islands(net: Network, state: State | None = None) -> Islands:
    """Find the islands of a state.

    Parameters
    ----------
    net : compiled network.
    state : masks; the base state when omitted. Branches touching an out-of-service bus
        count as out.
    """
    st = (state or net.base_state).effective(net)
    on = st.branch_on
    n = net.n_bus
    f, t = net.f[on], net.t[on]
    adj = sp.coo_matrix((np.ones(len(f), dtype=np.int8), (f, t)), shape=(n, n))
    _, lab = connected_components(adj, directed=False)
    # relabel over in-service buses only, 0..count-1
    lab = np.where(st.bus_on, lab, -1)
    uniq, inv = np.unique(lab[st.bus_on], return_inverse=True)
    label = np.full(n, -1, dtype=np.int64)
    label[st.bus_on] = inv
    count = len(uniq)
    has_slack = np.zeros(count, dtype=bool)
    has_gen = np.zeros(count, dtype=bool)
    g_on = st.gen_on
    gl = label[net.gen_bus[g_on]]
    has_slack[gl[net.gen_slack[g_on]]] = True
    has_gen[gl[net.gen_pmax_mw[g_on] > 0]] = True
    return Islands(label=label, count=count, has_slack=has_slack, has_gen=has_gen)
