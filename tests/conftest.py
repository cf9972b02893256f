"""Shared fixtures: bundled grids loaded once per session (the cache lives in a tmp dir)."""

from __future__ import annotations

import os
import warnings

import pytest

warnings.filterwarnings("ignore", module="pandapower")


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("WARMGRID_CACHE", str(tmp_path_factory.mktemp("warmgrid-cache")))


_GRIDS: dict[str, object] = {}


@pytest.fixture(scope="session")
def load():
    """Load (and memoise) a bundled grid by name."""
    from warmgrid.io import load_grid

    def _load(name: str):
        if name not in _GRIDS:
            _GRIDS[name] = load_grid(name)
        return _GRIDS[name]

    return _load


@pytest.fixture(scope="session")
def net118(load):
    """case118 compiled once for the session."""
    from warmgrid.power.network import compile_network

    return compile_network(load("case118"))


@pytest.fixture(scope="session")
def net1354(load):
    """case1354pegase compiled once for the session."""
    from warmgrid.power.network import compile_network

    return compile_network(load("case1354pegase"))


@pytest.fixture(scope="session")
def frost_strike_restore() -> dict:
    """``warmgrid restore frost-strike --json`` (the façade's JSON), computed once: the
    bundled plan runs hydraulics over a 480 h horizon, too slow to repeat per test."""
    from warmgrid.model.scenario import load_scenario
    from warmgrid.study.restore import restore

    return restore(load_scenario("frost-strike")).to_json()


@pytest.fixture(scope="session")
def frost_strike_dry(tmp_path_factory: pytest.TempPathFactory):
    """frost-strike without its [water] section (the overlay's rule-based water): for
    tests of restoration or reporting that are not about water."""
    import re

    from warmgrid.model.scenario import BUNDLED_SCENARIOS_DIR

    src = (BUNDLED_SCENARIOS_DIR / "frost-strike.toml").read_text(encoding="utf-8")
    text = re.sub(r"\n\[water\][^\[]*", "\n", src)
    weather = (BUNDLED_SCENARIOS_DIR / "../data/frost_strike_weather.csv").resolve()
    text = text.replace('"../data/frost_strike_weather.csv"', f'"{weather}"')
    p = tmp_path_factory.mktemp("dry") / "frost-strike-dry.toml"
    p.write_text(text, encoding="utf-8")
    return p
