"""Damage generators: which elements a hazard takes out, one random draw at a time.

Each generator is an object with keyword-only parameters stored as given, and a
``sample(target, rng) -> list[str]`` method (after scikit-learn; docs/architecture.md,
"House habits", 7). ``target`` is a compiled :class:`~warmgrid.power.network.Network`, a
``Simulator`` (its ``.net``) or a prepared :class:`HazardContext`; ``rng`` is a numpy
``Generator`` (one stream per Monte Carlo sample, :mod:`warmgrid.rng`).

Element kinds (the keys of ``weights_by_kind`` and ``prob_by_kind``) are those of
:mod:`warmgrid.power.elements`, the one taxonomy: a specific kind (``line``, ``trafo``,
``impedance``, ``external``, ``static``, ``gen``, ``substation``,
``distribution_substation``, ``bus``) or a general one (``branch``, ``gen``,
``substation``, ``bus``) that names all of its specific kinds.

The specific key wins: with ``{"branch": 1, "line": 5}`` lines weigh 5 and transformers
1. Elements out of service in the base case are never drawn (they are already out).

Models and their sources (all figures here are user inputs; none is a default claim):

* :class:`Explicit`: a fixed list (the scenario's ``[damage]``).
* :class:`RandomK`: ``k`` distinct elements drawn without replacement, each with
  probability proportional to its kind's weight (an attacker or a fault with a preference
  for plants and substations: strikes on Ukraine's energy infrastructure hit Kyiv's CHP
  plants in January 2026, and four 750 kV substations had to be restored;
  docs/sources.md, "What the reference scenario is about" and "Repair times and crews").
  :data:`STRIKE_WEIGHTS` is an indicative preset, not a measured one.
* :class:`Fragility`: each element fails independently with its kind's probability, the
  Bernoulli form of a fragility curve evaluated at one hazard intensity (e.g. Panteli &
  Mancarella, "Modeling and evaluating the resilience of critical electrical power
  infrastructure to extreme weather events", IEEE Systems Journal 11(3), 2017, fragility
  of lines and towers to wind; HAZUS-MH for substations; WNTR's ``scenario.fragility``
  has the same structure). An optional :class:`Footprint` (a disc on the map) restricts
  the failures to, or concentrates them in, the struck region: an ice storm hits the
  overhead lines it crosses.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from warmgrid.errors import InputError, closest, quoted
from warmgrid.power.elements import KINDS as ELEMENT_KINDS
from warmgrid.power.elements import element_kind, general_kind

if TYPE_CHECKING:
    from warmgrid.model.scenario import Scenario

__all__ = [
    "KINDS",
    "STRIKE_WEIGHTS",
    "Explicit",
    "Footprint",
    "Fragility",
    "Hazard",
    "HazardContext",
    "RandomK",
    "hazard_context",
    "hazard_from_scenario",
]

#: The element kinds a hazard can target (see the module docstring): every kind but loads
#: and shunts, which a strike or a storm takes out with their bus.
KINDS = tuple(k for k in ELEMENT_KINDS if general_kind(k) not in ("load", "shunt"))

#: Indicative strike preference (per element): plants and substations over lines.
#: Illustrative only: the ratio is not a measured figure.
STRIKE_WEIGHTS: dict[str, float] = {"gen": 4.0, "substation": 4.0, "branch": 1.0}


_UNIFORM = {"branch": 1.0, "gen": 1.0, "substation": 1.0}


@dataclass(frozen=True, eq=False)
class HazardContext:
    """The candidate elements of a network, with their kinds and map positions.

    Attributes
    ----------
    ids : (n,) element ids: branches, generators, substations, buses, in that order.
    kind : (n,) most specific kind of each (``line``, ``trafo``, ``external``, ``gen``,
        ``substation``, ``bus``).
    general : (n,) general kind (``branch``, ``gen``, ``substation``, ``bus``).
    xy0, xy1 : (n, 2) the two ends of each element on the map, in the grid's coordinate
        units (``Grid.bus`` ``x, y``; km for winter-city). A branch is its segment; a
        generator or bus a point (xy0 == xy1); a substation the centroid of its buses.
        NaN where the buses have no coordinates.
    """

    ids: np.ndarray
    kind: np.ndarray
    general: np.ndarray
    xy0: np.ndarray
    xy1: np.ndarray

    @classmethod
    def from_network(cls, net: Any) -> HazardContext:
        """Build the candidates of a compiled network (in-service elements only)."""
        on = net.base_state
        xy = np.asarray(net.bus_xy, dtype=float)
        br = np.flatnonzero(on.branch_on)
        gn = np.flatnonzero(on.gen_on)
        groups = sorted(net.groups)
        with np.errstate(all="ignore"):
            sxy = np.array([np.nanmean(xy[net.groups[g]], axis=0) for g in groups]).reshape(-1, 2)
        bus = np.flatnonzero(on.bus_on)
        ids = np.concatenate(
            [
                np.asarray(net.branch_ids, dtype=object)[br],
                np.asarray(net.gen_ids, dtype=object)[gn],
                np.array(groups, dtype=object),
                np.asarray(net.bus_ids, dtype=object)[bus],
            ]
        )
        kind = np.array(
            [
                *(element_kind(net, e) for e in np.asarray(net.branch_ids)[br].tolist()),
                *(element_kind(net, e) for e in np.asarray(net.gen_ids)[gn].tolist()),
                *(element_kind(net, g) for g in groups),
                *(["bus"] * len(bus)),
            ],
            dtype=object,
        )
        general = np.array([general_kind(k) for k in kind], dtype=object)
        xy0 = np.vstack([xy[net.f[br]], xy[net.gen_bus[gn]], sxy, xy[bus]])
        xy1 = np.vstack([xy[net.t[br]], xy[net.gen_bus[gn]], sxy, xy[bus]])
        return cls(ids=ids.astype(str), kind=kind, general=general, xy0=xy0, xy1=xy1)

    def per_element(self, by_kind: Mapping[str, float], *, name: str) -> np.ndarray:
        """(n,) value of each element from a per-kind mapping (the specific kind wins; 0 else)."""
        _check_kinds(by_kind, name)
        out = np.zeros(len(self.ids))
        general = {"bus", "substation", "gen", "branch"}
        for key in general & set(by_kind):  # general kinds first
            out[self.general == key] = float(by_kind[key])
        for key in set(by_kind) - general:  # then the specific ones override
            out[self.kind == key] = float(by_kind[key])
        return out


def hazard_context(target: Any) -> HazardContext:
    """A :class:`HazardContext` from a context, a Network or a Simulator (cached on it)."""
    if isinstance(target, HazardContext):
        return target
    net = getattr(target, "net", target)
    if not hasattr(net, "branch_ids"):
        raise TypeError(f"expected a Network, a Simulator or a HazardContext, got {type(target)}")
    cached = _CONTEXTS.get(id(net))
    if cached is not None and cached[0] is net:
        return cached[1]
    ctx = HazardContext.from_network(net)
    _CONTEXTS.clear()  # one network at a time per process is the Monte Carlo pattern
    _CONTEXTS[id(net)] = (net, ctx)
    return ctx


_CONTEXTS: dict[int, tuple[Any, HazardContext]] = {}


def _check_kinds(by_kind: Mapping[str, float], name: str) -> None:
    for k, v in by_kind.items():
        if k not in KINDS:
            raise InputError(
                f"unknown element kind {quoted(k)}{closest(k, KINDS)} (kinds: {', '.join(KINDS)})",
                field=name,
            )
        if not (isinstance(v, (int, float)) and math.isfinite(v)):
            raise InputError(f"{name}[{k!r}] must be a finite number, got {v!r}", field=name)


class Hazard:
    """Base class: ``sample(target, rng)`` returns the damaged element ids of one draw."""

    def sample(self, target: Any, rng: np.random.Generator) -> list[str]:  # pragma: no cover
        raise NotImplementedError

    def check(self, target: Any) -> None:
        """Raise :class:`InputError` if this hazard cannot draw on ``target``'s network."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Explicit(Hazard):
    """A fixed damage list: every draw returns ``elements`` (order kept, duplicates dropped).

    Parameters
    ----------
    elements : element ids (any kind, substations included).
    """

    def __init__(self, *, elements: Sequence[str] = ()) -> None:
        self.elements = list(elements)

    def sample(self, target: Any, rng: np.random.Generator) -> list[str]:
        return list(dict.fromkeys(self.elements))

    def check(self, target: Any) -> None:
        from warmgrid.power.damage import check_damage

        check_damage(getattr(target, "net", target), self.elements, key="hazard.elements")


