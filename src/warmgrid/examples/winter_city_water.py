"""winter-city's water network: an EPANET model of its 20 pumping stations, built from a seed.

:func:`winter_city_water` turns the water overlay of :func:`warmgrid.examples.winter_city.winter_city`
into a deterministic EPANET ``.inp`` (same seed, same text), with the ``pump_power``
mapping (each pump to its station's grid load) and the ``area_junctions`` table, so the
hydraulic model (:mod:`warmgrid.water`) can replace the rule-based water of
:mod:`warmgrid.services.propagate`. Built in well under a second, memoised per seed.

Layout (ids are EPANET's; x, y in km as the areas')
-----------------------------------------------------
* **Junctions.** One per heat area at the area's coordinates, id the area's name
  (``starohrad-1``). High-rise areas (16-storey panel and modern blocks) have a second
  junction for their upper floors, ``<area>-upper``, 24 m above the ground, fed only
  through the area's booster ("without pumps, water rises no higher than about 12–14
  floors", docs/sources.md, "City ballpark figures"); it carries 40 % of the area's
  demand (floors 10–16 of 16, assumed).
* **Ground.** A river-valley city: the valley floor at 130 m by the river (124 m,
  assumed), the right (west) bank rising to a plateau of about 150 m within a few km, the
  left bank a low terrace of 130–135 m (:func:`ground_elevation_m`). Kyiv spans about 90–190 m over several pressure
  zones; the relief is compressed here into one zone (assumed), so one set of tank levels
  serves the whole city at 25–60 m.
* **Demand.** 0.7 M m³ per day for 3.1 M people ("the average supply is about 0.7 M m³
  per day", docs/sources.md, "City ballpark figures"), i.e. 226 L per person per day
  including non-domestic use, in proportion to each area's people, with a winter weekday
  profile of 24 hourly multipliers (morning and evening peaks of 1.35–1.4, night 0.5;
  assumed, typical of residential networks).
* **Main stations** (the six well fields and the two river works). Each lifts from its
  source (a reservoir node at the station: the river at 124 m for the works, an aquifer 20 m
  below ground for the wells; assumed) into its district's mains at the junction next to
  its clean-water tank, a hill reservoir at the people-weighted centre of the areas it
  supplies that floats on the mains (the pump link stands for pump and transmission
  main; a tank fed only through its pump would make EPANET toggle it empty/refilling
  every few seconds once neighbours drain it). Tanks: bottom at 180 m, 7 m deep, volume
  ``reservoir_h`` hours of the district's average demand ("clean-water tanks … hold about
  15 h of average supply", docs/sources.md, "City ballpark figures"; ``reservoir_h`` of
  the overlay). Pumps: one EPANET pump per station, a curve through 1.5 × the district's
  average demand (so tanks refill at about half the average supply per hour, the
  rule-based model's ``reservoir_refill_rate``), started below 4.5 m and stopped above
  6.5 m of tank level.
* **Boosters** (12). Each pumps from the main network at the junction nearest to it into
  an elevated tank (5 m deep, bottom 27 m above its highest upper-floor junction and at
  least 2 m above the mains' highest level, volume
  ``reservoir_h`` hours of its zone's average demand) that feeds the upper floors of its
  high-rise areas; started below 3 m, stopped above 4.5 m of tank level, and tripped
  while its suction pressure is below 5 m (low-suction-pressure protection, usual in
  booster stations; assumed).
* **Mains.** A Delaunay mesh over the areas (links up to 6 km; only the four shortest
  crossings of the river, "bridges"; assumed), Hazen–Williams C = 110 (old steel and cast
  iron, assumed). Each district's mains are sized on the tree of shortest paths from its
  tank for the peak hour at about 1 m/s, then enlarged until every junction keeps at
  least 27 m at peak with its tank at 4.5 m (on the tree, which overstates the losses of
  the looped mesh); pipes that close loops are 300 mm, pipes between districts 250 mm
  (interconnections; assumed).

Each pump is linked to its station's grid load (``pump_power``: ``north-works`` →
``load:water-north-works``).
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay

from warmgrid.examples._epanet_inp import _Inp
from warmgrid.examples.winter_city import river_x, winter_city
from warmgrid.model.services import split_ids

__all__ = ["CityWater", "ground_elevation_m", "winter_city_water"]

#: Average supply per person, m³/day (0.7 M m³/day for 3.1 M people; docs/sources.md,
#: "City ballpark figures").
M3_PER_PERSON_DAY = 0.7e6 / 3.1e6
#: Winter weekday demand profile, hour 0-23 (assumed; normalised to mean 1).
_PROFILE = np.array(
    [0.55, 0.50, 0.48, 0.48, 0.52, 0.70, 1.05, 1.35, 1.38, 1.20, 1.05, 1.00,
     1.02, 1.00, 0.98, 0.98, 1.05, 1.20, 1.35, 1.40, 1.32, 1.15, 0.92, 0.70]
)  # fmt: skip
_PROFILE = _PROFILE / _PROFILE.mean()
_UPPER_SHARE = 0.4  # share of a high-rise area's demand on its upper floors (assumed)
_UPPER_RISE_M = 24.0  # upper-floor junction above the ground, m (floor 9)
_HIGH_RISE = ("panel16", "modern")
_C_HW = 110.0
_SIZES_M = np.array(
    [
        0.15,
        0.2,
        0.25,
        0.3,
        0.35,
        0.4,
        0.5,
        0.6,
        0.7,
        0.8,
        0.9,
        1.0,
        1.2,
        1.4,
        1.6,
        1.8,
        2.0,
        2.2,
        2.4,
    ]
)
_LOOP_D, _INTER_D = 0.3, 0.25
# main tanks: bottom elevation, depth, start level, pump on below / off above (m)
_TANK_BOTTOM, _TANK_DEPTH, _TANK_INIT, _TANK_ON, _TANK_OFF = 180.0, 7.0, 5.5, 4.5, 6.5
# booster tanks: bottom above the highest upper junction, depth, start, on, off (m)
_BTANK_RISE, _BTANK_DEPTH, _BTANK_INIT, _BTANK_ON, _BTANK_OFF = 27.0, 5.0, 4.0, 3.0, 4.5
_SUCTION_TRIP_M = 5.0
_MIN_DESIGN_P = 27.0  # peak-hour pressure target with tanks at their pump-on level, m
_RIVER_M = 124.0
_ROUTE = 1.2  # pipe length / straight distance (assumed, as winter-city's power lines)


def ground_elevation_m(x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
    """Ground elevation (m) at (x, y) km: a valley at ~130 m, a right-bank plateau at ~150 m.

    ``d = x − river_x(y)`` is the distance east of the river: the right bank (d < 0)
    rises as ``130 + 21 (1 − e^{d/3})`` with a gentle ±1.5 m undulation, the left bank
    as ``130 + 5 (1 − e^{−d/6})``; clipped to 130–152 m (assumed).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    d = x - river_x(y)
    right = 130.0 + 21.0 * (1.0 - np.exp(np.minimum(d, 0.0) / 3.0))
    right += 1.5 * np.sin(y / 3.0) * (1.0 - np.exp(np.minimum(d, 0.0) / 1.5))
    left = 130.0 + 5.0 * (1.0 - np.exp(-np.maximum(d, 0.0) / 6.0))
    return np.clip(np.where(d < 0, right, left), 130.0, 152.0)


