"""The services overlay: people, heat, water and critical facilities tied to the grid.

Every service element names the grid **load** that powers it, so the impact engine's
served fraction per load becomes light for an area, pumps for a heat source or a water
station, and mains power for a hospital. Tables (ids are ``kind:name``):

``areas``       id ``area:<name>``; ``name``, ``population``, ``archetype`` (a key of
                :data:`warmgrid.services.thermal.ARCHETYPES`), ``load`` (the load that
                feeds its homes), ``heat_sources`` (``;``-joined heat ids, empty for no
                district heating), ``individual_heating_share`` (share of people with
                their own electric or gas-with-electric-ignition heating, which needs
                power), ``needs_local_power`` (building circulation pumps: True for modern
                blocks; Soviet panel blocks mostly run on hydraulic elevator units that
                need no power), ``x``, ``y``, ``district``.
``heat``        id ``heat:<name>``; ``name``, ``kind`` (``chp`` or ``boiler``), ``load``
                (pumps and controls), ``gens`` (``;``-joined generator ids a CHP
                co-produces with), ``heat_mw``, ``peak_boiler_share`` (share of the
                heat a CHP's peak boilers give while its units are down but its pumps have
                power), ``backup_h`` (hours of backup power), ``x``, ``y``.
``water``       id ``water:<name>``; ``name``, ``load``, ``areas`` (``;``-joined area ids),
                ``reservoir_h`` (hours the clean-water tanks carry the areas), ``x``, ``y``.
``facilities``  id ``facility:<name>``; ``name``, ``kind`` (``hospital``, ...), ``load``,
                ``backup_h``, ``people_served``, ``x``, ``y``.
``substations`` ``substation:<name>`` -> list of bus ids (one strike takes all out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from warmgrid.errors import InputError, Problem, closest, quoted
from warmgrid.model.grid import Grid
from warmgrid.model.schema import SERVICE_TABLES
from warmgrid.model.validate import check_refs, split_ids, validate_table

__all__ = ["PRIORITY_WEIGHTS", "Services", "auto_services", "split_ids"]

#: MLD priority weight per class (docs/model.md, "Maximum load delivery": critical
#: facility > heat source > water station > residential > other). The ratios make one MW
#: at a hospital worth more than any realistic amount of residential load in the same
#: island. "other" is load that feeds no modelled people or service (industry,
#: commerce): under rationing schedules it is curtailed before homes.
PRIORITY_WEIGHTS = {
    "facility": 1000.0,
    "heat": 100.0,
    "water": 30.0,
    "residential": 1.0,
    "other": 0.5,
}

#: Tie-break among residential loads: up to this much extra weight, in proportion to the
#: load's people per MW. Without it, equal weights leave the LP free to pick any of many
#: equally good sets of homes, and the choice can flip between nearby damage states
#: (a restoration replay would then see noise, not physics).
RESIDENTIAL_TIE_BREAK = 0.01


@dataclass(frozen=True, eq=False)
class Services:
    """The services overlay of a grid (see the module docstring for the tables)."""

    areas: pd.DataFrame
    heat: pd.DataFrame
    water: pd.DataFrame
    facilities: pd.DataFrame
    substations: dict[str, list[str]] = field(default_factory=dict)
    source: str = ""
    #: ``"table.column" -> default`` for every column a non-empty table lacked and got
    #: its default (an assumption the output states); cosmetic columns are left out.
    defaults_used: dict[str, object] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        grid: Grid,
        *,
        source: str = "",
        substations: dict[str, list[str]] | None = None,
        **tables: pd.DataFrame | None,
    ) -> Services:
        """Fill defaults and validate every table against its schema
        (:data:`~warmgrid.model.schema.SERVICE_TABLES`) and the references against
        ``grid`` and each other; report every problem at once."""
        problems: list[Problem] = []
        out: dict[str, pd.DataFrame] = {}
        used: dict[str, object] = {}
        for name, cols in SERVICE_TABLES.items():
            out[name], defaulted = validate_table(
                name, tables.get(name), cols, source=source, problems=problems
            )
            default = {c.name: c.default for c in cols}
            used.update({f"{name}.{c}": default[c] for c in defaulted})
        if problems:
            raise InputError(problems=problems[:50])
        svc = cls(substations=dict(substations or {}), source=source, defaults_used=used, **out)
        svc.validate(grid)
        return svc

    # ------------------------------------------------------------------ checks
    def validate(self, grid: Grid) -> None:
        """Check the references against the grid and each other, and that every id is
        unique among the grid's and the overlay's."""
        src = self.source
        probs: list[Problem] = []
        targets = {
            "load": set(grid.load["id"]),
            "gen": set(grid.gen["id"]),
            "bus": set(grid.bus["id"]),
            "heat": set(self.heat["id"]),
            "areas": set(self.areas["id"]),
        }
        for name, cols in SERVICE_TABLES.items():
            check_refs(name, getattr(self, name), cols, targets, source=src, problems=probs)
        for sname, members in self.substations.items():
            for b in members:
                if b not in targets["bus"]:
                    probs.append(
                        Problem(
                            f"unknown bus {quoted(b)}{closest(b, targets['bus'])}",
                            src,
                            sname,
                            "substations",
                        )
                    )
        seen: set[str] = set(grid.ids())
        for name in SERVICE_TABLES:
            for i in getattr(self, name)["id"].astype(str):
                if i in seen:
                    probs.append(Problem("duplicate id", src, i, "id"))
                seen.add(i)
        if probs:
            raise InputError(problems=probs[:50])

    # ------------------------------------------------------------------ derived
    def load_weights(self, grid: Grid) -> np.ndarray:
        """(n_load,) MLD priority weight per grid load, from the class of what it feeds.

        Residential loads weigh ``1 + RESIDENTIAL_TIE_BREAK · (people/MW) / max(people/MW)``;
        loads that feed nothing modelled weigh ``PRIORITY_WEIGHTS["other"]``.
        """
        w = pd.Series(PRIORITY_WEIGHTS["other"], index=grid.load["id"].to_numpy())
        a = self.areas[self.areas["load"].isin(w.index)]
        if len(a):
            p_mw = grid.load.set_index("id")["p_mw"]
            people = a.groupby("load")["population"].sum().astype(float)
            mw = p_mw.loc[people.index].to_numpy(dtype=float)
            ppmw = np.divide(people.to_numpy(), mw, out=np.zeros(len(mw)), where=mw > 0)
            top = ppmw.max() if len(ppmw) and ppmw.max() > 0 else 1.0
            w.loc[people.index] = (
                PRIORITY_WEIGHTS["residential"] + RESIDENTIAL_TIE_BREAK * ppmw / top
            )
        for table, cls in (("water", "water"), ("heat", "heat"), ("facilities", "facility")):
            ids = [x for x in getattr(self, table)["load"] if x]
            w.loc[ids] = np.maximum(w.loc[ids].to_numpy(), PRIORITY_WEIGHTS[cls])
        return w.to_numpy(dtype=float)

    @property
    def population(self) -> float:
        return float(pd.to_numeric(self.areas["population"]).sum())

    def groups(self) -> dict[str, list[str]]:
        """Substation groups for :func:`warmgrid.power.network.compile_network`."""
        return dict(self.substations)


def auto_services(
    grid: Grid, *, people_per_mw: float = 2000.0, archetype: str = "panel9"
) -> Services:
    """Derive an overlay for any grid: one area per in-service load with p_mw > 0.

    The rule (documented for users): population is proportional to the load's MW,
    ``people_per_mw`` persons per MW (a Kyiv-like city's ~3.6 M residents on a winter peak
    of up to 1.5–1.7 GW give ~2,100–2,400/MW; docs/sources.md, "City ballpark figures"),
    all in one archetype, with no district heating, water stations or facilities: light
    and indoor temperature under individual (electric) heating only.
    """
    ld = grid.load[grid.load["in_service"] & (grid.load["p_mw"] > 0)]
    areas = pd.DataFrame(
        {
            "id": [f"area:{i.split(':', 1)[1]}" for i in ld["id"]],
            "name": ld["id"].to_numpy(),
            "population": np.round(ld["p_mw"].to_numpy(dtype=float) * people_per_mw),
            "archetype": archetype,
            "load": ld["id"].to_numpy(),
            "heat_sources": "",
            "individual_heating_share": 1.0,
        }
    )
    return Services.build(grid, source=f"auto overlay of {grid.name}", areas=areas)
