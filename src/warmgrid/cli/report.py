"""``warmgrid report RUN_OR_JSON -o FILE``: a self-contained, offline HTML page of an
impact (JSON), a restoration plan (JSON) or a Monte Carlo run (id in the store)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from warmgrid.cli import app
from warmgrid.cli._common import console, print_json
from warmgrid.study.store import DEFAULT_STORE


@app.command("report")
def report(
    source: str = typer.Argument(
        ...,
        help="An impact JSON file (warmgrid impact --json, demo), a restore JSON file "
        "(warmgrid restore --json) or a Monte Carlo run id.",
    ),
    out: Path = typer.Option(..., "-o", "--out", help="HTML file to write."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", help="Results store for run ids."),
    top: int = typer.Option(
        15, "--top", min=0, max=100_000, help="Critical elements shown for a Monte Carlo run."
    ),
    min_samples: int = typer.Option(
        5,
        "--min-samples",
        min=1,
        max=100_000_000,
        help="Rank only elements drawn in at least this many samples (as warmgrid montecarlo).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write the HTML page of an impact or a restoration plan (JSON file) or of a Monte
    Carlo run (id in the store): one self-contained file that works offline."""
    from warmgrid.errors import InputError
    from warmgrid.io.atomic import write_text_atomic

    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"-o must end in .html, got {out.name!r}", field="--out")
    path = Path(source)
    if path.suffix.lower() == ".json" or path.is_file():
        if not path.is_file():
            raise InputError("no such JSON file", file=source)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"not a JSON file ({exc})", file=source) from None
        except RecursionError:
            raise InputError(
                "not a result warmgrid wrote: nested too deeply", file=source
            ) from None
        from warmgrid.report import render_json

        kind, page = render_json(data, file=source)
    else:
        if not store.exists():
            raise InputError(
                "no results store (run warmgrid montecarlo first or pass --store)", file=str(store)
            )
        from warmgrid.report.montecarlo import montecarlo_html
        from warmgrid.study.montecarlo import summary
        from warmgrid.study.store import Store

        st = Store(store)
        summ = summary(st, source, top=top, min_samples=min_samples)
        page = montecarlo_html(summ, st.samples(source), st.context(source))
        kind = "montecarlo"
    write_text_atomic(out, page)
    if json_out:
        print_json({"report": str(out), "kind": kind, "source": source})
        return
    console().print(f"wrote {kind} report {out}")
