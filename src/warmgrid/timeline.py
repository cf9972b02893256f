"""The one timeline simulator.

Given a damage list and events (:class:`~warmgrid.model.events.Event`: an element back in
service at hour h, or an emergency resource deployed), :meth:`Simulator.run` replays the
horizon as a short loop over the **states** between events: each state's power is solved
once (cached per set of elements out, so a Monte Carlo or a restoration search that
revisits a state pays once; :mod:`warmgrid.power.engine`), then the services carry their
buffers forward over all hours at once (:func:`warmgrid.services.propagate.propagate`),
and the indoor temperatures follow (:func:`warmgrid.services.thermal.indoor_outcomes`).
What emergency resources do is :mod:`warmgrid.services.emergency`'s; the metrics are
:mod:`warmgrid.metrics`'.

An impact is a replay with no events; a restoration plan's replay is the same call with
its repair events; a Monte Carlo sample the same call with a sampled damage. Never write
the loop twice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from warmgrid.errors import InputError
from warmgrid.metrics import people_without, timeline_metrics
from warmgrid.model.events import EVENT_KINDS, Event
from warmgrid.model.grid import Grid
from warmgrid.model.services import Services
from warmgrid.power.engine import Mode, PowerOutcome, mode_of, solve_power
from warmgrid.power.network import compile_network
from warmgrid.services import emergency, thermal
from warmgrid.services.links import compile_links, site_loads
from warmgrid.services.propagate import FreezeOptions, propagate
from warmgrid.services.thermal import step_hours_below

if TYPE_CHECKING:
    from warmgrid.water.coupling import HydraulicWater

__all__ = [
    "EVENT_KINDS",
    "Event",
    "PowerOutcome",
    "Simulator",
    "Timeline",
    "compile_links",
    "solve_power",
    "step_hours_below",
]

DEFAULT_THRESHOLDS_C = (18.0, 12.0, 5.0)


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
    water_detail: Any = None  # the hydraulic run and its areas, with a [water] network
    #: the indoor outcomes under the band's calibrations: {"fast"|"slow": (crossing_h,
    #: hours_below)}, each (n_areas, n_thr); None unless the simulator's ``band`` is on
    band: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
    #: (n_steps, n_load) served fraction of each load (mobile generators included) and
    #: (n_load,) each load's positive demand, MW: the shed harm is counted load by load
    #: (set by every replay; None only in the defaults the field order asks for)
    load_frac: np.ndarray | None = None
    load_mw: np.ndarray | None = None

    baseline: Timeline | None = None  # set on a timeline made by relative_to

    def relative_to(self, base: Timeline) -> Timeline:
        """The harm this replay adds to ``base`` (the same scenario without damage).

        Each figure counts only what is worse than in ``base``, area by area and hour by
        hour: a served fraction becomes ``1 − max(0, base − this)``, so people without a
        service are those who had it before the damage and lost it; shed MW likewise load
        by load (the MW each load had before and lost); hours below a threshold and lost
        backup count only above ``base``; a threshold crossing counts only when it comes
        earlier than in ``base`` (or ``base`` never crosses); an area drained counts only
        if ``base`` did not drain it. Where the damage serves an area
        better than ``base`` (Braess's paradox can do that), the gain is not netted
        against losses elsewhere. Temperatures, served MW and islands stay absolute (they
        are states, not harms). With ``base`` identical to this replay every harm is 0.

        Shelters: ``step_hours_below`` stays absolute, so the sheltered person-hours are
        subtracted from the harm below a threshold as if all their cold were harm (a
        small undercount only where homes were cold before any damage).
        """

        def lost(now: np.ndarray, before: np.ndarray) -> np.ndarray:
            return 1.0 - np.clip(before - now, 0.0, 1.0)

        def harm(now: tuple[np.ndarray, np.ndarray], before: tuple[np.ndarray, np.ndarray]):
            earlier = np.isnan(before[0]) | (now[0] < before[0] - 1e-9)
            return np.where(earlier, now[0], np.nan), np.maximum(now[1] - before[1], 0.0)

        crossing_h, hours_below = harm(
            (self.crossing_h, self.hours_below), (base.crossing_h, base.hours_below)
        )
        band = None
        if self.band is not None and base.band is not None:
            band = {v: harm(self.band[v], base.band[v]) for v in self.band}
        # load by load, as the people: a load served now that was shed before does not
        # offset one shed now that was served before (every replay sets these arrays)
        assert self.load_frac is not None
        assert base.load_frac is not None
        assert self.load_mw is not None
        shed = np.clip(base.load_frac - self.load_frac, 0.0, None) @ self.load_mw
        return Timeline(
            hours=self.hours,
            t_out_c=self.t_out_c,
            served_mw=self.served_mw,
            shed_mw=shed,
            islands=self.islands,
            light=lost(self.light, base.light),
            heat=lost(self.heat, base.heat),
            water=lost(self.water, base.water),
            drained=self.drained & ~base.drained,
            temp_c=self.temp_c,
            facility_ok=self.facility_ok | ~base.facility_ok,
            thresholds_c=self.thresholds_c,
            crossing_h=crossing_h,
            hours_below=hours_below,
            population=self.population,
            power=self.power,
            dt_h=self.dt_h,
            sheltered=self.sheltered,
            step_hours_below=self.step_hours_below,
            water_detail=self.water_detail,
            band=band,
            load_frac=self.load_frac,
            load_mw=self.load_mw,
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
        """Scalar outcome metrics over the horizon (:func:`warmgrid.metrics.timeline_metrics`)."""
        return timeline_metrics(self)


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
    calibration : the building archetypes' calibration used for the figures and for
        decisions (:data:`~warmgrid.model.archetypes.CALIBRATIONS`; ``central`` by default).
    thermal_overrides : a city's own archetype parameters (``{archetype: {"tau_h": τ}}``
        or H and C), replacing every calibration's.
    ac_check : verify each state's DC answer in AC and shed more load where voltages do
        not hold (:mod:`warmgrid.power.ac_check`).
    unit_minimums : how the MLD treats unit minimums
        (:data:`~warmgrid.power.dispatch.UNIT_MINIMUMS`).
    band : also compute the indoor outcomes under the ``fast`` and ``slow`` calibrations
        (``Timeline.band``), for ranges in the output (two more thermal integrations).
    water : a hydraulic water network (:class:`~warmgrid.water.coupling.HydraulicWater`)
        whose pumps follow the grid; None: the rule-based water of the overlay.
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
        mode: str | Mode = "mld",
        thresholds_c: Sequence[float] = DEFAULT_THRESHOLDS_C,
        freeze: FreezeOptions | None = None,
        trip_factor: float = 1.0,
        t0_c: float | None = None,
        dt_h: float = 1.0,
        max_cached_states: int = 512,
        shelter_radius_km: float = 0.0,
        shelter_below_c: float = 18.0,
        relative: bool = False,
        water: HydraulicWater | None = None,
        calibration: str = "central",
        thermal_overrides: dict[str, dict[str, float]] | None = None,
        band: bool = False,
        ac_check: bool = False,
        unit_minimums: str = "continuous",
    ) -> None:
        self.mode = mode_of(mode).value
        self.water = water
        self.ac_check = ac_check
        self.unit_minimums = unit_minimums
        self.t_out_c = _weather(t_out_c)
        self.grid, self.services = grid, services
        self.net = compile_network(grid, groups=services.groups())
        self.links = compile_links(grid, services, self.net)
        self.weights = services.load_weights(grid)
        self.trip_factor = trip_factor
        self.thresholds_c = np.asarray(thresholds_c, dtype=float)
        self.freeze = freeze or FreezeOptions()
        self.dt_h = dt_h
        names = services.areas["archetype"].tolist()
        self.calibration, self.band = calibration, band
        self.thermal_overrides = dict(thermal_overrides or {})
        self.params = thermal.archetype_parameters(names, calibration, self.thermal_overrides)
        self.tau_h = thermal.time_constant_h(
            self.params["h_w_per_k_m2"], self.params["c_kj_per_k_m2"]
        )
        self._band_params = {
            v: thermal.archetype_parameters(names, v, self.thermal_overrides)
            for v in ("fast", "slow")
        }
        self.t0_c = self.params["setpoint_c"] if t0_c is None else np.full(len(names), float(t0_c))
        self.population = services.areas["population"].to_numpy(dtype=float)
        self._cache: OrderedDict[frozenset[str], PowerOutcome] = OrderedDict()
        self.max_cached_states = max_cached_states
        self.shelter_radius_km = float(shelter_radius_km)
        self.shelter_below_c = float(shelter_below_c)
        self.site_load = site_loads(services, self.links, self.net)
        self.area_pos = {a: i for i, a in enumerate(services.areas["id"].tolist())}
        self.area_xy_km = services.areas[["x", "y"]].to_numpy(dtype=float)
        self.relative = relative
        self._baseline: Timeline | None = None

    # ------------------------------------------------------------------ set-up
    @property
    def n_steps(self) -> int:
        return len(self.t_out_c)

    def baseline(self) -> Timeline:
        """The absolute replay with no damage and no events (computed once): the state
        before the damage that :meth:`run` measures harm against when ``relative``."""
        if self._baseline is None:
            self._baseline = self._replay((), ())
        return self._baseline

    def set_band(self, on: bool) -> None:
        """Compute (or not) the band's indoor outcomes in every replay from now on (the
        baseline is replayed again so that harm ranges compare like with like)."""
        if bool(on) != self.band:
            self.band = bool(on)
            self._baseline = None

    def with_thermal_draw(self, u: float) -> Simulator:
        """The same compiled scenario with every archetype's heat capacity at the
        geometric interpolation ``C_fast^(1−u) · C_slow^u`` (u in [0, 1]; H is common, so
        τ is interpolated the same way: a uniform ``u`` is a log-uniform τ between the
        fast and the slow calibration). It shares the power cache; its own baseline."""
        import copy

        if not 0.0 <= u <= 1.0:
            raise ValueError(f"u must be in [0, 1], got {u}")
        other = copy.copy(self)
        fast, slow = self._band_params["fast"], self._band_params["slow"]
        c = fast["c_kj_per_k_m2"] ** (1.0 - u) * slow["c_kj_per_k_m2"] ** u
        other.params = {**self.params, "c_kj_per_k_m2": c}
        other.tau_h = thermal.time_constant_h(self.params["h_w_per_k_m2"], c)
        other._baseline = None
        return other

    def with_weather(self, t_out_c: np.ndarray) -> Simulator:
        """The same compiled scenario over another outdoor temperature series (and so
        another horizon); it shares the compiled network and the power cache, which do
        not depend on the weather."""
        import copy

        other = copy.copy(self)
        other.t_out_c = _weather(t_out_c)
        other._baseline = None
        return other

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

    def covered_areas(self, site: str, radius_km: float) -> np.ndarray:
        """(n_areas,) bool: the areas a shelter at area ``site`` takes people from."""
        i = self.area_pos[site]
        d = np.hypot(*(self.area_xy_km - self.area_xy_km[i]).T)
        cov = np.nan_to_num(d, nan=np.inf) <= radius_km + 1e-9
        cov[i] = True
        return cov

    # ------------------------------------------------------------------ power
    def power(self, outaged: frozenset[str]) -> PowerOutcome:
        """The power outcome of a set of elements out (cached, least recently used out)."""
        hit = self._cache.get(outaged)
        if hit is not None:
            self._cache.move_to_end(outaged)
            return hit
        hit = solve_power(
            self.net,
            sorted(outaged),
            mode=self.mode,
            weights=self.weights,
            trip_factor=self.trip_factor,
            ac_check=self.ac_check,
            unit_minimums=self.unit_minimums,
        )
        self._cache[outaged] = hit
        while len(self._cache) > self.max_cached_states:
            self._cache.popitem(last=False)
        return hit

    def clear_cache(self) -> None:
        """Drop the cached power results."""
        self._cache.clear()

    def is_element(self, element: str) -> bool:
        """Whether ``element`` is a grid element id or a substation group."""
        from warmgrid.power.elements import is_known

        return is_known(self.net, element)

    def check_events(self, events: Sequence[Event]) -> None:
        """Raise InputError for an event of unknown kind, site or a bad value."""
        emergency.check_events(
            events,
            is_element=self.is_element,
            site_load=self.site_load,
            area_pos=self.area_pos,
            area_has_district_heat=np.asarray(self.links.area_sources.any(axis=1), dtype=bool),
        )

    # ------------------------------------------------------------------ replay
    def run(
        self,
        damage: Sequence[str],
        events: Sequence[Event] = (),
        *,
        shelter_radius_km: float | None = None,
    ) -> Timeline:
        """Replay the horizon after ``damage`` with ``events`` (repairs, mobile generators,
        shelters, mobile boiler houses) applied; ``shelter_radius_km`` overrides the
        simulator's. Unknown ids are an InputError naming the closest.

        With ``relative``, the result is the harm over :meth:`baseline`."""
        tl = self._replay(damage, events, shelter_radius_km=shelter_radius_km)
        return tl.relative_to(self.baseline()) if self.relative else tl

    def _states(
        self, damage: Sequence[str], events: Sequence[Event]
    ) -> Iterator[tuple[int, int, frozenset[str], np.ndarray]]:
        """The stretches of steps ``[k0, k1)`` between events, each with the elements out
        and the MW of mobile generation at each load during it."""
        out = set(damage)
        mobile_mw = np.zeros(len(self.net.load_ids))
        j, k0, n, dt = 0, 0, self.n_steps, self.dt_h
        while k0 < n:
            while j < len(events) and events[j].hour <= k0 * dt + 1e-9:
                e = events[j]
                if e.kind == "repair":
                    out.discard(e.element)
                elif e.kind == "mobile_gen":
                    mobile_mw[self.site_load[e.element]] += e.value
                j += 1
            k1 = k0 + 1
            while k1 < n and not (j < len(events) and events[j].hour <= k1 * dt + 1e-9):
                k1 += 1
            yield k0, k1, frozenset(out), mobile_mw.copy()
            k0 = k1

    def _grid_over_time(self, damage: Sequence[str], events: Sequence[Event]) -> _GridSeries:
        """The power side of a replay, step by step (one solve per state)."""
        n, load_mw = self.n_steps, self.net.load_p_mw
        g = _GridSeries.empty(n, len(load_mw), len(self.net.gen_ids))
        for k0, k1, out, mobile_mw in self._states(damage, events):
            po = self.power(out)
            lf, served, shed = po.load_frac, po.served_mw, po.shed_mw
            if mobile_mw.any():
                lf, served, shed = emergency.with_generators(lf, served, shed, mobile_mw, load_mw)
            g.per_step.extend([po] * (k1 - k0))
            g.load_frac[k0:k1], g.gen_online[k0:k1] = lf, po.gen_online
            g.served[k0:k1], g.shed[k0:k1], g.islands[k0:k1] = served, shed, po.islands
        return g

    def _replay(
        self,
        damage: Sequence[str],
        events: Sequence[Event] = (),
        *,
        shelter_radius_km: float | None = None,
    ) -> Timeline:
        """The absolute replay (see :meth:`run`)."""
        self.check_events(events)
        evs = sorted(events)
        grid = self._grid_over_time(damage, evs)
        svc = propagate(
            self.links,
            grid.load_frac,
            grid.gen_online,
            self.t_out_c,
            options=self.freeze,
            dt_h=self.dt_h,
            dh_floor=emergency.heat_floor(evs, self.area_pos, self.heat_demand_mw(), self.dt_h)
            if any(e.kind == "mobile_heat" for e in evs)
            else None,
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
        water = svc.water
        detail = None
        if self.water is not None:
            dark = np.array([np.asarray(po.detail.dark_bus, dtype=bool) for po in grid.per_step])
            detail = self.water.run(grid.load_frac, dark)
            water = detail.served
        band = self._band(svc) if self.band else None
        radius = self.shelter_radius_km if shelter_radius_km is None else shelter_radius_km
        hours = np.arange(self.n_steps) * self.dt_h
        sheltered = emergency.sheltered(
            evs,
            temps,
            self.population,
            lambda site: self.covered_areas(site, float(radius)),
            hours=hours,
            below_c=self.shelter_below_c,
        )
        return Timeline(
            hours=hours,
            t_out_c=self.t_out_c,
            served_mw=grid.served,
            shed_mw=grid.shed,
            islands=grid.islands,
            light=svc.light,
            heat=svc.heat,
            water=water,
            drained=svc.drained,
            temp_c=temps,
            facility_ok=svc.facility_ok.astype(bool),
            thresholds_c=self.thresholds_c,
            crossing_h=crossing_h,
            hours_below=hours_below,
            population=self.population,
            power=grid.per_step,
            dt_h=self.dt_h,
            sheltered=sheltered,
            step_hours_below=None
            if sheltered is None
            else step_hours_below(temps, self.thresholds_c, self.tau_h, self.dt_h),
            water_detail=detail,
            band=band,
            load_frac=grid.load_frac,
            load_mw=np.maximum(self.net.load_p_mw, 0.0),
        )

    def _band(self, svc: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Threshold crossings and hours below under the ``fast`` and ``slow`` calibrations
        of the same services (the same heat and light, other heat capacities)."""
        out = {}
        for v, params in self._band_params.items():
            tau = thermal.time_constant_h(params["h_w_per_k_m2"], params["c_kj_per_k_m2"])
            _, crossing, below = thermal.indoor_outcomes(
                self.t0_c,  # the setpoints do not depend on the calibration
                self.t_out_c,
                svc.heat,
                svc.light,
                params,
                self.thresholds_c,
                tau,
                dt_h=self.dt_h,
            )
            out[v] = (crossing, below)
        return out


@dataclass(eq=False)
class _GridSeries:
    """The power side of a replay, step by step."""

    load_frac: np.ndarray  # (n_steps, n_load)
    gen_online: np.ndarray  # (n_steps, n_gen) bool
    served: np.ndarray  # (n_steps,) MW
    shed: np.ndarray  # (n_steps,) MW
    islands: np.ndarray  # (n_steps,)
    per_step: list[PowerOutcome]

    @classmethod
    def empty(cls, n: int, n_load: int, n_gen: int) -> _GridSeries:
        return cls(
            np.empty((n, n_load)),
            np.empty((n, n_gen), dtype=bool),
            np.empty(n),
            np.empty(n),
            np.empty(n, dtype=np.int64),
            [],
        )


def _weather(t_out_c: np.ndarray) -> np.ndarray:
    """The outdoor temperature series, checked: a non-empty 1-D array of finite °C."""
    t_out = np.asarray(t_out_c, dtype=float)
    if t_out.ndim != 1 or len(t_out) == 0 or not np.all(np.isfinite(t_out)):
        raise InputError(
            "the outdoor temperature series must be a non-empty list of numbers",
            field="weather",
        )
    return t_out
