"""What a map of one replay needs, hour by hour: the data behind the HTML pages' map.

:func:`map_layers` adds to the ``map`` object of the impact and restore JSON (the
:func:`warmgrid.study.impact_json.map_json`) the districts with their names and building types,
their indoor temperature at every hour and their services over the hours, the power
state (dark buses, branches out, damaged elements not yet repaired) wherever it changes,
and the heat sources, water stations and hospitals with their state over the hours.
:func:`damage_detail` and :func:`weather_json` give the page's header its damaged
elements by name and kind and the outdoor minimum and maximum.

Compact by design (a district's temperature changes only while its homes cool or warm
back): every series is a list of ``[hour, value]`` changes, starting at hour 0; a value
holds until the next change. Temperatures are rounded to 0.1 °C and given at the step
boundaries (hours 0 to ``n_hours``, the end included); services and states per step
(hours 0 to ``n_hours − 1``). Service shares are whole percent of the
district's people; like the people counts of the result, they count only what the damage
takes away when the result is relative (harm over the pre-damage state). Temperatures and
the states of buses, branches, heat sources, water stations and hospitals are states,
never relative.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from warmgrid.errors import InputError
from warmgrid.timeline import Simulator, Timeline

__all__ = ["damage_detail", "map_layers", "units_json", "weather_json"]


def damage_detail(sim: Simulator, damage: Sequence[str]) -> list[dict[str, str]]:
    """Each damaged element's id, readable name and kind (:mod:`warmgrid.power.elements`)."""
    from warmgrid.power.elements import element_kind, labels

    names = labels(sim.net, sim.grid, damage)
    return [
        {"id": e, "name": names[e], "kind": element_kind(sim.net, e)} for e in dict.fromkeys(damage)
    ]


def weather_json(t_out_c: np.ndarray) -> dict[str, float | None]:
    """The outdoor temperature's minimum and maximum over the horizon, °C."""
    t = np.asarray(t_out_c, dtype=float)
    if not len(t):
        return {"outdoor_min_c": None, "outdoor_max_c": None}
    return {"outdoor_min_c": float(t.min()), "outdoor_max_c": float(t.max())}


def _changes(col: np.ndarray, hours: np.ndarray) -> list[list[Any]]:
    """``[[hour, value], ...]`` where ``col`` (one value per step) changes, from hour 0."""
    if not len(col):
        return []
    keep = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    vals = col[keep].tolist()
    return [[_num(hours[k]), v] for k, v in zip(keep.tolist(), vals, strict=True)]


def _num(h: float) -> float | int:
    return int(h) if float(h).is_integer() else round(float(h), 3)


def _pct(frac: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(frac, 0.0, 1.0) * 100.0).astype(int)


def _xy(v: Any) -> float | None:
    v = float(v)
    return round(v, 3) if np.isfinite(v) else None


def _element_xy(sim: Simulator, element: str) -> tuple[float, float] | None:
    """Where to draw a damaged element: its bus, its branch's midpoint or its
    substation's centre; None without coordinates."""
    net = sim.net
    xy = net.bus_xy
    if xy is None:
        return None
    if element in net.groups:
        idx = np.asarray(net.groups[element], dtype=np.int64)
    else:
        table, i = net.index_of(element)
        if table == "bus":
            idx = np.array([i])
        elif table == "branch":
            idx = np.array([net.f[i], net.t[i]])
        elif table == "gen":
            idx = np.array([net.gen_bus[i]])
        elif table == "load":
            idx = np.array([net.load_bus[i]])
        elif table == "shunt":
            idx = np.array([net.shunt_bus[i]])
        else:  # pragma: no cover - every table above
            return None
    pts = xy[idx]
    pts = pts[np.isfinite(pts).all(axis=1)]
    if not len(pts):
        return None
    x, y = pts.mean(axis=0)
    return float(x), float(y)


