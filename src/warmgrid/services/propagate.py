"""From the power served per load to heat, water and facilities, hour by hour.

Pure functions over arrays. Each service element names the grid load that powers it
(:mod:`warmgrid.model.services`), so its electric supply is that load's served fraction.

Rules (with their sources; docs/sources.md, "District heating and its power supply",
"Freeze protection" and "City ballpark figures"):

* **Boiler house**: runs while its pumps and controls have power, from the grid or from
  backup power for ``backup_h`` hours (two-thirds of Kyiv's boiler houses have backup
  sources, city administration via smarter.kyiv.ua).
* **CHP plant**: gives full heat while one of its units runs (the unit feeds its own
  auxiliaries); with every unit down, its peak boilers give ``peak_boiler_share`` of the
  heat while the pumps have power (grid or backup).
* **Area heat**: the mean availability of its heat sources, times the area's own power
  where building circulation pumps need it (``needs_local_power``); the share of people
  with individual heating get heat exactly when they get power.
* **Freeze protection**: when district-heating circulation has stopped for
  ``drain_after_h`` hours at an outdoor temperature at or below ``drain_below_c``, the
  buildings are drained; heat returns only ``refill_h`` hours after the source is back.
  Kyiv drains even for outages of hours to a day and refilling takes a day or more
  (Interfax-Ukraine 1135085, inkorr.com; Kharkiv: 820 buildings drained at −20 °C,
  ukrinform.net). At −20 °C water in stopped pipes reaches 0 °C in about 6–8 h, hence
  the default of 6 h.
* **Water station**: pumps with power fill the areas; without, the clean-water tanks carry
  the areas for ``reservoir_h`` hours (tanks hold ~15 h of average supply) and refill at
  ``refill_rate`` hours of storage per hour once power is back. An area's water is the mean
  over its stations.
* **Critical facility**: on mains while its load is served, then on its generator for
  ``backup_h`` hours (Ukrainian in-patient hospitals: 5 days of fuel, state emergency
  commission).

Implementation: everything that is a function of the same hour's inputs is computed for
all hours at once with numpy. The buffers that carry state from hour to hour are worked
out from their change points, never hour by hour over all elements: backup fuel and the
facilities' generators as running sums (``np.cumsum`` adds in hour order, as the rules
do), the water tanks as running sums over each stretch of constant deficit, and freeze
protection from the runs of stopped circulation. The arithmetic and its order are those
of the hour-by-hour rules, so the results are bit-identical to them
(``tests/services/reference_propagate.py`` keeps that loop as the test oracle). numba
was measured and left out: its import and first call cost ~0.8 s per process, for a few
tenths of a millisecond per replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

__all__ = ["FreezeOptions", "ServiceLinks", "ServiceSeries", "propagate"]


@dataclass(frozen=True)
class FreezeOptions:
    """Freeze-protection and buffer options.

    Attributes
    ----------
    drain_after_h : hours without circulation, in frost, before buildings are drained.
    drain_below_c : outdoor temperature at or below which draining happens, °C.
    refill_h : hours from the source's return to heat in drained buildings.
    circulation_min : heat fraction below which circulation counts as stopped.
    reservoir_refill_rate : hours of storage regained per hour with pumps running.
    """

    drain_after_h: float = 6.0
    drain_below_c: float = -10.0
    refill_h: float = 24.0
    circulation_min: float = 0.1
    reservoir_refill_rate: float = 0.5


@dataclass(frozen=True)
class ServiceLinks:
    """Integer links from service elements to loads, generators and each other.

    Index arrays refer to the compiled network's loads (−1: no load) and generators.
    ``area_sources`` is a (n_areas, n_heat) 0/1 matrix, ``water_areas`` (n_water, n_areas).
    Treat the arrays as read-only: :func:`propagate` derives index plans from them once
    and keeps them on the instance.
    """

    heat_load: np.ndarray
    heat_is_chp: np.ndarray
    heat_gens: list[np.ndarray]
    heat_peak_share: np.ndarray
    heat_backup_h: np.ndarray
    area_load: np.ndarray
    area_sources: np.ndarray
    area_ish: np.ndarray
    area_local_power: np.ndarray
    water_load: np.ndarray
    water_areas: np.ndarray
    water_reservoir_h: np.ndarray
    facility_load: np.ndarray
    facility_backup_h: np.ndarray

    @cached_property
    def _plan(self) -> _Plan:
        return _Plan(self)


@dataclass(frozen=True)
class ServiceSeries:
    """Hourly service fractions, each (n_steps, n_elements) in [0, 1]."""

    light: np.ndarray
    heat: np.ndarray
    water: np.ndarray
    heat_source: np.ndarray
    facility_ok: np.ndarray
    facility_on_backup: np.ndarray
    drained: np.ndarray


class _Loads:
    """Gather of each element's load column; elements without a load (−1) are served 1."""

    def __init__(self, idx: np.ndarray) -> None:
        idx = np.asarray(idx, dtype=np.int64)
        self.has = idx >= 0
        self.all = bool(self.has.all())
        self.idx = np.maximum(idx, 0)

    def served(self, load_frac: np.ndarray) -> np.ndarray:
        """(n_steps, n_elements) served fraction of each element's load, C-ordered (the
        layout decides the order of summation of later matrix products)."""
        got = np.take(load_frac, self.idx, axis=1)
        return got if self.all else np.where(self.has, got, 1.0)


