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
from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError, Problem, closest, quoted
from warmgrid.model.grid import Grid

__all__ = ["PRIORITY_WEIGHTS", "Services", "auto_services", "split_ids"]

#: MLD priority weight per class (DESIGN.md: critical facility > heat source > water
#: station > residential > other). The ratios make one MW at a hospital worth more than
#: any realistic amount of residential load in the same island. "other" is load that
#: feeds no modelled people or service (industry, commerce): under rationing schedules it
#: is curtailed before homes.
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

_COLUMNS: dict[str, dict[str, Any]] = {
    "areas": {
        "id": None,
        "name": "",
        "population": None,
        "archetype": "panel9",
        "load": None,
        "heat_sources": "",
        "individual_heating_share": 0.0,
        "needs_local_power": False,
        "x": np.nan,
        "y": np.nan,
        "district": "",
    },
    "heat": {
        "id": None,
        "name": "",
        "kind": "boiler",
        "load": "",
        "gens": "",
        "heat_mw": 0.0,
        "peak_boiler_share": 0.0,
        "backup_h": 0.0,
        "x": np.nan,
        "y": np.nan,
    },
    "water": {
        "id": None,
        "name": "",
        "load": None,
        "areas": "",
        "reservoir_h": 0.0,
        "x": np.nan,
        "y": np.nan,
    },
    "facilities": {
        "id": None,
        "name": "",
        "kind": "hospital",
        "load": None,
        "backup_h": 0.0,
        "people_served": 0.0,
        "x": np.nan,
        "y": np.nan,
    },
}


#: Columns whose default invents nothing that changes a figure.
_COSMETIC = frozenset({"name", "x", "y", "district"})


def split_ids(value: object) -> list[str]:
    """``"a;b"`` -> ``["a", "b"]``; empty or NaN -> ``[]``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [v.strip() for v in str(value).split(";") if v.strip()]


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
        """Fill defaults, then validate against ``grid``; report every problem at once."""
        out = {}
        used: dict[str, object] = {}
        for name, cols in _COLUMNS.items():
            df = tables.get(name)
            df = (
                pd.DataFrame(columns=list(cols)) if df is None else df.reset_index(drop=True).copy()
            )
            for c, default in cols.items():
                if c not in df.columns:
                    if default is None:
                        raise InputError(
                            "required column is missing", file=source, field=f"{name}.{c}"
                        )
                    df[c] = default
                    if len(df) and c not in _COSMETIC:
                        used[f"{name}.{c}"] = default
            out[name] = df
        svc = cls(substations=dict(substations or {}), source=source, defaults_used=used, **out)
        svc.validate(grid)
        return svc

    # ------------------------------------------------------------------ checks
    def validate(self, grid: Grid) -> None:
        """Check references and values against the grid."""
        from warmgrid.services.thermal import ARCHETYPES

        src = self.source
        probs: list[Problem] = []
        loads = set(grid.load["id"])
        gens = set(grid.gen["id"])
        buses = set(grid.bus["id"])
        heat_ids = set(self.heat["id"])
        area_ids = set(self.areas["id"])
        all_ids: list[str] = []
        for tname in _COLUMNS:
            df: pd.DataFrame = getattr(self, tname)
            all_ids.extend(df["id"].astype(str))
            if "load" in df.columns:
                for rid, ld in zip(df["id"], df["load"], strict=True):
                    if ld and ld not in loads:
                        probs.append(
                            Problem(
                                f"unknown load {quoted(ld)}{closest(str(ld), loads)}",
                                src,
                                rid,
                                f"{tname}.load",
                            )
                        )
            for col in ("population", "backup_h", "reservoir_h", "heat_mw", "people_served"):
                if col in df.columns:
                    v = pd.to_numeric(df[col], errors="coerce")
                    for rid, val in zip(df["id"], v, strict=True):
                        if not np.isfinite(val) or val < 0:
                            probs.append(
                                Problem(
                                    f"must be a number >= 0, got {val}", src, rid, f"{tname}.{col}"
                                )
                            )
            for col in ("individual_heating_share", "peak_boiler_share"):
                if col in df.columns:
                    v = pd.to_numeric(df[col], errors="coerce")
                    for rid, val in zip(df["id"], v, strict=True):
                        if not (0.0 <= val <= 1.0):
                            probs.append(
                                Problem(f"must be in [0, 1], got {val}", src, rid, f"{tname}.{col}")
                            )
        for rid, arch in zip(self.areas["id"], self.areas["archetype"], strict=True):
            if arch not in ARCHETYPES:
                probs.append(
                    Problem(
                        f"unknown archetype {quoted(arch)}{closest(str(arch), ARCHETYPES)}",
                        src,
                        rid,
                        "areas.archetype",
                    )
                )
        for rid, hs in zip(self.areas["id"], self.areas["heat_sources"], strict=True):
            for h in split_ids(hs):
                if h not in heat_ids:
                    probs.append(
                        Problem(
                            f"unknown heat source {quoted(h)}{closest(h, heat_ids)}",
                            src,
                            rid,
                            "areas.heat_sources",
                        )
                    )
        for rid, gs in zip(self.heat["id"], self.heat["gens"], strict=True):
            for g in split_ids(gs):
                if g not in gens:
                    probs.append(
                        Problem(
                            f"unknown generator {quoted(g)}{closest(g, gens)}",
                            src,
                            rid,
                            "heat.gens",
                        )
                    )
        for rid, ars in zip(self.water["id"], self.water["areas"], strict=True):
            for a in split_ids(ars):
                if a not in area_ids:
                    probs.append(
                        Problem(
                            f"unknown area {quoted(a)}{closest(a, area_ids)}",
                            src,
                            rid,
                            "water.areas",
                        )
                    )
        for sname, members in self.substations.items():
            for b in members:
                if b not in buses:
                    probs.append(
                        Problem(
                            f"unknown bus {quoted(b)}{closest(b, buses)}", src, sname, "substations"
                        )
                    )
        seen: set[str] = set(grid.ids())
        for i in all_ids:
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
    ``people_per_mw`` persons per MW (about 3.3 M people on 1.5 GW of winter peak in a
    Kyiv-like city gives ~2,200/MW; REFERENCES.md, city ballpark figures), all in one
    archetype, with no district heating, water stations or facilities: light and indoor
    temperature under individual (electric) heating only.
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