class RandomK(Hazard):
    """``k`` distinct elements, drawn with probability proportional to their kind's weight.

    Draws without replacement (``Generator.choice(..., replace=False, p=w / w.sum())``,
    successive weighted draws among the elements left). Kinds absent from
    ``weights_by_kind`` get weight 0 and are never drawn.

    Parameters
    ----------
    k : number of elements per draw, >= 1.
    weights_by_kind : per-element weight of each kind (>= 0), e.g.
        ``{"gen": 4, "substation": 4, "branch": 1}`` (:data:`STRIKE_WEIGHTS`). Default:
        every branch, generator and substation alike.
    """

    def __init__(self, *, k: int, weights_by_kind: Mapping[str, float] | None = None) -> None:
        self.k = k
        self.weights_by_kind = dict(weights_by_kind if weights_by_kind is not None else _UNIFORM)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"k must be an integer >= 1, got {k!r}", field="hazard.k")
        _check_kinds(self.weights_by_kind, "hazard.weights_by_kind")
        for kind, w in self.weights_by_kind.items():
            if w < 0:
                raise InputError(
                    f"weights_by_kind[{kind!r}] must be >= 0, got {w}",
                    field="hazard.weights_by_kind",
                )

    def _weights(self, ctx: HazardContext) -> np.ndarray:
        w = ctx.per_element(self.weights_by_kind, name="hazard.weights_by_kind")
        if np.count_nonzero(w) < self.k:
            raise InputError(
                f"k = {self.k} but only {np.count_nonzero(w)} element(s) have a positive "
                f"weight under weights_by_kind = {self.weights_by_kind}",
                field="hazard.k",
            )
        return w

    def check(self, target: Any) -> None:
        self._weights(hazard_context(target))

    def _probabilities(self, ctx: HazardContext) -> np.ndarray:
        """``w / w.sum()``, computed once per context (a Monte Carlo draws thousands)."""
        key = (self.k, tuple(sorted(self.weights_by_kind.items())))
        per = _PROBABILITIES.setdefault(ctx, {})
        p = per.get(key)
        if p is None:
            w = self._weights(ctx)
            p = per[key] = w / w.sum()
        return p

    def sample(self, target: Any, rng: np.random.Generator) -> list[str]:
        ctx = hazard_context(target)
        p = self._probabilities(ctx)
        pick = rng.choice(len(p), size=self.k, replace=False, p=p)
        return ctx.ids[np.sort(pick)].tolist()


