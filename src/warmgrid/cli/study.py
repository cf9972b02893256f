"""``warmgrid montecarlo`` (random damage studies) and ``warmgrid runs`` (the store's runs).

``warmgrid montecarlo SCENARIO.toml --samples N [--seed S] [--scheduler ADDR|local|
synchronous] [--store PATH] [--resume RUN] [--json]`` runs :func:`~warmgrid.study.
montecarlo.run_montecarlo`, shows a progress bar (stderr), then a summary of the
distributions and the most critical elements (or the JSON of
:func:`~warmgrid.study.montecarlo.summary`).

``warmgrid runs [--store PATH] --json`` lists ``[{"run", "scenario", "scenarios",
"samples_requested", "samples_done", "complete", "seed", "created", "updated",
"hazard"}]`` (``scenarios``, a one-item list, is the key of the contract in
docs/architecture.md, "Contracts").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from warmgrid.cli import app
from warmgrid.cli._common import bold, console, print_json, styled

_DEFAULT_STORE = str(Path("warmgrid-out") / "results.duckdb")

_LABELS = {
    "people_without_power_peak": "people without power (peak)",
    "people_without_heat_peak": "people without heat (peak)",
    "people_without_water_peak": "people without water (peak)",
    "person_hours_below_12c": "person-hours below 12 °C",
}


@app.command("montecarlo")
def montecarlo(
    scenario: str = typer.Argument(..., help="Scenario TOML file or bundled scenario name."),
    samples: int = typer.Option(
        None,
        "--samples",
        "-n",
        min=1,
        max=100_000_000,
        help="Number of damage samples (with --resume: default the run's own).",
    ),
    seed: int = typer.Option(
        None,
        "--seed",
        min=0,
        max=2**63 - 1,
        help="Seed (0..2**63-1); default: drawn and recorded in the store.",
    ),
    scheduler: str = typer.Option(
        "local",
        "--scheduler",
        help="local (a 2-process Dask LocalCluster), synchronous (this process), "
        "or a Dask scheduler address tcp://host:8786.",
    ),
    store: str = typer.Option(_DEFAULT_STORE, "--store", help="DuckDB results file."),
    resume: str = typer.Option(None, "--resume", help="Run id to continue (see warmgrid runs)."),
    batch: int = typer.Option(
        None,
        "--batch",
        min=1,
        max=100_000,
        help="Samples per task and per store write (default: tasks of about 0.5 s, "
        "written every two seconds or so).",
    ),
    top: int = typer.Option(10, "--top", min=0, max=100_000, help="Critical elements to show."),
    metric: str = typer.Option(
        "person_hours_below_12c",
        "--metric",
        help="Outcome that ranks the critical elements (a samples column, e.g. "
        "person_hours_without_heat, people_without_heat_peak, energy_not_served_mwh).",
    ),
    min_samples: int = typer.Option(
        5,
        "--min-samples",
        min=1,
        max=100_000_000,
        help="Rank only elements drawn in at least this many samples.",
    ),
    absolute: bool = typer.Option(
        False,
        "--absolute",
        help="Count every figure from zero, including what the grid cannot serve before "
        "any damage (default: only the harm each sample's damage adds).",
    ),
    json_out: bool = typer.Option(
        False,
        "--json",
        help="Print JSON: run, scenario, store, seed, samples_requested, samples_done, "
        "complete, hazard, distributions, criticality, seconds (the whole run, start-up "
        "included), sampling_seconds (from the first sample to the last write), "
        "new_samples, samples_per_s (new_samples / sampling_seconds, store writes "
        "included), baseline, warnings, assumptions.",
    ),
) -> None:
    """Sample random damage from the scenario's [hazard] and store every outcome.

    Each sample is the scenario's [damage] plus one draw of its [hazard] (explicit,
    random_k or fragility), replayed over the horizon. Results are reproducible for a
    seed whatever the number of workers; --resume RUN finishes an interrupted run.

    The local cluster runs on 127.0.0.1 with TLS and temporary credentials, and serves no
    HTTP. For a remote cluster (--scheduler tcp://host:8786, or tls://), the workers must
    see the same scenario files, and anyone who can reach that scheduler can run code on
    its workers: keep it on a private network or use TLS (see the README).
    """
    import logging
    import sys

    from warmgrid.errors import InputError, closest, quoted

    # a Ctrl-C while the Dask client waits leaves asyncio tasks whose exceptions nobody
    # reads; their "Task exception was never retrieved" is no news for the user, who
    # gets the resume line
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    from warmgrid.study.montecarlo import RunStopped, run_montecarlo
    from warmgrid.study.store import METRIC_COLUMNS

    if metric not in METRIC_COLUMNS:
        raise InputError(
            f"unknown metric {quoted(metric)}{closest(metric, METRIC_COLUMNS)}; one of: "
            + ", ".join(METRIC_COLUMNS),
            field="--metric",
        )
    _check_metric_threshold(metric, scenario)
    try:
        res = run_montecarlo(
            scenario,
            samples,
            seed=seed,
            scheduler=scheduler,
            store=store,
            resume=resume,
            batch=batch,
            progress=not json_out and sys.stderr.isatty(),
            absolute=absolute,
        )
    except RunStopped as e:
        raise _stopped(e, scenario, store, scheduler, absolute) from None
    try:
        out = _run_summary(res, scenario, absolute, top=top, metric=metric, min_samples=min_samples)
        if json_out:
            print_json(out)
            return
        _print_summary(out)
    except KeyboardInterrupt:  # the samples are stored: say so, not "nothing written"
        from warmgrid.cli import interrupted_code
        from warmgrid.errors import Interrupted

        raise Interrupted(
            f"interrupted while summarising; the run is stored ({res.samples_done} of "
            f"{res.samples_requested} samples): warmgrid runs --store {_arg(str(res.store))} "
            f"lists it, warmgrid report {res.run} --store {_arg(str(res.store))} "
            "-o report.html shows it",
            exit_code=interrupted_code(),
        ) from None


def _stopped(e: Any, scenario: str, store: str, scheduler: str, absolute: bool) -> Exception:
    """The one line of a stopped run (a signal or lost workers) with the command that
    resumes it, and its exit code (130/143 for a signal, 1 for lost workers)."""
    from warmgrid.cli import interrupted_code
    from warmgrid.errors import Interrupted

    again = ["warmgrid montecarlo", _arg(scenario), f"--samples {e.total}"]
    if store != _DEFAULT_STORE:
        again.append(f"--store {_arg(store)}")
    if scheduler != "local":
        again.append(f"--scheduler {_arg(scheduler)}")
    if absolute:
        again.append("--absolute")
    again.append(f"--resume {e.run}")
    return Interrupted(
        f"{e.reason} after {e.done} of {e.total} samples; resume with: {' '.join(again)}",
        exit_code=interrupted_code() if e.signalled else 1,
    )


def _check_metric_threshold(metric: str, scenario: str) -> None:
    """A metric of an indoor threshold needs that threshold in the scenario's
    ``[thresholds]``: the store's column would be empty for every sample otherwise."""
    if "_below_" not in metric:
        return
    from warmgrid.errors import InputError
    from warmgrid.metrics import threshold_key
    from warmgrid.model.scenario import load_scenario

    key = metric.split("_below_", 1)[1].removesuffix("_h")
    indoor = load_scenario(scenario).thresholds.indoor_c
    if key not in {threshold_key(t) for t in indoor}:
        have = ", ".join(f"{t:g} °C" for t in indoor) or "none"
        raise InputError(
            f"{metric} needs the {key.removesuffix('c')} °C threshold, which the scenario's "
            f"[thresholds] indoor_c leaves out ({have}); choose another --metric",
            field="--metric",
        )


def _run_summary(
    res: Any, scenario: str, absolute: bool, *, top: int, metric: str, min_samples: int
) -> dict[str, Any]:
    """The run's JSON: distributions and criticality from the store, the timings, and the
    study's baseline, warnings and assumptions."""
    from warmgrid.model.scenario import load_scenario
    from warmgrid.study.montecarlo import summary
    from warmgrid.study.store import Store

    out = summary(Store(res.store), res.run, top=top, metric=metric, min_samples=min_samples)
    out["seconds"] = res.seconds
    out["sampling_seconds"] = res.sampling_seconds
    out["new_samples"] = res.new_samples
    out["samples_per_s"] = res.samples_per_s
    ctx = res.context or Store(res.store).context(res.run)
    if ctx is None:  # (a store from before run contexts)
        from warmgrid.study.montecarlo import run_context

        ctx = run_context(load_scenario(scenario), absolute)
    out.update({k: ctx[k] for k in ("counting", "baseline", "warnings", "assumptions")})
    return out


def _arg(text: str) -> str:
    """``text`` quoted for a POSIX shell when it needs it."""
    import shlex

    return shlex.quote(str(text))


def _fmt(x: float | None) -> str:
    """Compact numbers for narrow terminals: 25.2 M, 152 k, 940."""
    if x is None:
        return "-"
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:,.1f} M"
    if a >= 1e4:
        return f"{x / 1e3:,.0f} k"
    return f"{x:,.0f}"


