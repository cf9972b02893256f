"""winter-city: a synthetic, Kyiv-like capital of about 3.1 million people, built from a seed.

The city is generated at run time (well under a second), deterministically from
``numpy.random.default_rng(seed)``: the same seed gives identical tables, another seed
another city with the same skeleton (the same substation, plant and district names, so a
scenario's damage list stays valid), different positions, people, loads and services.

Geography (km, ``x`` east, ``y`` north, the city in a 30 × 30 km box centred on
(15, 15)). A river runs north to south through the middle at
``x = 17 + 1.2 sin(y / 5)``: the right (west) bank holds 55–70 % of the people and
seven of the ten districts, the left (east) bank three. All names are fictional.

Ids: buses ``bus:<substation>-330`` / ``bus:<substation>-110``; lines
``line:<from>-<to>`` (a parallel circuit gets ``-2``, ``-3``); autotransformers
``trafo:<substation>-at1``, ``-at2``; generators ``gen:ext-<substation>`` and
``gen:<chp>-<unit>``; loads ``load:area-<area>``, ``load:ci-<substation>`` (commercial
and industrial), ``load:heat-<source>``, ``load:water-<station>``,
``load:facility-<facility>``.

Power grid
----------
* **330 kV ring.** Seven 330 kV substations on a ring of radius ~13 km, joined by
  single 330 kV lines (x 0.32 Ω/km, Zbase 1089 Ω, 1000 MVA; a 1.2 routing factor on the
  straight distance). Each has a 110 kV yard fed through two 330/110 kV autotransformers
  of 250 MVA (x 10 % on 250 MVA, branch kind ``trafo``, tap 1). The city "is fed from a
  750/330 kV node, with a handful of 330 kV substations around it" (REFERENCES.md, ballpark
  figures; the count and ratings are assumed, typical of 330 kV practice).
* **Supply points.** Four of the ring substations (obrii, dniprova, zoriana, vyshneva)
  hold an ``external`` generator of limited capacity, 200–240 MW each (assumed: import
  capacity of the 750/330 kV links); ``gen:ext-vyshneva`` is the slack.
* **110 kV layer.** About 32 distribution substations (110/10 kV, one bus each; "one
  110/10 kV substation can feed more than 2,000 residential buildings", REFERENCES.md)
  on a jittered hexagonal grid of 3.8 km pitch, joined to each other and to the 330 kV
  substations' and the CHP plants' 110 kV yards by a minimum spanning tree, two feeders
  out of every 330 kV and CHP yard, and ten short loop-closing lines. Lines within 8 km
  of the centre are cables (x 0.15 Ω/km, 140 MVA), the others overhead (x 0.40 Ω/km,
  120 MVA; Zbase 121 Ω) (typical values, assumed). Every branch whose loss would island
  part of the grid gets a second circuit, and the intact peak flow is kept below 90 %
  of every rating by adding parallel circuits (a planner's reinforcement, so the city
  is N-1 secure against single-branch outages; a strike on a whole substation still
  cuts off its own load and anything fed only through it).
* **Plants.** Three CHP plants (gen kind ``chp``, ``p_min_mw`` 0: a technical minimum is
  not modelled): ``chp-south`` 700 MW (units 250 + 250 MW at 330 kV, 200 MW at 110 kV),
  ``chp-north`` 500 MW (2 × 250 MW at 330 kV) and ``chp-east`` 120 MW (2 × 60 MW at
  110 kV). "Two large ones, of about 700 MW and 500–750 MW electric … A smaller CHP
  serves about 8 % of the residential floor area" (REFERENCES.md, Interfax-Ukraine,
  indicative). No hydro plant: the reserve stays modest.
* **Demand.** Winter peak drawn in 1.58–1.66 GW ("a winter peak of up to 1.5–1.7 GW",
  city administration and YASNO, REFERENCES.md). Residential load per person is assumed:
  0.25 kW in apartments (about half of the ~0.45–0.5 kW per head of the city peak),
  0.30 kW in modern blocks (lifts, circulation pumps) and 0.80 kW in private houses
  (individual heating with electric pumps, ignition or heaters). Commercial and
  industrial load (``load:ci-<substation>``) makes up the rest, weighted to the centre.
  Power factor 0.95 (assumed). Generators are dispatched pro rata to capacity, so the
  slack carries its own share. Supply capacity exceeds the peak by roughly 30–40 %.

Services
--------
* **Heat areas** (100, ``area:<district>-<n>``): 2–3 per load bus (the 330 kV
  substations' 110 kV yards and the distribution substations), the bus's residential
  load split among them by population. People total 3.0–3.3 M (the city has ~3.6 M
  residents, REFERENCES.md; our synthetic figure is a round 3.0–3.3 M). Archetypes by
  distance from the centre: brick5 (10) and panel5 (16) inner, panel9 (32), panel16
  (20), modern (14), house (8) outermost; a house area holds about a third of the
  people of a block area (">20,000 private houses", about 2–3 % of the people). About
  8 % of the apartment areas (mostly modern, with their own gas boilers) are not on
  district heating ("85–95 % on district heating", REFERENCES.md) and, like the house
  areas, have ``individual_heating_share`` 1.0; district-heated areas have 0–5 %.
  ``needs_local_power`` is True for modern blocks (building circulation pumps).
* **Heat sources.** The three CHPs (``heat:chp-<name>``, ``gens`` their units; heat
  1,900, 2,000 and 450 MW: "500–750 MW electric, the latter with about 2 GW of heat",
  REFERENCES.md, the other two assumed) and 20 boiler houses (``heat:boiler-<substation>``;
  "15 large and about 170 small boiler houses", aggregated here). Areas are assigned
  greedily by distance under population quotas: chp-south 22 %, chp-north 24 %,
  chp-east 8 % ("about 8 % of the residential floor area"), boiler houses the rest
  (after a CHP strike "46 % of the housing stock" lost heat, REFERENCES.md); a quarter
  of the areas get a second source. ``peak_boiler_share`` 0.3–0.5 (assumed). Pump loads:
  1 % of the heat carried ("network pumps use 1–2 % of the heat they carry",
  REFERENCES.md), clipped to 5–20 MW for a CHP and 0.5–3 MW for a boiler house.
  Boiler heat is 1.15 × the design demand of its areas at −22 °C (design temperature
  assumed), from the archetypes of :mod:`warmgrid.services.thermal`. Two-thirds of the
  boiler houses have backup power ("two-thirds of Kyiv's boiler houses have backup
  power", smarter.kyiv.ua via REFERENCES.md) with 12–48 h of fuel (assumed); CHPs 0 h.
* **Water** (20 stations). Two river waterworks, ``water:north-works`` (pumps 12–15 MW)
  and ``water:river-works`` (6–10 MW), supply about 66 % and 25 % of the people, six
  well fields (``water:wells-<substation>``, 2–3 MW) about 9 % ("two river waterworks
  supply about 66 % and 25 % of the water, and wells about 9 %", REFERENCES.md);
  reservoirs 12–15 h for the works ("tanks … hold about 15 h of average supply") and
  8–12 h for wells (assumed). Twelve booster stations (``water:booster-<district>``,
  2–4 MW, 6–10 h, assumed) also serve the 16-storey and modern areas ("without pumps,
  water rises no higher than about 12–14 floors"). Every area has one main supply.
* **Hospitals** (30, ``facility:hospital-<nn>``): 0.5–3 MW (assumed), ``backup_h`` 120
  ("a minimum fuel reserve of 5 days", Ukrainian state emergency commission,
  REFERENCES.md), ``people_served`` the population of the areas for which it is the
  nearest hospital.
* **Substations.** ``substation:<name>`` for every 330 kV substation (its 330 and 110 kV
  buses), every CHP plant (its buses) and every 110 kV distribution substation.

Treat the returned tables as read-only: results are memoised per seed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay

from warmgrid.model.grid import Grid
from warmgrid.model.services import Services
from warmgrid.services.thermal import ARCHETYPES

__all__ = ["frost_strike_weather", "river_x", "winter_city", "winter_city_grid"]

_CENTRE = np.array([15.0, 15.0])
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
_DISTRICTS = (
    ("starohrad", (12.5, 15.5), "R"),
    ("pryrichchia", (14.0, 24.0), "R"),
    ("sosnivka", (8.0, 23.0), "R"),
    ("verbivka", (4.5, 15.0), "R"),
    ("kalynivka", (7.5, 7.0), "R"),
    ("ozerky", (13.5, 5.0), "R"),
    ("dubrava", (9.5, 11.5), "R"),
    ("zaplava", (22.5, 24.0), "L"),
    ("berezhany", (24.5, 15.5), "L"),
    ("lukivka", (22.5, 6.0), "L"),
)
_ARCH_COUNTS = (
    ("brick5", 10),
    ("panel5", 16),
    ("panel9", 32),
    ("panel16", 20),
    ("modern", 14),
    ("house", 8),
)  # inner to outer, 100 areas
_ARCH_SIZE = {
    "brick5": 0.8,
    "panel5": 0.9,
    "panel9": 1.2,
    "panel16": 1.3,
    "modern": 1.0,
    "house": 0.35,
}
_KW_PER_PERSON = {"modern": 0.30, "house": 0.80}  # others 0.25 (assumed, see docstring)
_PF_TAN = np.tan(np.arccos(0.95))
_DESIGN_T_C = -22.0


def river_x(y: np.ndarray | float) -> np.ndarray:
    """x (km) of the river at northing ``y`` (km); x below it is the right (west) bank."""
    return 17.0 + 1.2 * np.sin(np.asarray(y, dtype=float) / 5.0)


def _bank(xy: np.ndarray) -> np.ndarray:
    """(n,) "R" or "L" for (n, 2) points."""
    return np.where(xy[:, 0] < river_x(xy[:, 1]), "R", "L")


def _off_river(xy: np.ndarray, bank: np.ndarray, gap: float = 0.4) -> np.ndarray:
    """Mirror points onto their bank and keep them ``gap`` km off the water, inside the box."""
    out = xy.copy()
    rx = river_x(out[:, 1])
    sign = np.where(bank == "R", -1.0, 1.0)
    d = (out[:, 0] - rx) * sign  # > 0 on the right side
    out[:, 0] = rx + sign * np.maximum(np.abs(d), gap)
    return np.clip(out, 0.5, 29.5)


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

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        f = np.array([self.pos[e["from_bus"]] for e in self.br])
        t = np.array([self.pos[e["to_bus"]] for e in self.br])
        return (
            f,
            t,
            np.array([e["x_pu"] for e in self.br]),
            np.array([e["rate_mva"] for e in self.br]),
        )


def _bridges(n: int, f: np.ndarray, t: np.ndarray) -> list[int]:
    """Indices of branches whose single outage splits the graph (parallel circuits count)."""
    out = []
    for k in range(len(f)):
        keep = np.arange(len(f)) != k
        adj = np.zeros((n, n), dtype=bool)
        adj[f[keep], t[keep]] = True
        if connected_components(adj, directed=False)[0] > 1:
            out.append(k)
    return out


def _dc_flow_mw(
    n: int, f: np.ndarray, t: np.ndarray, x: np.ndarray, p_mw: np.ndarray, ref: int
) -> np.ndarray:
    """Branch flows of a plain DC power flow (dense; the city has ~50 buses)."""
    a = np.zeros((len(f), n))
    a[np.arange(len(f)), f] = 1.0
    a[np.arange(len(f)), t] = -1.0
    bf = a / x[:, None]
    bbus = a.T @ bf
    keep = np.arange(n) != ref
    th = np.zeros(n)
    th[keep] = np.linalg.solve(bbus[np.ix_(keep, keep)], (p_mw / _BASE_MVA)[keep])
    return bf @ th * _BASE_MVA


def _unique(name: str, used: set[str]) -> str:
    out, k = name, 2
    while out in used:
        out, k = f"{name}-{k}", k + 1
    used.add(out)
    return out


@dataclass
class _Areas:
    """The heat areas while they are laid out, as parallel arrays of length n_area."""

    bus: np.ndarray  # index into the load buses
    xy: np.ndarray  # (n, 2) km
    arch: np.ndarray
    pop: np.ndarray
    bank: np.ndarray
    district: np.ndarray
    name: np.ndarray
    dh: np.ndarray  # on district heating
    ind_share: np.ndarray
    heat_dem_mw: np.ndarray  # design heat demand at _DESIGN_T_C

    @property
    def ids(self) -> list[str]:
        return [f"area:{n}" for n in self.name]


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, m) distances between (n, 2) and (m, 2) points."""
    return np.hypot(*(a[:, None, :] - b[None, :, :]).transpose(2, 0, 1))


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
    """Supply points and CHP units (set points are filled in by :func:`_dispatch`)."""
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


