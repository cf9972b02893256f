"""``warmgrid flow`` (one DC power flow) and ``warmgrid contingency`` (N-1 / N-2 screening).

The commands' options are ``Annotated`` aliases (:mod:`warmgrid.cli._flow_options`);
each command parses, calls the library, and hands the printing to a helper.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from warmgrid.cli import app
from warmgrid.cli._common import bold, console, print_json, styled
from warmgrid.cli._flow_options import (
    _K,
    _Ac,
    _AcVerify,
    _AllViolations,
    _Candidates,
    _Case,
    _ContingencyJson,
    _ContingencyTop,
    _FlowJson,
    _FlowTop,
    _Generators,
    _Init,
    _MaxIter,
    _Out,
    _Outages,
    _QLimits,
    _Sets,
    _Threshold,
    _Worsening,
)


def _split_ids(values: list[str] | None) -> list[str]:
    """Ids from repeated options, each possibly a comma-separated list."""
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


# ---------------------------------------------------------------------- flow
@app.command("flow")
def flow(
    case: _Case,
    outage: _Outages = None,
    json_out: _FlowJson = False,
    top: _FlowTop = 15,
    ac: _Ac = False,
    q_limits: _QLimits = False,
    max_iter: _MaxIter = 10,
    init: _Init = "dc",
) -> None:
    """DC or AC power flow (pandapower rundcpp / runpp conventions: the ext_grid is the slack)."""
    from warmgrid.errors import InputError
    from warmgrid.io import load_grid
    from warmgrid.power.dc import dispatch_note
    from warmgrid.power.elements import check_ids
    from warmgrid.power.network import compile_network

    if not ac and (q_limits or max_iter != 10 or init != "dc"):
        flag = "--q-limits" if q_limits else ("--max-iter" if max_iter != 10 else "--init")
        raise InputError(f"{flag} needs --ac", field=flag)
    grid = load_grid(case)
    net = compile_network(grid)
    ids = _split_ids(outage)
    check_ids(net, ids, field="--outage", source=case)
    state = net.state(ids)
    warnings = grid.warnings()
    note = dispatch_note(net, how="the slack units take the difference")
    if note:
        warnings.append(note)
    if ac:
        _ac(
            net,
            ids,
            state,
            q_limits=q_limits,
            max_iter=max_iter,
            init=init,
            json_out=json_out,
            top=top,
            warnings=warnings,
        )
        return
    _dc(net, ids, state, json_out=json_out, top=top, warnings=warnings)


def _dc(
    net: Any, ids: list[str], state: Any, *, json_out: bool, top: int, warnings: list[str]
) -> None:
    """``warmgrid flow`` (DC): solve, then print JSON or a summary with a table."""
    import numpy as np

    from warmgrid.power.dc import dc_flow

    r = dc_flow(net, state)
    eff = state.effective(net)
    shown = np.flatnonzero(eff.branch_on)  # outaged branches are left out
    loading = r.loading_percent
    n_isl = int(r.island.max() + 1) if (r.island >= 0).any() else 0
    dark = [str(b) for b in net.bus_ids[r.dark_bus]]
    if json_out:
        print_json(
            {
                "name": net.name,
                "outages": ids,
                "branches": [
                    {
                        "id": str(net.branch_ids[k]),
                        "p_mw": float(r.flow_mw[k]),
                        "loading_percent": None if np.isnan(loading[k]) else float(loading[k]),
                    }
                    for k in shown
                ],
                "islands": n_isl,
                "dark_buses": dark,
                "slack_p_mw": {
                    str(net.gen_ids[g]): float(r.slack_p_mw[g])
                    for g in np.flatnonzero(net.gen_slack & eff.gen_on)
                },
                "warnings": warnings,
            }
        )
        return
    from rich.table import Table

    con = console()
    con.print(
        styled(
            bold(net.name),
            f": DC flow, {len(ids)} outage(s), {n_isl} island(s), {len(dark)} dark bus(es)",
        )
    )
    for w in warnings:
        con.print(styled(("warning: ", "bold yellow"), w))
    ld = np.nan_to_num(loading[shown], nan=-1.0)
    order = shown[np.argsort(-ld, kind="stable")[:top]]
    t = Table(title=f"{min(top, len(shown))} most loaded branches")
    t.add_column("branch")
    t.add_column("p_mw", justify="right")
    t.add_column("loading %", justify="right")
    for k in order:
        p, lp = r.flow_mw[k], loading[k]
        t.add_row(
            str(net.branch_ids[k]),
            "dark" if np.isnan(p) else f"{p:,.2f}",
            "" if np.isnan(lp) else f"{lp:,.1f}",
        )
    con.print(t)
    if dark:
        con.print(f"dark buses: {', '.join(dark[:20])}{' ...' if len(dark) > 20 else ''}")


def _num(x: float) -> float | None:
    """A float for JSON: None for NaN."""
    return float(x) if math.isfinite(x) else None


def _ac(
    net: Any,
    ids: list[str],
    state: Any,
    *,
    q_limits: bool,
    max_iter: int,
    json_out: bool,
    init: str = "dc",
    top: int,
    warnings: list[str],
) -> None:
    """``warmgrid flow --ac``: solve, then print JSON or a summary with tables."""
    from warmgrid.errors import ConvergenceError
    from warmgrid.power.ac import ACOptions, ac_flow

    r = ac_flow(
        net,
        state,
        options=ACOptions(q_limits=q_limits, max_iter=max_iter, init=init),  # type: ignore[arg-type]
    )
    if not r.converged:
        what = f" with reactive limits ({r.q_rounds} solves)" if q_limits else ""
        if json_out:  # a script reads converged: false (no values: none is an answer)
            print_json(
                {
                    "name": net.name,
                    "outage": ids,
                    "converged": False,
                    "iterations": int(r.iterations),
                    "max_mismatch_pu": float(r.max_mismatch_pu),
                    "q_limits": q_limits,
                    "warnings": warnings,
                }
            )
        raise ConvergenceError(
            f"{net.name}: the AC power flow did not converge{what} after {r.iterations} "
            f"Newton iterations (largest bus mismatch {r.max_mismatch_pu:.3g} p.u.)"
        )
    if json_out:
        print_json(_ac_json(net, ids, state, r, q_limits=q_limits, warnings=warnings))
        return
    _print_ac(net, ids, state, r, q_limits=q_limits, top=top, warnings=warnings)


def _ac_facts(net: Any, r: Any) -> tuple[int, list[str], Any, Any, float]:
    """(islands, dark bus ids, bus of the lowest and of the highest voltage (None when
    no bus is live), total losses MW) of an AC flow."""
    import numpy as np

    live = np.flatnonzero(~r.dark_bus)
    n_isl = int(r.island.max() + 1) if (r.island >= 0).any() else 0
    dark = [str(b) for b in net.bus_ids[r.dark_bus]]
    lo = live[np.argmin(r.vm_pu[live])] if len(live) else None
    hi = live[np.argmax(r.vm_pu[live])] if len(live) else None
    losses = float(np.nansum(r.loss_mw))
    return n_isl, dark, lo, hi, losses


def _ac_json(
    net: Any, ids: list[str], state: Any, r: Any, *, q_limits: bool, warnings: list[str]
) -> dict[str, Any]:
    """The JSON of ``warmgrid flow --ac``: summary, then buses, branches and units."""
    import numpy as np

    eff = state.effective(net)
    shown = np.flatnonzero(eff.branch_on)  # outaged branches are left out
    loading = r.loading_percent
    n_isl, dark, lo, hi, losses = _ac_facts(net, r)
    return {
        "name": net.name,
        "model": "ac",
        "outages": ids,
        "q_limits": q_limits,
        "converged": True,
        "iterations": r.iterations,
        "q_rounds": r.q_rounds,
        "seconds": r.seconds,
        "islands": n_isl,
        "dark_buses": dark,
        "losses_mw": losses,
        "min_vm": None
        if lo is None
        else {"bus": str(net.bus_ids[lo]), "vm_pu": float(r.vm_pu[lo])},
        "max_vm": None
        if hi is None
        else {"bus": str(net.bus_ids[hi]), "vm_pu": float(r.vm_pu[hi])},
        "buses": [
            {"id": str(net.bus_ids[b]), "vm_pu": _num(r.vm_pu[b]), "va_deg": _num(r.va_deg[b])}
            for b in range(net.n_bus)
        ],
        "branches": [
            {
                "id": str(net.branch_ids[k]),
                "p_from_mw": _num(r.p_from_mw[k]),
                "q_from_mvar": _num(r.q_from_mvar[k]),
                "p_to_mw": _num(r.p_to_mw[k]),
                "q_to_mvar": _num(r.q_to_mvar[k]),
                "loading_percent": _num(loading[k]),
            }
            for k in shown
        ],
        "units": [
            {
                "id": str(net.gen_ids[g]),
                "p_mw": _num(r.gen_p_mw[g]),
                "q_mvar": _num(r.gen_q_mvar[g]),
                "q_limited": bool(r.q_limited[g]),
            }
            for g in np.flatnonzero(eff.gen_on)
        ],
        "warnings": warnings,
    }


def _print_ac(
    net: Any,
    ids: list[str],
    state: Any,
    r: Any,
    *,
    q_limits: bool,
    top: int,
    warnings: list[str],
) -> None:
    """The summary of ``warmgrid flow --ac``: voltages, reactive limits, loaded branches."""
    from rich.text import Text

    n_isl, dark, lo, hi, losses = _ac_facts(net, r)
    con = console()
    head = Text()
    head.append(net.name, style="bold")
    head.append(
        f": AC flow converged in {r.iterations} iteration(s)"
        + (f", {r.q_rounds} solve(s) with reactive limits" if q_limits else "")
        + f", {r.seconds:.3f} s; {len(ids)} outage(s), {n_isl} island(s), "
        f"{len(dark)} dark bus(es); losses {losses:,.2f} MW"
    )
    con.print(head)
    for w in warnings:
        con.print(styled(("warning: ", "bold yellow"), w))
    if lo is not None and hi is not None:
        con.print(
            Text(
                f"vm min {r.vm_pu[lo]:.4f} p.u. at {net.bus_ids[lo]}, "
                f"max {r.vm_pu[hi]:.4f} p.u. at {net.bus_ids[hi]}"
            )
        )
    if q_limits:
        con.print(Text(f"{int(r.q_limited.sum())} unit(s) held at a reactive limit"))
    con.print(_ac_table(net, state, r, top))
    if dark:
        con.print(Text(f"dark buses: {', '.join(dark[:20])}{' ...' if len(dark) > 20 else ''}"))


def _ac_table(net: Any, state: Any, r: Any, top: int) -> Any:
    """The table of the ``top`` most loaded branches of an AC flow."""
    import numpy as np
    from rich.table import Table
    from rich.text import Text

    shown = np.flatnonzero(state.effective(net).branch_on)  # outaged branches are left out
    loading = r.loading_percent
    ld = np.nan_to_num(loading[shown], nan=-1.0)
    order = shown[np.argsort(-ld, kind="stable")[:top]]
    t = Table(title=f"{min(top, len(shown))} most loaded branches")
    for col in ("branch", "p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar", "loading %"):
        t.add_column(col, justify="left" if col == "branch" else "right")
    for k in order:
        p = r.p_from_mw[k]
        cells = [Text(str(net.branch_ids[k]))]
        if np.isnan(p):
            cells += [Text("dark"), Text(""), Text(""), Text("")]
        else:
            cells += [
                Text(f"{x:,.2f}")
                for x in (r.p_from_mw[k], r.q_from_mvar[k], r.p_to_mw[k], r.q_to_mvar[k])
            ]
        lp = loading[k]
        cells.append(Text("" if np.isnan(lp) else f"{lp:,.1f}"))
        t.add_row(*cells)
    return t


# ---------------------------------------------------------------------- contingency
def _read_sets(path: Path) -> list[tuple[str, ...]]:
    """Outage sets from a text file: one set per line, ids split by commas or spaces."""
    from warmgrid.errors import InputError

    if not path.exists():
        raise InputError("file not found", file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        row = path.read_bytes()[: e.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", file=str(path), row=row) from None
    sets = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            sets.append(tuple(x for x in line.replace(",", " ").split() if x))
    if not sets:
        raise InputError("no outage sets in the file", file=str(path))
    return sets


def _check_out(out: Path) -> None:
    """Raise for an ``--out`` that is not a ``.parquet`` or ``.csv`` file path."""
    from warmgrid.errors import InputError

    if out.suffix.lower() not in (".parquet", ".csv"):
        raise InputError(f"--out must end in .parquet or .csv, got {out.name!r}", field="--out")
    if out.is_dir():
        raise InputError(
            "--out is a directory, expected a .parquet or .csv file", file=str(out), field="--out"
        )


@app.command("contingency")
def contingency(
    case: _Case,
    k: _K = 1,
    candidates: _Candidates = 200,
    threshold: _Threshold = 100.0,
    generators: _Generators = "none",
    sets: _Sets = None,
    worsening: _Worsening = 1.0,
    all_violations: _AllViolations = False,
    out: _Out = None,
    top: _ContingencyTop = 10,
    ac_verify: _AcVerify = 0,
    json_out: _ContingencyJson = False,
) -> None:
    """Contingency screening: N-1 over all branches (LODF, bridges exact) or N-2 pairs.

    Overloads are counted against the base case: a contingency overloads a branch when
    the branch is within its rating before the outage and above the threshold after, or
    was already overloaded and gets worse by more than --worsening points. The base
    case's own overloads are listed apart. --all-violations counts every loading above
    the threshold. The memory a run needs is checked before it starts. --ac-verify N
    re-solves the N worst in AC (current-based loading at the actual voltages).
    """
    from warmgrid.errors import InputError
    from warmgrid.io import load_grid
    from warmgrid.power.network import compile_network

    if out is not None and out.suffix.lower() not in (".parquet", ".csv"):
        raise InputError(f"--out must end in .parquet or .csv, got {out.name!r}", field="--out")
    grid = load_grid(case)
    net = compile_network(grid)
    explicit = _read_sets(sets) if sets is not None else None
    if explicit is not None:
        from warmgrid.power.elements import check_ids

        check_ids(
            net, [e for s in explicit for e in s], file=str(sets), field="--sets", source=case
        )

    if out is not None:
        _check_out(out)

    opts: dict[str, Any] = dict(
        threshold_percent=threshold,
        worsening_pp=None if all_violations else worsening,
        keep_violations=False,
    )

    def screen(progress: Any) -> Any:
        return _screen(
            net,
            explicit,
            opts,
            k=k,
            candidates=candidates,
            generators=generators,
            out=out,
            progress=progress,
        )

    res = screen(None) if json_out or not sys.stderr.isatty() else _with_progress_bar(screen)
    summary = res.summary()
    from warmgrid.power.dc import dispatch_note

    summary["warnings"] = grid.warnings()
    note = dispatch_note(net, how="the slack units take the difference in every flow")
    if note:
        summary["warnings"].append(note)
    summary["worst"] = res.worst(top)
    summary["name"] = net.name
    if ac_verify:
        from warmgrid.power.contingency.ac_verify import ac_verify as verify

        summary["ac_verify"] = verify(net, res.worst(ac_verify))
    if json_out:
        print_json(summary)
        return
    _print_contingency(
        summary, threshold=threshold, worsening=worsening, all_violations=all_violations
    )
    if out is not None:
        console().print(f"{res.n_violations:,} violations written to {out}")


def _screen(
    net: Any,
    explicit: list[tuple[str, ...]] | None,
    opts: dict[str, Any],
    *,
    k: int,
    candidates: int,
    generators: str,
    out: Path | None,
    progress: Any,
) -> Any:
    """Screen the outage sets, the pairs (``k == 2``) or N-1, as the options ask;
    violations go to ``out`` atomically (complete or untouched) when it is given."""
    from warmgrid.power.contingency import n_minus_1, n_minus_k, n_minus_k_pairs

    def run(sink: Path | None) -> Any:
        if explicit is not None:
            return n_minus_k(net, explicit, progress=progress, violations_out=sink, **opts)
        if k == 2:
            return n_minus_k_pairs(net, candidates, progress=progress, violations_out=sink, **opts)
        gen = False if generators == "none" else generators
        return n_minus_1(
            net,
            generators=gen,  # type: ignore[arg-type]
            progress=progress,
            violations_out=sink,
            **opts,
        )

    if out is None:
        return run(None)
    from warmgrid.io.atomic import atomic_file

    with atomic_file(out) as tmp:  # complete or untouched
        return run(tmp)


def _with_progress_bar(screen: Any) -> Any:
    """``screen(progress)`` with a transient progress bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("screening"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("screen", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return screen(progress)


def _print_contingency(
    summary: dict[str, Any], *, threshold: float, worsening: float, all_violations: bool
) -> None:
    """The summary of ``warmgrid contingency``: counts, base overloads, worst contingencies."""
    from rich.table import Table

    con = console()
    how = (
        f"overload a branch above {threshold:g}%"
        if all_violations
        else f"overload a branch above {threshold:g}% or worsen a base overload by "
        f"more than {worsening:g} points"
    )
    con.print(
        styled(
            bold(summary["name"]),
            f": {summary['contingencies']:,} contingencies in "
            f"{summary['seconds']:.3f} s; {summary['islanding']:,} island part of the grid; "
            f"{summary['with_overloads']:,} {how}",
        )
    )
    for w in summary["warnings"]:
        con.print(styled(("warning: ", "bold yellow"), w))
    nb = summary["n_base_overloads"]
    if nb:
        worst = summary["base_overloads"][0]
        con.print(
            f"before any outage, {nb:,} branch(es) are already above {threshold:g}% "
            f"(worst {worst['branch']} at {worst['loading_percent']:,.0f}%); "
            + (
                "they count in every contingency (--all-violations)"
                if all_violations
                else "they count only when an outage makes them worse"
            )
        )
    t = Table(title=f"{len(summary['worst'])} worst contingencies")
    for col, just in (
        ("outage", "left"),
        ("max loading %", "right"),
        ("on branch", "left"),
        ("overloads", "right"),
        ("islanding", "left"),
        ("lost load MW", "right"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for w in summary["worst"]:
        t.add_row(
            ", ".join(w["outage"]),
            "-" if w["max_loading_percent"] is None else f"{w['max_loading_percent']:,.1f}",
            "-" if w["branch"] is None else str(w["branch"]),
            str(w["n_overloaded"]),
            "yes" if w["islanding"] else "",
            f"{w['lost_load_mw']:,.1f}" if w["islanding"] else "",
        )
    con.print(t)
    if summary.get("ac_verify"):
        _print_ac_verify(summary["ac_verify"])


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:,.1f}"


def _print_ac_verify(rows: list[dict[str, Any]]) -> None:
    """The worst DC contingencies re-solved in AC, loadings side by side."""
    from rich.table import Table

    t = Table(title=f"{len(rows)} worst re-solved in AC (loading by current at actual voltage)")
    for col, just in (
        ("outage", "left"),
        ("DC max %", "right"),
        ("on branch", "left"),
        ("AC there %", "right"),
        ("AC max %", "right"),
        ("on branch", "left"),
        ("min vm p.u.", "right"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        ok = r["ac_converged"]
        t.add_row(
            ", ".join(r["outage"]),
            _pct(r["dc_max_loading_percent"]),
            str(r["dc_branch"]),
            _pct(r["ac_loading_on_dc_branch"]) if ok else "no AC solution",
            _pct(r["ac_max_loading_percent"]),
            str(r["ac_branch"] or ""),
            "" if r["min_vm_pu"] is None else f"{r['min_vm_pu']:.3f}",
        )
    console().print(t)
