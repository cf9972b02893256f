"""What the robustness tests of the CLI share: run ``main`` with the process's file
descriptors captured, and read the one line a failure must print."""

from __future__ import annotations

import sys
from pathlib import Path

from warmgrid.cli import main

#: The installed console script, for tests where the real entry point matters.
WARMGRID = str(Path(sys.executable).with_name("warmgrid"))

#: A short winter-city scenario with a random-k hazard.
SHORT_SCENARIO = (
    '[grid]\ncase = "winter-city"\n[damage]\nelements = ["gen:chp-south-1"]\n'
    '[horizon]\nhours = 12\n[hazard]\nmodel = "random_k"\nk = 2\n'
)


def run(capfd, *args: str) -> tuple[int, str, str]:
    """``main(args)``: (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capfd.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    """The single line of ``err``; no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]