def _power_states(
    sim: Simulator, tl: Timeline, damage: Sequence[str], repairs: Mapping[str, float]
) -> list[dict[str, Any]]:
    """The power state at each hour it changes: buses without supply, branches out and
    the damaged elements not yet repaired (a repair counts from the step it ends at, as
    in :meth:`Simulator.run`)."""
    from warmgrid.power.damage import apply_damage

    net = sim.net
    out: list[dict[str, Any]] = []
    last: tuple[Any, ...] | None = None
    for k, po in enumerate(tl.power):
        t = k * tl.dt_h
        left = [e for e in dict.fromkeys(damage) if not repairs.get(e, np.inf) <= t + 1e-9]
        dark = np.asarray(po.detail.dark_bus, dtype=bool) if po.detail is not None else None
        key = (tuple(left), None if dark is None else dark.tobytes())
        if key == last:
            continue
        last = key
        on = apply_damage(net, left).effective(net).branch_on
        out.append(
            {
                "hour": _num(t),
                "dark": [] if dark is None else [str(b) for b in net.bus_ids[dark]],
                "out": [str(b) for b in net.branch_ids[~on]],
                "damaged": left,
            }
        )
    return out


def _service_states(sim: Simulator, tl: Timeline) -> dict[str, np.ndarray]:
    """Heat source availability, water station supply and hospital state per step
    (absolute: recomputed from the replay's own power results)."""
    from warmgrid.services.propagate import _tank_supply, propagate

    lk = sim.links
    lf = np.stack([np.asarray(po.load_frac, dtype=float) for po in tl.power])
    go = np.stack([np.asarray(po.gen_online, dtype=bool) for po in tl.power])
    svc = propagate(lk, lf, go, tl.t_out_c, options=sim.freeze, dt_h=tl.dt_h)
    idx = np.asarray(lk.water_load, dtype=np.int64)
    pumps = np.where(idx >= 0, lf[:, np.maximum(idx, 0)], 1.0) if len(idx) else lf[:, :0]
    supply = _tank_supply(pumps, lk.water_reservoir_h, tl.dt_h, sim.freeze.reservoir_refill_rate)
    water = np.where(pumps >= 0.999, "pumps", np.where(supply > 1e-3, "tanks", "dry"))
    fac = np.where(
        svc.facility_on_backup.astype(bool),
        "backup",
        np.where(svc.facility_ok.astype(bool), "mains", "down"),
    )
    return {"heat": _pct(svc.heat_source), "water": water, "facility": fac}


def _area_layers(sim: Simulator, tl: Timeline, hours: np.ndarray) -> list[dict[str, Any]]:
    """The districts with coordinates: name, building type, people, indoor temperature
    (at the step boundaries) and the shares with light, heat and water, drained."""
    a = sim.services.areas
    bounds = np.arange(len(hours) + 1) * tl.dt_h  # temperatures are at step boundaries
    ok = np.isfinite(a["x"].to_numpy(dtype=float)) & np.isfinite(a["y"].to_numpy(dtype=float))
    idx = np.flatnonzero(ok)
    areas = []
    for i in idx.tolist():
        r = a.iloc[i]
        areas.append(
            {
                "id": r["id"],
                "x": float(r["x"]),
                "y": float(r["y"]),
                "population": round(float(r["population"])),
                "min_temp_c": float(tl.temp_c[:, i].min()),
                "temp_c": _changes(np.round(tl.temp_c[:, i], 1), bounds),
                "name": str(r["name"] or r["id"]),
                "archetype": str(r["archetype"]),
                "district": str(r["district"] or ""),
                "light_pct": _changes(_pct(tl.light[:, i]), hours),
                "heat_pct": _changes(_pct(tl.heat[:, i]), hours),
                "water_pct": _changes(_pct(tl.water[:, i]), hours),
                "drained": _changes(tl.drained[:, i].astype(int), hours),
            }
        )
    return areas


def _damage_layer(
    sim: Simulator, damage: Sequence[str], repairs: Mapping[str, float]
) -> list[dict[str, Any]]:
    """The damaged elements that have a place on the map, with the hour each is back."""
    from warmgrid.power.elements import element_kind, labels

    names = labels(sim.net, sim.grid, damage)
    dmg = []
    for e in dict.fromkeys(damage):
        p = _element_xy(sim, e)
        if p is not None:
            dmg.append(
                {
                    "id": e,
                    "name": names[e],
                    "kind": element_kind(sim.net, e),
                    "x": _xy(p[0]),
                    "y": _xy(p[1]),
                    "back_h": repairs.get(e),
                }
            )
    return dmg