def _sum_exact(m: np.ndarray) -> bool:
    """True if ``m`` is 0/1 with at most two ones in each column: then every sum it makes
    has at most two non-zero terms and rounds the same in any order (a + b = b + a)."""
    return bool(np.isin(m, (0.0, 1.0)).all() and (m != 0).sum(axis=0).max(initial=0) <= 2)


class _Plan:
    """What :func:`propagate` derives from the links once per :class:`ServiceLinks`."""

    def __init__(self, lk: ServiceLinks) -> None:
        self.heat = _Loads(lk.heat_load)
        self.area = _Loads(lk.area_load)
        self.water = _Loads(lk.water_load)
        self.facility = _Loads(lk.facility_load)
        # CHP units: (heat source, unit) pairs, grouped by source for a reduceat
        sizes = np.array([len(g) for g in lk.heat_gens], dtype=np.int64)
        self.gen_flat = (
            np.concatenate([np.asarray(g, dtype=np.int64) for g in lk.heat_gens])
            if len(lk.heat_gens)
            else np.zeros(0, dtype=np.int64)
        )
        self.gen_owner = np.flatnonzero(sizes > 0)
        self.gen_start = (np.cumsum(sizes) - sizes)[self.gen_owner]
        self.heat_backup_h = lk.heat_backup_h.astype(float)
        self.facility_backup_h = lk.facility_backup_h.astype(float)
        self.reservoir_h = np.ascontiguousarray(lk.water_reservoir_h, dtype=float)
        self.n_src = lk.area_sources.sum(axis=1)
        self.has_dh = self.n_src > 0
        self.n_st = lk.water_areas.sum(axis=0)
        # per-hour matrix-vector products, done for all hours in one BLAS call when the
        # order of summation cannot matter, else one gemv per hour as the rules write it
        self.sources = np.asarray(lk.area_sources, dtype=float)
        self.sources_t = np.ascontiguousarray(self.sources.T)
        self.sources_fast = _sum_exact(self.sources_t)
        self.stations = np.asarray(lk.water_areas, dtype=float)
        self.stations_fast = _sum_exact(self.stations)

    def area_heat_sum(self, avail: np.ndarray) -> np.ndarray:
        """(n_steps, n_areas): ``area_sources @ avail[k]`` for every hour k."""
        if self.sources_fast:
            return avail @ self.sources_t
        return np.matmul(self.sources, avail[:, :, None])[:, :, 0]

    def area_water_sum(self, station: np.ndarray) -> np.ndarray:
        """(n_steps, n_areas): ``station[k] @ water_areas`` for every hour k."""
        if self.stations_fast:
            return station @ self.stations
        return np.matmul(station[:, None, :], self.stations)[:, 0, :]


