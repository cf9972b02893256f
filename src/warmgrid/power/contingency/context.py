"""The shared set-up of a screening run: one pre-outage state, factorised once.

:class:`_Context` holds the base DC flow, the factorisation, the bridge tree rooted at
the slack buses and per-bus sums in DFS preorder; every engine of the package reads PTDF
columns and cut-off sides from it. :func:`_direct` is the fallback that refactorises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from warmgrid.errors import InputError
from warmgrid.power._fast import LUSolver, Transfers, transfer_solutions
from warmgrid.power.dc import DCFactor, dc_flow, factorize
from warmgrid.power.network import Network, State
from warmgrid.power.topology import BridgeTree, bridge_tree

if TYPE_CHECKING:
    from warmgrid.power.contingency.summary import _Accumulator

#: Called with (done, total) as a run advances.
Progress = Callable[[int, int], None]


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
        # per-bus demand and generation in DFS preorder, for lost power of a cut-off side
        st = self.state
        gen = np.zeros(net.n_bus)
        gon = st.gen_on
        np.add.at(gen, net.gen_bus[gon], net.gen_p_mw[gon])
        isref = np.zeros(net.n_bus)
        isref[fac.ref_bus] = 1.0
        order = self.tree.order

        def csum(x: np.ndarray) -> np.ndarray:
            return np.concatenate([[0.0], np.cumsum(x[order])])

        self.c_gen, self.c_ref = csum(gen), csum(isref)
        # the demand lost with a cut-off part: positive loads and shunt conductance (a
        # negative load is an injection; losing it is no lost load)
        self.c_demand = csum(_demand_by_bus(net, st))
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

    def solve_injections(self, inj: np.ndarray) -> np.ndarray:
        """(n_unknown, k) ``B⁻¹ P`` for bus injections ``inj`` (n_bus, k), reference buses
        dropped (their injections are taken at the slack, as in :meth:`ptdf`)."""
        fac = self.fac
        nu = len(fac.unknown)
        if fac.lu is None or inj.shape[1] == 0:
            return np.zeros((nu, inj.shape[1]))
        rhs = np.zeros((nu, inj.shape[1]))
        ok = fac.pos >= 0
        rhs[fac.pos[ok]] = inj[ok]
        return np.asarray(self.solver().solve(rhs)).reshape(nu, inj.shape[1])

    def transfers_to(
        self, buses: np.ndarray, extra: np.ndarray, cf: np.ndarray, ct: np.ndarray
    ) -> Transfers:
        """Like :meth:`transfers`, with already solved columns appended after the buses'.

        Parameters
        ----------
        buses : (m,) buses whose unit solutions are columns ``0 … m − 1``.
        extra : (n_unknown, k) solutions (:meth:`solve_injections`), columns ``m … m + k − 1``.
        cf, ct : (n,) indices into those ``m + k`` columns per outage; ``ct = −1``: none.
        """
        m, k = len(buses), extra.shape[1]
        if self.fac.lu is None:
            return Transfers(
                np.zeros((1, m + k + 1)),
                np.zeros(1, dtype=np.int64),
                cf,
                np.where(ct < 0, m + k, ct),
            )
        pos = np.concatenate([self.fac.pos[buses], np.full(k, -1, dtype=np.int64)])
        tr = transfer_solutions(self.solver(), pos, cf, ct)  # the extra columns solve to 0 …
        tr.y[tr.rowmap[:-1], m : m + k] = extra  # … and are filled in the solver's row order
        return tr

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
        """Lost demand (positive loads and shunt conductance), lost generation and slack
        buses of preorder ranges [lo, hi)."""
        return (
            self.c_demand[hi] - self.c_demand[lo],
            self.c_gen[hi] - self.c_gen[lo],
            self.c_ref[hi] - self.c_ref[lo],
        )


def _demand_by_bus(net: Network, st: State) -> np.ndarray:
    """(n_bus,) positive load (scaled) and shunt conductance of in-service elements, MW."""
    scale = st.load_scale if st.load_scale is not None else 1.0
    out = np.zeros(net.n_bus)
    np.add.at(out, net.load_bus, np.maximum(net.load_p_mw * scale, 0.0) * st.load_on)
    np.add.at(out, net.shunt_bus, np.maximum(net.shunt_g_mw, 0.0) * st.bus_on[net.shunt_bus])
    return out


def _branch_index(net: Network, ids: Sequence[str] | None, default: np.ndarray) -> np.ndarray:
    """Branch indices of ``ids`` (those where ``default`` is True when ``ids`` is None).

    Raises
    ------
    InputError : an id that is not a branch (an unknown id: :meth:`Network.resolve`'s).
    """
    if ids is None:
        return np.flatnonzero(default)
    r = net.resolve(ids)
    bad = [i for i in ids if net.index_of(i)[0] != "branch"] if len(r["branch"]) != len(ids) else []
    if bad:
        raise InputError(f"{bad[0]!r} is not a branch", row=bad[0], field="outage")
    return r["branch"]


@dataclass(frozen=True)
class _Islanding:
    """What each contingency cuts off, filled in place as the contingencies are screened.

    Attributes
    ----------
    islanding : (n_c,) bool, the outage splits off part of an energised island.
    lost_load_mw, lost_gen_mw : (n_c,) load (with shunt conductance) and generation on
        the buses that go dark, MW.
    dark_buses : (n_c,) number of buses that go dark.
    """

    islanding: np.ndarray
    lost_load_mw: np.ndarray
    lost_gen_mw: np.ndarray
    dark_buses: np.ndarray

    @classmethod
    def zeros(cls, n_c: int) -> _Islanding:
        """Nothing cut off yet, for ``n_c`` contingencies."""
        return cls(
            np.zeros(n_c, dtype=bool), np.zeros(n_c), np.zeros(n_c), np.zeros(n_c, dtype=np.int64)
        )


def _direct(
    net: Network, ctx: _Context, acc: _Accumulator, ci: int, ids: Sequence[str], cut: _Islanding
) -> None:
    """Solve one contingency by refactorising (sets that cut the grid in unusual ways).

    Parameters
    ----------
    net : compiled network.
    ctx : the run's pre-outage context.
    acc : the accumulator the contingency's flows are recorded in.
    ci : the contingency's index.
    ids : the element ids it takes out.
    cut : written at ``ci``: islanding, lost load and generation, dark buses.
    """
    st = ctx.state.without(net, ids)
    r = dc_flow(net, st, energised="slack")
    newly = r.dark_bus & ~ctx.base.dark_bus
    cut.islanding[ci] = bool(newly.any())
    cut.dark_buses[ci] = int(newly.sum())
    gen = np.zeros(net.n_bus)
    np.add.at(gen, net.gen_bus, net.gen_p_mw * ctx.state.gen_on)
    cut.lost_load_mw[ci] = _demand_by_bus(net, ctx.state)[newly].sum()
    cut.lost_gen_mw[ci] = gen[newly].sum()
    post = np.nan_to_num(r.flow_mw)[:, None]
    load = np.nan_to_num(r.loading_percent)[:, None] * (np.isfinite(net.rate_mw))[:, None]
    acc.add(np.array([ci]), post, load)