def _service_layers(
    sim: Simulator, tl: Timeline, hours: np.ndarray
) -> dict[str, list[dict[str, Any]]]:
    """The heat sources, water stations and hospitals with coordinates, each with its
    state over the hours."""
    st = _service_states(sim, tl)
    s = sim.services

    def placed(df: Any) -> Iterator[tuple[int, Any]]:
        return (
            (j, r)
            for j, r in enumerate(df.itertuples(index=False))
            if np.isfinite(float(r.x)) and np.isfinite(float(r.y))
        )

    heat_sources = [
        {
            "id": r.id,
            "name": r.name or r.id,
            "kind": r.kind,
            "x": _xy(r.x),
            "y": _xy(r.y),
            "heat_mw": float(r.heat_mw),
            "available_pct": _changes(st["heat"][:, j], hours),
        }
        for j, r in placed(s.heat)
    ]
    water_stations = [
        {
            "id": r.id,
            "name": r.name or r.id,
            "x": _xy(r.x),
            "y": _xy(r.y),
            "reservoir_h": float(r.reservoir_h),
            "state": _changes(st["water"][:, j], hours),
        }
        for j, r in placed(s.water)
    ]
    facilities = [
        {
            "id": r.id,
            "name": r.name or r.id,
            "kind": r.kind,
            "x": _xy(r.x),
            "y": _xy(r.y),
            "backup_h": float(r.backup_h),
            "state": _changes(st["facility"][:, j], hours),
        }
        for j, r in placed(s.facilities)
    ]
    return {
        "heat_sources": heat_sources,
        "water_stations": water_stations,
        "facilities": facilities,
    }


def map_layers(
    sim: Simulator,
    tl: Timeline,
    damage: Sequence[str],
    *,
    repairs: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The hourly keys of the ``map`` object (module docstring).

    Parameters
    ----------
    sim : the scenario's simulator.
    tl : the replay (relative or absolute) the map shows.
    damage : the damaged elements.
    repairs : element -> hour it is back in service (a restoration plan); none: no repair.
    """
    repairs = dict(repairs or {})
    hours = np.asarray(tl.hours, dtype=float)
    areas = _area_layers(sim, tl, hours)
    out: dict[str, Any] = {
        "n_hours": len(hours),
        "dt_h": float(tl.dt_h),
        "t_out_c": np.round(np.asarray(tl.t_out_c[: len(hours)], dtype=float), 1).tolist(),
        "areas": areas,
    }
    if not tl.power:
        return out
    out["power"] = _power_states(sim, tl, damage, repairs)
    out["damage"] = _damage_layer(sim, damage, repairs)
    out.update(_service_layers(sim, tl, hours))
    return out


def _site_xy(sim: Simulator, site: str) -> tuple[float, float] | None:
    """Coordinates of an emergency unit's site: a district, a heat source, a water
    station, a hospital (their own x, y) or a grid load (its bus)."""
    s = sim.services
    for df in (s.areas, s.heat, s.water, s.facilities):
        hit = df.index[df["id"] == site]
        if len(hit):
            r = df.loc[hit[0]]
            x, y = float(r["x"]), float(r["y"])
            return (x, y) if np.isfinite(x) and np.isfinite(y) else None
    try:
        return _element_xy(sim, site)
    except InputError:  # an id the network does not know: no place on the map
        return None


def units_json(sim: Simulator, emergency: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The mobile generators and warming shelters of a siting (``restore --json``'s
    ``emergency``) with the coordinates and name of their sites."""
    s = sim.services
    names: dict[str, str] = {}
    for df in (s.areas, s.heat, s.water, s.facilities):
        names.update({str(i): str(n or i) for i, n in zip(df["id"], df["name"], strict=True)})
    out = []
    for kind, key, size in (("generator", "generators", "mw"), ("shelter", "shelters", "persons")):
        for u in emergency.get(key, []):
            p = _site_xy(sim, u["site"])
            out.append(
                {
                    "kind": kind,
                    "site": u["site"],
                    "name": names.get(u["site"], u["site"]),
                    "x": None if p is None else _xy(p[0]),
                    "y": None if p is None else _xy(p[1]),
                    "hour": u["hour"],
                    size: u[size],
                }
            )
    return out
