"""Fixtures of the study tests: a short winter-city scenario with a random-k hazard."""

from __future__ import annotations

from pathlib import Path

import pytest

SCENARIO_TOML = """\
name = "mc-test"

[grid]
case = "winter-city"
services = "auto"

[damage]
elements = ["gen:chp-south-1"]

[weather]
outdoor_c = -20.0

[horizon]
hours = 12

[hazard]
model = "random_k"
k = 3
weights_by_kind = { gen = 4.0, substation = 4.0, branch = 1.0 }
"""


@pytest.fixture(scope="session")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("scenario") / "mc-test.toml"
    p.write_text(SCENARIO_TOML, encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def scenario(scenario_file: Path):
    from warmgrid.model.scenario import load_scenario

    return load_scenario(scenario_file)


@pytest.fixture(scope="session")
def winter_net():
    """winter-city compiled with its substations (the hazard's candidates)."""
    from warmgrid.examples.winter_city import winter_city
    from warmgrid.power.network import compile_network

    grid, services = winter_city()
    return compile_network(grid, groups=services.groups())