def _before_each_step(start: np.ndarray, change: np.ndarray) -> np.ndarray:
    """(n_steps, n): the running value at the start of each step, from ``start`` and the
    per-step changes, added in step order (``np.cumsum`` is sequential, and ``x + (−d)``
    rounds exactly as ``x − d``)."""
    out = np.empty_like(change)
    if len(out):
        out[0] = start
        out[1:] = change[:-1]
        np.cumsum(out, axis=0, out=out)
    return out


@lru_cache(maxsize=64)
def _freeze_clocks(n: int, dt_h: float, refill_h: float) -> tuple[np.ndarray, int]:
    """``hours[m]``: m steps of ``dt_h`` added one at a time (the rules' no-circulation
    count), and ``need``: the steps with circulation after which a drained area has heat
    again (the refill clock starts at ``refill_h``, is checked, then counts down by
    ``dt_h``), ``n + 1`` if not within ``n`` steps."""
    hours = np.zeros(n + 1)
    np.cumsum(np.full(n, dt_h), out=hours[1:])
    clock = np.full(n + 1, -dt_h)
    clock[0] = refill_h
    refilled = np.flatnonzero(np.cumsum(clock) <= 1e-9)
    hours.flags.writeable = False
    return hours, int(refilled[0]) + 1 if len(refilled) else n + 1


def _drained(stopped: np.ndarray, frost: np.ndarray, dt_h: float, o: FreezeOptions) -> np.ndarray:
    """(n_steps, n_areas) bool: drained after each step, from the circulation's change points.

    The hours without circulation after a step depend only on the run of stopped steps it
    belongs to (the rules add ``dt_h`` per stopped step in frost, keep the count through
    milder stopped steps and reset it when circulation returns; the refill's own reset
    falls on such a step), so they are ``hours[m]`` for the run's count m of frost steps.
    An area drains at the first step the count reaches ``drain_after_h``; its heat returns
    at the ``need``-th step with circulation from there on (:func:`_freeze_clocks`), and it
    may drain again after that.
    """
    n, n_area = stopped.shape
    out = np.zeros((n, n_area), dtype=bool)
    cold = stopped & frost[:, None]
    # with drain_after_h > 0 only areas stopped in frost at some step can drain
    cols = np.flatnonzero(cold.any(axis=0)) if o.drain_after_h > 0 else np.arange(n_area)
    if n == 0 or not len(cols):
        return out
    hours, need = _freeze_clocks(n, float(dt_h), float(o.refill_h))
    stopped, cold = stopped[:, cols], np.cumsum(cold[:, cols], axis=0)
    run = cold - np.maximum.accumulate(np.where(stopped, 0, cold), axis=0)
    can_drain = hours[run] >= o.drain_after_h
    back = np.cumsum(~stopped, axis=0)  # steps with circulation so far
    for j, a in enumerate(cols.tolist()):
        ks, b = np.flatnonzero(can_drain[:, j]), back[:, j]
        k = 0
        while (i := int(np.searchsorted(ks, k))) < len(ks):  # drains at step k0
            k0 = int(ks[i])
            k = int(np.searchsorted(b, (b[k0 - 1] if k0 else 0) + need))  # heat is back
            out[k0:k, a] = True
            k += 1
    return out


