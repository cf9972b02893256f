"""The compiled network: integer-indexed arrays and sparse matrices, built once.

Engines take a :class:`Network` and a :class:`State` (boolean masks of what is in
service) and never touch pandas in their hot loops. The DC model is MATPOWER's
``makeBdc`` (Zimmerman et al., MATPOWER manual, section 3.7):
``b = 1 / (x · tap)``, ``Bf = diag(b) · A``, ``Bbus = Aᵀ · Bf``, phase-shift injections
``Pfinj = −b · shift``, with A the branch-bus incidence matrix (+1 at from, −1 at to).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from warmgrid.errors import InputError, closest, quoted
from warmgrid.model.grid import Grid

__all__ = ["Network", "State", "compile_network"]


@dataclass(frozen=True)
class State:
    """What is in service: boolean masks over buses, branches, generators and loads.

    Outages are masks; the network is never mutated (docs/architecture.md, "House
    habits", 2). ``load_scale`` multiplies each load's demand (hourly profiles, partial
    restoration).
    """

    bus_on: np.ndarray
    branch_on: np.ndarray
    gen_on: np.ndarray
    load_on: np.ndarray
    load_scale: np.ndarray | None = None

    def without(self, net: Network, ids: Iterable[str]) -> State:
        """A new state with the given elements (any kind, substations expanded) out."""
        out = net.resolve(ids)
        bus_on = self.bus_on.copy()
        branch_on = self.branch_on.copy()
        gen_on = self.gen_on.copy()
        load_on = self.load_on.copy()
        bus_on[out["bus"]] = False
        branch_on[out["branch"]] = False
        gen_on[out["gen"]] = False
        load_on[out["load"]] = False
        return replace(self, bus_on=bus_on, branch_on=branch_on, gen_on=gen_on, load_on=load_on)

    def effective(self, net: Network) -> State:
        """Masks with the consequences of dead buses applied (their branches, units, loads)."""
        b = self.bus_on
        return replace(
            self,
            branch_on=self.branch_on & b[net.f] & b[net.t],
            gen_on=self.gen_on & b[net.gen_bus],
            load_on=self.load_on & b[net.load_bus],
        )


@dataclass(frozen=True, eq=False)
class Network:
    """Compiled arrays of a grid (per unit on ``base_mva`` where marked ``_pu``).

    Attributes
    ----------
    bus_ids, branch_ids, gen_ids, load_ids, shunt_ids : (n,) object arrays of ids.
    f, t : (n_branch,) int, from and to bus index.
    x_pu, tap, shift_rad : (n_branch,) float.
    b_pu : (n_branch,) float, DC series susceptance 1 / (x · tap).
    rate_mw : (n_branch,) float, rating in MW at unity power factor; inf = unlimited.
    gen_bus, load_bus, shunt_bus : int bus index per element.
    gen_p_mw, gen_pmin_mw, gen_pmax_mw : (n_gen,) float; pmax may be inf.
    gen_slack : (n_gen,) bool. gen_kind : (n_gen,) object.
    gen_va_rad : (n_gen,) angle a slack unit holds, rad (pandapower ext_grid ``va_degree``).
    load_p_mw : (n_load,) float. shunt_g_mw : (n_shunt,) float.
    r_pu, charging_g_pu, charging_b_pu : (n_branch,) float, series resistance and total
        branch shunt conductance and susceptance (split half to each end), p.u.
    load_q_mvar : (n_load,) float. shunt_b_mvar : (n_shunt,) float, injected at 1 p.u.
    gen_pv : (n_gen,) bool, the unit holds its bus voltage (``voltage_control``).
    gen_vm_pu : (n_gen,) voltage set point, p.u. gen_q_mvar : (n_gen,) reactive output of
        a unit without voltage control, Mvar. gen_qmin_mvar, gen_qmax_mvar : (n_gen,)
        reactive limits, Mvar (±inf: unlimited).
    bus_vm_min_pu, bus_vm_max_pu : (n_bus,) voltage limits, p.u. (NaN: none).
    Shunts out of service are compiled with g = b = 0.
    base_mva : float.
    groups : named groups of buses (``substation:S4`` -> bus indices).
    ang_min_rad, ang_max_rad : (n_branch,) limits of the angle difference θ_f − θ_t
        honoured by the MLD, rad (NaN: none; MATPOWER's ANGMIN and ANGMAX, where 0 and
        ±360° or beyond mean none); None when the grid has no limits at all.
    r_asym_pu, x_asym_pu, g_asym_pu, b_asym_pu : (n_branch,) float or None, the to end's
        series impedance and shunt minus the from end's (a non-reciprocal branch:
        pandapower ``impedance``, transformer T models); None: every branch is symmetric.
    aliases : other ids of elements (``switch:3``, a fused ``bus:5``, ``trafo3w:0``,
        ``dcline:1``) -> the element ids each names (none for an open bus-bus switch); see
        :mod:`warmgrid.power.elements`.
    """

    name: str
    base_mva: float
    bus_ids: np.ndarray
    branch_ids: np.ndarray
    gen_ids: np.ndarray
    load_ids: np.ndarray
    shunt_ids: np.ndarray
    f: np.ndarray
    t: np.ndarray
    x_pu: np.ndarray
    tap: np.ndarray
    shift_rad: np.ndarray
    rate_mw: np.ndarray
    branch_kind: np.ndarray
    gen_bus: np.ndarray
    gen_p_mw: np.ndarray
    gen_pmin_mw: np.ndarray
    gen_pmax_mw: np.ndarray
    gen_slack: np.ndarray
    gen_va_rad: np.ndarray
    gen_kind: np.ndarray
    load_bus: np.ndarray
    load_p_mw: np.ndarray
    shunt_bus: np.ndarray
    shunt_g_mw: np.ndarray
    r_pu: np.ndarray
    charging_g_pu: np.ndarray
    charging_b_pu: np.ndarray
    load_q_mvar: np.ndarray
    shunt_b_mvar: np.ndarray
    gen_pv: np.ndarray
    gen_vm_pu: np.ndarray
    gen_q_mvar: np.ndarray
    gen_qmin_mvar: np.ndarray
    gen_qmax_mvar: np.ndarray
    bus_vm_min_pu: np.ndarray
    bus_vm_max_pu: np.ndarray
    base_state: State
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    bus_vn_kv: np.ndarray | None = None
    bus_xy: np.ndarray | None = None
    ang_min_rad: np.ndarray | None = None
    ang_max_rad: np.ndarray | None = None
    r_asym_pu: np.ndarray | None = None
    x_asym_pu: np.ndarray | None = None
    g_asym_pu: np.ndarray | None = None
    b_asym_pu: np.ndarray | None = None
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    # ------------------------------------------------------------------ sizes
    @property
    def n_bus(self) -> int:
        return len(self.bus_ids)

    @property
    def n_branch(self) -> int:
        return len(self.branch_ids)

    # ------------------------------------------------------------------ matrices
    @cached_property
    def b_pu(self) -> np.ndarray:
        return 1.0 / (self.x_pu * self.tap)

    @cached_property
    def incidence(self) -> sp.csr_matrix:
        """(n_branch, n_bus) incidence A: +1 at the from bus, −1 at the to bus."""
        m = self.n_branch
        rows = np.concatenate([np.arange(m), np.arange(m)])
        cols = np.concatenate([self.f, self.t])
        vals = np.concatenate([np.ones(m), -np.ones(m)])
        return sp.csr_matrix((vals, (rows, cols)), shape=(m, self.n_bus))

    def bf(self, branch_on: np.ndarray | None = None) -> sp.csr_matrix:
        """(n_branch, n_bus) Bf = diag(b · on) · A, p.u.: flow_pu = Bf θ + Pfinj."""
        b = self.b_pu if branch_on is None else self.b_pu * branch_on
        return sp.diags(b) @ self.incidence

    def bbus(self, branch_on: np.ndarray | None = None) -> sp.csc_matrix:
        """(n_bus, n_bus) susceptance matrix Bbus = Aᵀ diag(b · on) A, p.u."""
        return (self.incidence.T @ self.bf(branch_on)).tocsc()

    def pf_inj(self, branch_on: np.ndarray | None = None) -> np.ndarray:
        """(n_branch,) phase-shift flow injections Pfinj = −b · shift, p.u."""
        b = self.b_pu if branch_on is None else self.b_pu * branch_on
        return -b * self.shift_rad

    def bus_injection_mw(self, state: State | None = None) -> np.ndarray:
        """(n_bus,) net injection at set points: generation − load − shunt g, MW.

        The slack units' set points are included as given (0 for an ext_grid); the
        flow engines replace the slack's output with the balance.
        """
        st = (state or self.base_state).effective(self)
        p = np.zeros(self.n_bus)
        np.add.at(p, self.gen_bus, self.gen_p_mw * st.gen_on)
        scale = st.load_scale if st.load_scale is not None else 1.0
        np.add.at(p, self.load_bus, -self.load_p_mw * scale * st.load_on)
        np.subtract.at(p, self.shunt_bus, self.shunt_g_mw * st.bus_on[self.shunt_bus])
        return p

    # ------------------------------------------------------------------ ids
    @cached_property
    def _index(self) -> dict[str, tuple[str, int]]:
        idx: dict[str, tuple[str, int]] = {}
        for kind, ids in (
            ("bus", self.bus_ids),
            ("branch", self.branch_ids),
            ("gen", self.gen_ids),
            ("load", self.load_ids),
            ("shunt", self.shunt_ids),
        ):
            for i, e in enumerate(ids.tolist()):
                idx[e] = (kind, i)
        return idx

    def index_of(self, element_id: str) -> tuple[str, int]:
        """(table, index) of an element id; an unknown id is an InputError naming the closest."""
        hit = self._index.get(element_id)
        if hit is None:
            known = list(self._index) + list(self.groups) + list(self.aliases)
            raise InputError(
                f"unknown element id {quoted(element_id)}{closest(element_id, known)}",
                row=element_id,
                field="id",
            )
        return hit

    def resolve(self, ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Element ids (substation groups and aliases expanded) to index arrays per table."""
        out: dict[str, list[int]] = {"bus": [], "branch": [], "gen": [], "load": [], "shunt": []}
        for e in ids:
            if e in self.groups:
                out["bus"].extend(self.groups[e].tolist())
                continue
            for x in self.aliases.get(e, (e,)):
                kind, i = self.index_of(x)
                out[kind].append(i)
        return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}

    def state(self, outages: Sequence[str] = ()) -> State:
        """The base state with ``outages`` taken out."""
        return self.base_state.without(self, outages) if outages else self.base_state


