"""A hand-made three-bus city shared by the timeline and emergency tests."""

from __future__ import annotations

import pandas as pd

from warmgrid.model.grid import Grid
from warmgrid.model.services import Services


def small_city(area_load_mw: float = 10.0, supply_mw: float = 100.0, archetype: str = "panel9"):
    """bus:a supply; bus:b homes and a hospital (0.5 MW, 5 h backup); bus:c a boiler house
    (1 MW pumps) and a water station (2 MW, 3 h of tanks); substation:c = bus:c."""
    bus = pd.DataFrame({"id": ["bus:a", "bus:b", "bus:c"], "vn_kv": 110.0})
    branch = pd.DataFrame(
        {
            "id": ["line:ab", "line:ac"],
            "from_bus": ["bus:a", "bus:a"],
            "to_bus": ["bus:b", "bus:c"],
            "x_pu": [0.1, 0.1],
            "rate_mva": [200.0, 200.0],
        }
    )
    gen = pd.DataFrame(
        {
            "id": ["ext_grid:0"],
            "bus": ["bus:a"],
            "kind": "external",
            "p_mw": 0.0,
            "p_max_mw": supply_mw,
            "slack": True,
        }
    )
    load = pd.DataFrame(
        {
            "id": ["load:homes", "load:boiler", "load:pump", "load:hospital"],
            "bus": ["bus:b", "bus:c", "bus:c", "bus:b"],
            "p_mw": [area_load_mw, 1.0, 2.0, 0.5],
        }
    )
    grid = Grid(name="small", bus=bus, branch=branch, gen=gen, load=load)
    svc = Services.build(
        grid,
        source="test",
        areas=pd.DataFrame(
            {
                "id": ["area:one"],
                "population": [10_000.0],
                "archetype": [archetype],
                "load": ["load:homes"],
                "heat_sources": ["heat:boiler"],
            }
        ),
        heat=pd.DataFrame(
            {"id": ["heat:boiler"], "kind": ["boiler"], "load": ["load:boiler"], "heat_mw": [50.0]}
        ),
        water=pd.DataFrame(
            {
                "id": ["water:pump"],
                "load": ["load:pump"],
                "areas": ["area:one"],
                "reservoir_h": [3.0],
            }
        ),
        facilities=pd.DataFrame(
            {"id": ["facility:hospital"], "load": ["load:hospital"], "backup_h": [5.0]}
        ),
        substations={"substation:c": ["bus:c"]},
    )
    return grid, svc