def _tank_levels(
    deficit: np.ndarray, cap: np.ndarray, dt_h: float, refill_rate: float
) -> np.ndarray:
    """(n_steps, n_stations) tank level at the start of each step.

    Over each stretch of steps with constant deficits the level is a running sum
    (``np.cumsum`` adds in step order, as the rules do): −deficit·dt_h per step while the
    tank holds more than that, +refill_rate·dt_h capped at the tank's size while the pumps
    run (a capped level stays capped). The tank's last partial hour, and any rounding
    residue after it, go step by step.
    """
    n, n_st = deficit.shape
    out = np.empty((n, n_st))
    if n == 0:
        return out
    cuts = (np.flatnonzero((deficit[1:] != deficit[:-1]).any(axis=1)) + 1).tolist()
    level = cap.astype(float)
    for s, e in zip([0, *cuts], [*cuts, n], strict=True):
        d = deficit[s]
        draw = d > 1e-9
        lv = np.empty((e - s + 1, n_st))
        lv[0] = level
        lv[1:] = np.where(draw, -(d * dt_h), refill_rate * dt_h)
        np.cumsum(lv, axis=0, out=lv)
        lv[1:] = np.where(draw, lv[1:], np.minimum(cap, lv[1:]))
        out[s:e] = lv[:-1]
        level = lv[-1].copy()
        # drawing stations whose tank cannot give the full deficit at some step
        full = (lv[:-1] > 0) & (lv[:-1] / dt_h >= d)
        for j in np.flatnonzero(draw & ~full.all(axis=0)).tolist():
            m = int(full[:, j].argmin())
            r, dj, i = float(lv[m, j]), float(d[j]), s + m
            while i < e and r > 0:
                out[i, j] = r
                r = r - min(dj, r / dt_h) * dt_h
                i += 1
            out[i:e, j] = r  # empty: nothing drawn, level unchanged
            level[j] = r
    return out


def _tank_supply(
    pumps: np.ndarray, reservoir_h: np.ndarray, dt_h: float, refill_rate: float
) -> np.ndarray:
    """(n_steps, n_stations) each station's supply: its pumps plus what its tanks give."""
    deficit = 1.0 - pumps
    level = np.empty_like(pumps)
    level[:] = reservoir_h  # tanks that are never drawn stay full
    if refill_rate * dt_h >= 0:
        cols = np.flatnonzero((deficit > 1e-9).any(axis=0))
    else:  # a draining "refill" (or NaN) changes every tank
        cols = np.arange(pumps.shape[1])
    if len(cols):
        level[:, cols] = _tank_levels(deficit[:, cols], reservoir_h[cols], dt_h, refill_rate)
    from_tank = np.where(level > 0, np.minimum(deficit, level / dt_h), 0.0)
    return pumps + from_tank


def propagate(
    links: ServiceLinks,
    load_frac: np.ndarray,
    gen_online: np.ndarray,
    t_out_c: np.ndarray,
    *,
    options: FreezeOptions | None = None,
    dt_h: float = 1.0,
    dh_floor: np.ndarray | None = None,
) -> ServiceSeries:
    """Turn hourly power results into hourly service fractions, carrying the buffers.

    Parameters
    ----------
    links : the overlay compiled to indices.
    load_frac : (n_steps, n_load) served fraction of each grid load per step.
    gen_online : (n_steps, n_gen) bool, unit in service on an energised island.
    t_out_c : (n_steps,) outdoor temperature, °C.
    options : freeze and buffer options.
    dt_h : step length, hours.
    dh_floor : (n_steps, n_areas) optional lower bound on each area's district-heat
        fraction from mobile boiler houses (they bring their own generator, keep the
        circulation going and so prevent draining; an area drained before still waits for
        its refill).
    """
    o = options or FreezeOptions()
    p = links._plan
    dt_h = float(dt_h)
    lf = np.asarray(load_frac, dtype=float)
    avail = _heat_availability(links, lf, gen_online, dt_h)
    light = p.area.served(lf)
    heat, drained = _area_heat(links, avail, light, t_out_c, o, dt_h, dh_floor)
    water = _area_water(p, lf, o, dt_h, light.shape)
    fac_ok, fac_backup = _facilities(p, lf, dt_h)
    c = np.ascontiguousarray  # the original's layout: one row per step
    return ServiceSeries(
        light=c(light),
        heat=c(heat),
        water=c(water),
        heat_source=c(avail),
        facility_ok=c(fac_ok),
        facility_on_backup=c(fac_backup),
        drained=drained,
    )


