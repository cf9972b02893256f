"""winter-city's services overlay: heat areas, heat sources, water stations, hospitals.

Every figure and its source is in :mod:`warmgrid.examples.winter_city`'s docstring. The
areas are placed around the grid's load buses; the services' loads (areas, heat and water
pumps, hospitals, commercial and industrial load) go on those buses (:func:`_loads`), and
:func:`_services` builds the overlay on the finished grid. The draws from the city's
random generator happen in a fixed order: the same seed gives the same city.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from warmgrid.examples._city_geography import _CENTRE, _bank, _dist, _off_river, river_x
from warmgrid.examples._city_grid import _CHP, _Net
from warmgrid.model.grid import Grid
from warmgrid.model.services import Services
from warmgrid.services.thermal import ARCHETYPES

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
    rows: list[dict[str, Any]] = []
    xy: list[np.ndarray] = []
    bus: list[str] = []
    quota: list[float] = []
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
    for a in np.flatnonzero(ar.dh):
        if not srcs[a]:
            srcs[a].append(int(hd[a].argmin()))
        if second[a]:
            srcs[a].append(int(next(s for s in np.argsort(hd[a]) if s != srcs[a][0])))
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


@dataclass(frozen=True)
class _Hospitals:
    """The hospitals: ``facility:hospital-<nn>`` ids, positions (n, 2) km, loads (n,) MW."""

    ids: list[str]
    xy: np.ndarray
    mw: np.ndarray


def _hospitals(rng: np.random.Generator, ar: _Areas) -> _Hospitals:
    """30 hospitals near the areas, drawn in proportion to their people, 0.5–3 MW each."""
    n_h = 30
    h_at = rng.choice(len(ar.pop), n_h, replace=False, p=ar.pop / ar.pop.sum())
    h_xy = _off_river(ar.xy[h_at] + rng.normal(0.0, 0.5, (n_h, 2)), ar.bank[h_at], gap=0.3)
    h_mw = np.round(rng.uniform(0.5, 3.0, n_h), 2)
    fac_ids = [f"facility:hospital-{k:02d}" for k in range(1, n_h + 1)]
    return _Hospitals(fac_ids, h_xy, h_mw)


def _loads(
    rng: np.random.Generator,
    load_buses: list[str],
    lb_xy: np.ndarray,
    ar: _Areas,
    heat_rows: list[dict[str, Any]],
    water_rows: list[dict[str, Any]],
    hosp: _Hospitals,
) -> pd.DataFrame:
    """The load table: areas, heat and water pumps, hospitals, then commercial and
    industrial load making up a winter peak of 1.58–1.66 GW; power factor 0.95.

    Takes ``_bus`` and ``_mw`` out of each heat row and gives each water row its ``load``.

    Parameters
    ----------
    rng : the city's generator (two draws: the peak and the C&I weights).
    load_buses : ids of the load buses; lb_xy : (n, 2) their positions, km.
    ar : the heat areas.
    heat_rows, water_rows : the heat sources and water stations.
    hosp : the hospitals.
    """

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
        for i, xy, mw in zip(hosp.ids, hosp.xy, hosp.mw, strict=True)
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
    return load


def _services(
    grid: Grid,
    subs: dict[str, list[str]],
    ar: _Areas,
    heat_rows: list[dict[str, Any]],
    srcs: list[list[int]],
    water_rows: list[dict[str, Any]],
    hosp: _Hospitals,
) -> Services:
    """The services overlay on the finished grid.

    Parameters
    ----------
    grid : the city's grid.
    subs : substation id → its bus ids (:func:`_substations`).
    ar : the heat areas; srcs : each area's heat sources (indices into ``heat_rows``).
    heat_rows, water_rows : the heat sources and water stations (after :func:`_loads`).
    hosp : the hospitals.
    """
    return Services.build(
        grid,
        source=grid.source,
        substations=subs,
        areas=_area_table(ar, heat_rows, srcs),
        heat=pd.DataFrame(heat_rows),
        water=_water_table(ar, water_rows),
        facilities=_facility_table(ar, hosp),
    )


def _area_table(ar: _Areas, heat_rows: list[dict[str, Any]], srcs: list[list[int]]) -> pd.DataFrame:
    """The ``areas`` table."""
    heat_ids = [r["id"] for r in heat_rows]
    return pd.DataFrame(
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


def _water_table(ar: _Areas, water_rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The ``water`` table."""
    return pd.DataFrame(
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


def _facility_table(ar: _Areas, hosp: _Hospitals) -> pd.DataFrame:
    """The ``facilities`` table; each hospital serves the areas it is nearest to."""
    n_h = len(hosp.ids)
    catch = _dist(ar.xy, hosp.xy).argmin(axis=1)  # each area's nearest hospital
    return pd.DataFrame(
        {
            "id": hosp.ids,
            "name": [f"City hospital {k}" for k in range(1, n_h + 1)],
            "kind": "hospital",
            "load": [f"load:{i.replace(':', '-')}" for i in hosp.ids],
            "backup_h": 120.0,
            "people_served": [float(ar.pop[catch == k].sum()) for k in range(n_h)],
            "x": np.round(hosp.xy[:, 0], 3),
            "y": np.round(hosp.xy[:, 1], 3),
        }
    )


def _substations(net: _Net, ring: list[str], dist_subs: list[str]) -> dict[str, list[str]]:
    """``substation:<name>`` → its buses: the ring substations, the CHP plants, and the
    distribution substations."""
    subs = {f"substation:{n}": [f"bus:{n}-330", f"bus:{n}-110"] for n in ring}
    for name, *_ in _CHP:
        subs[f"substation:{name}"] = [
            b for b in (f"bus:{name}-330", f"bus:{name}-110") if b in net.pos
        ]
    subs |= {f"substation:{n}": [f"bus:{n}-110"] for n in dist_subs}
    return subs
