"""Pro-rata unit outages (``n_minus_1(generators="pro_rata")``) against a brute force.

Each unit outage is rebuilt from scratch: the unit's output removed at its bus and added
at the island's other units in proportion to their finite ``p_max`` (the slack takes it
when none has one), then a DC power flow solved with SciPy alone (MATPOWER's ``makeBdc``:
``B = Aᵀ diag(b) A``, ``b = 1 / (x · tap)``, phase-shift injections ``−b · shift``, each
slack bus held at its angle). Every rated branch flow of every outage is compared with
the screening's violation table taken at a threshold of almost zero.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

import warmgrid.power._fast as fast
import warmgrid.power.dc as dcmod
from warmgrid.power.contingency import n_minus_1
from warmgrid.power.dc import dc_flow
from warmgrid.power.topology import bridge_tree

THR = 1e-9  # %: every flow above round-off is a "violation", so the table holds them all


class _BruteDC:
    """DC power flow of one state by a direct sparse solve per injection vector."""

    def __init__(self, net, state=None):
        st = (state or net.base_state).effective(net)
        self.net, self.st = net, st
        on = st.branch_on
        self.b = net.b_pu * on
        rows = np.r_[np.arange(net.n_branch), np.arange(net.n_branch)]
        vals = np.r_[np.ones(net.n_branch), -np.ones(net.n_branch)]
        a = sp.csr_matrix((vals, (rows, np.r_[net.f, net.t])), shape=(net.n_branch, net.n_bus))
        self.a = a
        self.pfinj = -self.b * net.shift_rad
        bbus = (a.T @ sp.diags(self.b) @ a).tocsc()
        adj = sp.csr_matrix((np.ones(on.sum()), (net.f[on], net.t[on])), shape=(net.n_bus,) * 2)
        _, lab = csgraph.connected_components(adj, directed=False)
        slack = np.flatnonzero(net.gen_slack & st.gen_on)
        self.island = np.where(st.bus_on, lab, -1)
        self.live = np.isin(self.island, self.island[net.gen_bus[slack]]) & st.bus_on
        self.ref = np.unique(net.gen_bus[slack])
        self.theta_ref = np.zeros(net.n_bus)
        self.theta_ref[net.gen_bus[slack]] = net.gen_va_rad[slack]
        self.unk = np.flatnonzero(self.live & ~np.isin(np.arange(net.n_bus), self.ref))
        self.lu = spla.splu(bbus[self.unk][:, self.unk].tocsc())
        self.b_ur = bbus[self.unk][:, self.ref]

    def flows(self, inj_mw):
        """(n_branch,) branch flows, MW, for bus injections ``inj_mw`` (n_bus,)."""
        net = self.net
        p = inj_mw / net.base_mva - self.a.T @ self.pfinj
        th = self.theta_ref.copy()
        th[self.unk] = self.lu.solve(p[self.unk] - self.b_ur @ th[self.ref])
        return (self.b * (self.a @ th) + self.pfinj) * net.base_mva

    def pro_rata_outage(self, g):
        """Flows after unit ``g`` trips, its output picked up pro rata to ``p_max``."""
        net, st = self.net, self.st
        pmax = np.where(np.isfinite(net.gen_pmax_mw), np.maximum(net.gen_pmax_mw, 0.0), 0.0)
        others = st.gen_on & ~net.gen_slack & self.live[net.gen_bus]
        others &= self.island[net.gen_bus] == self.island[net.gen_bus[g]]
        others[g] = False
        share = pmax * others
        inj = net.bus_injection_mw(st)
        inj[net.gen_bus[g]] -= net.gen_p_mw[g]
        if share.sum() > 0:
            np.add.at(inj, net.gen_bus, net.gen_p_mw[g] * share / share.sum())
        return self.flows(inj)


def _check_every_flow(net, state=None):
    """Screen every unit outage pro rata; compare every rated branch flow with the brute force."""
    brute = _BruteDC(net, state)
    base = dc_flow(net, state)
    on = np.isfinite(base.flow_mw)
    np.testing.assert_allclose(
        brute.flows(net.bus_injection_mw(brute.st))[on], base.flow_mw[on], atol=1e-8
    )
    r = n_minus_1(
        net, state, branches=[], generators="pro_rata", threshold_percent=THR, worsening_pp=None
    )
    gidx = {str(gid): k for k, gid in enumerate(net.gen_ids)}
    bidx = {str(bid): k for k, bid in enumerate(net.branch_ids)}
    v = r.violations
    vc = v["contingency"].to_numpy()
    vb = np.array([bidx[str(x)] for x in v["branch"]], dtype=np.int64)
    vp = v["p_mw"].to_numpy()
    rated = on & np.isfinite(net.rate_mw)
    order = np.argsort(vc, kind="stable")
    starts = np.searchsorted(vc[order], np.arange(r.count + 1))
    for i, (gid,) in enumerate(r.outages):
        want = brute.pro_rata_outage(gidx[gid])
        got = np.zeros(net.n_branch)
        rows = order[starts[i] : starts[i + 1]]
        got[vb[rows]] = vp[rows]
        np.testing.assert_allclose(got[rated], want[rated], atol=1e-6, err_msg=gid)
        ld = np.abs(want[rated]) / net.rate_mw[rated] * 100.0
        assert r.max_loading_percent[i] == pytest.approx(ld.max(), abs=1e-8)
    return r


def test_pro_rata_case118_every_flow(net118):
    r = _check_every_flow(net118)
    assert r.count == int((~net118.gen_slack).sum())


def test_pro_rata_case1354_every_flow(net1354):
    r = _check_every_flow(net1354)
    assert r.count == int((~net1354.gen_slack).sum())


def test_pro_rata_case1354_damaged_state(net1354):
    rng = np.random.default_rng(3)
    ids = [str(x) for x in rng.choice(net1354.gen_ids[~net1354.gen_slack], 5, replace=False)]
    ids += [str(x) for x in rng.choice(net1354.branch_ids, 5, replace=False)]
    _check_every_flow(net1354, net1354.state(ids))


def _two_islands(net):
    """A bridge out whose cut-off side holds the most units; there, one unit made a slack,
    one unit keeping its ``p_max`` and the others made unlimited (no share): the lone
    sharer's outage goes to the slack, the others' outages to the lone sharer."""
    tree = bridge_tree(net, roots=net.gen_bus[net.gen_slack])
    best, units = -1, []
    for k in np.flatnonzero(tree.is_bridge):
        side = np.isin(net.gen_bus, tree.cut_side(k)) & ~net.gen_slack
        if side.sum() > len(units):
            best, units = k, list(np.flatnonzero(side))
    assert len(units) >= 3
    slack = net.gen_slack.copy()
    slack[units[0]] = True
    pmax = net.gen_pmax_mw.copy()
    pmax[units[1]] = max(1.0, pmax[units[1]] if np.isfinite(pmax[units[1]]) else 1.0)
    pmax[units[2:]] = np.inf
    net2 = dataclasses.replace(net, gen_slack=slack, gen_pmax_mw=pmax)
    return net2, net2.state([str(net2.branch_ids[best])])


def test_pro_rata_two_energised_islands(net1354):
    net, st = _two_islands(net1354)
    r0 = dc_flow(net, st)
    assert len(np.unique(r0.island[~r0.dark_bus])) == 2
    _check_every_flow(net, st)


def test_pro_rata_numpy_path(net1354, monkeypatch):
    monkeypatch.setattr(fast, "HAVE_NUMBA", False)
    monkeypatch.setattr(dcmod, "HAVE_NUMBA", False)
    net, st = _two_islands(net1354)
    _check_every_flow(net, st)