def _heat_availability(
    links: ServiceLinks, lf: np.ndarray, gen_online: np.ndarray, dt_h: float
) -> np.ndarray:
    """(n_steps, n_heat) heat each source gives: boiler houses while their pumps have
    power (grid, else backup while its fuel lasts); CHP plants in full while a unit runs,
    else their peak boilers' share while the pumps have power."""
    p = links._plan
    pumps = p.heat.served(lf)
    short = pumps < 1.0 - 1e-9
    pumps_eff = pumps
    if short.any():
        fuel = _before_each_step(p.heat_backup_h, np.where(short, -(dt_h * (1.0 - pumps)), 0.0))
        pumps_eff = np.where(short & (fuel > 0), 1.0, pumps)
    unit_runs = np.zeros(pumps.shape, dtype=bool)
    if len(p.gen_owner):
        on = np.asarray(gen_online)[:, p.gen_flat].astype(bool)
        unit_runs[:, p.gen_owner] = np.logical_or.reduceat(on, p.gen_start, axis=1)
    return np.where(
        links.heat_is_chp,
        np.where(unit_runs, 1.0, pumps_eff * links.heat_peak_share),
        pumps_eff,
    )


def _area_heat(
    links: ServiceLinks,
    avail: np.ndarray,
    light: np.ndarray,
    t_out_c: np.ndarray,
    o: FreezeOptions,
    dt_h: float,
    dh_floor: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(n_steps, n_areas) heat fraction of each area and whether it is drained: the mean
    availability of its sources (times its light where building pumps need power, at
    least ``dh_floor``), none while drained, blended with individual heating (on with
    light)."""
    p = links._plan
    n_steps, n_area = light.shape
    dh = np.divide(p.area_heat_sum(avail), p.n_src, out=np.zeros((n_steps, n_area)), where=p.has_dh)
    dh = np.where(links.area_local_power, dh * light, dh)
    if dh_floor is not None:
        dh = np.maximum(dh, dh_floor)
    stopped = p.has_dh & (dh < o.circulation_min)
    frost = np.asarray(t_out_c, dtype=float) <= o.drain_below_c
    if frost.shape[0] < n_steps:
        raise ValueError(f"t_out_c: expected {n_steps} steps, got {frost.shape[0]}")
    frost = frost[:n_steps]
    drained = _drained(stopped, frost, dt_h, o)
    if drained.any():
        dh = np.where(drained, 0.0, dh)
    return (1.0 - links.area_ish) * dh + links.area_ish * light, drained


def _area_water(
    p: _Plan, lf: np.ndarray, o: FreezeOptions, dt_h: float, shape: tuple[int, ...]
) -> np.ndarray:
    """``shape`` (n_steps, n_areas) water fraction of each area: the mean supply of its
    stations (pumps, else tanks while they last); 1 for an area without a station."""
    station = _tank_supply(p.water.served(lf), p.reservoir_h, dt_h, o.reservoir_refill_rate)
    return np.divide(p.area_water_sum(station), p.n_st, out=np.ones(shape), where=p.n_st > 0)


def _facilities(p: _Plan, lf: np.ndarray, dt_h: float) -> tuple[np.ndarray, np.ndarray]:
    """(n_steps, n_facilities) each facility has power (float 0/1) and is on its backup
    generator (bool): on mains, else on its generator while fuel lasts."""
    fshort = p.facility.served(lf) < 0.5
    fac_backup = np.zeros(fshort.shape, dtype=bool)
    fac_ok = np.ones(fshort.shape)
    if fshort.any():
        fuel_h = _before_each_step(p.facility_backup_h, np.where(fshort, -dt_h, 0.0))
        fac_backup = fshort & (fuel_h > 0)
        fac_ok = np.where(fshort, fac_backup, True).astype(float)
    return fac_ok, fac_backup
