"""REFERENCE ORACLE, not used by warmgrid: the hour-by-hour ``propagate`` as it was before
it was vectorised (commit 84b4a5d, src/warmgrid/services/propagate.py), copied verbatim
apart from its name. The property tests compare the fast implementation against it; do
not optimise or "fix" it here: change the rules in both places, on purpose.
"""

from __future__ import annotations

import numpy as np

from warmgrid.services.propagate import FreezeOptions, ServiceLinks, ServiceSeries


def _served(load_frac: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Served fraction of each element's load; 1 where it has none (idx −1)."""
    return np.where(idx >= 0, load_frac[np.maximum(idx, 0)], 1.0)


def reference_propagate(
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
