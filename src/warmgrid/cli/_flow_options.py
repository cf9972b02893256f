"""The options of ``warmgrid flow`` and ``warmgrid contingency``, as ``Annotated`` aliases.

Each alias carries its option's names, bounds and help; the commands in
:mod:`warmgrid.cli.flow` give the defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from warmgrid.cli._common import number

_Case = Annotated[str, typer.Argument(help="Bundled case name or path.")]
_Outages = Annotated[
    list[str] | None,
    typer.Option(
        "--outage",
        "-o",
        help="Element id to take out (repeat, or "
        "comma-separate): line:3, trafo:1, gen:2, bus:7 ...",
    ),
]
_FlowJson = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print JSON: branches (id, p_mw, loading_percent), islands, dark_buses.",
    ),
]
_FlowTop = Annotated[
    int,
    typer.Option("--top", min=0, max=1_000_000, help="Rows in the table of most loaded branches."),
]
_Ac = Annotated[
    bool,
    typer.Option("--ac", help="AC power flow (Newton-Raphson) instead of the DC approximation."),
]
_QLimits = Annotated[
    bool,
    typer.Option("--q-limits", help="With --ac: enforce reactive limits (PV units switch to PQ)."),
]
_Init = Annotated[
    Literal["dc", "flat"],
    typer.Option(
        "--init",
        help="With --ac: the start, dc (the DC flow's angles, default) or flat (1 p.u., 0°).",
    ),
]
_MaxIter = Annotated[
    int,
    typer.Option("--max-iter", min=1, max=1000, help="With --ac: Newton iterations per solve."),
]
_K = Annotated[
    int,
    typer.Option(
        "--k",
        min=1,
        max=2,
        help="1: every single branch outage; 2: every pair from the candidates.",
    ),
]
_Candidates = Annotated[
    int,
    typer.Option(
        "--candidates",
        min=2,
        max=1_000_000,
        help="With --k 2: the N most loaded branches.",
    ),
]
_Threshold = Annotated[
    float,
    typer.Option(
        "--threshold",
        callback=number(0.0, 1e6, above=True),
        help="Overload threshold, % of the rating.",
    ),
]
_Generators = Annotated[
    Literal["none", "slack", "pro_rata"],
    typer.Option(
        "--generators",
        help="With --k 1, also take out each unit: "
        "'slack' (slack picks up) or 'pro_rata' (by p_max); 'none'.",
    ),
]
_Sets = Annotated[
    Path | None,
    typer.Option(
        "--sets",
        help="Text file of outage sets, one per line "
        "(ids split by commas or spaces); overrides --k.",
    ),
]
_Worsening = Annotated[
    float,
    typer.Option(
        "--worsening",
        callback=number(0.0, 1e6),
        help="A branch overloaded before any outage counts only if an outage raises its "
        "loading by more than this many percentage points.",
    ),
]
_AllViolations = Annotated[
    bool,
    typer.Option(
        "--all-violations",
        help="Count every loading above the threshold, base-case overloads included.",
    ),
]
_Out = Annotated[
    Path | None,
    typer.Option("--out", help="Stream the violations to a file (.parquet or .csv), atomically."),
]
_ContingencyTop = Annotated[
    int, typer.Option("--top", min=0, max=1_000_000, help="Worst contingencies to list.")
]
_AcVerify = Annotated[
    int,
    typer.Option(
        "--ac-verify",
        min=0,
        max=10_000,
        help="Re-solve the N worst DC contingencies in AC and show both loadings side by "
        "side (0: none).",
    ),
]
_ContingencyJson = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print JSON: contingencies, islanding, with_overloads, violations, "
        "base_overloads, seconds, worst, ac_verify.",
    ),
]