def _bus_index(pos: Mapping[str, int], ids: Iterable[str]) -> np.ndarray:
    """The integer index of each bus id (``pos``: id -> index)."""
    return np.fromiter((pos[b] for b in ids), dtype=np.int64)


def _base_state(grid: Grid) -> State:
    """The masks of the elements the tables say are in service."""
    return State(
        bus_on=grid.bus["in_service"].to_numpy(dtype=bool),
        branch_on=grid.branch["in_service"].to_numpy(dtype=bool),
        gen_on=grid.gen["in_service"].to_numpy(dtype=bool),
        load_on=grid.load["in_service"].to_numpy(dtype=bool),
    )


def _bus_groups(
    groups: Mapping[str, Sequence[str]], pos: Mapping[str, int]
) -> dict[str, np.ndarray]:
    """Named groups of bus ids as bus indices; an unknown bus is an error."""
    grp = {}
    for gname, members in groups.items():
        missing = [m for m in members if m not in pos]
        if missing:
            raise InputError(
                f"group {quoted(gname)} names unknown bus {quoted(missing[0])}{closest(missing[0], pos)}",
                row=gname,
                field="buses",
            )
        grp[gname] = _bus_index(pos, members)
    return grp


def _angle_limits(br: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The branch table's angle-difference limits in rad, NaN where there is none
    (MATPOWER's convention: 0, or 360° or more in size, means none); (None, None) when
    no branch has one."""
    if "ang_min_deg" not in br or "ang_max_deg" not in br:
        return None, None
    lo = br["ang_min_deg"].to_numpy(dtype=float)
    hi = br["ang_max_deg"].to_numpy(dtype=float)
    lo = np.where((lo == 0) | (lo <= -360), np.nan, np.deg2rad(lo))
    hi = np.where((hi == 0) | (hi >= 360), np.nan, np.deg2rad(hi))
    if np.isnan(lo).all() and np.isnan(hi).all():
        return None, None
    return lo, hi


def compile_network(grid: Grid, *, groups: Mapping[str, Sequence[str]] | None = None) -> Network:
    """Compile a grid into a :class:`Network`.

    Parameters
    ----------
    grid : the validated grid.
    groups : optional named groups of bus ids (``{"substation:S4": ["bus:12", ...]}``).
    """
    bus = grid.bus
    pos = {b: i for i, b in enumerate(bus["id"].tolist())}

    def idx(col: Iterable[str]) -> np.ndarray:
        return _bus_index(pos, col)

    br = grid.branch
    rate = br["rate_mva"].to_numpy(dtype=float)
    rate = np.where(rate <= 0, np.inf, rate)
    g = grid.gen
    ld = grid.load
    sh = grid.shunt
    base_state = _base_state(grid)
    # shunts out of service are compiled with g = 0
    shunt_g = sh["g_mw"].to_numpy(dtype=float) * sh["in_service"].to_numpy(dtype=bool)
    shunt_b = sh["b_mvar"].to_numpy(dtype=float) * sh["in_service"].to_numpy(dtype=bool)
    grp = _bus_groups(groups or {}, pos)
    xy = bus[["x", "y"]].to_numpy(dtype=float)
    ang_min, ang_max = _angle_limits(br)
    asym = {
        c: br[c].to_numpy(dtype=float) if c in br and br[c].to_numpy(dtype=float).any() else None
        for c in ("r_asym_pu", "x_asym_pu", "g_asym_pu", "b_asym_pu")
    }
    return Network(
        name=grid.name,
        base_mva=grid.base_mva,
        bus_ids=bus["id"].to_numpy(dtype=object),
        branch_ids=br["id"].to_numpy(dtype=object),
        gen_ids=g["id"].to_numpy(dtype=object),
        load_ids=ld["id"].to_numpy(dtype=object),
        shunt_ids=sh["id"].to_numpy(dtype=object),
        f=idx(br["from_bus"]),
        t=idx(br["to_bus"]),
        x_pu=br["x_pu"].to_numpy(dtype=float),
        tap=br["tap_ratio"].to_numpy(dtype=float),
        shift_rad=np.deg2rad(br["shift_deg"].to_numpy(dtype=float)),
        ang_min_rad=ang_min,
        ang_max_rad=ang_max,
        rate_mw=rate,
        branch_kind=br["kind"].to_numpy(dtype=object),
        gen_bus=idx(g["bus"]),
        gen_p_mw=g["p_mw"].to_numpy(dtype=float),
        gen_pmin_mw=g["p_min_mw"].to_numpy(dtype=float),
        gen_pmax_mw=g["p_max_mw"].to_numpy(dtype=float),
        gen_slack=g["slack"].to_numpy(dtype=bool),
        gen_va_rad=np.deg2rad(g["va_deg"].to_numpy(dtype=float)),
        gen_kind=g["kind"].to_numpy(dtype=object),
        load_bus=idx(ld["bus"]),
        load_p_mw=ld["p_mw"].to_numpy(dtype=float),
        shunt_bus=idx(sh["bus"]),
        shunt_g_mw=shunt_g,
        r_pu=br["r_pu"].to_numpy(dtype=float),
        charging_g_pu=br["g_pu"].to_numpy(dtype=float),
        charging_b_pu=br["b_pu"].to_numpy(dtype=float),
        load_q_mvar=ld["q_mvar"].to_numpy(dtype=float),
        shunt_b_mvar=shunt_b,
        gen_pv=g["voltage_control"].to_numpy(dtype=bool),
        gen_vm_pu=g["vm_pu"].to_numpy(dtype=float),
        gen_q_mvar=g["q_mvar"].to_numpy(dtype=float),
        gen_qmin_mvar=g["q_min_mvar"].to_numpy(dtype=float),
        gen_qmax_mvar=g["q_max_mvar"].to_numpy(dtype=float),
        bus_vm_min_pu=bus["vm_min_pu"].to_numpy(dtype=float),
        bus_vm_max_pu=bus["vm_max_pu"].to_numpy(dtype=float),
        base_state=base_state,
        groups=grp,
        bus_vn_kv=bus["vn_kv"].to_numpy(dtype=float),
        bus_xy=xy,
        **asym,
        aliases=_aliases(grid),
    )


def _aliases(grid: Grid) -> dict[str, tuple[str, ...]]:
    """The grid's aliases (``meta["aliases"]``: alias -> element ids), checked: an alias
    is no element's own id, and names only elements of the grid."""
    raw = grid.meta.get("aliases") or {}
    ids = set(grid.ids())
    out: dict[str, tuple[str, ...]] = {}
    for alias, targets in raw.items():
        if alias in ids:
            raise InputError(
                f"alias {quoted(alias)} is also an element's own id",
                file=grid.source or grid.name,
                row=alias,
                field="aliases",
            )
        missing = [t for t in targets if t not in ids]
        if missing:
            raise InputError(
                f"alias {quoted(alias)} names unknown element {quoted(missing[0])}"
                f"{closest(missing[0], ids)}",
                file=grid.source or grid.name,
                row=alias,
                field="aliases",
            )
        out[str(alias)] = tuple(str(t) for t in targets)
    return out
