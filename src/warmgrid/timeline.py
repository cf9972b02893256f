"""The one timeline simulator (DESIGN.md, "One timeline").

Given a damage list and events (an element back in service at hour h), it steps hour by
hour, re-solves power only when the set of elements out changes (results are cached per
set, so a Monte Carlo or a restoration search that revisits a state pays once), carries
the service buffers forward (:func:`warmgrid.services.propagate.propagate`) and the
indoor temperatures (:func:`warmgrid.services.thermal.simulate_indoor`).

An impact is a replay with no repairs; a restoration plan's replay is the same call with
its repair events. Never write the loop twice.

Besides repairs, events deploy emergency resources (:mod:`warmgrid.restore.emergency`):

* ``Event(h, site, kind="mobile_gen", value=MW)``: a mobile generator runs in island mode
  at ``site`` (a grid load id, or a service id ``heat:``, ``water:``, ``facility:``,
  ``area:`` mapped to the load that powers it) from hour ``h`` on. That load's served
  fraction is then at least ``min(1, MW / load MW)`` whatever the grid does (several
  generators at one load add their MW). The MW it supplies counts as served, not shed.
* ``Event(h, "area:<name>", kind="shelter", value=persons)``: a warming shelter ("Point
  of Invincibility") for ``value`` persons opens at hour ``h``. It takes people in cold
  homes (areas whose indoor temperature at the end of the step is below
  ``shelter_below_c``) from its own area and from areas within ``shelter_radius_km`` of
  it (area coordinates ``x, y`` in km), sharing its places in proportion to the cold
  people of each area; shelters are filled in event order. ``Timeline.sheltered`` holds
  the persons sheltered per step and area, and ``metrics()`` adds
  ``person_hours_below_<thr>_unsheltered``: person-hours below each threshold minus the
  sheltered persons times the hours of the step their home is below it. The
  approximation: a sheltered person is warm while the shelter is open and their home is
  cold, and the shelter does not change the homes' temperatures.

* ``Event(h, "area:<name>", kind="mobile_heat", value=MW)``: a mobile boiler house
  (0.6–1.8 MW of heat on a truck with its own generator; Kyiv had a fleet of 69,
  REFERENCES.md) connected to the area's heating circuit. From its hour on, the area's
  district-heat fraction is at least ``min(1, MW / demand)``, with the demand the thermal
  model's full weather-compensated heat (:meth:`Simulator.heat_demand_mw`). It keeps the
  circulation going, so it prevents draining; an area drained before still waits for its
  refill.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from warmgrid.errors import InputError, quoted
from warmgrid.metrics import (
    energy_not_served_mwh,
    first_time_h,
    people_without,
    person_hours_without,
    threshold_key,
)
from warmgrid.model.grid import Grid
from warmgrid.model.services import Services
from warmgrid.model.validate import split_ids
from warmgrid.power.network import Network, compile_network
from warmgrid.services import thermal
from warmgrid.services.propagate import FreezeOptions, ServiceLinks, propagate

__all__ = ["EVENT_KINDS", "Event", "PowerOutcome", "Simulator", "Timeline"]

DEFAULT_THRESHOLDS_C = (18.0, 12.0, 5.0)


#: Event kinds :meth:`Simulator.run` handles.
EVENT_KINDS = ("repair", "mobile_gen", "shelter", "mobile_heat")


@dataclass(frozen=True, order=True)
class Event:
    """Something that happens at ``hour`` (see the module docstring).

    ``kind`` is ``"repair"`` (``element`` back in service), ``"mobile_gen"`` (a generator
    of ``value`` MW at ``element``) or ``"shelter"`` (a warming shelter for ``value``
    persons at area ``element``).
    """

    hour: float
    element: str
    kind: str = "repair"
    value: float = 0.0


@dataclass(frozen=True)
class PowerOutcome:
    """What the power engine says about one set of elements out.

    Attributes
    ----------
    load_frac : (n_load,) served fraction of each load.
    gen_online : (n_gen,) bool, unit in service on an energised island.
    served_mw, shed_mw : totals, MW.
    islands : number of islands among in-service buses.
    dark_buses : number of buses without supply.
    detail : the engine's own result (MLD or cascade).
    """

    load_frac: np.ndarray
    gen_online: np.ndarray
    served_mw: float
    shed_mw: float
    islands: int
    dark_buses: int
    detail: Any = None


def solve_power(
    net: Network,
    outaged: Sequence[str],
    *,
    mode: str,
    weights: np.ndarray | None,
    trip_factor: float = 1.0,
) -> PowerOutcome:
    """Run the impact engine (``"mld"`` or ``"cascade"``) on one set of elements out."""
    from warmgrid.power.damage import apply_damage

    state = apply_damage(net, list(outaged))
    if mode == "mld":
        from warmgrid.power.dispatch import max_load_delivery

        r = max_load_delivery(net, state, weights=weights)
    elif mode == "cascade":
        from warmgrid.power.cascade import cascade

        r = cascade(net, state, trip_factor=trip_factor)
    else:
        raise InputError(f"mode must be 'mld' or 'cascade', got {mode!r}", field="impact.mode")
    dark = np.asarray(r.dark_bus, dtype=bool)
    online = state.effective(net).gen_on & ~dark[net.gen_bus]
    return PowerOutcome(
        load_frac=np.asarray(r.served_fraction, dtype=float),
        gen_online=online,
        served_mw=float(r.served_mw),
        shed_mw=float(r.shed_mw),
        islands=int(r.islands.count),
        dark_buses=int(dark.sum()),
        detail=r,
    )


def compile_links(grid: Grid, services: Services, net: Network) -> ServiceLinks:
    """Map the overlay's ids to the network's integer indices."""
    load_pos = {x: i for i, x in enumerate(net.load_ids.tolist())}
    gen_pos = {x: i for i, x in enumerate(net.gen_ids.tolist())}
    heat_pos = {x: i for i, x in enumerate(services.heat["id"].tolist())}
    area_pos = {x: i for i, x in enumerate(services.areas["id"].tolist())}

    def lidx(col: Any) -> np.ndarray:
        return np.array([load_pos.get(v, -1) if v else -1 for v in col], dtype=np.int64)

    a, h, w, f = services.areas, services.heat, services.water, services.facilities
    src = np.zeros((len(a), len(h)))
    for i, hs in enumerate(a["heat_sources"]):
        for s in split_ids(hs):
            src[i, heat_pos[s]] = 1.0
    wa = np.zeros((len(w), len(a)))
    for i, ars in enumerate(w["areas"]):
        for s in split_ids(ars):
            wa[i, area_pos[s]] = 1.0
    return ServiceLinks(
        heat_load=lidx(h["load"]),
        heat_is_chp=(h["kind"] == "chp").to_numpy(dtype=bool),
        heat_gens=[
            np.array([gen_pos[g] for g in split_ids(gs)], dtype=np.int64) for gs in h["gens"]
        ],
        heat_peak_share=h["peak_boiler_share"].to_numpy(dtype=float),
        heat_backup_h=h["backup_h"].to_numpy(dtype=float),
        area_load=lidx(a["load"]),
        area_sources=src,
        area_ish=a["individual_heating_share"].to_numpy(dtype=float),
        area_local_power=a["needs_local_power"].to_numpy(dtype=bool),
        water_load=lidx(w["load"]),
        water_areas=wa,
        water_reservoir_h=w["reservoir_h"].to_numpy(dtype=float),
        facility_load=lidx(f["load"]),
        facility_backup_h=f["backup_h"].to_numpy(dtype=float),
    )


@dataclass(frozen=True, eq=False)
class Timeline:
    """Hourly results of one replay. Arrays are per step (n_steps) unless noted."""

    hours: np.ndarray
    t_out_c: np.ndarray
    served_mw: np.ndarray
    shed_mw: np.ndarray
    islands: np.ndarray
    light: np.ndarray  # (n_steps, n_areas)
    heat: np.ndarray  # (n_steps, n_areas)
    water: np.ndarray  # (n_steps, n_areas)
    drained: np.ndarray  # (n_steps, n_areas) bool
    temp_c: np.ndarray  # (n_steps + 1, n_areas), at step boundaries
    facility_ok: np.ndarray  # (n_steps, n_facilities) bool
    thresholds_c: np.ndarray  # (n_thr,)
    crossing_h: np.ndarray  # (n_areas, n_thr), NaN: never
    hours_below: np.ndarray  # (n_areas, n_thr)
    population: np.ndarray  # (n_areas,)
    power: list[PowerOutcome] = field(default_factory=list)  # per step (shared objects)
    dt_h: float = 1.0
    sheltered: np.ndarray | None = None  # (n_steps, n_areas) persons; None: no shelters
    step_hours_below: np.ndarray | None = None  # (n_steps, n_areas, n_thr), with shelters

    baseline: Timeline | None = None  # set on a timeline made by relative_to

    def relative_to(self, base: Timeline) -> Timeline:
        """The harm this replay adds to ``base`` (the same scenario without damage).

        Each figure counts only what is worse than in ``base``, area by area and hour by
        hour: a served fraction becomes ``1 − max(0, base − this)``, so people without a
        service are those who had it before the damage and lost it; shed MW, hours below a
        threshold and lost backup count only above ``base``; a threshold crossing counts
        only when it comes earlier than in ``base`` (or ``base`` never crosses); an area
        drained counts only if ``base`` did not drain it. Where the damage serves an area
        better than ``base`` (Braess's paradox can do that), the gain is not netted
        against losses elsewhere. Temperatures, served MW and islands stay absolute (they
        are states, not harms). With ``base`` identical to this replay every harm is 0.

        Shelters: ``step_hours_below`` stays absolute, so the sheltered person-hours are
        subtracted from the harm below a threshold as if all their cold were harm (a
        small undercount only where homes were cold before any damage).
        """

        def lost(now: np.ndarray, before: np.ndarray) -> np.ndarray:
            return 1.0 - np.clip(before - now, 0.0, 1.0)

        earlier = np.isnan(base.crossing_h) | (self.crossing_h < base.crossing_h - 1e-9)
        return Timeline(
            hours=self.hours,
            t_out_c=self.t_out_c,
            served_mw=self.served_mw,
            shed_mw=np.maximum(self.shed_mw - base.shed_mw, 0.0),
            islands=self.islands,
            light=lost(self.light, base.light),
            heat=lost(self.heat, base.heat),
            water=lost(self.water, base.water),
            drained=self.drained & ~base.drained,
            temp_c=self.temp_c,
            facility_ok=self.facility_ok | ~base.facility_ok,
            thresholds_c=self.thresholds_c,
            crossing_h=np.where(earlier, self.crossing_h, np.nan),
            hours_below=np.maximum(self.hours_below - base.hours_below, 0.0),
            population=self.population,
            power=self.power,
            dt_h=self.dt_h,
            sheltered=self.sheltered,
            step_hours_below=self.step_hours_below,
            baseline=base,
        )

    @property
    def people_sheltered(self) -> np.ndarray:
        """(n_steps,) persons in warming shelters."""
        if self.sheltered is None:
            return np.zeros(len(self.hours))
        return self.sheltered.sum(axis=1)

    @property
    def people_without_power(self) -> np.ndarray:
        return people_without(self.population, self.light)

    @property
    def people_without_heat(self) -> np.ndarray:
        return people_without(self.population, self.heat)

    @property
    def people_without_water(self) -> np.ndarray:
        return people_without(self.population, self.water)

    def metrics(self) -> dict[str, Any]:
        """Scalar outcome metrics over the horizon (DESIGN.md, "Metrics")."""
        ph_below = thermal.person_hours_below(self.hours_below, self.population).sum(axis=0)
        first = first_time_h(self.crossing_h)
        out: dict[str, Any] = {
            "person_hours_without_power": person_hours_without(
                self.population, self.light, self.dt_h
            ),
            "person_hours_without_heat": person_hours_without(
                self.population, self.heat, self.dt_h
            ),
            "person_hours_without_water": person_hours_without(
                self.population, self.water, self.dt_h
            ),
            "energy_not_served_mwh": energy_not_served_mwh(self.shed_mw, self.dt_h),
            "facilities_past_backup": int((~self.facility_ok).any(axis=0).sum()),
        }
        for thr, ph, ft in zip(self.thresholds_c, ph_below, first, strict=True):
            key = threshold_key(thr)
            out[f"person_hours_below_{key}"] = float(ph)
            out[f"first_area_below_{key}_h"] = None if np.isnan(ft) else float(ft)
        unsheltered = ph_below
        if self.sheltered is not None and self.step_hours_below is not None:
            warm = np.einsum("ka,kat->t", self.sheltered, self.step_hours_below)
            unsheltered = np.maximum(ph_below - warm, 0.0)
        for thr, ph in zip(self.thresholds_c, unsheltered, strict=True):
            out[f"person_hours_below_{threshold_key(thr)}_unsheltered"] = float(ph)
        return out


def step_hours_below(
    temps: np.ndarray, thresholds_c: np.ndarray, tau_h: np.ndarray, dt_h: float
) -> np.ndarray:
    """(n_steps, n_areas, n_thr) hours of each step each area spends below each threshold,
    exact on the exponential (the per-step terms of :func:`thermal.hours_below`)."""
    s, b0, b1 = thermal._step_crossings(temps, thresholds_c, tau_h, dt_h)
    return np.where(b0 & b1, dt_h, np.where(b1, dt_h - s, np.where(b0, s, 0.0)))


class Simulator:
    """A scenario compiled once and replayed many times.

    Parameters
    ----------
    grid, services : the grid and its overlay.
    t_out_c : (n_steps,) hourly outdoor temperature over the horizon, °C.
    mode : ``"mld"`` (best operator response) or ``"cascade"`` (nobody acts).
    thresholds_c : indoor temperature thresholds, °C.
    freeze : freeze-protection and buffer options.
    trip_factor : cascade trip threshold as a multiple of the rating.
    t0_c : indoor temperature at hour 0 (default: each archetype's setpoint).
    max_cached_states : power results kept (least recently used dropped first); a
        restoration search revisits states, a Monte Carlo mostly does not.
    shelter_radius_km : warming shelters take people from areas within this distance, km
        (0: their own area only); :meth:`run` can override it.
    shelter_below_c : a home is cold (its people seek shelter) below this temperature, °C.
    relative : :meth:`run` returns the harm the damage adds to :meth:`baseline` (the same
        horizon with no damage and no events; :meth:`Timeline.relative_to`) instead of
        absolute figures. Studies use it, so conditions that exist before the damage
        (load the grid cannot serve within its ratings) never count as the damage's harm.
    """

    def __init__(
        self,
        grid: Grid,
        services: Services,
        t_out_c: np.ndarray,
        *,
        mode: str = "mld",
        thresholds_c: Sequence[float] = DEFAULT_THRESHOLDS_C,
        freeze: FreezeOptions | None = None,
        trip_factor: float = 1.0,
        t0_c: float | None = None,
        dt_h: float = 1.0,
        max_cached_states: int = 512,
        shelter_radius_km: float = 0.0,
        shelter_below_c: float = 18.0,
        relative: bool = False,
    ) -> None:
        if mode not in ("mld", "cascade"):
            raise InputError(f"mode must be 'mld' or 'cascade', got {mode!r}", field="impact.mode")
        t_out = np.asarray(t_out_c, dtype=float)
        if t_out.ndim != 1 or len(t_out) == 0 or not np.all(np.isfinite(t_out)):
            raise InputError(
                "the outdoor temperature series must be a non-empty list of numbers",
                field="weather",
            )
        self.grid, self.services = grid, services
        self.net = compile_network(grid, groups=services.groups())
        self.links = compile_links(grid, services, self.net)
        self.weights = services.load_weights(grid)
        self.t_out_c = t_out
        self.mode, self.trip_factor = mode, trip_factor
        self.thresholds_c = np.asarray(thresholds_c, dtype=float)
        self.freeze = freeze or FreezeOptions()
        self.dt_h = dt_h
        names = services.areas["archetype"].tolist()
        self.params = thermal.archetype_parameters(names)
        self.tau_h = thermal.time_constant_h(
            self.params["h_w_per_k_m2"], self.params["c_kj_per_k_m2"]
        )
        self.t0_c = self.params["setpoint_c"] if t0_c is None else np.full(len(names), float(t0_c))
        self.population = services.areas["population"].to_numpy(dtype=float)
        self._cache: OrderedDict[frozenset[str], PowerOutcome] = OrderedDict()
        self.max_cached_states = max_cached_states
        self.shelter_radius_km = float(shelter_radius_km)
        self.shelter_below_c = float(shelter_below_c)
        self.site_load = self._site_loads()
        self.area_pos = {a: i for i, a in enumerate(services.areas["id"].tolist())}
        self.area_xy_km = services.areas[["x", "y"]].to_numpy(dtype=float)
        self.relative = relative
        self._baseline: Timeline | None = None

    def baseline(self) -> Timeline:
        """The absolute replay with no damage and no events (computed once): the state
        before the damage that :meth:`run` measures harm against when ``relative``."""
        if self._baseline is None:
            self._baseline = self._replay((), ())
        return self._baseline

    def with_weather(self, t_out_c: np.ndarray) -> Simulator:
        """The same compiled scenario over another outdoor temperature series (and so
        another horizon); it shares the compiled network and the power cache, which do
        not depend on the weather."""
        import copy

        t_out = np.asarray(t_out_c, dtype=float)
        if t_out.ndim != 1 or len(t_out) == 0 or not np.all(np.isfinite(t_out)):
            raise InputError(
                "the outdoor temperature series must be a non-empty list of numbers",
                field="weather",
            )
        other = copy.copy(self)
        other.t_out_c = t_out
        other._baseline = None
        return other

    def _site_loads(self) -> dict[str, int]:
        """Load index of every grid load id and of every service id that names a load."""
        out = {x: i for i, x in enumerate(self.net.load_ids.tolist())}
        s, lk = self.services, self.links
        for ids, idx in (
            (s.areas["id"], lk.area_load),
            (s.heat["id"], lk.heat_load),
            (s.water["id"], lk.water_load),
            (s.facilities["id"], lk.facility_load),
        ):
            out.update(
                {e: int(i) for e, i in zip(ids.tolist(), idx.tolist(), strict=True) if i >= 0}
            )
        return out

    def check_events(self, events: Sequence[Event]) -> None:
        """Raise InputError for an event of unknown kind, site or a bad value."""
        from warmgrid.errors import closest

        self.check_ids([e.element for e in events if e.kind == "repair"], field="events")
        for e in events:
            if e.kind not in EVENT_KINDS:
                raise InputError(
                    f"unknown event kind {quoted(e.kind)}{closest(e.kind, list(EVENT_KINDS))}",
                    row=e.element,
                    field="events",
                )
            if e.kind == "repair":
                continue
            known = self.site_load if e.kind == "mobile_gen" else self.area_pos
            if e.element not in known:
                what = "a load or service" if e.kind == "mobile_gen" else "an area"
                raise InputError(
                    f"{e.kind} site {e.element!r} is not {what} id{closest(e.element, list(known))}",
                    row=e.element,
                    field="events",
                )
            if not (np.isfinite(e.value) and e.value >= 0):
                raise InputError(
                    f"{e.kind} value must be a number >= 0, got {e.value!r}",
                    row=e.element,
                    field="events",
                )
            if (
                e.kind == "mobile_heat"
                and not self.links.area_sources[self.area_pos[e.element]].any()
            ):
                raise InputError(
                    f"mobile_heat site {e.element!r} has no district heating to feed",
                    row=e.element,
                    field="events",
                )

    def heat_demand_mw(self) -> np.ndarray:
        """(n_steps, n_areas) full weather-compensated heat demand of each area, MW.

        The thermal model's ``Φ_heat`` at full heat, ``max(0, H (T_set − T_out) − Φ_int)``
        per m², times the area's floor (people × m² per person of its archetype).
        """
        from warmgrid.model.archetypes import ARCHETYPES

        m2 = self.population * np.array(
            [ARCHETYPES[a].floor_m2_per_person for a in self.services.areas["archetype"]]
        )
        p = self.params
        w_m2 = np.maximum(
            0.0,
            p["h_w_per_k_m2"] * (p["setpoint_c"] - self.t_out_c[:, None]) - p["gain_w_m2"],
        )
        return w_m2 * m2 / 1e6

    @property
    def n_steps(self) -> int:
        return len(self.t_out_c)

    def power(self, outaged: frozenset[str]) -> PowerOutcome:
        """The power outcome of a set of elements out (cached)."""
        hit = self._cache.get(outaged)
        if hit is not None:
            self._cache.move_to_end(outaged)
        else:
            hit = solve_power(
                self.net,
                sorted(outaged),
                mode=self.mode,
                weights=self.weights,
                trip_factor=self.trip_factor,
            )
            self._cache[outaged] = hit
            while len(self._cache) > self.max_cached_states:
                self._cache.popitem(last=False)
        return hit

    def clear_cache(self) -> None:
        """Drop the cached power results."""
        self._cache.clear()

    def check_ids(self, ids: Sequence[str], *, field: str) -> None:
        """Raise InputError for ids that are neither grid elements nor substations."""
        for e in ids:
            if e not in self.net.groups:
                try:
                    self.net.index_of(e)
                except InputError as err:
                    raise InputError(str(err.problems[0].message), row=e, field=field) from None

    def run(
        self,
        damage: Sequence[str],
        events: Sequence[Event] = (),
        *,
        shelter_radius_km: float | None = None,
    ) -> Timeline:
        """Replay the horizon after ``damage`` with ``events`` (repairs, mobile generators,
        shelters) applied; ``shelter_radius_km`` overrides the simulator's.

        With ``relative``, the result is the harm over :meth:`baseline`."""
        tl = self._replay(damage, events, shelter_radius_km=shelter_radius_km)
        return tl.relative_to(self.baseline()) if self.relative else tl

    def _replay(
        self,
        damage: Sequence[str],
        events: Sequence[Event] = (),
        *,
        shelter_radius_km: float | None = None,
    ) -> Timeline:
        """The absolute replay (see :meth:`run`)."""
        self.check_ids(damage, field="damage.elements")
        self.check_events(events)
        load_mw = self.net.load_p_mw
        mobile_mw = np.zeros(len(load_mw))
        out = set(damage)
        evs = sorted(events)
        n, nl, ng = self.n_steps, len(self.net.load_ids), len(self.net.gen_ids)
        load_frac = np.empty((n, nl))
        gen_online = np.empty((n, ng), dtype=bool)
        served = np.empty(n)
        shed = np.empty(n)
        isl = np.empty(n, dtype=np.int64)
        per_step: list[PowerOutcome] = []
        # the power state only changes at events: fill the steps from one event to the
        # next (or to the end) with one look-up
        j = k = 0
        while k < n:
            t = k * self.dt_h
            while j < len(evs) and evs[j].hour <= t + 1e-9:
                if evs[j].kind == "repair":
                    out.discard(evs[j].element)
                elif evs[j].kind == "mobile_gen":
                    mobile_mw[self.site_load[evs[j].element]] += evs[j].value
                j += 1
            k_end = k + 1
            if j == len(evs):
                k_end = n
            else:
                while k_end < n and not evs[j].hour <= k_end * self.dt_h + 1e-9:
                    k_end += 1
            po = self.power(frozenset(out))
            per_step.extend([po] * (k_end - k))
            load_frac[k:k_end], gen_online[k:k_end] = po.load_frac, po.gen_online
            served[k:k_end], shed[k:k_end], isl[k:k_end] = po.served_mw, po.shed_mw, po.islands
            if mobile_mw.any():
                floor = np.divide(mobile_mw, load_mw, out=np.ones(len(load_mw)), where=load_mw > 0)
                lf = np.maximum(po.load_frac, np.minimum(floor, 1.0))
                extra = float((lf - po.load_frac) @ np.maximum(load_mw, 0.0))
                load_frac[k:k_end] = lf
                served[k:k_end], shed[k:k_end] = po.served_mw + extra, max(po.shed_mw - extra, 0.0)
            k = k_end
        heat_mw = np.zeros(len(self.population))
        dh_floor = None
        for e in evs:
            if e.kind == "mobile_heat":
                heat_mw[self.area_pos[e.element]] += e.value
        if heat_mw.any():
            dh_floor = np.zeros((n, len(heat_mw)))
            for e in evs:
                if e.kind == "mobile_heat":
                    a = self.area_pos[e.element]
                    k0 = int(np.ceil(e.hour / self.dt_h - 1e-9))
                    dh_floor[k0:, a] += e.value
            demand = self.heat_demand_mw()
            dh_floor = np.minimum(
                np.divide(dh_floor, demand, out=np.ones_like(dh_floor), where=demand > 0), 1.0
            )
        svc = propagate(
            self.links,
            load_frac,
            gen_online,
            self.t_out_c,
            options=self.freeze,
            dt_h=self.dt_h,
            dh_floor=dh_floor,
        )
        temps, crossing_h, hours_below = thermal.indoor_outcomes(
            self.t0_c,
            self.t_out_c,
            svc.heat,
            svc.light,
            self.params,
            self.thresholds_c,
            self.tau_h,
            dt_h=self.dt_h,
        )
        shelters = [e for e in evs if e.kind == "shelter"]
        sheltered = step_below = None
        if shelters:
            radius = self.shelter_radius_km if shelter_radius_km is None else shelter_radius_km
            sheltered = self._shelter(shelters, temps, float(radius))
            step_below = step_hours_below(temps, self.thresholds_c, self.tau_h, self.dt_h)
        return Timeline(
            hours=np.arange(n) * self.dt_h,
            t_out_c=self.t_out_c,
            served_mw=served,
            shed_mw=shed,
            islands=isl,
            light=svc.light,
            heat=svc.heat,
            water=svc.water,
            drained=svc.drained,
            temp_c=temps,
            facility_ok=svc.facility_ok.astype(bool),
            thresholds_c=self.thresholds_c,
            crossing_h=crossing_h,
            hours_below=hours_below,
            population=self.population,
            power=per_step,
            dt_h=self.dt_h,
            sheltered=sheltered,
            step_hours_below=step_below,
        )

    def covered_areas(self, site: str, radius_km: float) -> np.ndarray:
        """(n_areas,) bool: the areas a shelter at area ``site`` takes people from."""
        i = self.area_pos[site]
        d = np.hypot(*(self.area_xy_km - self.area_xy_km[i]).T)
        cov = np.nan_to_num(d, nan=np.inf) <= radius_km + 1e-9
        cov[i] = True
        return cov

    def _shelter(
        self, shelters: Sequence[Event], temps: np.ndarray, radius_km: float
    ) -> np.ndarray:
        """(n_steps, n_areas) persons sheltered: each shelter, in event order, shares its
        places among the cold people of the areas it covers, in proportion to them."""
        hours = np.arange(self.n_steps) * self.dt_h
        cold = np.where(temps[1:] < self.shelter_below_c, self.population, 0.0)
        out = np.zeros_like(cold)
        for e in shelters:
            cov = self.covered_areas(e.element, radius_km)
            d = cold[:, cov]
            tot = d.sum(axis=1)
            share = np.divide(np.minimum(e.value, tot), tot, out=np.zeros_like(tot), where=tot > 0)
            share = np.where(hours >= e.hour - 1e-9, share, 0.0)
            alloc = d * share[:, None]
            cold[:, cov] -= alloc
            out[:, cov] += alloc
        return out
