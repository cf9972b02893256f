"""From the power served per load to heat, water and facilities, hour by hour.

Pure functions over arrays. Each service element names the grid load that powers it
(:mod:`warmgrid.model.services`), so its electric supply is that load's served fraction.

Rules (with their sources; REFERENCES.md):

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
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _served(load_frac: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Served fraction of each element's load; 1 where it has none (idx −1)."""
    return np.where(idx >= 0, load_frac[np.maximum(idx, 0)], 1.0)


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
    n_steps = load_frac.shape[0]
    n_heat = len(links.heat_load)
    n_area = len(links.area_load)
    len(links.water_load)
    n_fac = len(links.facility_load)
    light = np.empty((n_steps, n_area))
    heat = np.empty((n_steps, n_area))
    water = np.empty((n_steps, n_area))
    src = np.empty((n_steps, n_heat))
    fac_ok = np.empty((n_steps, n_fac))
    fac_backup = np.zeros((n_steps, n_fac), dtype=bool)
    drained_out = np.zeros((n_steps, n_area), dtype=bool)

    heat_backup_left = links.heat_backup_h.astype(float).copy()
    fac_backup_left = links.facility_backup_h.astype(float).copy()
    reservoir = links.water_reservoir_h.astype(float).copy()
    no_circ_h = np.zeros(n_area)
    drained = np.zeros(n_area, dtype=bool)
    refill_left = np.full(n_area, np.nan)
    n_src = links.area_sources.sum(axis=1)
    has_dh = n_src > 0
    n_st = links.water_areas.sum(axis=0)

    for k in range(n_steps):
        lf = load_frac[k]
        # heat sources: pumps on grid power, else on backup while fuel lasts
        pumps = _served(lf, links.heat_load)
        short = pumps < 1.0 - 1e-9
        on_backup = short & (heat_backup_left > 0)
        heat_backup_left = np.where(
            short, heat_backup_left - dt_h * (1.0 - pumps), heat_backup_left
        )
        pumps_eff = np.where(on_backup, 1.0, pumps)
        unit_runs = np.array(
            [bool(gen_online[k, g].any()) if len(g) else False for g in links.heat_gens]
        )
        avail = np.where(
            links.heat_is_chp,
            np.where(unit_runs, 1.0, pumps_eff * links.heat_peak_share),
            pumps_eff,
        )
        src[k] = avail

        # areas
        lt = _served(lf, links.area_load)
        light[k] = lt
        dh = np.divide(links.area_sources @ avail, n_src, out=np.zeros(n_area), where=has_dh)
        dh = np.where(links.area_local_power, dh * lt, dh)
        if dh_floor is not None:
            dh = np.maximum(dh, dh_floor[k])
        stopped = has_dh & (dh < o.circulation_min)
        frost = t_out_c[k] <= o.drain_below_c
        no_circ_h = np.where(stopped & frost, no_circ_h + dt_h, np.where(stopped, no_circ_h, 0.0))
        newly = ~drained & (no_circ_h >= o.drain_after_h)
        drained |= newly
        refill_left = np.where(newly, np.nan, refill_left)
        # drained areas: the refill clock runs while the source is back; heat returns
        # after refill_h hours of refilling
        back = drained & ~stopped
        refill_left = np.where(back & np.isnan(refill_left), o.refill_h, refill_left)
        done = back & (refill_left <= 1e-9)
        drained &= ~done
        refill_left = np.where(done, np.nan, refill_left)
        no_circ_h = np.where(done, 0.0, no_circ_h)
        refill_left = np.where(back & drained, refill_left - dt_h, refill_left)
        dh = np.where(drained, 0.0, dh)
        drained_out[k] = drained
        heat[k] = (1.0 - links.area_ish) * dh + links.area_ish * lt

        # water: tanks carry the areas while they last
        pw = _served(lf, links.water_load)
        deficit = 1.0 - pw
        from_tank = np.where(reservoir > 0, np.minimum(deficit, reservoir / dt_h), 0.0)
        reservoir = np.where(
            deficit > 1e-9,
            reservoir - from_tank * dt_h,
            np.minimum(links.water_reservoir_h, reservoir + o.reservoir_refill_rate * dt_h),
        )
        station = pw + from_tank
        water[k] = np.divide(station @ links.water_areas, n_st, out=np.ones(n_area), where=n_st > 0)

        # facilities
        fp = _served(lf, links.facility_load)
        fshort = fp < 0.5
        fac_backup[k] = fshort & (fac_backup_left > 0)
        fac_backup_left = np.where(fshort, fac_backup_left - dt_h, fac_backup_left)
        fac_ok[k] = np.where(fshort, fac_backup[k], True)

    return ServiceSeries(
        light=light,
        heat=heat,
        water=water,
        heat_source=src,
        facility_ok=fac_ok,
        facility_on_backup=fac_backup,
        drained=drained_out,
    )
