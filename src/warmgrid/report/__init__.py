"""Self-contained, offline HTML pages of warmgrid's results.

One page per result: :func:`~warmgrid.report.html.impact_html` (impact, ``demo``),
:func:`~warmgrid.report.plan.plan_html` (a restoration plan; its table as CSV by
:func:`~warmgrid.report.plan.plan_csv`) and
:func:`~warmgrid.report.montecarlo.montecarlo_html` (a Monte Carlo run).
:func:`render_json` picks the page for a result's JSON. How the pages are built:
:mod:`warmgrid.report.page`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["json_kind", "render_json"]


def json_kind(data: Any) -> str | None:
    """``"restore"`` for ``warmgrid restore --json``, ``"impact"`` for ``warmgrid impact
    --json`` (and ``demo``'s impact.json), else None."""
    if not isinstance(data, Mapping):
        return None
    if "plan" in data and isinstance(data.get("timeline"), Mapping):
        return "restore"
    if "people" in data and "timeline" in data:
        return "impact"
    return None


def render_json(data: Any, *, file: str | None = None) -> tuple[str, str]:
    """The page of a result's JSON: ``(kind, html)``.

    Raises
    ------
    InputError
        When ``data`` is neither an impact nor a restoration result, or lacks a key or
        has a value of the wrong type or shape (one line naming ``file``).
    """
    from warmgrid.errors import InputError

    kind = json_kind(data)
    if kind is None:
        raise InputError(
            "not an impact result or a restore result (needs 'people' and 'timeline', or "
            "'plan' and 'timeline')",
            file=file,
        )
    what = "impact" if kind == "impact" else "restore"
    try:
        if kind == "restore":
            from warmgrid.report.plan import plan_html

            page = plan_html(data)
        else:
            from warmgrid.report.html import impact_html

            page = impact_html(data)
    except KeyError as exc:
        raise InputError(
            f"not a complete {what} result: missing key {exc.args[0]!r}", file=file
        ) from None
    except (TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise InputError(
            f"not a complete {what} result: a value of the wrong type or shape ({exc})",
            file=file,
        ) from None
    except (RecursionError, MemoryError):  # nested or sized beyond any result warmgrid writes
        raise InputError(
            f"not a result warmgrid wrote: nested or sized beyond any {what} result",
            file=file,
        ) from None
    return kind, page
