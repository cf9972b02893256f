"""The scenario file (TOML): one pydantic model per section, validated strictly.

Every section and key (docs/architecture.md, "Scenario file (TOML): the minimal
contract", says which of them must keep working)::

    name = "frost-strike"                 # optional; defaults to the file's stem
    [grid]       case = "case118"; services = "auto" | "none" | path
    [damage]     elements = ["line:3", "bus:12", "substation:S4"]
    [impact]     mode = "mld" | "cascade"; trip_factor = 1.0
    [weather]    outdoor_c = -20.0  |  csv = "weather.csv"
    [horizon]    hours = 72; start = "2026-02-03T00:00"
    [repair]     crews = 2; hours = { "line:3" = 8.0 }; default_hours = { gen = 36 }
                 weights = { person_hours_without_heat = 2.0 }; method = "auto"; budget_s = 30
    [thresholds] indoor_c = [18.0, 12.0, 5.0]
    [freeze]     drain_after_h = 6.0; drain_below_c = -10.0; refill_h = 24.0
    [emergency]  generators = 4; generator_mw = 1.0; shelters = 10; shelter_capacity = 1000
                 radius_km = 2.0; deploy_h = 0.0 (mobile generators and warming shelters)
    [water]      inp = "city.inp"; pump_power = { "P1" = "load:water-1" }; required_pressure_m = 20
                 minimum_pressure_m = 0; area_junctions = "areas.csv"; service_share = 0.5
                 (hydraulic water, optional; without it water follows the rule-based buffers)
    [hazard]     model = "explicit" | "random_k" | "fragility" (Monte Carlo damage, optional)
                 elements = [...]                      # explicit
                 k = 3; weights_by_kind = { gen = 4.0, substation = 4.0, branch = 1.0 }
                 prob_by_kind = { line = 0.05 }        # fragility
                 footprint = { center_xy = [12.0, 20.0], radius_km = 8.0, outside_factor = 0.0 }

Every section forbids unknown keys: a typo is an :class:`~warmgrid.errors.InputError`
naming the file, the key and the closest known key. Relative paths (``grid.case`` when it
names an existing file or folder, ``grid.services`` when it is a path, ``weather.csv``,
``water.inp`` when it names an existing file, ``water.area_junctions``)
resolve against the TOML file's folder. A bundled scenario's name works wherever a path
does (:func:`load_scenario`). To extend a section, add a field to its model; to add a
section, add a model and a field on :class:`Scenario`.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from warmgrid.errors import InputError, Problem, closest, quoted

__all__ = [
    "BUNDLED_SCENARIOS_DIR",
    "DamageSection",
    "EmergencySection",
    "FootprintSection",
    "FreezeSection",
    "GridSection",
    "HazardSection",
    "HorizonSection",
    "ImpactSection",
    "RepairSection",
    "Scenario",
    "ServicesSection",
    "ThermalSection",
    "ThresholdsSection",
    "WaterSection",
    "WeatherSection",
    "bundled_scenarios",
    "load_scenario",
    "parse_scenario",
]

#: Where bundled scenarios live: ``<name>.toml``.
BUNDLED_SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "examples" / "scenarios"


#: Sane upper bounds of scenario numbers: far beyond any real city, small enough that a
#: typo (``crews = 1000000000000``) is an error rather than an out-of-memory crash.
MAX_HOURS = 24.0 * 366 * 2  # repair or buffer hours: two years
MAX_COUNT = 100_000  # crews, generators, shelters, random elements per sample
MAX_WEIGHT = 1e9

#: An indoor or outdoor temperature, °C.
Celsius = Annotated[float, Field(ge=-90.0, le=60.0)]
#: Hours, >= 0.
Hours = Annotated[float, Field(ge=0.0, le=MAX_HOURS)]


class _Section(BaseModel):
    # allow_inf_nan=False: every float of every section rejects NaN and infinity;
    # strict: a value of the wrong type is refused, not coerced (``hours = true`` is not
    # 1 h, ``crews = "3"`` not 3); an integer is still a float, and the fields that read
    # TOML text or arrays (a start time, a coordinate pair) say so themselves
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class GridSection(_Section):
    """``[grid]``: the case (bundled name or path) and the services overlay."""

    case: str
    services: str = "auto"


class ServicesSection(_Section):
    """``[services]``: how ``[grid] services = "auto"`` invents an overlay for a grid
    that has none (every value is stated in the output as an assumption).

    ``people_per_mw``: persons per MW of each load (a Kyiv-like city's ~3.6 M residents on
    a winter peak of up to 1.5–1.7 GW give ~2,100–2,400/MW; docs/sources.md, "City
    ballpark figures"); ``archetype``: the building type of every district (a key of the
    thermal archetypes).
    """

    people_per_mw: float = Field(2000.0, gt=0, le=1e6)
    archetype: str = "panel9"


class DamageSection(_Section):
    """``[damage]``: element ids taken out at hour 0 (substations included)."""

    elements: list[str] = Field(default_factory=list)


class ImpactSection(_Section):
    """``[impact]``: ``mld`` (best operator response) or ``cascade`` (nobody acts);
    ``ac_check`` verifies each state's DC answer in AC and sheds more load, lowest
    priority first, where the voltages do not hold (:mod:`warmgrid.power.ac_check`);
    ``unit_minimums`` is how the MLD treats ``p_min`` (``continuous``: a commitment
    fraction per unit, as PowerModelsRestoration; ``relaxed``: down to 0)."""

    mode: Literal["mld", "cascade"] = "mld"
    trip_factor: float = Field(1.0, gt=0, le=10)
    ac_check: bool = False
    unit_minimums: Literal["continuous", "relaxed"] = "continuous"


class WeatherSection(_Section):
    """``[weather]``: a constant outdoor temperature or an hourly CSV (``time,outdoor_c``).

    With neither, −20 °C (the night of 3 February 2026 in Kyiv; docs/sources.md, "What the
    reference scenario is about").
    """

    outdoor_c: float | None = Field(None, ge=-70, le=60)
    csv: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> WeatherSection:
        if self.outdoor_c is not None and self.csv is not None:
            raise ValueError("give one of outdoor_c or csv, not both")
        if self.outdoor_c is None and self.csv is None:
            object.__setattr__(self, "outdoor_c", -20.0)
        return self


class HorizonSection(_Section):
    """``[horizon]``: hours simulated and an optional start time (ISO 8601)."""

    hours: int = Field(72, gt=0, le=24 * 366)
    start: datetime | None = Field(None, strict=False)

    @field_validator("start", mode="before")
    @classmethod
    def _a_date(cls, v: object) -> object:
        if v is not None and not isinstance(v, (str, datetime)):
            raise ValueError(f"must be a date and time like 2026-02-03T00:00, got {v!r}")
        return v

    @field_validator("start")
    @classmethod
    def _plausible_year(cls, v: datetime | None) -> datetime | None:
        if v is not None and not (1900 <= v.year <= 2200):
            raise ValueError(f"the year must be within 1900…2200, got {v.year}")
        return v


class RepairSection(_Section):
    """``[repair]``: crews, repair hours and the restoration objective.

    ``hours`` overrides one element (``{"line:3" = 8.0}``), ``default_hours`` one kind
    (``{gen = 36, substation = 72}``; kinds and defaults in
    :mod:`warmgrid.restore.durations`). ``weights`` weighs the objective's terms (metric
    names of ``Timeline.metrics()``, defaults in :mod:`warmgrid.restore.schedule`).
    ``method`` and ``budget_s`` choose the optimiser and its time budget.
    """

    crews: int = Field(1, ge=1, le=MAX_COUNT)
    hours: dict[str, float] = Field(default_factory=dict)
    default_hours: dict[str, float] = Field(default_factory=dict)
    weights: dict[str, float] = Field(default_factory=dict)
    method: Literal["auto", "brute", "local", "greedy", "rule"] = "auto"
    budget_s: float = Field(30.0, gt=0, le=7 * 86400.0)

    @field_validator("hours", "default_hours")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for k, h in v.items():
            if not 0 < h <= MAX_HOURS:
                raise ValueError(
                    f"repair hours of {quoted(k)} must be > 0 and <= {MAX_HOURS:g}, got {h}"
                )
        return v

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        for k, w in v.items():
            if not 0 <= w <= MAX_WEIGHT:
                raise ValueError(
                    f"weight of {quoted(k)} must be >= 0 and <= {MAX_WEIGHT:g}, got {w}"
                )
        return v


class ThresholdsSection(_Section):
    """``[thresholds]``: indoor temperatures whose crossings are counted, °C."""

    indoor_c: list[Celsius] = Field(
        default_factory=lambda: [18.0, 12.0, 5.0], min_length=1, max_length=20
    )


class ArchetypeParameters(_Section):
    """A city's own parameters of one building archetype: ``tau_h`` (hours; C follows
    from the archetype's H) or ``c_kj_per_k_m2``, optionally with ``h_w_per_k_m2``."""

    h_w_per_k_m2: float | None = Field(None, gt=0, le=50.0)
    c_kj_per_k_m2: float | None = Field(None, gt=0, le=1e5)
    tau_h: float | None = Field(None, gt=0, le=1e5)

    @model_validator(mode="after")
    def _one_capacity(self) -> ArchetypeParameters:
        if self.tau_h is not None and self.c_kj_per_k_m2 is not None:
            raise ValueError("give tau_h or c_kj_per_k_m2, not both")
        if self.tau_h is None and self.c_kj_per_k_m2 is None and self.h_w_per_k_m2 is None:
            raise ValueError("give tau_h, c_kj_per_k_m2 or h_w_per_k_m2")
        return self


