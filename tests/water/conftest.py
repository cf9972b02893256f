"""Shared fixtures for the hydraulic water tests: winter-city's network opened once."""

from __future__ import annotations

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
