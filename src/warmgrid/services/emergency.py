"""What emergency resources do to the services: mobile generators, warming shelters and
mobile boiler houses, as events of a replay (:class:`~warmgrid.model.events.Event`).

The timeline applies them (:meth:`warmgrid.timeline.Simulator.run`); choosing where they
go is :mod:`warmgrid.restore.emergency`'s job.

* ``Event(h, site, kind="mobile_gen", value=MW)``: a mobile generator runs in island mode
  at ``site`` (a grid load id, or a service id ``heat:``, ``water:``, ``facility:``,
  ``area:`` mapped to the load that powers it) from hour ``h`` on. That load's served
  fraction is then at least ``min(1, MW / load MW)`` whatever the grid does (several
  generators at one load add their MW). The MW it supplies counts as served, not shed
  (:func:`with_generators`).
* ``Event(h, "area:<name>", kind="shelter", value=persons)``: a warming shelter ("Point
  of Invincibility"; Kyiv ran 211 mobile points for more than 200,000 people) for
  ``value`` persons opens at hour ``h``. It takes people in cold homes (areas whose
  indoor temperature at the end of the step is below ``below_c``) from its own area and
  from areas within the radius (area coordinates in km), sharing its places in
  proportion to the cold people of each area; shelters are filled in event order
  (:func:`sheltered`). The timeline's ``person_hours_below_<thr>_unsheltered`` subtracts
  the sheltered persons times the hours of the step their home is below it. The
  approximation: a sheltered person is warm while the shelter is open and their home is
  cold, and the shelter does not change the homes' temperatures.
* ``Event(h, "area:<name>", kind="mobile_heat", value=MW)``: a mobile boiler house
  (0.6–1.8 MW of heat on a truck with its own generator; Kyiv had a fleet of 69)
  connected to the area's heating circuit. From its hour on, the area's district-heat
  fraction is at least ``min(1, MW / demand)``, with the demand the thermal model's full
  weather-compensated heat. It keeps the circulation going, so it prevents draining; an
  area drained before still waits for its refill (:func:`heat_floor`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from warmgrid.errors import InputError, closest, quoted
from warmgrid.model.events import EVENT_KINDS, Event

__all__ = ["check_events", "heat_floor", "sheltered", "with_generators"]


def check_events(
    events: Sequence[Event],
    *,
    is_element: Callable[[str], bool],
    site_load: Mapping[str, int],
    area_pos: Mapping[str, int],
    area_has_district_heat: np.ndarray,
) -> None:
    """Raise InputError for an event of unknown kind, element, site, or a bad value.

    Parameters
    ----------
    events : the events.
    is_element : whether an id is a grid element or substation (repair events).
    site_load : sites a mobile generator can feed (load and service ids -> load index).
    area_pos : area id -> index (shelters, mobile boiler houses).
    area_has_district_heat : (n_areas,) bool.
    """
    for e in events:
        if e.kind not in EVENT_KINDS:
            raise InputError(
                f"unknown event kind {quoted(e.kind)}{closest(e.kind, list(EVENT_KINDS))}",
                row=e.element,
                field="events",
            )
        if e.kind == "repair":
            if not is_element(e.element):
                raise InputError(
                    f"unknown element id {quoted(e.element)}", row=e.element, field="events"
                )
            continue
        known = site_load if e.kind == "mobile_gen" else area_pos
        if e.element not in known:
            what = "a load or service" if e.kind == "mobile_gen" else "an area"
            raise InputError(
                f"{e.kind} site {quoted(e.element)} is not {what} id"
                f"{closest(e.element, list(known))}",
                row=e.element,
                field="events",
            )
        if not (np.isfinite(e.value) and e.value >= 0):
            raise InputError(
                f"{e.kind} value must be a number >= 0, got {e.value!r}",
                row=e.element,
                field="events",
            )
        if e.kind == "mobile_heat" and not area_has_district_heat[area_pos[e.element]]:
            raise InputError(
                f"mobile_heat site {quoted(e.element)} has no district heating to feed",
                row=e.element,
                field="events",
            )


def with_generators(
    load_frac: np.ndarray,
    served_mw: float,
    shed_mw: float,
    mobile_mw: np.ndarray,
    load_mw: np.ndarray,
) -> tuple[np.ndarray, float, float]:
    """The grid's served fractions with mobile generators at some loads.

    Parameters
    ----------
    load_frac : (n_load,) served fraction from the grid.
    served_mw, shed_mw : the grid's totals, MW.
    mobile_mw : (n_load,) MW of mobile generation at each load.
    load_mw : (n_load,) demand, MW.

    Returns
    -------
    (n_load,) fractions, at least ``min(1, mobile MW / load MW)``; served and shed MW
    with the generators' MW counted as served.
    """
    floor = np.divide(mobile_mw, load_mw, out=np.ones(len(load_mw)), where=load_mw > 0)
    lf = np.maximum(load_frac, np.minimum(floor, 1.0))
    extra = float((lf - load_frac) @ np.maximum(load_mw, 0.0))
    return lf, served_mw + extra, max(shed_mw - extra, 0.0)


def heat_floor(
    events: Sequence[Event], area_pos: Mapping[str, int], demand_mw: np.ndarray, dt_h: float
) -> np.ndarray | None:
    """(n_steps, n_areas) district-heat fraction the mobile boiler houses guarantee (None
    without any): their MW from their step on, over the area's full heat demand, at most 1.

    Parameters
    ----------
    events : the replay's events (only ``mobile_heat`` count).
    area_pos : area id -> index.
    demand_mw : (n_steps, n_areas) full weather-compensated heat demand, MW.
    dt_h : step, h.
    """
    units = [e for e in events if e.kind == "mobile_heat"]
    if not units or not any(e.value > 0 for e in units):
        return None
    mw = np.zeros_like(demand_mw)
    for e in units:
        k0 = int(np.ceil(e.hour / dt_h - 1e-9))
        mw[k0:, area_pos[e.element]] += e.value
    return np.minimum(np.divide(mw, demand_mw, out=np.ones_like(mw), where=demand_mw > 0), 1.0)


def sheltered(
    events: Sequence[Event],
    temps: np.ndarray,
    population: np.ndarray,
    covered: Callable[[str], np.ndarray],
    *,
    hours: np.ndarray,
    below_c: float,
) -> np.ndarray | None:
    """(n_steps, n_areas) persons in warming shelters (None without any shelter).

    Each shelter, in event order, shares its places among the cold people of the areas
    it covers (``covered(site)``: (n_areas,) bool), in proportion to them.

    Parameters
    ----------
    events : the replay's events (only ``shelter`` count).
    temps : (n_steps + 1, n_areas) indoor temperature at the step boundaries, °C.
    population : (n_areas,) persons.
    covered : site -> the areas it takes people from.
    hours : (n_steps,) the steps' start hours.
    below_c : a home is cold below this, °C.
    """
    shelters = [e for e in events if e.kind == "shelter"]
    if not shelters:
        return None
    cold = np.where(temps[1:] < below_c, population, 0.0)
    out = np.zeros_like(cold)
    for e in shelters:
        cov = covered(e.element)
        d = cold[:, cov]
        tot = d.sum(axis=1)
        share = np.divide(np.minimum(e.value, tot), tot, out=np.zeros_like(tot), where=tot > 0)
        share = np.where(hours >= e.hour - 1e-9, share, 0.0)
        alloc = d * share[:, None]
        cold[:, cov] -= alloc
        out[:, cov] += alloc
    return out
