"""Memory a screening run needs, checked before it starts.

A run that would not fit is an :class:`~warmgrid.errors.InputError` naming the option to
change, never a process the kernel kills.
"""

from __future__ import annotations

from warmgrid.errors import InputError

__all__ = ["available_memory", "check_memory"]


def available_memory() -> int:
    """Bytes of memory this process can still take now: the machine's ``MemAvailable``,
    capped by the process's address-space limit (``ulimit -v``, less what it already
    maps) and by its control group's limit (a container's ``memory.max`` less its
    ``memory.current``; cgroup v2, or v1's ``memory.limit_in_bytes``)."""
    import resource

    import psutil

    avail = int(psutil.virtual_memory().available)
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        used = int(psutil.Process().memory_info().vms)
        avail = min(avail, max(int(soft) - used, 0))
    room = _cgroup_room()
    return avail if room is None else min(avail, room)


def _cgroup_room() -> int | None:
    """Bytes left under this process's cgroup memory limit, None without one."""
    from pathlib import Path

    try:
        rel = ""
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            parts = line.split(":", 2)
            if len(parts) == 3 and parts[0] == "0":  # cgroup v2
                rel = parts[2].lstrip("/")
        v2 = Path("/sys/fs/cgroup") / rel
        for limit_f, used_f in (
            (v2 / "memory.max", v2 / "memory.current"),
            (
                Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
                Path("/sys/fs/cgroup/memory/memory.usage_in_bytes"),
            ),
        ):
            if limit_f.is_file() and used_f.is_file():
                text = limit_f.read_text().strip()
                if text == "max":
                    return None
                limit, used = int(text), int(used_f.read_text().strip())
                if limit >= 1 << 60:  # v1's "no limit"
                    return None
                return max(limit - used, 0)
    except (OSError, ValueError):
        return None
    return None


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
