"""Building archetypes: the thermal parameters of each building type, as data.

The model itself (a 1R1C node per m² of floor, integrated exactly) lives in
:mod:`warmgrid.services.thermal`; this module holds the catalogue that the services
overlay names (``areas.archetype``) and that the thermal model reads.

Sources (see the "Indoor temperature" section of ``docs/model.md``)
-------------------------------------------------------------------
* Cooling times of Kyiv buildings in severe frost, expert estimates, January 2026,
  indicative: 16-storey panel 3–12 h, 9-storey panel 12–24 h, 5-storey panel about 36 h,
  5-storey brick 45–50 h (money.comments.ua, "panelki-zamerzayut-pervymi"). We read
  "lose their heat" as falling from 20 °C to 12 °C, the cardiovascular-strain threshold
  (UK HHSRS bands, eas.org.uk), at −20 °C outside with heat off and occupant gains only.
* ISO 13790:2008 (5R1C, open implementation RC_BuildingSimulator): capacitance classes
  per m² of floor of 165 (medium), 260 (heavy) and 370 (very heavy) kJ/(m²·K).
* 1R1C hand estimate for an unrenovated 50 m² panel flat: H ≈ 73 W/K (1.46 W/(K·m²)),
  C = 165–260 kJ/(m²·K), τ = 30–50 h (derived, not published).
* Occupant sensible heat ≈ 70 W per person at rest (ASHRAE Handbook—Fundamentals,
  ch. 18, Table 1, indicative).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ARCHETYPES",
    "CALIBRATIONS",
    "PUBLISHED",
    "Archetype",
    "Published",
    "archetype_parameters",
    "fit_c_kj_per_k_m2",
    "time_constant_h",
]

#: Calibrations of the heat capacity C (H and the gains are the same in all): ``expert``
#: (Ukrainian expert estimates), ``guidance`` (Finnish rescue guidance and measured test
#: cells), and for decisions ``fast`` and ``slow`` (the smaller and the larger τ of the
#: two, per archetype: the band) and ``central`` (the geometric mean of their τ).
CALIBRATIONS = ("central", "fast", "slow", "expert", "guidance")

FloatArray = NDArray[np.float64]

_OCCUPANT_W = 70.0
"""Sensible heat of one person at rest, W (ASHRAE Fundamentals ch. 18, indicative)."""
_APPLIANCE_W_M2 = 3.0
"""Appliances and lighting while powered, W/m² (assumed, indicative)."""


def time_constant_h(h_w_per_k_m2: ArrayLike, c_kj_per_k_m2: ArrayLike) -> FloatArray:
    """Time constant τ = C/H in hours, elementwise (H in W/(K·m²), C in kJ/(K·m²))."""
    c = np.asarray(c_kj_per_k_m2, dtype=float)
    return c * 1000.0 / (np.asarray(h_w_per_k_m2, dtype=float) * 3600.0)


@dataclass(frozen=True)
class Archetype:
    """Thermal parameters of one building type, per m² of heated floor.

    Attributes
    ----------
    name, description : str
        Short key and a human description.
    h_w_per_k_m2, c_kj_per_k_m2 : float
        Heat-loss coefficient H (transmission and ventilation), W/(K·m²), and effective
        heat capacity C, kJ/(K·m²).
    internal_gain_w_m2, outage_gain_w_m2 : float
        Internal gains with power (occupants and appliances) and without it (occupants
        only), W/m².
    setpoint_c, floor_m2_per_person : float
        Indoor temperature held with full heat, °C; heated floor per resident, m².
    source : str
        Where the numbers come from.
    guidance_c_kj_per_k_m2 : float
        C of the ``guidance`` calibration (:data:`PUBLISHED`), kJ/(K·m²).
    guidance_source : str
        The published row it is fitted to.
    """

    name: str
    description: str
    h_w_per_k_m2: float
    c_kj_per_k_m2: float
    internal_gain_w_m2: float
    outage_gain_w_m2: float
    setpoint_c: float
    floor_m2_per_person: float
    source: str
    guidance_c_kj_per_k_m2: float = float("nan")
    guidance_source: str = ""

    @property
    def tau_h(self) -> float:
        """Time constant C/H of the expert calibration, hours."""
        return float(time_constant_h(self.h_w_per_k_m2, self.c_kj_per_k_m2))

    def c_for(self, calibration: str) -> float:
        """C of a calibration (:data:`CALIBRATIONS`), kJ/(K·m²).

        ``fast`` and ``slow`` are the smaller and larger of the expert and guidance C (for
        panel5 the expert estimate is the slower one); ``central`` is their geometric
        mean, i.e. the geometric mean of τ (H is common): halfway between them on the
        log scale the sources disagree on (a factor of about 4), so neither source's
        bias wins.
        """
        e, g = self.c_kj_per_k_m2, self.guidance_c_kj_per_k_m2
        if calibration == "expert" or not np.isfinite(g):
            return e
        return {
            "guidance": g,
            "fast": min(e, g),
            "slow": max(e, g),
            "central": float(np.sqrt(e * g)),
        }[calibration]

    def tau_for(self, calibration: str) -> float:
        """Time constant of a calibration, hours."""
        return float(time_constant_h(self.h_w_per_k_m2, self.c_for(calibration)))

    def to_dict(self, calibration: str = "expert") -> dict[str, Any]:
        """All fields plus the ``tau_h`` and ``c_kj_per_k_m2_used`` of ``calibration``, the
        band's ``tau_h_range`` and each source's τ, as plain JSON-serialisable values."""
        return {
            **asdict(self),
            "calibration": calibration,
            "c_kj_per_k_m2_used": self.c_for(calibration),
            "tau_h": self.tau_for(calibration),
            "tau_h_range": [self.tau_for("fast"), self.tau_for("slow")],
            "tau_h_expert": self.tau_h,
            "tau_h_guidance": self.tau_for("guidance"),
        }


@dataclass(frozen=True)
class Published:
    """One published cooling time: a building type left without heat.

    Attributes
    ----------
    building : the building as the source describes it.
    archetype : the archetype it maps to.
    t_out_c, t0_c, target_c : outdoor, starting and reached indoor temperature, °C.
    hours : the time to reach ``target_c``, h.
    occupied : the building holds its occupants (their heat counts) or is an empty cell.
    fitted : the ``guidance`` C of ``archetype`` is fitted to this row.
    source : where it comes from.
    """

    building: str
    archetype: str
    t_out_c: float
    t0_c: float
    target_c: float
    hours: float
    occupied: bool
    fitted: bool
    source: str


_SPEK = "SPEK (Finnish National Rescue Association), moas.fi guidance, reported by MTV 28 Jan 2026"
_BAUMIT = "Baumit Viva research park, 3x4 m test cells, 48 h without heat at -12 °C"

#: The published cooling times the ``guidance`` calibration is fitted to and checked
#: against (``tests/validation/test_cooling_times.py``). Test cells are empty: no gains.
PUBLISHED: tuple[Published, ...] = (
    Published(
        "precast-element (panel) apartment block", "panel16", -20, 21, 10, 36, True, True, _SPEK
    ),
    Published(
        "precast-element (panel) apartment block", "panel9", -20, 21, 10, 36, True, True, _SPEK
    ),
    Published(
        "precast-element (panel) apartment block", "panel5", -20, 21, 10, 36, True, True, _SPEK
    ),
    Published("solid masonry apartment block", "brick5", -20, 21, 10, 96, True, True, _SPEK),
    Published("small stone house", "house", -20, 21, 10, 30, True, True, _SPEK),
    Published("small wooden house", "house", -20, 21, 10, 18, True, False, _SPEK),
    Published("insulated massive test cell", "modern", -12, 21, 16, 48, False, True, _BAUMIT),
    Published("uninsulated brick test cell", "house", -12, 21, 4, 48, False, False, _BAUMIT),
)


def fit_c_kj_per_k_m2(h_w_per_k_m2: float, gain_w_m2: float, row: Published) -> float:
    """The C that makes the 1R1C model reach ``row.target_c`` in ``row.hours``.

    With heat off, ``T(t) = T_eq + (T0 − T_eq) e^{−t/τ}``, ``T_eq = T_out + gain/H``, so
    ``τ = t / ln((T0 − T_eq)/(T_target − T_eq))`` and ``C = 3.6 τ H`` (kJ/(K·m²)).

    >>> round(fit_c_kj_per_k_m2(1.0, 0.0, Published("", "", -20, 21, 10, 36, False, True, "")), 1)
    414.9
    """
    t_eq = row.t_out_c + (gain_w_m2 if row.occupied else 0.0) / h_w_per_k_m2
    tau = row.hours / np.log((row.t0_c - t_eq) / (row.target_c - t_eq))
    return float(3.6 * tau * h_w_per_k_m2)


_EXPERT = "money.comments.ua 'panelki-zamerzayut-pervymi' (Jan 2026, indicative)"
_GAINS = "gains 70 W/person (ASHRAE Fundamentals ch. 18) + 3 W/m² appliances (assumed)"
_DESCRIPTIONS = {
    "panel16": "16-storey prefab concrete panel block, 1970s–80s",
    "panel9": "9-storey prefab concrete panel block, 1970s–80s",
    "panel5": "5-storey prefab panel block ('khrushchyovka'), 1950s–60s",
    "brick5": "5-storey brick block, 1950s–70s",
    "modern": "modern insulated block, post-2010",
    "house": "private house, masonry, partly insulated",
}
_PARAMS = {  # name: (H W/(K·m²), C kJ/(K·m²), floor m²/person (assumed), basis of H and C)
    "panel16": (2.4, 220.0, 20.0, f"calibrated to 3–12 h, {_EXPERT}"),
    "panel9": (1.9, 480.0, 20.0, f"calibrated to 12–24 h, {_EXPERT}"),
    "panel5": (1.5, 800.0, 18.0, f"calibrated to about 36 h, {_EXPERT}"),
    "brick5": (1.3, 920.0, 20.0, f"calibrated to 45–50 h, {_EXPERT}"),
    "modern": (0.8, 260.0, 30.0, "assumed, no published cooling time; C: ISO 13790 heavy"),
    "house": (2.2, 420.0, 40.0, "assumed, no published cooling time"),
}


def _fitted(name: str) -> Published:
    return next(r for r in PUBLISHED if r.archetype == name and r.fitted)


ARCHETYPES: dict[str, Archetype] = {
    name: Archetype(
        name=name,
        description=_DESCRIPTIONS[name],
        h_w_per_k_m2=h,
        c_kj_per_k_m2=c,
        internal_gain_w_m2=_OCCUPANT_W / m2pp + _APPLIANCE_W_M2,
        outage_gain_w_m2=_OCCUPANT_W / m2pp,
        setpoint_c=20.0,
        floor_m2_per_person=m2pp,
        source=f"H, C {basis}; {_GAINS}; setpoint 20 °C (assumed)",
        guidance_c_kj_per_k_m2=round(fit_c_kj_per_k_m2(h, _OCCUPANT_W / m2pp, _fitted(name)), 1),
        guidance_source=(
            f"C fitted to {_fitted(name).building}: {_fitted(name).t0_c:g}→"
            f"{_fitted(name).target_c:g} °C in {_fitted(name).hours:g} h at "
            f"{_fitted(name).t_out_c:g} °C ({_fitted(name).source})"
        ),
    )
    for name, (h, c, m2pp, basis) in _PARAMS.items()
}
"""Building archetypes by key.

