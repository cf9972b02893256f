"""winter-city: a synthetic, Kyiv-like capital of about 3.1 million people, built from a seed.

The city is generated at run time (well under a second), deterministically from
``numpy.random.default_rng(seed)``: the same seed gives identical tables, another seed
another city with the same skeleton (the same substation, plant and district names, so a
scenario's damage list stays valid), different positions, people, loads and services.

Geography (km, ``x`` east, ``y`` north, the city in a 30 × 30 km box centred on
(15, 15)). A river runs north to south through the middle at
``x = 17 + 1.2 sin(y / 5)``: the right (west) bank holds 55–70 % of the people and
seven of the ten districts, the left (east) bank three. All names are fictional.

Figures in quotes are public ballpark figures for a Kyiv-like city, from docs/sources.md
("City ballpark figures" unless another heading is named).

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
  750/330 kV node, with a handful of 330 kV substations around it" (docs/sources.md; the
  count and ratings are assumed, typical of 330 kV practice).
* **Supply points.** Four of the ring substations (obrii, dniprova, zoriana, vyshneva)
  hold an ``external`` generator of limited capacity, 200–240 MW each (assumed: import
  capacity of the 750/330 kV links); ``gen:ext-vyshneva`` is the slack.
* **110 kV layer.** About 32 distribution substations (110/10 kV, one bus each; "one
  110/10 kV substation can feed more than 2,000 residential buildings", docs/sources.md)
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
  serves about 8 % of the residential floor area" (docs/sources.md, Interfax-Ukraine,
  indicative). No hydro plant: the reserve stays modest.
* **Demand.** Winter peak drawn in 1.58–1.66 GW ("a winter peak of up to 1.5–1.7 GW",
  city administration and YASNO, docs/sources.md). Residential load per person is assumed:
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
  residents, docs/sources.md; our synthetic figure is a round 3.0–3.3 M). Archetypes by
  distance from the centre: brick5 (10) and panel5 (16) inner, panel9 (32), panel16
  (20), modern (14), house (8) outermost; a house area holds about a third of the
  people of a block area (">20,000 private houses", about 2–3 % of the people). About
  8 % of the apartment areas (mostly modern, with their own gas boilers) are not on
  district heating ("85–95 % on district heating", docs/sources.md) and, like the house
  areas, have ``individual_heating_share`` 1.0; district-heated areas have 0–5 %.
  ``needs_local_power`` is True for modern blocks (building circulation pumps).
* **Heat sources.** The three CHPs (``heat:chp-<name>``, ``gens`` their units; heat
  1,900, 2,000 and 450 MW: "500–750 MW electric, the latter with about 2 GW of heat",
  docs/sources.md, the other two assumed) and 20 boiler houses (``heat:boiler-<substation>``;
  "15 large and about 170 small boiler houses", aggregated here). Areas are assigned
  greedily by distance under population quotas: chp-south 22 %, chp-north 24 %,
  chp-east 8 % ("about 8 % of the residential floor area"), boiler houses the rest
  (after a CHP strike "46 % of the housing stock" lost heat; docs/sources.md, "What the
  reference scenario is about"); a quarter of the areas get a second source.
  ``peak_boiler_share`` 0.3–0.5 (assumed). Pump loads: 1 % of the heat carried
  ("network pumps use 1–2 % of the heat they carry", docs/sources.md), clipped to
  5–20 MW for a CHP and 0.5–3 MW for a boiler house.
  Boiler heat is 1.15 × the design demand of its areas at −22 °C (design temperature
  assumed), from the archetypes of :mod:`warmgrid.services.thermal`. Two-thirds of the
  boiler houses have backup power ("two-thirds of Kyiv's boiler houses have backup
  power", smarter.kyiv.ua; docs/sources.md, "District heating and its power supply")
  with 12–48 h of fuel (assumed); CHPs 0 h.
* **Water** (20 stations). Two river waterworks, ``water:north-works`` (pumps 12–15 MW)
  and ``water:river-works`` (6–10 MW), supply about 66 % and 25 % of the people, six
  well fields (``water:wells-<substation>``, 2–3 MW) about 9 % ("two river waterworks
  supply about 66 % and 25 % of the water, and wells about 9 %", docs/sources.md);
  reservoirs 12–15 h for the works ("tanks … hold about 15 h of average supply") and
  8–12 h for wells (assumed). Twelve booster stations (``water:booster-<district>``,
  2–4 MW, 6–10 h, assumed) also serve the 16-storey and modern areas ("without pumps,
  water rises no higher than about 12–14 floors"). Every area has one main supply.
* **Hospitals** (30, ``facility:hospital-<nn>``): 0.5–3 MW (assumed), ``backup_h`` 120
  ("a minimum fuel reserve of 5 days", Ukrainian state emergency commission,
  docs/sources.md), ``people_served`` the population of the areas for which it is the
  nearest hospital.
* **Substations.** ``substation:<name>`` for every 330 kV substation (its 330 and 110 kV
  buses), every CHP plant (its buses) and every 110 kV distribution substation.

Modules: :mod:`~warmgrid.examples._city_geography` (the box and the river),
:mod:`~warmgrid.examples._city_grid` (the power grid and its dispatch),
:mod:`~warmgrid.examples._city_services` (the services overlay and the loads).

Treat the returned tables as read-only: results are memoised per seed.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import pandas as pd

from warmgrid.examples._city_geography import river_x
from warmgrid.examples._city_grid import _generators, _power_grid, _power_layout
from warmgrid.examples._city_services import (
    _heat_areas,
    _heat_sources,
    _hospitals,
    _loads,
    _services,
    _substations,
    _water_stations,
)
from warmgrid.model.grid import Grid
from warmgrid.model.services import Services

__all__ = ["frost_strike_weather", "river_x", "winter_city", "winter_city_grid"]


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
    hosp = _hospitals(rng, ar)
    load = _loads(rng, load_buses, lb_xy, ar, heat_rows, water_rows, hosp)
    grid = _power_grid(net, gen, load, seed)
    subs = _substations(net, ring, dist_subs)
    return grid, _services(grid, subs, ar, heat_rows, srcs, water_rows, hosp)


def winter_city_grid(seed: int = 2026) -> Grid:
    """The power grid of :func:`winter_city` (what ``load_grid("winter-city")`` returns)."""
    return winter_city(seed)[0]


def frost_strike_weather() -> pd.DataFrame:
    """Outdoor temperature of the frost-strike scenario, hourly from 2026-02-03 00:00 local time.

    Seven days of −20 °C at night and −16 °C by day (Kyiv on 3 February 2026;
    docs/sources.md, "What the reference scenario is about"), with a smooth diurnal
    profile: half-cosines rising from the minimum at 05:00 to the maximum at 14:00 and
    falling back over the following 15 h (shape assumed).

    Returns
    -------
    DataFrame with ``time`` (datetime64, hourly) and ``outdoor_c`` (°C), 168 rows.
    """
    path = resources.files("warmgrid.examples") / "data" / "frost_strike_weather.csv"
    with resources.as_file(path) as p:
        df = pd.read_csv(p)
    df["time"] = pd.to_datetime(df["time"], format="ISO8601")
    return df