class ThermalSection(_Section):
    """``[thermal]``: how fast homes cool.

    ``calibration`` picks the building parameters used for the figures and for decisions
    (restoration objective, shelter siting): ``central`` (default), ``fast``, ``slow``, or
    one source's (``expert``, ``guidance``); every output also gives the fast-slow range.
    ``archetypes`` replaces an archetype's parameters with a city's own measurements
    (``{ panel9 = { tau_h = 80 } }``).
    """

    calibration: Literal["central", "fast", "slow", "expert", "guidance"] = "central"
    archetypes: dict[str, ArchetypeParameters] = Field(default_factory=dict)

    @field_validator("archetypes")
    @classmethod
    def _known(cls, v: dict[str, ArchetypeParameters]) -> dict[str, ArchetypeParameters]:
        from warmgrid.model.archetypes import ARCHETYPES

        for k in v:
            if k not in ARCHETYPES:
                raise ValueError(f"unknown archetype {quoted(k)}{closest(k, list(ARCHETYPES))}")
        return v

    def overrides(self) -> dict[str, dict[str, float]]:
        """The archetype overrides as plain numbers (None left out)."""
        return {
            k: {f: float(x) for f, x in p.model_dump().items() if x is not None}
            for k, p in self.archetypes.items()
        }


class FreezeSection(_Section):
    """``[freeze]``: freeze protection of stopped district heating (docs/sources.md,
    "Freeze protection")."""

    drain_after_h: Hours = 6.0
    drain_below_c: Celsius = -10.0
    refill_h: Hours = 24.0