def _heat_areas(rng: np.random.Generator, lb_xy: np.ndarray) -> _Areas:
    """Place 2–3 areas around each load bus; archetypes, people, districts, heating."""
    n_area = sum(c for _, c in _ARCH_COUNTS)
    per_bus = np.full(len(lb_xy), 2)
    per_bus[rng.choice(len(lb_xy), n_area - per_bus.sum(), replace=False)] += 1
    a_bus = np.repeat(np.arange(len(lb_xy)), per_bus)
    xy = lb_xy[a_bus] + rng.normal(0.0, 1.0, (n_area, 2))
    xy = np.round(_off_river(xy, _bank(lb_xy[a_bus]), gap=0.4), 3)
    score = np.hypot(*(xy - _CENTRE).T) + rng.normal(0.0, 1.5, n_area)
    arch = np.empty(n_area, dtype=object)
    arch[np.argsort(score, kind="stable")] = np.repeat(
        [a for a, _ in _ARCH_COUNTS], [c for _, c in _ARCH_COUNTS]
    )
    pop_target = rng.uniform(3.0e6, 3.3e6)
    size = rng.lognormal(0.0, 0.35, n_area) * np.array([_ARCH_SIZE[a] for a in arch])
    pop = np.round(size / size.sum() * pop_target, -1)
    bank = _bank(xy)
    dseed = np.array([p for _, p, _ in _DISTRICTS])
    dbank = np.array([b for _, _, b in _DISTRICTS])
    dd = _dist(xy, dseed) + 1e3 * (bank[:, None] != dbank[None])
    district = np.array([_DISTRICTS[k][0] for k in dd.argmin(axis=1)])
    name = np.empty(n_area, dtype=object)
    counter: dict[str, int] = {}
    for k in np.lexsort((xy[:, 0], -xy[:, 1])):  # numbered north to south per district
        counter[district[k]] = counter.get(district[k], 0) + 1
        name[k] = f"{district[k]}-{counter[district[k]]}"
    apart = arch != "house"
    w = np.where(arch == "modern", 4.0, 1.0) * apart
    no_dh = rng.choice(n_area, round(0.08 * apart.sum()), replace=False, p=w / w.sum())
    dh = apart.copy()
    dh[no_dh] = False
    ind_share = np.where(dh, np.round(rng.uniform(0.0, 0.05, n_area), 2), 1.0)
    at = [ARCHETYPES[a] for a in arch]
    heat_dem = (
        np.array(
            [
                p * a.floor_m2_per_person * a.h_w_per_k_m2 * (a.setpoint_c - _DESIGN_T_C)
                for p, a in zip(pop, at, strict=True)
            ]
        )
        / 1e6
    )
    return _Areas(a_bus, xy, arch, pop, bank, district, name, dh, ind_share, heat_dem)


