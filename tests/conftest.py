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