class EmergencySection(_Section):
    """``[emergency]``: a fleet of mobile generators and warming shelters to site
    (:mod:`warmgrid.restore.emergency`).

    Defaults (docs/sources.md, "Mobile units" and "Warming shelters"): generators of 1 MW
    (0.6-2 MW units bring a boiler house back within hours); shelters for 1,000 persons
    (Kyiv ran 211 mobile points for more than 200,000 people); people walk to a shelter
    within ``radius_km`` of their area; trucks arrive ``deploy_h`` hours after hour 0.
    """

    generators: int = Field(0, ge=0, le=MAX_COUNT)
    generator_mw: float = Field(1.0, gt=0, le=10_000.0)
    shelters: int = Field(0, ge=0, le=MAX_COUNT)
    shelter_capacity: float = Field(1000.0, gt=0, le=1e7)
    radius_km: float = Field(2.0, ge=0, le=1000.0)
    deploy_h: Hours = 0.0
    method: Literal["auto", "brute", "greedy", "milp"] = "auto"


class FootprintSection(_Section):
    """``[hazard] footprint``: a disc on the map (see :class:`warmgrid.hazard.Footprint`)."""

    center_xy: tuple[
        Annotated[float, Field(ge=-1e7, le=1e7)], Annotated[float, Field(ge=-1e7, le=1e7)]
    ] = Field(strict=False)  # a TOML array
    radius_km: float = Field(gt=0, le=20_000.0)
    outside_factor: float = Field(0.0, ge=0, le=1)
    lonlat: bool = False

    @model_validator(mode="after")
    def _on_earth(self) -> FootprintSection:
        """Longitude and latitude within their ranges when the grid's coordinates are
        degrees (``lonlat``); the map coordinates (km) within ±10,000,000 otherwise."""
        lon, lat = self.center_xy
        if self.lonlat and not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise ValueError(
                f"center_xy = [{lon:g}, {lat:g}] is not a longitude in [-180, 180] and a "
                "latitude in [-90, 90] (lonlat = true)"
            )
        return self