def _heat_sources(
    rng: np.random.Generator, net: _Net, load_buses: list[str], lb_xy: np.ndarray, ar: _Areas
) -> tuple[list[dict], list[list[int]]]:
    """CHP and boiler-house rows (with ``_bus`` and ``_mw`` of their pumps) and each area's sources."""
    rows, xy, bus, quota = [], [], [], []
    dh_pop = ar.pop[ar.dh].sum()
    for name, _, units, heat_mw, share in _CHP:
        xy.append(net.xy(f"bus:{name}-110"))
        bus.append(f"bus:{name}-110")
        quota.append(share * dh_pop)
        rows.append(
            {
                "id": f"heat:{name}",
                "name": name.upper().replace("-", " "),
                "kind": "chp",
                "gens": ";".join(f"gen:{name}-{k}" for k in range(1, len(units) + 1)),
                "heat_mw": heat_mw,
                "peak_boiler_share": round(rng.uniform(0.3, 0.5), 2),
                "backup_h": 0.0,
            }
        )
    n_boiler = 20
    b_at = rng.choice(len(load_buses), n_boiler, replace=False)
    b_size = rng.uniform(0.5, 1.5, n_boiler)
    boiler_share = 1.0 - sum(c[4] for c in _CHP)
    has_backup = np.zeros(n_boiler, dtype=bool)
    has_backup[rng.permutation(n_boiler)[: round(2 * n_boiler / 3)]] = True
    for k, bi in enumerate(b_at):
        p = lb_xy[bi] + rng.normal(0.0, 0.6, 2)
        xy.append(_off_river(p[None], _bank(lb_xy[bi][None]), gap=0.4)[0])
        bus.append(load_buses[bi])
        quota.append(boiler_share * dh_pop * b_size[k] / b_size.sum())
        sub = load_buses[bi][4:].removesuffix("-110")
        rows.append(
            {
                "id": f"heat:boiler-{sub}",
                "name": f"Boiler house {sub.capitalize()}",
                "kind": "boiler",
                "gens": "",
                "heat_mw": 0.0,
                "peak_boiler_share": 0.0,
                "backup_h": float(round(rng.uniform(12.0, 48.0))) if has_backup[k] else 0.0,
            }
        )
    hd = _dist(ar.xy, np.array(xy))
    left = np.array(quota)
    srcs: list[list[int]] = [[] for _ in ar.pop]
    reach = np.sqrt(left / left.mean())  # a big source reaches further
    for flat in np.argsort(hd / reach, axis=None, kind="stable"):  # greedy under quotas
        ai, si = divmod(int(flat), len(xy))
        if ar.dh[ai] and not srcs[ai] and left[si] > 0:
            srcs[ai].append(si)
            left[si] -= ar.pop[ai]
    second = rng.random(len(ar.pop)) < 0.25
    for ai in np.flatnonzero(ar.dh):
        if not srcs[ai]:
            srcs[ai].append(int(hd[ai].argmin()))
        if second[ai]:
            srcs[ai].append(int(next(s for s in np.argsort(hd[ai]) if s != srcs[ai][0])))
    for si in range(len(_CHP), len(xy)):  # every boiler house heats something
        if not any(si in s for s in srcs):
            srcs[int(np.argmin(np.where(ar.dh, hd[:, si], np.inf)))].append(si)
    for si, row in enumerate(rows):
        if row["kind"] == "boiler":
            dem = sum(ar.heat_dem_mw[a] / len(s) for a, s in enumerate(srcs) if si in s)
            row["heat_mw"] = round(1.15 * dem, 1)
        lo, hi = (5.0, 20.0) if row["kind"] == "chp" else (0.5, 3.0)
        row.update(
            {
                "load": f"load:heat-{row['id'][5:]}",
                "x": round(float(xy[si][0]), 3),
                "y": round(float(xy[si][1]), 3),
                "_bus": bus[si],
                "_mw": round(float(np.clip(0.01 * row["heat_mw"], lo, hi)), 2),
            }
        )
    return rows, srcs


