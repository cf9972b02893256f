"""Hourly outdoor temperature series from a CSV (``time,outdoor_c``) or a constant.

Checks every row: a readable ISO time, a number in °C, no gap or repeat in the hours, and
plausible values (a column in °F or K, or values outside −70…+60 °C, is an error rather
than a silent misreading).
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from warmgrid.errors import InputError
from warmgrid.io.text import read_text_bytes

__all__ = ["hourly_weather", "read_weather_csv", "weather_series"]

_MIN_C, _MAX_C = -70.0, 60.0


def _csv_rows(path: Path) -> list[list[str]]:
    """The rows of a UTF-8 CSV file (a byte-order mark allowed); an error names the file."""
    if not path.exists():
        raise InputError("no such weather file", file=str(path))
    if path.is_dir():
        raise InputError("is a directory, expected a weather CSV", file=str(path))
    raw = read_text_bytes(path, "a weather CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=str(path)) from None
    return list(csv.reader(text.splitlines()))


def _columns(header: list[str], path: Path) -> tuple[int, int]:
    """The positions of ``time`` and ``outdoor_c`` in the header; a column in another
    unit (°F, K) or a missing column is an error."""
    for unit_col in ("outdoor_f", "outdoor_k", "temperature_f", "temp_f", "outdoor_kelvin"):
        if unit_col in header:
            raise InputError(
                f"column {unit_col!r} is not in °C; convert it to a column 'outdoor_c'",
                file=str(path),
                row=1,
                field=unit_col,
            )
    if "time" not in header or "outdoor_c" not in header:
        raise InputError(
            f"needs columns 'time' and 'outdoor_c', got {', '.join(header) or 'none'}",
            file=str(path),
            row=1,
            field="header",
        )
    return header.index("time"), header.index("outdoor_c")


def _outdoor_c(cell: str, path: Path, n: int) -> float:
    """The outdoor temperature in row ``n``: a number within the plausible range, °C."""
    if not cell:
        raise InputError("missing value (a gap)", file=str(path), row=n, field="outdoor_c")
    try:
        v = float(cell)
    except ValueError:
        raise InputError(
            f"not a number: {cell[:40]!r}", file=str(path), row=n, field="outdoor_c"
        ) from None
    if not np.isfinite(v) or not (_MIN_C <= v <= _MAX_C):
        hint = " (Kelvin or Fahrenheit?)" if np.isfinite(v) and v > _MAX_C else ""
        raise InputError(
            f"{v:g} °C is outside {_MIN_C:g}…{_MAX_C:g} °C{hint}",
            file=str(path),
            row=n,
            field="outdoor_c",
        )
    return v


def read_weather_csv(path: str | Path) -> tuple[list[datetime], np.ndarray]:
    """Read an hourly weather CSV with columns ``time`` (ISO 8601) and ``outdoor_c``.

    Returns
    -------
    times : list of datetimes, hourly, without gaps.
    outdoor_c : (n,) float, °C.
    """
    path = Path(path)
    rows = _csv_rows(path)
    if not rows:
        raise InputError("empty file, expected a header 'time,outdoor_c'", file=str(path))
    header = [h.strip().lower() for h in rows[0]]
    it, ic = _columns(header, path)
    times: list[datetime] = []
    vals: list[float] = []
    for n, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        if len(r) != len(header):
            raise InputError(
                f"has {len(r)} fields, the header has {len(header)}",
                file=str(path),
                row=n,
                field="row",
            )
        try:
            t = datetime.fromisoformat(r[it].strip())
        except ValueError:
            raise InputError(
                f"not an ISO time: {r[it][:40]!r}", file=str(path), row=n, field="time"
            ) from None
        v = _outdoor_c(r[ic].strip(), path, n)
        if times and (t.tzinfo is None) != (times[0].tzinfo is None):
            raise InputError(
                "every time must have a UTC offset, or none must: "
                f"{r[it].strip()[:40]!r} differs from row 2",
                file=str(path),
                row=n,
                field="time",
            )
        if times and t - times[-1] != timedelta(hours=1):
            gap = (t - times[-1]).total_seconds() / 3600
            raise InputError(
                f"time steps must be hourly without gaps; {gap:g} h after the previous row",
                file=str(path),
                row=n,
                field="time",
            )
        times.append(t)
        vals.append(v)
    if not vals:
        raise InputError("no data rows", file=str(path), row=2, field="outdoor_c")
    return times, np.asarray(vals)


def weather_series(
    *,
    hours: int,
    outdoor_c: float | None = None,
    csv_path: str | Path | None = None,
    start: datetime | None = None,
    source: str = "",
) -> np.ndarray:
    """(hours,) hourly outdoor temperature over the horizon, °C.

    Parameters
    ----------
    hours : horizon length in hours (> 0).
    outdoor_c : a constant temperature, or
    csv_path : an hourly CSV (``time,outdoor_c``) that covers the horizon from ``start``
        (default: its first row).
    source : the scenario file, for messages.
    """
    return hourly_weather(
        hours=hours, outdoor_c=outdoor_c, csv_path=csv_path, start=start, source=source
    )[0]


def hourly_weather(
    *,
    hours: int,
    outdoor_c: float | None = None,
    csv_path: str | Path | None = None,
    start: datetime | None = None,
    source: str = "",
    extend: bool = False,
) -> tuple[np.ndarray, int]:
    """:func:`weather_series`, and with ``extend`` a CSV shorter than the horizon is
    continued by repeating its last 24 hours (a stated assumption: the last day's weather
    goes on); returns the series and how many hours were added that way."""
    if hours <= 0:
        raise InputError(f"must be > 0, got {hours}", file=source, field="horizon.hours")
    if (outdoor_c is None) == (csv_path is None):
        raise InputError("give exactly one of outdoor_c or csv", file=source, field="weather")
    if outdoor_c is not None:
        if not np.isfinite(outdoor_c) or not (_MIN_C <= outdoor_c <= _MAX_C):
            raise InputError(
                f"{outdoor_c} °C is outside {_MIN_C:g}…{_MAX_C:g} °C",
                file=source,
                field="weather.outdoor_c",
            )
        return np.full(hours, float(outdoor_c)), 0
    assert csv_path is not None
    times, vals = read_weather_csv(csv_path)
    i0 = 0
    if start is not None:
        s = start.replace(tzinfo=None) if times[0].tzinfo is None else start
        if s not in times:
            raise InputError(
                f"does not contain the start time {start.isoformat()}",
                file=str(csv_path),
                field="time",
            )
        i0 = times.index(s)
    have = vals[i0 : i0 + hours]
    if len(have) < hours and extend:
        day = have[-24:]
        reps = -(-(hours - len(have)) // len(day))
        return np.concatenate([have, np.tile(day, reps)])[:hours], hours - len(have)
    if len(have) < hours:
        raise InputError(
            f"covers {len(vals) - i0} h from the start, the horizon needs {hours} h",
            file=str(csv_path),
            row=len(vals) + 1,
            field="time",
        )
    return have, 0