class HazardSection(_Section):
    """``[hazard]``: how a Monte Carlo sample draws damage (:mod:`warmgrid.hazard`).

    Every sample's damage is ``[damage] elements`` plus one draw of this model.
    ``thermal = "band"`` also draws each sample's building time constants, log-uniform
    between the fast and the slow calibration (one draw for all archetypes: a city's
    buildings are all as slow or as fast as the sources say), so the outcome
    distributions include that uncertainty; ``"fixed"`` (default) uses ``[thermal]
    calibration`` for every sample.
    """

    model: Literal["explicit", "random_k", "fragility"]
    thermal: Literal["fixed", "band"] = "fixed"
    elements: list[str] = Field(default_factory=list)
    k: int | None = Field(None, ge=1, le=MAX_COUNT)
    weights_by_kind: dict[str, Annotated[float, Field(ge=0, le=MAX_WEIGHT)]] | None = None
    prob_by_kind: dict[str, Annotated[float, Field(ge=0, le=1)]] | None = None
    footprint: FootprintSection | None = None

    @model_validator(mode="after")
    def _params(self) -> HazardSection:
        allowed = {
            "explicit": {"elements"},
            "random_k": {"k", "weights_by_kind"},
            "fragility": {"prob_by_kind", "footprint"},
        }[self.model]
        given = {
            f for f in type(self).model_fields if f not in ("model", "thermal") and getattr(self, f)
        }
        extra = sorted(given - allowed)
        if extra:
            raise ValueError(
                f"model {self.model!r} takes {', '.join(sorted(allowed))}; not {', '.join(extra)}"
            )
        if self.model == "random_k" and self.k is None:
            raise ValueError("model 'random_k' needs k")
        if self.model == "fragility" and self.prob_by_kind is None:
            raise ValueError("model 'fragility' needs prob_by_kind")
        return self


class WaterSection(_Section):
    """``[water]``: hydraulic water service (:mod:`warmgrid.water`) instead of the rule-based
    water of the services overlay.

    ``inp`` is an EPANET file (relative to the TOML's folder) or a bundled network name;
    ``pump_power`` maps EPANET pump ids (verbatim) to the grid load or bus that powers each
    (pumps not named keep power). ``required_pressure_m`` and ``minimum_pressure_m`` set
    the pressure-dependent demand curve (EPANET 2.2 PDA; Wagner et al. 1988).
    ``area_junctions`` is an ``area,junction,share`` CSV; without it each junction feeds
    its nearest area (an assumption the reports state). An area is without water in an
    hour when less than ``service_share`` of its demand is delivered.
    """

    inp: str = Field(min_length=1)
    pump_power: dict[str, str] = Field(default_factory=dict)
    required_pressure_m: float = Field(20.0, gt=0, le=200)
    minimum_pressure_m: float = Field(0.0, ge=0, le=200)
    area_junctions: str | None = None
    service_share: float = Field(0.5, gt=0, le=1)

    @model_validator(mode="after")
    def _pressures(self) -> WaterSection:
        if self.required_pressure_m < self.minimum_pressure_m + 0.1:
            raise ValueError(
                f"required_pressure_m ({self.required_pressure_m}) must exceed "
                f"minimum_pressure_m ({self.minimum_pressure_m}) by at least 0.1 m"
            )
        return self