def _water_stations(
    rng: np.random.Generator, load_buses: list[str], lb_xy: np.ndarray, ar: _Areas
) -> list[dict]:
    """Six well fields, two river works and twelve boosters, with the areas each serves."""
    rows: list[dict] = []
    used: set[str] = set()
    main = np.full(len(ar.pop), -1)
    sites = rng.choice(np.flatnonzero(~np.isin(ar.arch, ["panel16", "modern"])), 6, replace=False)
    for wi, ai in enumerate(sites):
        xy = ar.xy[ai] + rng.normal(0.0, 0.3, 2)
        sub = load_buses[int(np.argmin(np.hypot(*(lb_xy - xy).T)))][4:].removesuffix("-110")
        rows.append(
            {
                "id": f"water:{_unique(f'wells-{sub}', used)}",
                "xy": xy,
                "mw": rng.uniform(2.0, 3.0),
                "reservoir_h": float(round(rng.uniform(8.0, 12.0))),
            }
        )
        quota = 0.015 * ar.pop.sum()  # six well fields: about 9 % of the people
        for a2 in np.argsort(np.hypot(*(ar.xy - ar.xy[ai]).T)):
            if main[a2] < 0 and (quota > 0 or a2 == ai):
                main[a2] = wi
                quota -= ar.pop[a2]
    for name, y, dx, (lo, hi) in (
        ("north-works", 26.5, 1.0, (12.0, 15.0)),
        ("river-works", 10.0, -1.0, (6.0, 10.0)),
    ):
        rows.append(
            {
                "id": f"water:{name}",
                "xy": np.array([river_x(y) + dx, y]),
                "mw": rng.uniform(lo, hi),
                "reservoir_h": float(round(rng.uniform(12.0, 15.0))),
            }
        )
    rest = np.flatnonzero(main < 0)  # left bank and the north to the north works (66 %)
    rank = rest[np.argsort(-((ar.bank[rest] == "L") * 100.0 + ar.xy[rest, 1]), kind="stable")]
    cum = np.cumsum(ar.pop[rank]) / ar.pop[rank].sum()
    main[rank] = np.where(cum <= 0.66 / 0.91 + 1e-9, 6, 7)
    high = np.flatnonzero(np.isin(ar.arch, ["panel16", "modern"]))
    boost = [int(high[rng.integers(len(high))])]
    while len(boost) < 12:  # farthest-point sampling of booster sites
        boost.append(int(high[_dist(ar.xy[high], ar.xy[boost]).min(axis=1).argmax()]))
    for ai in boost:
        rows.append(
            {
                "id": f"water:{_unique(f'booster-{ar.district[ai]}', used)}",
                "xy": ar.xy[ai] + rng.normal(0.0, 0.3, 2),
                "mw": rng.uniform(2.0, 4.0),
                "reservoir_h": float(round(rng.uniform(6.0, 10.0))),
            }
        )
    served: list[list[int]] = [[] for _ in rows]
    for ai in range(len(ar.pop)):
        served[main[ai]].append(ai)
    for ai in high:
        served[8 + int(np.argmin(np.hypot(*(ar.xy[boost] - ar.xy[ai]).T)))].append(int(ai))
    for row, s in zip(rows, served, strict=True):
        row["areas"] = sorted(s)
    return rows