def _hw_loss(q: np.ndarray | float, d: np.ndarray | float, length_m: np.ndarray | float) -> Any:
    """Hazen–Williams head loss, m, for flow q (m³/s), diameter d (m), length (m)
    (arrays of the common shape, or numbers)."""
    return 10.67 * length_m * np.abs(q) ** 1.852 / (_C_HW**1.852 * d**4.87)


def _size(q: np.ndarray, v: float = 1.0) -> np.ndarray:
    """Smallest listed diameter carrying q (m³/s) at no more than v m/s."""
    need = np.sqrt(4.0 * np.abs(q) / (np.pi * v))
    k = np.searchsorted(_SIZES_M, need - 1e-12)
    return _SIZES_M[np.minimum(k, len(_SIZES_M) - 1)]


def _curve(name: str, q_m3h: float, h_m: float) -> list[str]:
    """A three-point pump curve through the design point (q, h): shut-off at 1.4 h and
    0.2 h at 3 q (a straight line, so EPANET extrapolates nothing at low lifts)."""
    return [
        f"{name} 0 {1.4 * h_m:.2f}",
        f"{name} {q_m3h:.2f} {h_m:.2f}",
        f"{name} {3 * q_m3h:.2f} {0.2 * h_m:.2f}",
    ]


@dataclass(frozen=True)
class CityWater:
    """winter-city's water network.

    Attributes
    ----------
    inp : the EPANET ``.inp`` text (SI: flows in m³/h).
    pump_power : pump id → grid load id.
    area_junctions : ``area, junction, share`` table (share 1 each).
    seed : the city's seed.
    """

    inp: str
    pump_power: dict[str, str]
    area_junctions: pd.DataFrame
    seed: int

    def network(self):  # -> wntr.network.WaterNetworkModel
        """A fresh :class:`wntr.network.WaterNetworkModel` of :attr:`inp`."""
        folder = tempfile.mkdtemp(prefix="warmgrid-city-")
        try:
            path = Path(folder) / "winter-city.inp"
            path.write_text(self.inp, encoding="latin-1")
            import wntr

            return wntr.network.WaterNetworkModel(str(path))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def write(self, folder: str | Path) -> tuple[Path, Path]:
        """Write ``winter-city.inp`` and ``area_junctions.csv`` into ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        inp, csv = out / "winter-city.inp", out / "area_junctions.csv"
        inp.write_text(self.inp, encoding="latin-1")
        self.area_junctions.to_csv(csv, index=False)
        return inp, csv


def winter_city_water(seed: int = 2026) -> CityWater:
    """Build winter-city's water network (see the module docstring). Memoised per seed.

    Returns
    -------
    CityWater : ``.inp`` text, ``pump_power`` and ``area_junctions``; treat as read-only.
    """
    return _build(int(seed))


@dataclass(frozen=True)
class _Junctions:
    """The heat areas as EPANET junctions, parallel arrays of length n_area.

    Attributes
    ----------
    names : junction ids (the areas' names); apos : area id → index.
    xy : (n, 2) positions, km; elev : (n,) ground elevation, m.
    pop : (n,) people; high : (n,) bool, high-rise (an upper-floor junction too).
    main_q, upper_q : (n,) average demand on the mains and on the upper floors, m³/s.
    district : (n,) index of the main station that supplies each area.
    """

    names: list[str]
    apos: dict[str, int]
    xy: np.ndarray
    elev: np.ndarray
    pop: np.ndarray
    high: np.ndarray
    main_q: np.ndarray
    upper_q: np.ndarray
    district: np.ndarray


#: A booster: (name, its water row, position (km), served area indices, suction junction).
_Booster = tuple[str, pd.Series, np.ndarray, list[int], int]


@functools.lru_cache(maxsize=4)
def _build(seed: int) -> CityWater:
    """The memoised builder behind :func:`winter_city_water`."""
    _, svc = winter_city(seed)
    areas, water = svc.areas, svc.water
    boost = water["id"].str.startswith("water:booster-").to_numpy()
    mains = water[~boost].reset_index(drop=True)
    boosters = water[boost].reset_index(drop=True)
    jn = _junctions(areas, mains)
    inp = _Inp(_C_HW)
    inp.sec["PATTERNS"].append("winter " + " ".join(f"{v:.4f}" for v in _PROFILE))
    _junction_nodes(inp, jn)
    b_rows = _booster_sites(jn, boosters)
    draw = jn.main_q.copy()  # the load each junction puts on the mains
    for *_, served, s in b_rows:
        draw[s] += jn.upper_q[served].sum()
    tank_xy = _main_stations(inp, jn, mains, draw)
    st_names = [r.split(":", 1)[1] for r in mains["id"]]
    path_hl = _mains(inp, jn, tank_xy, st_names, draw)
    _booster_zones(inp, jn, b_rows, path_hl)

    text = inp.text(f"winter-city water network (seed {seed}), generated by warmgrid")
    pump_power = {r.split(":", 1)[1]: ld for r, ld in zip(water["id"], water["load"], strict=True)}
    n, names = len(jn.names), jn.names
    aj = [(areas["id"][i], names[i], 1.0) for i in range(n)]
    aj += [(areas["id"][i], f"{names[i]}-upper", 1.0) for i in np.flatnonzero(jn.high)]
    table = pd.DataFrame(aj, columns=["area", "junction", "share"])
    return CityWater(text, pump_power, table, seed)


def _junctions(areas: pd.DataFrame, mains: pd.DataFrame) -> _Junctions:
    """The areas' junctions: ground, demand split between mains and upper floors, and
    the main station of each (the overlay's ``areas`` of each main station)."""
    names = [a.split(":", 1)[1] for a in areas["id"]]
    apos = {a: i for i, a in enumerate(areas["id"])}
    xy = areas[["x", "y"]].to_numpy(dtype=float)
    pop = areas["population"].to_numpy(dtype=float)
    high = areas["archetype"].isin(_HIGH_RISE).to_numpy()
    elev = np.round(ground_elevation_m(xy[:, 0], xy[:, 1]), 2)
    avg = pop * M3_PER_PERSON_DAY / 86400.0  # m³/s per area
    main_q = np.where(high, 1.0 - _UPPER_SHARE, 1.0) * avg
    upper_q = np.where(high, _UPPER_SHARE, 0.0) * avg
    district = np.full(len(names), -1)
    for s, ars in enumerate(mains["areas"]):
        for a in split_ids(ars):
            district[apos[a]] = s
    return _Junctions(names, apos, xy, elev, pop, high, main_q, upper_q, district)


def _junction_nodes(inp: _Inp, jn: _Junctions) -> None:
    """One junction per area, and one for the upper floors of each high-rise area."""
    names, xy, elev = jn.names, jn.xy, jn.elev
    for i, nm in enumerate(names):
        inp.node(
            "JUNCTIONS",
            nm,
            f"{elev[i]:.2f} {jn.main_q[i] * 3600:.4f} winter",
            (xy[i, 0], xy[i, 1]),
        )
    for k in np.flatnonzero(jn.high):
        inp.node(
            "JUNCTIONS",
            f"{names[k]}-upper",
            f"{elev[k] + _UPPER_RISE_M:.2f} {jn.upper_q[k] * 3600:.4f} winter",
            (xy[k, 0], xy[k, 1] + 0.05),
        )


def _booster_sites(jn: _Junctions, boosters: pd.DataFrame) -> list[_Booster]:
    """Each booster with the areas it serves and its suction junction (the nearest)."""
    b_rows = []
    for _, b in boosters.iterrows():
        bxy = np.array([b["x"], b["y"]])
        served = [jn.apos[a] for a in split_ids(b["areas"])]
        b_rows.append(
            (b["id"].split(":", 1)[1], b, bxy, served, int(np.argmin(np.hypot(*(jn.xy - bxy).T))))
        )
    return b_rows


def _main_stations(inp: _Inp, jn: _Junctions, mains: pd.DataFrame, draw: np.ndarray) -> np.ndarray:
    """Each main station's tank, source, pump, curve and controls; returns the tanks'
    positions ((n_main, 2) km: the people-weighted centres of their districts).

    Parameters
    ----------
    inp : the file being written.
    jn : the junctions.
    mains : the main stations' rows of the overlay's ``water`` table.
    draw : (n_area,) average load of each junction on the mains, m³/s.
    """
    xy, pop, names, district = jn.xy, jn.pop, jn.names, jn.district
    m = len(mains)
    st_names = [r.split(":", 1)[1] for r in mains["id"]]
    tank_xy = np.zeros((m, 2))
    feed = np.zeros(m, dtype=int)  # the junction each station pumps into (next to its tank)
    for s, row in mains.iterrows():
        members = np.flatnonzero(district == s)
        c = (xy[members] * pop[members, None]).sum(axis=0) / pop[members].sum()
        feed[s] = members[np.argmin(np.hypot(*(xy[members] - c).T))]
        tank_xy[s] = c
        dem = draw[members].sum()  # the district's average demand, m³/s
        vol = row["reservoir_h"] * 3600.0 * dem
        st = st_names[s]
        diam = np.sqrt(4.0 * vol / _TANK_DEPTH / np.pi)
        inp.node(
            "TANKS",
            f"{st}-tank",
            f"{_TANK_BOTTOM:g} {_TANK_INIT:g} 0 {_TANK_DEPTH:g} {diam:.2f} 0",
            (float(c[0]), float(c[1])),
        )
        sxy = (float(row["x"]), float(row["y"]))
        head = _RIVER_M if st.endswith("works") else float(ground_elevation_m(*sxy)) - 20.0
        inp.node("RESERVOIRS", f"{st}-source", f"{head:.2f}", sxy)
        h_d = _TANK_BOTTOM + 0.5 * (_TANK_ON + _TANK_OFF) - head
        inp.sec["CURVES"] += _curve(f"{st}-curve", 1.5 * dem * 3600, h_d)
        inp.sec["PUMPS"].append(f"{st} {st}-source {names[feed[s]]} HEAD {st}-curve")
        inp.sec["CONTROLS"] += [
            f"LINK {st} OPEN IF NODE {st}-tank BELOW {_TANK_ON:g}",
            f"LINK {st} CLOSED IF NODE {st}-tank ABOVE {_TANK_OFF:g}",
        ]
    return tank_xy


def _mains(
    inp: _Inp, jn: _Junctions, tank_xy: np.ndarray, st_names: list[str], draw: np.ndarray
) -> np.ndarray:
    """The mains (pipes between junctions, and from each tank to its three nearest
    junctions), sized on each district's tree; returns each junction's peak-hour head
    loss from its tank along the tree, m.

    Parameters
    ----------
    inp : the file being written.
    jn : the junctions.
    tank_xy : (n_main, 2) the main tanks' positions, km.
    st_names : the main stations' names.
    draw : (n_area,) average load of each junction on the mains, m³/s.
    """
    elist, e_len, e_intra, t_links = _mains_layout(jn, tank_xy)
    t_len = np.array([ln for _, _, ln in t_links])
    dia, path_hl = _size_mains(jn, draw, len(tank_xy), elist, e_len, e_intra, t_links, t_len)
    names = jn.names
    for k, (a, b) in enumerate(elist):
        inp.pipe(f"main-{k + 1:03d}", names[a], names[b], e_len[k], dia[0][k])
    for k, (s, j, ln) in enumerate(t_links):
        inp.pipe(f"{st_names[s]}-out-{k + 1}", f"{st_names[s]}-tank", names[j], ln, dia[1][k])
    return path_hl


def _mains_layout(
    jn: _Junctions, tank_xy: np.ndarray
) -> tuple[list[tuple[int, ...]], np.ndarray, np.ndarray, list[tuple[int, int, float]]]:
    """The mains' links: a Delaunay mesh over the areas (links up to 6 km, the four
    shortest river crossings, and a spanning tree), and each tank's links to the three
    nearest junctions of its district.

    Returns
    -------
    elist : (a, b) junction pairs; e_len : their lengths, m; e_intra : both ends in one
    district; t_links : (station, junction, length m) per tank link.
    """
    xy, district = jn.xy, jn.district
    n, m = len(xy), len(tank_xy)
    tri = Delaunay(xy).simplices
    edges = {
        tuple(sorted((int(a), int(b))))
        for t in tri
        for a, b in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2]))
    }
    length = {e: float(np.hypot(*(xy[e[0]] - xy[e[1]]))) for e in edges}
    bank = xy[:, 0] < river_x(xy[:, 1])
    cross = sorted((e for e in edges if bank[e[0]] != bank[e[1]]), key=lambda e: length[e])
    keep = {e for e in edges if length[e] <= 6.0 and bank[e[0]] == bank[e[1]]} | set(cross[:4])
    w = np.zeros((n, n))
    for a, b in edges:
        w[a, b] = length[(a, b)] * (1.0 if bank[a] == bank[b] else 5.0)
    mst = minimum_spanning_tree(w).tocoo()
    keep |= {tuple(sorted((int(a), int(b)))) for a, b in zip(mst.row, mst.col, strict=True)}
    elist = sorted(keep)
    e_len = np.array([max(0.3, _ROUTE * length[e]) * 1000.0 for e in elist])  # m
    e_intra = np.array([district[a] == district[b] for a, b in elist])
    # each tank feeds its three nearest junctions of its district
    t_links = []
    for s in range(m):
        members = np.flatnonzero(district == s)
        near = members[np.argsort(np.hypot(*(xy[members] - tank_xy[s]).T))[:3]]
        for k in near:
            d_km = float(np.hypot(*(xy[k] - tank_xy[s])))
            t_links.append((s, int(k), max(0.5, _ROUTE * d_km + 0.3) * 1000.0))
    return elist, e_len, e_intra, t_links


