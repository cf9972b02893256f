"""Fixtures of the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import SHORT_SCENARIO


@pytest.fixture
def scenario_file(tmp_path) -> Path:
    """A short winter-city scenario with a random-k hazard."""
    p = tmp_path / "short.toml"
    p.write_text(SHORT_SCENARIO, encoding="utf-8")
    return p