20→12 °C at −20 °C outside, heat off, occupant gains only (τ in brackets): panel16 5.9 h
(25 h), panel9 16.5 h (70 h), panel5 35.6 h (148 h), brick5 47.4 h (197 h), modern 21.9 h
(90 h), house 12.1 h (53 h). panel16 H is above the 1.46 W/(K·m²) hand estimate (tall,
exposed, leaky joints). The slow archetypes need a C well above the ISO 13790 very-heavy
class (370 kJ/(m²·K)); for brick5 it is of the order of a rough mass take-off of 0.5 m
brick walls and slabs (~1 MJ/(K·m²), our estimate). The expert times imply more inertia
than a standard 1R1C fit: treat them, like their source, as indicative.
"""


def archetype_parameters(
    names: Sequence[str],
    calibration: str = "expert",
    overrides: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, FloatArray]:
    """Per-area parameter arrays for :func:`simulate_indoor`, one entry per area.

    Parameters
    ----------
    names : sequence of str, length n_areas
        Archetype keys of :data:`ARCHETYPES`.
    calibration : one of :data:`CALIBRATIONS` (which C).
    overrides : archetype -> ``{"h_w_per_k_m2": H, "c_kj_per_k_m2": C}`` or
        ``{"tau_h": τ}`` (C = 3.6 τ H), a city's own measurements; they replace every
        calibration's value for that archetype.

    Returns
    -------
    dict of str to ndarray, each shape (n_areas,)
        Keys ``h_w_per_k_m2``, ``c_kj_per_k_m2``, ``gain_w_m2``, ``outage_gain_w_m2``,
        ``setpoint_c``, ready for ``simulate_indoor(..., **params)``.
    """
    for n in names:
        if n not in ARCHETYPES:
            close = difflib.get_close_matches(n, list(ARCHETYPES), n=3)
            raise ValueError(f"unknown archetype {n!r}; closest known: {close or list(ARCHETYPES)}")
    if calibration not in CALIBRATIONS:
        raise ValueError(
            f"calibration must be one of {', '.join(CALIBRATIONS)}, got {calibration!r}"
        )
    arch = [ARCHETYPES[n] for n in names]
    h = np.array([a.h_w_per_k_m2 for a in arch], dtype=float)
    c = np.array([a.c_for(calibration) for a in arch], dtype=float)
    for i, n in enumerate(names):
        o = (overrides or {}).get(n)
        if o:
            h[i] = float(o.get("h_w_per_k_m2", h[i]))
            c[i] = (
                float(o["c_kj_per_k_m2"])
                if "c_kj_per_k_m2" in o
                else (3.6 * float(o["tau_h"]) * h[i] if "tau_h" in o else c[i])
            )
    return {
        "h_w_per_k_m2": h,
        "c_kj_per_k_m2": c,
        "gain_w_m2": np.array([a.internal_gain_w_m2 for a in arch], dtype=float),
        "outage_gain_w_m2": np.array([a.outage_gain_w_m2 for a in arch], dtype=float),
        "setpoint_c": np.array([a.setpoint_c for a in arch], dtype=float),
    }
