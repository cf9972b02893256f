"""pandapower importer: the aliases (other ids that name elements).

* An element that became several keeps its id, naming its parts: ``trafo3w:<i>`` (its
  three windings and its star bus), ``ward:<i>`` (its load and shunt), ``xward:<i>``
  (load, shunt, internal branch, source and internal bus), ``dcline:<i>`` (its two ends).
  Parts that are buses, loads or shunts carry their table's kind and the element in
  their name (``bus:xward-3``, ``load:ward-2``, ``shunt:ward-2``: a services overlay keys
  areas on a load's name, which must stay unique); windings, an extended ward's branch
  and source and a link's ends are ``<element>:<i>:<part>``.
* A bus fused into another by closed bus-bus switches names the fused bus
  (:mod:`warmgrid.io._pp_buses`).
* ``switch:<i>`` names what opening it disconnects: the line, the transformer or the
  three-winding transformer's winding at its bus. A bus-bus switch with an impedance is a
  branch of its own (``switch:<i>``, not an alias). An open bus-bus switch names nothing:
  damage opens a switch, and it is open already. A closed bus-bus switch without
  impedance names the fused bus: warmgrid cannot split a fused bus into its sections, so
  its damage takes out both (what busbar protection does to a fault in a bus coupler,
  which lies in both sections' zones; the sections are not re-energised apart).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from warmgrid.io._pp_buses import BusMap

__all__ = ["aliases"]


def aliases(net: Any, bm: BusMap) -> dict[str, list[str]]:
    """Every alias of the net (module docstring), alias -> element ids."""
    out: dict[str, list[str]] = {}
    for i in _index(net, "trafo3w"):
        out[f"trafo3w:{i}"] = [f"trafo3w:{i}:{s}" for s in ("hv", "mv", "lv")]
        out[f"trafo3w:{i}"].append(f"bus:trafo3w-{i}-star")
    for i in _index(net, "ward"):
        out[f"ward:{i}"] = [f"load:ward-{i}", f"shunt:ward-{i}"]
    for i in _index(net, "xward"):
        out[f"xward:{i}"] = [f"load:xward-{i}", f"shunt:xward-{i}", f"xward:{i}:branch"]
        out[f"xward:{i}"] += [f"xward:{i}:source", f"bus:xward-{i}"]
    for i in _index(net, "dcline"):
        out[f"dcline:{i}"] = [f"dcline:{i}:from", f"dcline:{i}:to"]
    out.update(_switches(net, bm))
    return out


def _index(net: Any, table: str) -> list[Any]:
    return list(net[table].index) if table in net and len(net[table]) else []


def _switches(net: Any, bm: BusMap) -> dict[str, list[str]]:
    """``switch:<i>`` -> what it disconnects (module docstring)."""
    sw = net.get("switch")
    if sw is None or not len(sw):
        return {}
    z_branch = np.asarray(getattr(net, "_impedance_bb_switches", np.zeros(len(sw))), dtype=bool)
    out: dict[str, list[str]] = {}
    for k, (i, r) in enumerate(sw.iterrows()):
        et, bus, element = str(r["et"]), int(r["bus"]), int(r["element"])
        if et == "l":
            out[f"switch:{i}"] = [f"line:{element}"]
        elif et == "t":
            out[f"switch:{i}"] = [f"trafo:{element}"]
        elif et == "t3":
            t3 = net.trafo3w.loc[element]
            side = next(s for s in ("hv", "mv", "lv") if int(t3[f"{s}_bus"]) == bus)
            out[f"switch:{i}"] = [f"trafo3w:{element}:{side}"]
        elif not z_branch[k]:
            fused = bool(r["closed"]) and bm.lookup[bus] == bm.lookup[element]
            out[f"switch:{i}"] = bm.ids([bus]) if fused else []
    return out