def _reinforce(net: _Net, gen: pd.DataFrame, load: pd.DataFrame) -> None:
    """Double every bridge, then add circuits until the intact flow is below 90 % of ratings."""
    n = len(net.bus)
    inj = np.zeros(n)
    np.add.at(inj, [net.pos[b] for b in gen["bus"]], gen["p_mw"].to_numpy())
    np.subtract.at(inj, [net.pos[b] for b in load["bus"]], load["p_mw"].to_numpy())
    ref = net.pos[f"bus:{_SLACK}-330"]
    inj[ref] -= inj.sum()  # the slack takes the rounding residue
    for k in _bridges(n, *net.arrays()[:2]):
        net.duplicate(k)
    for _ in range(20):
        f, t, x, rate = net.arrays()
        over = np.flatnonzero(np.abs(_dc_flow_mw(n, f, t, x, inj, ref)) > 0.9 * rate)
        if len(over) == 0:
            return
        for k in over:
            net.duplicate(int(k))


def winter_city(seed: int = 2026) -> tuple[Grid, Services]:
    """Generate winter-city (see the module docstring for every figure and its source).

    Parameters
    ----------
    seed : seed of ``numpy.random.default_rng``; the same seed gives identical tables.

    Returns
    -------
    (grid, services) : the 330/110 kV grid and its services overlay. Memoised per seed
        (``winter_city()`` and ``winter_city(2026)`` share one entry): do not modify the
        tables in place.
    """
    return generate(int(seed))