class Scenario(_Section):
    """A whole scenario file.

    ``source`` is the TOML file it came from (None when built in code); it anchors
    relative paths and is named in every error.
    """

    name: str = ""
    grid: GridSection
    services: ServicesSection = Field(default_factory=ServicesSection)
    damage: DamageSection = Field(default_factory=DamageSection)
    impact: ImpactSection = Field(default_factory=ImpactSection)
    weather: WeatherSection = Field(default_factory=WeatherSection)
    horizon: HorizonSection = Field(default_factory=HorizonSection)
    repair: RepairSection = Field(default_factory=RepairSection)
    thresholds: ThresholdsSection = Field(default_factory=ThresholdsSection)
    freeze: FreezeSection = Field(default_factory=FreezeSection)
    thermal: ThermalSection = Field(default_factory=ThermalSection)
    hazard: HazardSection | None = None
    emergency: EmergencySection | None = None
    water: WaterSection | None = None
    source: Path | None = Field(None, exclude=True)

    # ---------------------------------------------------------------- resolved paths
    @property
    def folder(self) -> Path:
        return self.source.parent if self.source is not None else Path.cwd()

    def _resolve(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.folder / p).resolve()

    @property
    def case_path(self) -> str:
        """``grid.case`` as a path when it names a file or folder next to the TOML, else as given."""
        p = self._resolve(self.grid.case)
        return str(p) if p.exists() else self.grid.case

    @property
    def services_path(self) -> str:
        """``grid.services``: ``auto``, ``none``, or a resolved path."""
        s = self.grid.services
        return s if s in ("auto", "none") else str(self._resolve(s))

    @property
    def weather_csv_path(self) -> Path | None:
        return self._resolve(self.weather.csv) if self.weather.csv is not None else None

    @property
    def water_inp_path(self) -> str | None:
        """``water.inp`` as a path when it names a file next to the TOML, else as given
        (a bundled network name); None without a ``[water]`` section."""
        if self.water is None:
            return None
        p = self._resolve(self.water.inp)
        return str(p) if p.exists() else self.water.inp

    @property
    def water_area_junctions_path(self) -> Path | None:
        if self.water is None or self.water.area_junctions is None:
            return None
        return self._resolve(self.water.area_junctions)


def bundled_scenarios() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.stem for p in BUNDLED_SCENARIOS_DIR.glob("*.toml"))


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the key at ``loc`` (for suggesting the closest key)."""
    model: type[BaseModel] = Scenario
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        ann = field.annotation if field is not None else None
        if ann is not None and not isinstance(ann, type):  # Optional[Section]
            ann = next(
                (a for a in get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)),
                None,
            )
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def _problems(err: ValidationError, file: str) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(x) for x in loc)
        if e["type"] == "extra_forbidden":
            model = _model_at(loc)
            known = list(model.model_fields) if model is not None else []
            known = [k for k in known if k != "source"]
            msg = f"unknown key {quoted(key)}{closest(str(loc[-1]), known)}"
            if not closest(str(loc[-1]), known) and known:
                msg += f"; known keys: {', '.join(known)}"
        elif e["type"] == "missing":
            msg = f"missing key {key!r}"
        else:
            msg = f"{key}: {e['msg']}"
            if "input" in e and not isinstance(e["input"], (dict, list)):
                msg += f" (got {e['input']!r})"
        out.append(Problem(msg, file, None, key or None))
    return out


def parse_scenario(data: dict[str, Any], *, source: str | Path | None = None) -> Scenario:
    """Validate a scenario given as a dict (parsed TOML); errors name ``source``."""
    src = Path(source).resolve() if source is not None else None
    name = data.get("name") or (src.stem if src is not None else "scenario")
    try:
        return Scenario.model_validate({**data, "name": name, "source": src})
    except ValidationError as err:
        raise InputError(problems=_problems(err, str(source) if source else "scenario")) from None


def load_scenario(path_or_name: str | Path) -> Scenario:
    """Read a scenario TOML file, or a bundled scenario by name (``frost-strike``).

    Raises
    ------
    InputError : no such file or bundled name (with the closest names), a TOML syntax
        error, an unknown key (with the closest key) or a bad value.
    """
    p = Path(path_or_name).expanduser()
    if not p.exists():
        bundled = BUNDLED_SCENARIOS_DIR / f"{path_or_name}.toml"
        if bundled.exists() and "/" not in str(path_or_name):
            p = bundled
        else:
            names = bundled_scenarios()
            raise InputError(
                f"no such scenario file or bundled scenario{closest(str(path_or_name), names)}"
                + (f" (bundled: {', '.join(names)})" if names else ""),
                file=str(path_or_name),
            )
    if p.is_dir():
        raise InputError("is a directory, expected a scenario .toml file", file=str(p))
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text, expected a scenario .toml file", file=str(p)) from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"TOML syntax error: {e}", file=str(p)) from None
    return parse_scenario(data, source=p)