def _print_summary(out: dict[str, Any]) -> None:
    from rich.table import Table

    con = console()
    state = "complete" if out["complete"] else "incomplete"
    con.print()
    con.print(
        styled(
            bold(out["scenario"]),
            ": run ",
            bold(out["run"]),
            f", {out['samples_done']}/{out['samples_requested']} samples ({state}), "
            f"seed {out['seed']}, {out['new_samples']} computed in {out['seconds']:.1f} s"
            + (
                f" ({out['samples_per_s']:,.0f} samples/s after start-up); "
                if out["samples_per_s"]
                else "; "
            )
            + f"store {out['store']}",
        )
    )
    con.print(f"hazard: {out['hazard']}")
    from warmgrid.cli.demo import tell_warnings

    tell_warnings(con, out)
    con.print()
    t = Table(title="Outcome distributions over the samples")
    t.add_column("outcome", no_wrap=True)
    for k in ("mean", "p50", "p90", "p99", "max"):
        t.add_column(k, justify="right")
    for key, d in out["distributions"].items():
        t.add_row(
            _LABELS.get(key, key), *(_fmt(d[k]) for k in ("mean", "p50", "p90", "p99", "max"))
        )
    con.print(t)
    rows = out["criticality"]["elements"]
    if rows:
        m = out["criticality"]["metric"]
        c = Table(title=f"Elements that matter most ({_LABELS.get(m, m)})")
        c.add_column("element", no_wrap=True)
        c.add_column("samples with", justify="right")
        c.add_column("mean with", justify="right")
        c.add_column("mean without", justify="right")
        c.add_column("difference", justify="right")
        c.add_column("effect (OLS)", justify="right")
        for r in rows:
            c.add_row(
                r["element"],
                str(r["samples_with"]),
                _fmt(r["mean_with"]),
                _fmt(r["mean_without"]),
                _fmt(r["difference"]),
                _fmt(r["effect"]),
            )
        con.print(c)
    elif out["criticality"].get("min_samples", 1) > 1:
        con.print(
            f"No element was drawn in at least {out['criticality']['min_samples']} samples: run more "
            "samples (--resume RUN --samples N) or lower --min-samples."
        )
    else:
        con.print("No element varies across the samples (add a [hazard] section to the scenario).")


@app.command("runs")
def runs(
    store: str = typer.Option(_DEFAULT_STORE, "--store", help="DuckDB results file."),
    json_out: bool = typer.Option(
        False,
        "--json",
        help='Print JSON: [{"run", "scenario", "scenarios", "samples_requested", '
        '"samples_done", "complete", "seed", "created", "updated", "hazard"}].',
    ),
) -> None:
    """List the Monte Carlo runs in a results store."""
    from warmgrid.study.store import Store

    rows = Store(store).runs()
    for r in rows:
        r["scenarios"] = [r["scenario"]]
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    con = console()
    if not rows:
        con.print(f"No runs in {store}.")
        return
    t = Table(title=f"Runs in {store}")
    for col in ("run", "scenario", "samples", "complete", "seed", "created"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r["run"],
            r["scenario"],
            f"{r['samples_done']}/{r['samples_requested']}",
            "yes" if r["complete"] else "no",
            str(r["seed"]),
            r["created"],
        )
    con.print(t)
