"""Memory a screening run needs, checked before it starts.

A run that would not fit is an :class:`~warmgrid.errors.InputError` naming the option to
change, never a process the kernel kills.
"""

from __future__ import annotations

from warmgrid.errors import InputError

__all__ = ["available_memory", "check_memory"]


def available_memory() -> int:
    """Bytes of memory the machine can give this process now (``MemAvailable``)."""
    import psutil

    return int(psutil.virtual_memory().available)


def check_memory(need: float, *, what: str, field: str, hint: str) -> None:
    """Raise :class:`InputError` when ``need`` bytes exceed 80 % of the available memory.

    Parameters
    ----------
    need : the estimate, bytes.
    what : the run, for the message ("N-2 over 1,200 candidates").
    field : the option to change.
    hint : what to change.
    """
    avail = available_memory()
    if need > 0.8 * avail:
        raise InputError(
            f"{what} needs about {need / 1e9:,.1f} GB of memory and "
            f"{avail / 1e9:,.1f} GB is available; {hint}",
            field=field,
        )


def _per_contingency_bytes(keep_violations: bool, k: int) -> float:
    """Memory per contingency: its id tuple and strings (~70 B + 60 B per element), the
    summary arrays (~60 B), and, when violations are kept in memory, a reserve of 40
    violation rows (32 B each): base-case overloads no longer repeat per contingency, so
    real runs stay well under it."""
    return 70 + 60 * k + 60 + (40 * 32 if keep_violations else 0)
