"""Element ids and kinds: the one authority.

Every id is ``kind:name`` and stays the same from input to output. Which ids exist depends
on the source (the README's "Element ids" says how each format names them); this module
says what each id is:

=============================  =================  =========================================
kind                           general kind       what
=============================  =================  =========================================
``bus``                        ``bus``            a bus (busbar)
``line``                       ``branch``         a line or cable (MATPOWER: ``branch:<row>``)
``trafo``                      ``branch``         a transformer (tap or phase shift)
``impedance``                  ``branch``         a series impedance
``switch``                     ``branch``         a switch (see "Aliases" below)
``gen``                        ``gen``            a generating unit
``static``                     ``gen``            a fixed-output static generator (``sgen``)
``external``                   ``gen``            a supply point from the wider grid
                                                  (pandapower ``ext_grid``, winter-city's
                                                  supply nodes, an ``xward``'s source)
``dcline``                     ``gen``            an HVDC link or one of its two ends
``load``                       ``load``           a demand (a negative one is an injection)
``shunt``                      ``shunt``          a shunt
``substation``                 ``substation``     a group of buses one strike takes out,
                                                  with a bus at >= 220 kV
``distribution_substation``    ``substation``     the same, every bus below 220 kV
=============================  =================  =========================================

Aliases (:attr:`Network.aliases`) are ids that name other elements: a switch names what it
disconnects, a bus fused into another by a closed bus-bus switch names the fused bus, and
an element that became several (``trafo3w:0``, ``xward:2``, ``dcline:1``) names its parts.
Damage of an alias takes out what it names; its kind is its own prefix when that is a kind
(``switch``, ``bus``, ``dcline``), else the kind of the first element it names
(``trafo3w:0`` is a ``trafo``).

The services overlay adds ``area:``, ``heat:``, ``water:`` and ``facility:`` ids; they are
not grid elements (damage names the grid elements that power them) but are listed by
:func:`catalogue` so a user can find them.

Damage, repair durations, hazards, restoration and the timeline all ask this module, so
the taxonomy is the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from warmgrid.errors import InputError, Problem, closest, quoted
from warmgrid.power.network import Network

__all__ = [
    "GENERAL",
    "KINDS",
    "SUBSTATION_KINDS",
    "TRANSMISSION_KV",
    "Element",
    "catalogue",
    "check_ids",
    "element_kind",
    "general_kind",
    "is_known",
    "known_ids",
    "labels",
]

#: A substation with any bus at or above this voltage is a transmission substation, kV.
TRANSMISSION_KV = 220.0

#: Every element kind and its general kind (module docstring).
GENERAL: dict[str, str] = {
    "bus": "bus",
    "line": "branch",
    "trafo": "branch",
    "impedance": "branch",
    "switch": "branch",
    "gen": "gen",
    "static": "gen",
    "external": "gen",
    "dcline": "gen",
    "load": "load",
    "shunt": "shunt",
    "substation": "substation",
    "distribution_substation": "substation",
}

#: The kinds, specific then general (a general kind names all of its specific ones).
KINDS: tuple[str, ...] = (*GENERAL, "branch")

#: Generator kinds of the grid tables that are their own element kind.
_GEN_KINDS = {"external": "external", "static": "static", "dcline": "dcline"}


def known_ids(net: Network) -> list[str]:
    """Every id a damage, repair or hazard may name: elements, substation groups, aliases."""
    return [
        *net.bus_ids.tolist(),
        *net.branch_ids.tolist(),
        *net.gen_ids.tolist(),
        *net.load_ids.tolist(),
        *net.shunt_ids.tolist(),
        *net.groups,
        *net.aliases,
    ]


def is_known(net: Network, element: str) -> bool:
    """Whether ``element`` is an element id, a substation group or an alias of ``net``."""
    if element in net.groups or element in net.aliases:
        return True
    try:
        net.index_of(element)
    except InputError:
        return False
    return True


def element_kind(net: Network, element: str) -> str:
    """The kind of an element id (module docstring); an unknown id is an InputError."""
    if element in net.groups:
        idx = np.asarray(net.groups[element], dtype=np.int64)
        kv = net.bus_vn_kv
        if kv is not None and len(idx) and float(np.nanmax(kv[idx])) < TRANSMISSION_KV:
            return "distribution_substation"
        return "substation"
    if element in net.aliases:
        prefix = element.split(":", 1)[0]
        targets = net.aliases[element]
        return prefix if prefix in GENERAL or not targets else element_kind(net, targets[0])
    table, i = net.index_of(element)
    if table == "branch":
        kind = str(net.branch_kind[i]) if net.branch_kind is not None else "line"
        return kind if kind in GENERAL else "line"
    if table == "gen":
        return _GEN_KINDS.get(str(net.gen_kind[i]), "gen")
    return table


def general_kind(kind: str) -> str:
    """``line -> branch``, ``external -> gen``, ``distribution_substation -> substation``."""
    return GENERAL.get(kind, kind)


def check_ids(
    net: Network,
    ids: Sequence[Any],
    *,
    file: str | None = None,
    field: str = "damage.elements",
    source: str | None = None,
) -> None:
    """Raise one :class:`InputError` naming every unknown id, each with the closest ids
    and where to find them all (``warmgrid elements <source>``)."""
    problems = []
    known: list[str] | None = None
    for e in ids:
        if not isinstance(e, str):
            problems.append(
                Problem(f"element ids are strings like 'line:3', got {e!r}", file, str(e), field)
            )
            continue
        if is_known(net, e):
            continue
        known = known or known_ids(net)
        where = f" (warmgrid elements {source} lists them)" if source else ""
        problems.append(
            Problem(f"unknown element id {quoted(e)}{closest(e, known)}{where}", file, e, field)
        )
    if problems:
        raise InputError(problems=problems)


@dataclass(frozen=True)
class Element:
    """One row of :func:`catalogue`."""

    id: str
    kind: str
    name: str
    bus: str | None = None
    mw: float | None = None
    members: tuple[str, ...] = ()
    in_service: bool = True
    people: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "name": self.name}
        out["general"] = general_kind(self.kind)
        out["bus"] = self.bus
        out["mw"] = self.mw
        out["in_service"] = self.in_service
        if self.members:
            out["members"] = list(self.members)
        if self.people is not None:
            out["people"] = self.people
        return out


def _name(element: str) -> str:
    return element.split(":", 1)[1] if ":" in element else element


def _grid_elements(net: Network, grid: Any) -> list[Element]:
    """The buses (named from the grid's table when given), branches, units, loads,
    shunts and bus groups of a network."""

    def bus_of(i: int) -> str:
        return str(net.bus_ids[i])

    names = grid.bus["name"].to_numpy(dtype=object) if grid is not None else None
    out: list[Element] = []
    for i, b in enumerate(net.bus_ids.tolist()):
        nm = str(names[i]) if names is not None and names[i] else _name(b)
        out.append(Element(b, "bus", nm, None, None, (), bool(net.base_state.bus_on[i])))
    for k, b in enumerate(net.branch_ids.tolist()):
        rate = float(net.rate_mw[k])
        out.append(
            Element(
                b,
                element_kind(net, b),
                _name(b),
                f"{bus_of(net.f[k])}-{bus_of(net.t[k])}",
                rate if np.isfinite(rate) else None,
                (),
                bool(net.base_state.branch_on[k]),
            )
        )
    for g, b in enumerate(net.gen_ids.tolist()):
        cap = float(net.gen_pmax_mw[g])
        out.append(
            Element(
                b,
                element_kind(net, b),
                _name(b),
                bus_of(net.gen_bus[g]),
                cap if np.isfinite(cap) else None,
                (),
                bool(net.base_state.gen_on[g]),
            )
        )
    for j, b in enumerate(net.load_ids.tolist()):
        out.append(
            Element(
                b,
                "load",
                _name(b),
                bus_of(net.load_bus[j]),
                float(net.load_p_mw[j]),
                (),
                bool(net.base_state.load_on[j]),
            )
        )
    for j, b in enumerate(net.shunt_ids.tolist()):
        out.append(
            Element(b, "shunt", _name(b), bus_of(net.shunt_bus[j]), float(net.shunt_g_mw[j]))
        )
    for gname, idx in net.groups.items():
        members = tuple(bus_of(i) for i in np.asarray(idx).tolist())
        out.append(Element(gname, element_kind(net, gname), _name(gname), None, None, members))
    out.extend(_alias_rows(net))
    return out


def _service_elements(net: Network, services: Any) -> list[Element]:
    """The districts, heat sources, water stations and facilities of a services
    overlay, each with the bus and MW of the grid load that powers it."""
    from warmgrid.model.services import split_ids

    loads = {x: float(p) for x, p in zip(net.load_ids.tolist(), net.load_p_mw, strict=True)}
    load_bus = {
        x: str(net.bus_ids[i]) for x, i in zip(net.load_ids.tolist(), net.load_bus, strict=True)
    }
    out: list[Element] = []
    for table, kind in (
        ("areas", "area"),
        ("heat", "heat"),
        ("water", "water"),
        ("facilities", "facility"),
    ):
        df = getattr(services, table)
        for r in df.itertuples(index=False):
            ld = str(getattr(r, "load", "") or "")
            pop = getattr(r, "population", None)
            out.append(
                Element(
                    str(r.id),
                    kind,
                    str(r.name or _name(str(r.id))),
                    load_bus.get(ld),
                    loads.get(ld),
                    tuple(split_ids(getattr(r, "areas", ""))) if kind == "water" else (),
                    True,
                    None if pop is None else round(float(pop)),
                )
            )
    return out


def catalogue(net: Network, grid: Any = None, services: Any = None) -> list[Element]:
    """Every element id of a network (and of its services overlay), with its kind, name
    (the grid's bus names, the overlay's names, else the id's name part), bus, MW (a
    unit's capacity, a load's demand, a branch's rating) and, for a substation, its
    member buses."""
    out = _grid_elements(net, grid)
    if services is not None:
        out += _service_elements(net, services)
    return out


#: Kinds whose readable label is "<name> substation".
SUBSTATION_KINDS = ("substation", "distribution_substation")


def labels(net: Network, grid: Any, ids: Iterable[str]) -> dict[str, str]:
    """Readable labels of some element ids: the name :func:`catalogue` gives each (a bus's
    name from the grid's table, else the id's name part), ``"<name> substation"`` for a
    substation; an unknown id labels itself. Only these ids are looked up: the whole
    catalogue of a 70,000-bus grid takes a second to build."""
    out: dict[str, str] = {}
    for e in ids:
        if e in out:
            continue
        if not is_known(net, e):
            out[e] = e
            continue
        kind, name = element_kind(net, e), _name(e)
        if grid is not None and e not in net.groups and e not in net.aliases:
            table, i = net.index_of(e)
            if table == "bus" and grid.bus["name"].iat[i]:
                name = str(grid.bus["name"].iat[i])
        out[e] = f"{name} substation" if kind in SUBSTATION_KINDS else name
    return out


def _alias_rows(net: Network) -> list[Element]:
    """One row per alias: the elements it names as members; in service when they all are
    (an open switch, which names nothing or a branch out of service, is not)."""
    on = {
        "bus": net.base_state.bus_on,
        "branch": net.base_state.branch_on,
        "gen": net.base_state.gen_on,
        "load": net.base_state.load_on,
    }
    rows = []
    for alias, targets in net.aliases.items():
        live = [bool(on[t][i]) for t, i in map(net.index_of, targets) if t in on]
        rows.append(
            Element(
                alias,
                element_kind(net, alias),
                _name(alias),
                None,
                None,
                targets,
                bool(targets) and all(live),
            )
        )
    return rows