def _size_mains(
    jn: _Junctions,
    draw: np.ndarray,
    m: int,
    elist: list[tuple[int, ...]],
    e_len: np.ndarray,
    e_intra: np.ndarray,
    t_links: list[tuple[int, int, float]],
    t_len: np.ndarray,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Diameters on each district's shortest-path tree from its tank (peak hour, about
    1 m/s), enlarged until every junction keeps its design pressure.

    Parameters
    ----------
    jn : the junctions.
    draw : (n_area,) average load of each junction on the mains, m³/s.
    m : number of main stations (tanks).
    elist, e_len, e_intra, t_links : the links (:func:`_mains_layout`).
    t_len : (len(t_links),) tank link lengths, m.

    Returns
    -------
    dia : [mains (len(elist),), tank links (len(t_links),)] diameters, m.
    path_hl : (n_area,) peak-hour head loss from the tank to each junction, m.
    """
    xy, district, elev = jn.xy, jn.district, jn.elev
    n = len(xy)
    peak = float(_PROFILE.max())
    rows = [a for a, _ in elist] + [n + s for s, _, _ in t_links]
    cols = [b for _, b in elist] + [k for _, k, _ in t_links]
    wts = list(e_len * np.where(e_intra, 1.0, 20.0)) + list(t_len)
    g = coo_matrix((wts, (rows, cols)), shape=(n + m, n + m)).tocsr()
    g = g.maximum(g.T)
    link_of: dict[tuple[int, int], tuple[int, int]] = {}  # (kind 0 main / 1 tank link, k)
    for k, (a, b) in enumerate(elist):
        link_of[(a, b)] = link_of[(b, a)] = (0, k)
    for k, (s, j, _) in enumerate(t_links):
        link_of[(n + s, j)] = link_of[(j, n + s)] = (1, k)
    _, pred = dijkstra(g, indices=list(range(n, n + m)), return_predecessors=True)
    paths: list[list[tuple[int, int]]] = []
    flow = [np.zeros(len(elist)), np.zeros(len(t_links))]
    for j in range(n):
        s, node, path = district[j], j, []
        while node != n + s:
            prev = int(pred[s, node])
            path.append(link_of[(prev, node)])
            node = prev
        paths.append(path)
        for kind, k in path:
            flow[kind][k] += draw[j] * peak
    dia = [
        np.where(flow[0] > 0, _size(flow[0]), np.where(e_intra, _LOOP_D, _INTER_D)),
        _size(flow[1]),
    ]
    lens = [e_len, t_len]
    budget = _TANK_BOTTOM + _TANK_ON - elev - _MIN_DESIGN_P
    for _ in range(500):  # enlarge the worst pipe on each path short of pressure
        hl = [_hw_loss(flow[i], dia[i], lens[i]) for i in (0, 1)]
        path_hl = np.array([sum(hl[kd][k] for kd, k in p) for p in paths])
        short = np.flatnonzero(path_hl > budget)
        if not len(short):
            break
        for kd, k in {max(paths[j], key=lambda p: hl[p[0]][p[1]]) for j in short}:
            dia[kd][k] = _SIZES_M[min(np.searchsorted(_SIZES_M, dia[kd][k]) + 1, len(_SIZES_M) - 1)]
    hl = [_hw_loss(flow[i], dia[i], lens[i]) for i in (0, 1)]
    path_hl = np.array([sum(hl[kd][k] for kd, k in p) for p in paths])
    return dia, path_hl


def _booster_zones(inp: _Inp, jn: _Junctions, b_rows: list[_Booster], path_hl: np.ndarray) -> None:
    """Each booster's elevated tank, its pipes to the upper floors it serves, its pump,
    curve and controls (with the low-suction-pressure trip).

    Parameters
    ----------
    inp : the file being written.
    jn : the junctions.
    b_rows : the boosters (:func:`_booster_sites`).
    path_hl : (n_area,) peak-hour head loss from the main tank to each junction, m.
    """
    xy, elev, names, upper_q = jn.xy, jn.elev, jn.names, jn.upper_q
    peak = float(_PROFILE.max())
    for bname, b, bxy, served, s in b_rows:
        up_el = elev[served] + _UPPER_RISE_M
        # 27 m above its highest upper floor, and above the mains' highest level (a
        # booster on the low left bank would otherwise have nothing to lift)
        bottom = float(max(up_el.max() + _BTANK_RISE, _TANK_BOTTOM + _TANK_DEPTH + 2.0))
        dem = upper_q[served].sum()
        diam = np.sqrt(4.0 * b["reservoir_h"] * 3600.0 * dem / _BTANK_DEPTH / np.pi)
        inp.node(
            "TANKS",
            f"{bname}-tank",
            f"{bottom:.2f} {_BTANK_INIT:g} 0 {_BTANK_DEPTH:g} {diam:.2f} 0",
            (float(bxy[0]), float(bxy[1])),
        )
        for i in served:
            ln = max(0.3, _ROUTE * float(np.hypot(*(xy[i] - bxy))) + 0.2) * 1000.0
            q = upper_q[i] * peak
            d = float(_size(np.array([q]))[0])
            while _hw_loss(q, d, ln) > 2.0 and d < _SIZES_M[-1]:
                d = float(_SIZES_M[np.searchsorted(_SIZES_M, d) + 1])
            inp.pipe(f"up-{names[i]}", f"{bname}-tank", f"{names[i]}-upper", ln, d)
        # design lift: from the suction junction's peak head (tank at its pump-on level,
        # minus the tree's losses) to the booster tank's mid level
        suction = _TANK_BOTTOM + _TANK_ON - path_hl[s]
        lift = bottom + 0.5 * (_BTANK_ON + _BTANK_OFF) - suction
        inp.sec["CURVES"] += _curve(f"{bname}-curve", 1.5 * dem * 3600, lift + 3.0)
        inp.sec["PUMPS"].append(f"{bname} {names[s]} {bname}-tank HEAD {bname}-curve")
        inp.sec["CONTROLS"] += [
            f"LINK {bname} OPEN IF NODE {bname}-tank BELOW {_BTANK_ON:g}",
            f"LINK {bname} CLOSED IF NODE {bname}-tank ABOVE {_BTANK_OFF:g}",
            f"LINK {bname} CLOSED IF NODE {names[s]} BELOW {_SUCTION_TRIP_M:g}",
        ]
