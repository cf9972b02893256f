"""What can happen during a replay: repairs and emergency resources, at an hour.

An impact is a replay with no events; a restoration plan's replay adds a repair event
per element; an emergency plan adds mobile generators, warming shelters and mobile
boiler houses. What each kind does to the services is in
:mod:`warmgrid.services.emergency`; the timeline applies them
(:meth:`warmgrid.timeline.Simulator.run`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EVENT_KINDS", "Event"]

#: The event kinds a replay handles.
EVENT_KINDS = ("repair", "mobile_gen", "shelter", "mobile_heat")


@dataclass(frozen=True, order=True)
class Event:
    """Something that happens at ``hour``.

    ``kind`` is ``"repair"`` (``element`` back in service), ``"mobile_gen"`` (a generator
    of ``value`` MW at ``element``, a load or a service that names one), ``"shelter"`` (a
    warming shelter for ``value`` persons at area ``element``) or ``"mobile_heat"`` (a
    mobile boiler house of ``value`` MW of heat at area ``element``).
    """

    hour: float
    element: str
    kind: str = "repair"
    value: float = 0.0
