"""Running water on a real hydraulic network, coupled to the power timeline.

A scenario's ``[water]`` section names an EPANET network and which grid load (or bus)
powers each pump. For each replay, the timeline hands the served fraction of every grid
load over the horizon (and which buses are dark) to :meth:`HydraulicWater.run`: a pump
has power in an hour when its load's served fraction is at least one half (its bus
energised), the network is simulated pressure-dependently over the horizon with the
unpowered pumps closed (:class:`~warmgrid.water.hydraulics.HydraulicModel`, EPANET 2.2;
cached by the pattern of unpowered pumps, so a restoration search or a Monte Carlo pays
once per distinct pattern), and each area's water is the demand-weighted share of its
junctions' delivered demand (:func:`~warmgrid.water.areas.area_water`). An area is
without water in an hour when that share is below ``service_share`` (one half by
default): the timeline's ``water`` series is then 0 for the area, else 1.

Without a ``[water]`` section the rule-based water of the services overlay (pumps and
tank hours) is used instead.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError
from warmgrid.water.areas import (
    AreaMap,
    AreaWater,
    area_map_from_table,
    area_water,
    nearest_area_map,
    read_area_junctions,
)
from warmgrid.water.hydraulics import HydraulicModel, HydraulicResult
from warmgrid.water.network import check_grid_targets

__all__ = [
    "GENERATED_NETWORKS",
    "HydraulicWater",
    "WaterOutcome",
    "generated_network",
    "hydraulic_water",
]

#: Networks warmgrid generates, by name: ``"module:function"`` returning an object with
#: ``inp`` (the EPANET text), ``pump_power`` and ``area_junctions`` (a table). Looked up
#: by name, like entry points, so this layer never imports the generator.
GENERATED_NETWORKS: dict[str, str] = {
    "winter-city": "warmgrid.examples.winter_city_water:winter_city_water"
}

#: A pump runs in an hour when its grid element's served fraction is at least this.
PUMP_POWERED_AT = 0.5


@dataclass(frozen=True, eq=False)
class WaterOutcome:
    """One replay's water: the hydraulic run and its areas.

    Attributes
    ----------
    result : the hydraulic run (per junction, per hour).
    areas : the per-area service, pressures and people without water.
    served : (n_steps, n_areas) 1 where the area gets at least ``service_share`` of its
        demand, else 0 (the timeline's ``water``).
    """

    result: HydraulicResult
    areas: AreaWater
    served: np.ndarray


@dataclass(eq=False)
class HydraulicWater:
    """A scenario's water network, ready for replays (module docstring).

    Attributes
    ----------
    model : the hydraulic model (opened once, runs cached by outage pattern).
    amap : which junctions feed which area, with shares.
    network : the network's name, for the output.
    service_share : threshold of the share of demand delivered.
    assumptions : what was assumed (the area map's default, pumps without a grid link,
        the powered threshold).
    """

    model: HydraulicModel
    amap: AreaMap
    network: str
    service_share: float
    population: np.ndarray
    load_pos: dict[str, int]
    bus_pos: dict[str, int]
    assumptions: tuple[str, ...] = ()

    def run(self, load_frac: np.ndarray, dark_bus: np.ndarray) -> WaterOutcome:
        """The water of one replay.

        Parameters
        ----------
        load_frac : (n_steps, n_load) served fraction of every grid load.
        dark_bus : (n_steps, n_bus) bool, bus without supply.
        """
        n = load_frac.shape[0]
        supply: dict[str, np.ndarray] = {}
        for target in set(self.model.pump_power.values()):
            if target in self.load_pos:
                supply[target] = load_frac[:, self.load_pos[target]]
            else:
                supply[target] = (~dark_bus[:, self.bus_pos[target]]).astype(float)
        on = self.model.pump_on(supply, n, threshold=PUMP_POWERED_AT)
        res = self.model.run(on)
        aw = area_water(res, self.amap, self.population, service_share=self.service_share)
        return WaterOutcome(res, aw, np.where(aw.without, 0.0, 1.0))


def generated_network(name: str) -> Any:
    """A generated network by name (``inp``, ``pump_power``, ``area_junctions``,
    ``write(folder)``)."""
    module, func = GENERATED_NETWORKS[name].split(":")
    return getattr(import_module(module), func)()


def hydraulic_water(
    section: Any,
    *,
    inp_path: Path | None,
    areas_path: Path | None,
    load_ids: Sequence[str],
    bus_ids: Sequence[str],
    areas: pd.DataFrame,
    source: str | None = None,
) -> HydraulicWater:
    """Open the network a ``[water]`` section names and link it to the grid and areas.

    Parameters
    ----------
    section : the scenario's :class:`~warmgrid.model.scenario.WaterSection`.
    inp_path : its ``inp`` resolved against the TOML's folder (None: a bundled name).
    areas_path : its ``area_junctions`` resolved (None: the generated city's table, or
        each junction to its nearest area, an assumption).
    load_ids, bus_ids : the grid's ids, in the network's order.
    areas : the services overlay's areas (``id``, ``population``, ``x``, ``y``).
    source : the scenario file, named in errors.

    Raises
    ------
    InputError : a network that does not parse, an unknown pump, a pump powered by an
        unknown grid element, a bad area-junction table.
    """
    name = section.inp
    model, generated = _open_model(section, inp_path)
    check_grid_targets(
        model.pump_power, [*load_ids, *bus_ids], file=source, field="water.pump_power"
    )
    notes: list[str] = []
    amap = _area_map(model, areas, areas_path, generated, name, notes)
    unlinked = [p for p in model.pumps if p not in model.pump_power]
    if unlinked:
        notes.append(
            f"{len(unlinked)} pump(s) of {name} have no grid link ([water] pump_power) "
            f"and keep power: {', '.join(unlinked[:5])}{', …' if len(unlinked) > 5 else ''}"
        )
    notes.append(
        f"a pump runs while its grid load's served fraction is at least {PUMP_POWERED_AT:g}; "
        f"an area is without water below {section.service_share:g} of its demand"
    )
    if not np.isfinite(areas["population"].to_numpy(dtype=float)).all():
        raise InputError("areas have no population", field="areas.population")
    return HydraulicWater(
        model=model,
        amap=amap,
        network=name,
        service_share=float(section.service_share),
        population=areas["population"].to_numpy(dtype=float),
        load_pos={x: i for i, x in enumerate(load_ids)},
        bus_pos={x: i for i, x in enumerate(bus_ids)},
        assumptions=(*model.assumptions, *notes),
    )


def _open_model(section: Any, inp_path: Path | None) -> tuple[HydraulicModel, Any]:
    """The hydraulic model of a ``[water]`` section, and the generated network it comes
    from (None for a user's or WNTR's file)."""
    name = section.inp
    generated = None
    if name in GENERATED_NETWORKS and (inp_path is None or not inp_path.exists()):
        generated = generated_network(name)
    pump_power: Mapping[str, str] = dict(section.pump_power) or (
        dict(generated.pump_power) if generated is not None else {}
    )
    curve = dict(
        pump_power=pump_power,
        required_pressure_m=section.required_pressure_m,
        minimum_pressure_m=section.minimum_pressure_m,
    )
    if generated is None:
        here = inp_path is not None and inp_path.exists()
        return HydraulicModel(
            inp_path if here else name, **curve, source=str(inp_path) if here else name
        ), None
    with tempfile.TemporaryDirectory(prefix="warmgrid-water-") as folder:
        path = Path(folder) / f"{name}.inp"
        path.write_text(generated.inp, encoding="latin-1")
        # reads the file once, then works from its bytes
        return HydraulicModel(path, **curve, source=name), generated


def _area_map(
    model: HydraulicModel,
    areas: pd.DataFrame,
    areas_path: Path | None,
    generated: Any,
    name: str,
    notes: list[str],
) -> Any:
    """Junctions to areas: the user's table, the generated city's, or each junction to
    its nearest area (an assumption, added to ``notes``)."""
    area_ids = areas["id"].astype(str).tolist()
    if areas_path is not None:
        return read_area_junctions(areas_path, area_ids, model.junctions)
    if generated is not None:
        return area_map_from_table(
            generated.area_junctions, area_ids, model.junctions, source=f"{name} area_junctions"
        )
    amap = nearest_area_map(
        model.junctions, model.junction_xy, area_ids, areas[["x", "y"]].to_numpy(dtype=float)
    )
    notes.extend(amap.assumptions)
    return amap
