"""winter-city's power grid: the 330 kV ring, the plants, the 110 kV layer, and its dispatch.

Every figure and its source is in :mod:`warmgrid.examples.winter_city`'s docstring. The
layout is drawn from the city's random generator (the order of the draws is part of the
city: the same seed gives the same grid). After the dispatch, the grid is reinforced by a
planner's rule: every bridge gets a second circuit, then circuits are added until the
intact DC flow is below 90 % of every rating (:func:`_reinforce`, with warmgrid's own
bridge search and DC power flow).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay

from warmgrid.examples._city_geography import _CENTRE, _bank, _dist, _off_river
from warmgrid.model.grid import Grid
from warmgrid.power.dc import dc_flow
from warmgrid.power.network import Network, compile_network
from warmgrid.power.topology import bridges

_BASE_MVA = 100.0
_ZB110, _ZB330 = 110.0**2 / _BASE_MVA, 330.0**2 / _BASE_MVA
_ROUTE = 1.2  # line length / straight distance (assumed)
#: 330 kV ring substations: name, angle (degrees, counter-clockwise from east), supply point.
_RING = (
    ("obrii", 95.0, True),
    ("lisova", 40.0, False),
    ("dniprova", -15.0, True),
    ("stepova", -65.0, False),
    ("zoriana", -115.0, True),
    ("vyshneva", -170.0, True),
    ("kalynova", 145.0, False),
)
_SLACK = "vyshneva"
#: CHP plants: name, position (km), units [(MW, kV)], heat MW, population share of heat.
_CHP = (
    ("chp-south", (14.2, 4.5), [(250.0, 330), (250.0, 330), (200.0, 110)], 1900.0, 0.22),
    ("chp-north", (23.0, 24.5), [(250.0, 330), (250.0, 330)], 2000.0, 0.24),
    ("chp-east", (23.5, 12.5), [(60.0, 110), (60.0, 110)], 450.0, 0.08),
)
_CHP_LINKS = {"chp-south": ("zoriana", "stepova"), "chp-north": ("lisova", "obrii")}
_SUB_NAMES = (
    "berizka",
    "vilkha",
    "hrab",
    "dubok",
    "yavir",
    "klen",
    "lypa",
    "osyka",
    "topolia",
    "kashtan",
    "vyshnia",
    "cheremkha",
    "horobyna",
    "buzyna",
    "yalyna",
    "sosna",
    "modryna",
    "yasen",
    "verba",
    "akatsiia",
    "ternyna",
    "shypshyna",
    "lishchyna",
    "horikh",
    "chereshnia",
    "abrykos",
    "slyva",
    "hrusha",
    "yablunia",
    "zhuravel",
    "chaika",
    "soroka",
    "synytsia",
    "horlytsia",
    "shpak",
    "lelka",
    "bdzhola",
    "ozhyna",
)
#: Districts: name, seed point (km), bank ("R" west, "L" east); an area's district is the
#: nearest seed on its own bank.


class _Net:
    """Accumulates buses and branches while the city is laid out."""

    def __init__(self) -> None:
        self.bus: list[dict] = []
        self.br: list[dict] = []
        self.pos: dict[str, int] = {}

    def add_bus(self, bid: str, name: str, kv: float, xy: np.ndarray, zone: str) -> None:
        self.pos[bid] = len(self.bus)
        self.bus.append(
            {
                "id": bid,
                "name": name,
                "vn_kv": kv,
                "x": round(float(xy[0]), 3),
                "y": round(float(xy[1]), 3),
                "zone": zone,
            }
        )

    def xy(self, bid: str) -> np.ndarray:
        b = self.bus[self.pos[bid]]
        return np.array([b["x"], b["y"]])

    def add_line(self, a: str, b: str, kv: int) -> None:
        """A line (or another circuit of an existing corridor) between buses a and b."""
        length = max(1.0, _ROUTE * float(np.hypot(*(self.xy(a) - self.xy(b)))))
        if kv == 330:
            x_ohm, r_ohm, zb, rate = 0.32, 0.03, _ZB330, 1000.0
        elif max(np.hypot(*(self.xy(a) - _CENTRE)), np.hypot(*(self.xy(b) - _CENTRE))) < 8.0:
            x_ohm, r_ohm, zb, rate = 0.15, 0.06, _ZB110, 140.0
        else:
            x_ohm, r_ohm, zb, rate = 0.40, 0.12, _ZB110, 120.0
        self._add("line", a, b, r_ohm * length / zb, x_ohm * length / zb, rate)

    def add_trafo(self, hv: str, lv: str) -> None:
        """A 250 MVA 330/110 kV autotransformer, x 10 % on its rating."""
        self._add("trafo", hv, lv, 0.003 * _BASE_MVA / 250.0, 0.10 * _BASE_MVA / 250.0, 250.0)

    def _add(self, kind: str, a: str, b: str, r: float, x: float, rate: float) -> None:
        a_, b_ = a.split(":", 1)[1], b.split(":", 1)[1]
        if kind == "line":
            stem = f"line:{a_.removesuffix('-110').removesuffix('-330')}-{b_.removesuffix('-110').removesuffix('-330')}"
        else:
            stem = f"trafo:{a_.removesuffix('-330')}-at"
        n = sum(1 for e in self.br if e["stem"] == stem) + 1
        bid = f"{stem}{n}" if kind == "trafo" else (stem if n == 1 else f"{stem}-{n}")
        self.br.append(
            {
                "id": bid,
                "stem": stem,
                "kind": kind,
                "from_bus": a,
                "to_bus": b,
                "r_pu": round(r, 6),
                "x_pu": round(x, 6),
                "rate_mva": rate,
            }
        )

    def duplicate(self, k: int) -> None:
        """Add another circuit in parallel with branch k."""
        e = self.br[k]
        if e["kind"] == "trafo":
            self.add_trafo(e["from_bus"], e["to_bus"])
        else:
            self._add("line", e["from_bus"], e["to_bus"], e["r_pu"], e["x_pu"], e["rate_mva"])

    def rate_mva(self) -> np.ndarray:
        """(n_branch,) rating of each branch so far, MVA."""
        return np.array([e["rate_mva"] for e in self.br])


def _power_layout(rng: np.random.Generator) -> tuple[_Net, list[str], list[str]]:
    """Buses and branches of the ring, the CHP plants and the 110 kV layer."""
    net = _Net()
    names = [r[0] for r in _RING]
    for name, ang, _ in _RING:
        a = np.deg2rad(ang + rng.uniform(-6.0, 6.0))
        xy = _CENTRE + rng.uniform(12.0, 13.5) * np.array([np.cos(a), np.sin(a)])
        xy = _off_river(xy[None], _bank(xy[None]), gap=1.0)[0]
        net.add_bus(f"bus:{name}-330", f"{name.capitalize()} 330 kV", 330.0, xy, name)
        net.add_bus(f"bus:{name}-110", f"{name.capitalize()} 110 kV", 110.0, xy, name)
    for name in names:
        for _ in range(2):
            net.add_trafo(f"bus:{name}-330", f"bus:{name}-110")
    for i, name in enumerate(names):
        net.add_line(f"bus:{name}-330", f"bus:{names[(i + 1) % len(names)]}-330", 330)
    yards110 = [f"bus:{n}-110" for n in names]
    for name, xy0, _, _, _ in _CHP:
        xy = np.asarray(xy0) + rng.uniform(-0.5, 0.5, 2)
        xy = _off_river(xy[None], _bank(np.asarray(xy0)[None]), gap=0.8)[0]
        label = name.upper().replace("-", " ")
        if name in _CHP_LINKS:
            net.add_bus(f"bus:{name}-330", f"{label} 330 kV", 330.0, xy, name)
            net.add_bus(f"bus:{name}-110", f"{label} 110 kV", 110.0, xy, name)
            for _ in range(2):
                net.add_trafo(f"bus:{name}-330", f"bus:{name}-110")
            for other in _CHP_LINKS[name]:
                net.add_line(f"bus:{name}-330", f"bus:{other}-330", 330)
        else:
            net.add_bus(f"bus:{name}-110", f"{label} 110 kV", 110.0, xy, name)
        yards110.append(f"bus:{name}-110")
    # distribution substations on a jittered hexagonal grid
    pitch = 3.8
    ii, jj = np.meshgrid(np.arange(-5, 6), np.arange(-5, 6))
    hex_xy = np.c_[pitch * (ii.ravel() + 0.5 * (jj.ravel() % 2)), pitch * 0.866 * jj.ravel()]
    hex_xy = hex_xy[np.hypot(hex_xy[:, 0] + 0.6, hex_xy[:, 1]) <= 11.0] + _CENTRE
    hex_xy = hex_xy + rng.uniform(-0.8, 0.8, hex_xy.shape)
    hex_xy = _off_river(hex_xy, _bank(hex_xy), gap=0.7)
    dist_subs = list(_SUB_NAMES[: len(hex_xy)])
    for name, xy in zip(dist_subs, hex_xy, strict=True):
        net.add_bus(f"bus:{name}-110", f"{name.capitalize()} 110 kV", 110.0, xy, name)
    # 110 kV lines: spanning tree, two feeders per yard, ten short loop-closing lines
    b110 = yards110 + [f"bus:{n}-110" for n in dist_subs]
    xy110 = np.array([net.xy(b) for b in b110])
    d = _dist(xy110, xy110)
    mst = minimum_spanning_tree(d).tocoo()
    edges = {(min(i, j), max(i, j)) for i, j in zip(mst.row, mst.col, strict=True)}
    n_yard = len(yards110)
    for i in range(n_yard):
        for j in n_yard + np.argsort(d[i, n_yard:])[:2]:
            edges.add((min(i, int(j)), max(i, int(j))))
    tri = Delaunay(xy110).simplices
    cand = {
        (min(a, b), max(a, b)) for s in tri for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2]))
    }
    cand_l = sorted(c for c in cand - edges if d[c] < 6.0)
    order = np.argsort([d[c] * rng.uniform(0.8, 1.25) for c in cand_l])
    edges |= {cand_l[k] for k in order[:10]}
    for i, j in sorted(edges):
        net.add_line(b110[i], b110[j], 110)
    return net, names, dist_subs


def _generators(rng: np.random.Generator) -> pd.DataFrame:
    """Supply points and CHP units (set points are filled in by :func:`_power_grid`)."""
    gens = [
        {
            "id": f"gen:ext-{name}",
            "bus": f"bus:{name}-330",
            "kind": "external",
            "p_max_mw": float(round(rng.uniform(200.0, 240.0))),
            "slack": name == _SLACK,
        }
        for name, _, ext in _RING
        if ext
    ]
    for name, _, units, _, _ in _CHP:
        for k, (mw, kv) in enumerate(units, start=1):
            gens.append(
                {
                    "id": f"gen:{name}-{k}",
                    "bus": f"bus:{name}-{kv}",
                    "kind": "chp",
                    "p_max_mw": mw,
                    "slack": False,
                }
            )
    return pd.DataFrame(gens)


def _power_grid(net: _Net, gen: pd.DataFrame, load: pd.DataFrame, seed: int) -> Grid:
    """Dispatch the units pro rata to capacity, reinforce the grid, and build it.

    The slack unit takes the rounding residue of the dispatch. ``gen`` is updated in
    place (``p_mw``, ``p_min_mw``) and ``net`` gets the reinforcing circuits.

    Parameters
    ----------
    net : the laid-out buses and branches.
    gen : the units (:func:`_generators`).
    load : the loads, ``id, bus, p_mw, q_mvar``.
    seed : the city's seed (for the grid's source and metadata).
    """
    total = load["p_mw"].sum()
    gen["p_mw"] = np.round(gen["p_max_mw"] * total / gen["p_max_mw"].sum(), 3)
    gen["p_min_mw"] = 0.0
    _reinforce(net, gen, load)
    slack = gen.index[gen["slack"]][0]
    gen.loc[slack, "p_mw"] = round(float(total - gen["p_mw"].sum() + gen.loc[slack, "p_mw"]), 3)
    return Grid(
        name="winter-city",
        bus=pd.DataFrame(net.bus),
        branch=pd.DataFrame(net.br).drop(columns="stem"),
        gen=gen,
        load=load,
        base_mva=_BASE_MVA,
        source=f"warmgrid:winter-city(seed={seed})",
        meta={"seed": seed, "generator": "warmgrid.examples.winter_city"},
    )


def _reinforce(net: _Net, gen: pd.DataFrame, load: pd.DataFrame) -> None:
    """Double every bridge, then add circuits until the intact flow is below 90 % of ratings.

    Bridges by :func:`warmgrid.power.topology.bridges` (parallel circuits are never
    bridges) and flows by :func:`warmgrid.power.dc.dc_flow`, each on the grid as it
    stands, with the dispatch's injections and the slack bus taking their residue.

    Parameters
    ----------
    net : the laid-out buses and branches; circuits are added to it.
    gen : the dispatched units (``bus``, ``p_mw``).
    load : the loads (``bus``, ``p_mw``).
    """
    n = len(net.bus)
    inj = np.zeros(n)
    np.add.at(inj, [net.pos[b] for b in gen["bus"]], gen["p_mw"].to_numpy())
    np.subtract.at(inj, [net.pos[b] for b in load["bus"]], load["p_mw"].to_numpy())
    ref = net.pos[f"bus:{_SLACK}-330"]
    inj[ref] -= inj.sum()  # the slack takes the rounding residue
    for k in np.flatnonzero(bridges(_compiled(net, gen, load))):
        net.duplicate(int(k))
    for _ in range(20):
        flow = dc_flow(_compiled(net, gen, load), injection_mw=inj).flow_mw
        over = np.flatnonzero(np.abs(flow) > 0.9 * net.rate_mva())
        if len(over) == 0:
            return
        for k in over:
            net.duplicate(int(k))


def _compiled(net: _Net, gen: pd.DataFrame, load: pd.DataFrame) -> Network:
    """The grid as laid out so far, compiled (for the bridge search and the DC flow)."""
    grid = Grid(
        name="winter-city",
        bus=pd.DataFrame(net.bus),
        branch=pd.DataFrame(net.br).drop(columns="stem"),
        gen=gen,
        load=load,
        base_mva=_BASE_MVA,
    )
    return compile_network(grid)
