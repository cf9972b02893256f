"""Repair durations per damaged element: defaults per element type, overridable per kind and id.

Every default below is **indicative**: a round figure read off the public anchors in
docs/sources.md ("Repair times and crews"), not a utility's planning standard. Planners
should override them in the scenario file::

    [repair]
    crews = 4
    hours = { "line:3" = 8.0, "substation:kalynova" = 120 }   # per element
    default_hours = { gen = 24, substation = 96 }             # per kind

Resolution order for an element: ``hours[id]``, then ``default_hours[kind]``, then
``default_hours[general kind]``, then :data:`DEFAULT_HOURS` for the kind, then for the
general kind, then :data:`FALLBACK_HOURS`. Kinds are those of
:mod:`warmgrid.power.elements` (one taxonomy for damage, repairs and hazards).

=============================  =====  ==========================================================
kind                           hours  anchor (docs/sources.md; all indicative)
=============================  =====  ==========================================================
``line``, ``impedance``,       8      Overhead line or cable section repair: hours. Consumers on
``branch``                            a damaged 110 kV line are re-fed in < 1 h, but that is
                                      switching, which the power engine already does (MLD); the
                                      physical repair of a span is taken as one working shift.
``trafo``                      72     Transformer with a spare on site: days. Moving in a spare
                                      750/330 kV autotransformer took 3 weeks (a record); four
                                      750 kV substations were restored in 13 days.
``substation``                 72     A transmission substation (a bus at >= 220 kV): days with
                                      spares (four 750 kV substations in 13 days, in parallel).
``distribution_substation``    24     A 110/10 kV substation (all buses < 220 kV): a day; homes
                                      behind a destroyed 10/0.4 kV substation are mostly back the
                                      same morning through backup feeds.
``gen``, ``static``            36     CHP unit with debris damage to gas nodes or pumps: 1-2 days.
                                      (Critical damage: >= 2 months; a destroyed plant: > 1 year;
                                      set those by hand.)
``external``                   72     A supply point (the 750/330 kV node): substation-like.
``bus``                        24     A busbar inside a substation: a day (assumed).
``load``, ``shunt``            12     A feeder or compensation unit: half a day (assumed).
=============================  =====  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from warmgrid.errors import InputError, Problem, closest, quoted
from warmgrid.power.elements import (
    GENERAL,
    TRANSMISSION_KV,
    element_kind,
    general_kind,
    is_known,
    known_ids,
)
from warmgrid.power.network import Network

__all__ = [
    "DEFAULT_HOURS",
    "FALLBACK_HOURS",
    "TRANSMISSION_KV",
    "element_kind",
    "is_known",
    "known_ids",
    "repair_hours",
]

#: Default repair hours per element kind (indicative; see the module docstring).
DEFAULT_HOURS: dict[str, float] = {
    "line": 8.0,
    "impedance": 8.0,
    "branch": 8.0,
    "trafo": 72.0,
    "substation": 72.0,
    "distribution_substation": 24.0,
    "gen": 36.0,
    "static": 36.0,
    "external": 72.0,
    "bus": 24.0,
    "load": 12.0,
    "shunt": 12.0,
}

#: Hours for a kind with no default.
FALLBACK_HOURS = 24.0

#: The kinds ``[repair] default_hours`` may name.
_KINDS = sorted({*GENERAL, *GENERAL.values()})


def repair_hours(
    net: Network,
    elements: Sequence[str],
    *,
    hours: Mapping[str, float] | None = None,
    default_hours: Mapping[str, float] | None = None,
    file: str | None = None,
) -> dict[str, float]:
    """Repair hours of each damaged element.

    Parameters
    ----------
    net : compiled network (its ids, substation groups and bus voltages).
    elements : (n,) damaged element ids.
    hours : per-element overrides, h (``[repair] hours``). Keys must be known ids; a key
        that is known but not damaged is ignored.
    default_hours : per-kind overrides, h (``[repair] default_hours``); keys are kinds of
        :data:`DEFAULT_HOURS`.
    file : the scenario file, named in errors.

    Returns
    -------
    dict
        element id -> repair hours (> 0), in the order of ``elements``.

    Raises
    ------
    InputError : an unknown id in ``hours`` or an unknown kind in ``default_hours`` (with
        the closest ones), or a duration that is not > 0.
    """
    hours = dict(hours or {})
    default_hours = dict(default_hours or {})
    problems: list[Problem] = []
    known: set[str] | None = None
    for key, h in hours.items():
        if not is_known(net, key):
            known = known or set(known_ids(net))
            problems.append(
                Problem(
                    f"unknown element id {quoted(key)}{closest(key, sorted(known))}",
                    file,
                    key,
                    "repair.hours",
                )
            )
        elif not (isinstance(h, (int, float)) and h > 0 and np.isfinite(h)):
            problems.append(Problem(f"must be > 0 hours, got {h!r}", file, key, "repair.hours"))
    kinds = _KINDS
    for key, h in default_hours.items():
        if key not in kinds:
            hint = closest(key, kinds) or f"; known kinds: {', '.join(kinds)}"
            problems.append(
                Problem(f"unknown kind {quoted(key)}{hint}", file, key, "repair.default_hours")
            )
        elif not (isinstance(h, (int, float)) and h > 0 and np.isfinite(h)):
            problems.append(
                Problem(f"must be > 0 hours, got {h!r}", file, key, "repair.default_hours")
            )
    if problems:
        raise InputError(problems=problems)
    out: dict[str, float] = {}
    for e in elements:
        if e in hours:
            out[e] = float(hours[e])
            continue
        kind = element_kind(net, e)
        general = general_kind(kind)
        for table in (default_hours, DEFAULT_HOURS):
            if kind in table or general in table:
                out[e] = float(table.get(kind, table.get(general, FALLBACK_HOURS)))
                break
        else:
            out[e] = FALLBACK_HOURS
    return out
