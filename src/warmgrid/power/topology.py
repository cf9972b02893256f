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
from scipy.sparse.csgraph import connected_components, depth_first_order

from warmgrid.power.network import Network, State

__all__ = ["BridgeTree", "Islands", "bridge_tree", "bridges", "islands"]


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


@dataclass(frozen=True)
class BridgeTree:
    """A depth-first spanning forest of the in-service branches, with its bridges.

    A *bridge* is a branch whose outage splits its island in two. For a bridge, the side
    cut off from the DFS root of its island is the subtree of ``child[k]``: the buses
    ``order[tin[v] : tin[v] + size[v]]`` with ``v = child[k]``. Rooting each island at its
    slack bus therefore makes that subtree the side that loses the slack.

    Attributes
    ----------
    is_bridge : (n_branch,) bool.
    child : (n_branch,) int, the child-end bus of a tree branch; −1 for non-tree branches.
    order : (n_on,) int, in-service buses in DFS preorder (islands one after another).
    tin : (n_bus,) int, position of each bus in ``order``; −1 for a bus out of service.
    size : (n_bus,) int, number of buses in each bus's DFS subtree (0 when out).
    root : (n_bus,) bool, the bus is the DFS root of its island.
    """

    is_bridge: np.ndarray
    child: np.ndarray
    order: np.ndarray
    tin: np.ndarray
    size: np.ndarray
    root: np.ndarray

    def cut_side(self, k: int) -> np.ndarray:
        """Bus indices cut off from the root side when bridge ``k`` goes out."""
        v = self.child[k]
        return self.order[self.tin[v] : self.tin[v] + self.size[v]]


def bridge_tree(
    net: Network, state: State | None = None, roots: np.ndarray | None = None
) -> BridgeTree:
    """Find the bridges of a state with one depth-first search (Tarjan's low-link).

    A tree branch (p, v) is a bridge when no non-tree branch leaves the subtree of v for a
    bus above it: ``low[v] >= tin[v]`` (Tarjan, "A note on finding the bridges of a graph",
    Inf. Proc. Letters 2(6), 1974). Parallel branches are never bridges.

    Parameters
    ----------
    net : compiled network.
    state : masks; the base state when omitted.
    roots : optional bus indices to root the search at (at most one per island is used,
        the first given); islands without one are rooted at their lowest bus.
    """
    st = (state or net.base_state).effective(net)
    n = net.n_bus
    on = st.branch_on & (net.f != net.t)
    f, t = net.f[on], net.t[on]
    # component roots: given roots first, then the lowest bus of every other island
    _, comp = connected_components(
        sp.coo_matrix((np.ones(len(f), dtype=np.int8), (f, t)), shape=(n, n)), directed=False
    )
    cand = np.concatenate(
        [np.asarray(roots if roots is not None else [], dtype=np.int64), np.flatnonzero(st.bus_on)]
    )
    cand = cand[st.bus_on[cand]]
    _, first = np.unique(comp[cand], return_index=True)
    root_bus = cand[np.sort(first)]
    # virtual node n joined to each island's root, so one search covers the forest
    rows = np.concatenate([f, t, np.full(len(root_bus), n), root_bus])
    cols = np.concatenate([t, f, root_bus, np.full(len(root_bus), n)])
    g = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n + 1, n + 1))
    order, pred = depth_first_order(g, n, directed=True, return_predecessors=True)
    order = order[1:]
    tin = np.full(n + 1, -1, dtype=np.int64)
    tin[order] = np.arange(len(order))
    tin[n] = -1
    # one tree branch per child; parallel duplicates become non-tree branches
    idx = np.flatnonzero(on)
    child_cand = np.where(
        pred[net.t[idx]] == net.f[idx],
        net.t[idx],
        np.where(pred[net.f[idx]] == net.t[idx], net.f[idx], -1),
    )
    ok = child_cand >= 0
    _, firsts = np.unique(child_cand[ok], return_index=True)
    tree_idx = idx[ok][firsts]
    child = np.full(net.n_branch, -1, dtype=np.int64)
    child[tree_idx] = child_cand[ok][firsts]
    nontree = on.copy()
    nontree[tree_idx] = False
    u, w = net.f[nontree], net.t[nontree]
    low = tin[:n].copy()
    np.minimum.at(low, u, tin[w])
    np.minimum.at(low, w, tin[u])
    size = np.where(st.bus_on, 1, 0).astype(np.int64)
    lowl = low.tolist()
    sizel = size.tolist()
    predl = pred.tolist()
    for v in reversed(order.tolist()):
        p = predl[v]
        if p < n:
            if lowl[v] < lowl[p]:
                lowl[p] = lowl[v]
            sizel[p] += sizel[v]
    low = np.asarray(lowl, dtype=np.int64)
    size = np.asarray(sizel, dtype=np.int64)
    is_bridge = np.zeros(net.n_branch, dtype=bool)
    is_bridge[tree_idx] = low[child[tree_idx]] >= tin[child[tree_idx]]
    rootm = np.zeros(n, dtype=bool)
    rootm[root_bus] = True
    return BridgeTree(
        is_bridge=is_bridge, child=child, order=order, tin=tin[:n], size=size, root=rootm
    )


def bridges(net: Network, state: State | None = None) -> np.ndarray:
    """(n_branch,) bool: the in-service branches whose outage splits their island."""
    return bridge_tree(net, state).is_bridge
