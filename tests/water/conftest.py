"""Shared fixtures for the hydraulic water tests: winter-city's network opened once."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def city_water(tmp_path_factory: pytest.TempPathFactory):
    """(CityWater, HydraulicModel, services) of winter-city, opened once per session."""
    from warmgrid.examples.winter_city import winter_city
    from warmgrid.examples.winter_city_water import winter_city_water
    from warmgrid.water import HydraulicModel

    _, svc = winter_city()
    cw = winter_city_water()
    inp, _ = cw.write(tmp_path_factory.mktemp("city-water"))
    model = HydraulicModel(inp, pump_power=cw.pump_power)
    yield cw, model, svc
    model.close()


def outage(model, cuts, hours: int = 72) -> np.ndarray:
    """(hours, n_pumps) powered matrix with each (pump, h0, h1) unpowered in [h0, h1)."""
    on = np.ones((hours, len(model.pumps)), dtype=bool)
    for pump, h0, h1 in cuts:
        on[h0:h1, model.pumps.index(pump)] = False
    return on