@functools.lru_cache(maxsize=8)
def generate(seed: int) -> tuple[Grid, Services]:
    """The memoised generator behind :func:`winter_city`; ``generate.__wrapped__`` builds afresh."""
    rng = np.random.default_rng(seed)
    net, ring, dist_subs = _power_layout(rng)
    gen = _generators(rng)
    load_buses = [f"bus:{n}-110" for n in ring + dist_subs]
    lb_xy = np.array([net.xy(b) for b in load_buses])
    ar = _heat_areas(rng, lb_xy)
    heat_rows, srcs = _heat_sources(rng, net, load_buses, lb_xy, ar)
    water_rows = _water_stations(rng, load_buses, lb_xy, ar)
    n_h = 30
    h_at = rng.choice(len(ar.pop), n_h, replace=False, p=ar.pop / ar.pop.sum())
    h_xy = _off_river(ar.xy[h_at] + rng.normal(0.0, 0.5, (n_h, 2)), ar.bank[h_at], gap=0.3)
    h_mw = np.round(rng.uniform(0.5, 3.0, n_h), 2)
    fac_ids = [f"facility:hospital-{k:02d}" for k in range(1, n_h + 1)]

    # ---------------------------------------------------------------- loads
    def nearest(xy: np.ndarray) -> str:
        return load_buses[int(np.argmin(np.hypot(*(lb_xy - xy).T)))]

    kw = np.array([_KW_PER_PERSON.get(a, 0.25) for a in ar.arch])
    loads = [
        (f"load:area-{n}", load_buses[b], round(p * k / 1e3, 3))
        for n, b, p, k in zip(ar.name, ar.bus, ar.pop, kw, strict=True)
    ]
    loads += [(r["load"], r.pop("_bus"), r.pop("_mw")) for r in heat_rows]
    for r in water_rows:
        r["load"] = f"load:water-{r['id'][6:]}"
        loads.append((r["load"], nearest(r["xy"]), round(float(r["mw"]), 2)))
    loads += [
        (f"load:{i.replace(':', '-')}", nearest(xy), float(mw))
        for i, xy, mw in zip(fac_ids, h_xy, h_mw, strict=True)
    ]
    ci_total = rng.uniform(1580.0, 1660.0) - sum(mw for _, _, mw in loads)
    cw = rng.uniform(0.5, 1.5, len(load_buses)) * (
        1.0 + 1.5 * np.exp(-np.hypot(*(lb_xy - _CENTRE).T) / 6.0)
    )
    loads += [
        (f"load:ci-{b[4:].removesuffix('-110')}", b, round(ci_total * w / cw.sum(), 3))
        for b, w in zip(load_buses, cw, strict=True)
    ]
    load = pd.DataFrame(loads, columns=["id", "bus", "p_mw"])
    load["q_mvar"] = np.round(load["p_mw"] * _PF_TAN, 3)

    # ---------------------------------------------------------------- dispatch, grid
    total = load["p_mw"].sum()
    gen["p_mw"] = np.round(gen["p_max_mw"] * total / gen["p_max_mw"].sum(), 3)
    gen["p_min_mw"] = 0.0
    _reinforce(net, gen, load)
    slack = gen.index[gen["slack"]][0]
    gen.loc[slack, "p_mw"] = round(float(total - gen["p_mw"].sum() + gen.loc[slack, "p_mw"]), 3)
    grid = Grid(
        name="winter-city",
        bus=pd.DataFrame(net.bus),
        branch=pd.DataFrame(net.br).drop(columns="stem"),
        gen=gen,
        load=load,
        base_mva=_BASE_MVA,
        source=f"warmgrid:winter-city(seed={seed})",
        meta={"seed": seed, "generator": "warmgrid.examples.winter_city"},
    )

    # ---------------------------------------------------------------- services
    heat_ids = [r["id"] for r in heat_rows]
    areas = pd.DataFrame(
        {
            "id": ar.ids,
            "name": [n.replace("-", " ").title() for n in ar.name],
            "population": ar.pop,
            "archetype": ar.arch.astype(str),
            "load": [f"load:area-{n}" for n in ar.name],
            "heat_sources": [";".join(heat_ids[s] for s in ss) for ss in srcs],
            "individual_heating_share": ar.ind_share,
            "needs_local_power": ar.arch == "modern",
            "x": ar.xy[:, 0],
            "y": ar.xy[:, 1],
            "district": ar.district,
        }
    )
    water = pd.DataFrame(
        {
            "id": [r["id"] for r in water_rows],
            "name": [r["id"][6:].replace("-", " ").capitalize() for r in water_rows],
            "load": [r["load"] for r in water_rows],
            "areas": [";".join(ar.ids[a] for a in r["areas"]) for r in water_rows],
            "reservoir_h": [r["reservoir_h"] for r in water_rows],
            "x": [round(float(r["xy"][0]), 3) for r in water_rows],
            "y": [round(float(r["xy"][1]), 3) for r in water_rows],
        }
    )
    catch = _dist(ar.xy, h_xy).argmin(axis=1)  # each area's nearest hospital
    facilities = pd.DataFrame(
        {
            "id": fac_ids,
            "name": [f"City hospital {k}" for k in range(1, n_h + 1)],
            "kind": "hospital",
            "load": [f"load:{i.replace(':', '-')}" for i in fac_ids],
            "backup_h": 120.0,
            "people_served": [float(ar.pop[catch == k].sum()) for k in range(n_h)],
            "x": np.round(h_xy[:, 0], 3),
            "y": np.round(h_xy[:, 1], 3),
        }
    )
    subs = {f"substation:{n}": [f"bus:{n}-330", f"bus:{n}-110"] for n in ring}
    for name, *_ in _CHP:
        subs[f"substation:{name}"] = [
            b for b in (f"bus:{name}-330", f"bus:{name}-110") if b in net.pos
        ]
    subs |= {f"substation:{n}": [f"bus:{n}-110"] for n in dist_subs}
    services = Services.build(
        grid,
        source=grid.source,
        substations=subs,
        areas=areas,
        heat=pd.DataFrame(heat_rows),
        water=water,
        facilities=facilities,
    )
    return grid, services


def winter_city_grid(seed: int = 2026) -> Grid:
    """The power grid of :func:`winter_city` (what ``load_grid("winter-city")`` returns)."""
    return winter_city(seed)[0]


def frost_strike_weather() -> pd.DataFrame:
    """Outdoor temperature of the frost-strike scenario, hourly from 2026-02-03 00:00 local time.

    Seven days of −20 °C at night and −16 °C by day (Kyiv on 3 February 2026, REFERENCES.md),
    with a smooth diurnal profile: half-cosines rising from the minimum at 05:00 to the
    maximum at 14:00 and falling back over the following 15 h (shape assumed).

    Returns
    -------
    DataFrame with ``time`` (datetime64, hourly) and ``outdoor_c`` (°C), 168 rows.
    """
    path = resources.files("warmgrid.examples") / "data" / "frost_strike_weather.csv"
    with resources.as_file(path) as p:
        df = pd.read_csv(p)
    df["time"] = pd.to_datetime(df["time"], format="ISO8601")
    return df
