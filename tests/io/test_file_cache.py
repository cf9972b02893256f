"""Large case files are parsed once and read back from a Parquet cache keyed by their
content: the same tables, source, name and warnings; an edited file is parsed again."""

from __future__ import annotations

import pandas as pd

import warmgrid.io as wio
from warmgrid.io import load_grid

CASE = """function mpc = c
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
1 3 0 0 0 0 1 1 0 230 1 1.1 0.9;
2 1 50 10 0 0 1 1 0 230 1 1.1 0.9;
3 1 40 10 0 0 1 1 0 230 1 1.1 0.9;
];
mpc.gen = [
1 90 0 100 -100 1.0 100 1 150 0;
];
mpc.branch = [
1 2 0.01 0.1 0 100 100 100 0 0 1 -30 30;
2 3 0.01 0.1 0 100 100 100 0 0 1 -360 360;
];
mpc.dcline = [
1 3 1 10 9.9 0 0 1.0 1.0 0 60 -20 20 -20 20 0.1 0.0;
];
"""


def test_large_file_cache_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("WARMGRID_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(wio, "FILE_CACHE_BYTES", 1)  # every file counts as large
    p = tmp_path / "c.m"
    p.write_text(CASE, encoding="utf-8")
    first = load_grid(p)
    assert not first.meta.get("cached")
    again = load_grid(p)
    assert again.meta.get("cached") is True
    assert (again.name, again.source) == (first.name, first.source)
    assert again.meta["warnings"] == first.meta["warnings"]  # the HVDC link is still said
    assert again.meta["aliases"] == first.meta["aliases"]
    for name, df in first.tables().items():
        pd.testing.assert_frame_equal(again.tables()[name], df, check_dtype=False, obj=name)
    # an edit is a new content: parsed again, not served stale
    p.write_text(CASE.replace("1 2 0.01 0.1 0 100", "1 2 0.01 0.2 0 100"), encoding="utf-8")
    edited = load_grid(p)
    assert not edited.meta.get("cached")
    assert edited.branch["x_pu"].iloc[0] == 0.2
    assert load_grid(p, use_cache=False).branch["x_pu"].iloc[0] == 0.2