_PROBABILITIES: weakref.WeakKeyDictionary[HazardContext, dict[tuple[Any, ...], np.ndarray]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class Footprint:
    """A disc on the map where a hazard strikes.

    Parameters
    ----------
    center_xy : (x, y) centre, in the grid's coordinate units (km for winter-city; for
        longitude/latitude grids set ``lonlat=True``).
    radius_km : radius, km.
    outside_factor : failure probability outside the disc, as a multiple of the inside
        one: 0 (default) = only inside, 1 = no footprint effect.
    lonlat : coordinates are degrees of longitude and latitude; distances use a local
        equirectangular projection about the centre (111.32 km per degree of latitude),
        accurate to < 1 % within a few hundred km.
    """

    center_xy: tuple[float, float]
    radius_km: float
    outside_factor: float = 0.0
    lonlat: bool = False

    def __post_init__(self) -> None:
        c = tuple(float(v) for v in self.center_xy)
        if len(c) != 2 or not all(math.isfinite(v) for v in c):
            raise InputError(
                f"center_xy must be two finite numbers, got {self.center_xy!r}",
                field="hazard.footprint.center_xy",
            )
        object.__setattr__(self, "center_xy", c)
        if not (math.isfinite(self.radius_km) and self.radius_km > 0):
            raise InputError(
                f"radius_km must be > 0, got {self.radius_km!r}",
                field="hazard.footprint.radius_km",
            )
        if not 0 <= self.outside_factor <= 1:
            raise InputError(
                f"outside_factor must be in [0, 1], got {self.outside_factor!r}",
                field="hazard.footprint.outside_factor",
            )

    def _km(self, xy: np.ndarray) -> np.ndarray:
        d = xy - np.asarray(self.center_xy)
        if self.lonlat:
            lat0 = math.radians(self.center_xy[1])
            d = d * np.array([111.32 * math.cos(lat0), 111.32])
        return d

    def distance_km(self, xy0: np.ndarray, xy1: np.ndarray) -> np.ndarray:
        """(n,) distance from the centre to each segment ``xy0 -> xy1`` (a point if equal), km.

        Closest point of a segment: ``p = a + clip(((c - a)·(b - a)) / |b - a|², 0, 1)·(b - a)``.
        NaN coordinates give NaN (treated as outside).
        """
        a, b = self._km(np.asarray(xy0, float)), self._km(np.asarray(xy1, float))
        ab = b - a
        den = np.einsum("ij,ij->i", ab, ab)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(den > 0, np.einsum("ij,ij->i", -a, ab) / den, 0.0)
        p = a + np.clip(s, 0.0, 1.0)[:, None] * ab
        return np.hypot(p[:, 0], p[:, 1])

    def inside(self, ctx: HazardContext) -> np.ndarray:
        """(n,) bool: the element touches the disc."""
        with np.errstate(invalid="ignore"):
            return self.distance_km(ctx.xy0, ctx.xy1) <= self.radius_km


class Fragility(Hazard):
    """Each element fails independently with its kind's probability (Bernoulli trials).

    Parameters
    ----------
    prob_by_kind : failure probability per element of each kind, in [0, 1]
        (e.g. an ice storm: ``{"line": 0.08}``; a strike wave:
        ``{"substation": 0.1, "gen": 0.2}``).
    footprint : optional :class:`Footprint`; inside it the probability applies, outside
        it is multiplied by ``footprint.outside_factor``.
    """

    def __init__(
        self, *, prob_by_kind: Mapping[str, float], footprint: Footprint | None = None
    ) -> None:
        self.prob_by_kind = dict(prob_by_kind)
        self.footprint = footprint
        _check_kinds(self.prob_by_kind, "hazard.prob_by_kind")
        for kind, p in self.prob_by_kind.items():
            if not 0 <= p <= 1:
                raise InputError(
                    f"prob_by_kind[{kind!r}] must be in [0, 1], got {p}",
                    field="hazard.prob_by_kind",
                )

    def probabilities(self, target: Any) -> np.ndarray:
        """(n,) failure probability of each candidate element (``hazard_context(target).ids``)."""
        ctx = hazard_context(target)
        p = ctx.per_element(self.prob_by_kind, name="hazard.prob_by_kind")
        if self.footprint is not None:
            if not np.isfinite(ctx.xy0).any():
                raise InputError(
                    "a footprint needs bus coordinates (x, y), and this grid has none",
                    field="hazard.footprint",
                )
            p = np.where(self.footprint.inside(ctx), p, p * self.footprint.outside_factor)
        return p

    def check(self, target: Any) -> None:
        self.probabilities(target)

    def sample(self, target: Any, rng: np.random.Generator) -> list[str]:
        ctx = hazard_context(target)
        p = self.probabilities(ctx)
        return ctx.ids[rng.random(len(p)) < p].tolist()


def hazard_from_scenario(scenario: Scenario) -> Hazard:
    """The hazard of a scenario's ``[hazard]`` section (:class:`Explicit` of nothing if absent).

    The scenario's ``[damage]`` elements are not part of it: a Monte Carlo sample is
    ``[damage]`` plus the hazard's draw (:func:`warmgrid.study.montecarlo.sample_damage`).
    """
    h = scenario.hazard
    if h is None or h.model == "explicit":
        return Explicit(elements=list(h.elements) if h is not None else [])
    if h.model == "random_k":
        assert h.k is not None  # the section's validator requires k for random_k
        return RandomK(k=h.k, weights_by_kind=h.weights_by_kind)
    fp = h.footprint
    assert h.prob_by_kind is not None  # the section's validator requires it for fragility
    return Fragility(
        prob_by_kind=h.prob_by_kind,
        footprint=None
        if fp is None
        else Footprint(
            center_xy=(fp.center_xy[0], fp.center_xy[1]),
            radius_km=fp.radius_km,
            outside_factor=fp.outside_factor,
            lonlat=fp.lonlat,
        ),
    )
