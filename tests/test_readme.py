"""The README's examples run as written: every TOML block is a scenario that
``warmgrid impact`` accepts, and its element ids are the ones ``warmgrid elements`` lists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from warmgrid.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_scenarios() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_every_toml_block_runs_verbatim(i, tmp_path, capsys) -> None:
    p = tmp_path / f"readme_{i}.toml"
    p.write_text(BLOCKS[i], encoding="utf-8")
    code = main(["impact", str(p), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    res = json.loads(out)
    assert res["damage"]
    assert res["people"]["without_power"] >= 0
    code = main(["elements", str(p), "--json"])
    ids = {e["id"] for e in json.loads(capsys.readouterr().out)}
    assert set(res["damage"]) <= ids
