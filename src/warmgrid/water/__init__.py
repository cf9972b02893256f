"""Hydraulic water service: EPANET networks whose pumps depend on the grid (issue 13).

* :mod:`warmgrid.water.network` reads ``.inp`` files (WNTR) and links pumps to grid
  loads or buses (``pump_power``).
* :mod:`warmgrid.water.hydraulics` runs pressure-dependent extended-period hydraulics
  (EPANET 2.2) under pump power outages, cached by outage pattern.
* :mod:`warmgrid.water.areas` turns junction results into water service per area.

Typical use (what the timeline does)::

    model = HydraulicModel("city.inp", pump_power={"P1": "load:water-1"})
    on = model.pump_on({"load:water-1": load_frac[:, k]}, n_steps)
    res = model.run(on)
    amap = nearest_area_map(model.junctions, model.junction_xy, area_ids, area_xy)
    water = area_water(res, amap, population, service_share=0.5)
"""

from warmgrid.water.areas import (
    AreaMap,
    AreaWater,
    area_map_from_table,
    area_water,
    nearest_area_map,
    read_area_junctions,
)
from warmgrid.water.hydraulics import HydraulicModel, HydraulicResult, NegativePressure
from warmgrid.water.network import (
    bundled_networks,
    check_grid_targets,
    check_pump_power,
    load_network,
    pump_on_matrix,
)

__all__ = [
    "AreaMap",
    "AreaWater",
    "HydraulicModel",
    "HydraulicResult",
    "NegativePressure",
    "area_map_from_table",
    "area_water",
    "bundled_networks",
    "check_grid_targets",
    "check_pump_power",
    "load_network",
    "nearest_area_map",
    "pump_on_matrix",
    "read_area_junctions",
]
