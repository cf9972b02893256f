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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ARCHETYPES", "Archetype", "archetype_parameters", "time_constant_h"]

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

    @property
    def tau_h(self) -> float:
        """Time constant C/H, hours."""
        return float(time_constant_h(self.h_w_per_k_m2, self.c_kj_per_k_m2))

    def to_dict(self) -> dict[str, Any]:
        """All fields plus ``tau_h``, as plain JSON-serialisable values."""
        return {**asdict(self), "tau_h": self.tau_h}


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


def archetype_parameters(names: Sequence[str]) -> dict[str, FloatArray]:
    """Per-area parameter arrays for :func:`simulate_indoor`, one entry per area.

    Parameters
    ----------
    names : sequence of str, length n_areas
        Archetype keys of :data:`ARCHETYPES`.

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
    arch = [ARCHETYPES[n] for n in names]
    return {
        "h_w_per_k_m2": np.array([a.h_w_per_k_m2 for a in arch], dtype=float),
        "c_kj_per_k_m2": np.array([a.c_kj_per_k_m2 for a in arch], dtype=float),
        "gain_w_m2": np.array([a.internal_gain_w_m2 for a in arch], dtype=float),
        "outage_gain_w_m2": np.array([a.outage_gain_w_m2 for a in arch], dtype=float),
        "setpoint_c": np.array([a.setpoint_c for a in arch], dtype=float),
    }
