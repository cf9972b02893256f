"""What every optimiser of a plan returns: the best solution it found and its score."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Found"]


@dataclass(frozen=True, kw_only=True)
class Found:
    """The best solution a method found, scored by replaying the one timeline.

    Attributes
    ----------
    method : how it was found (``brute``, ``local``, ``greedy``, ``milp``, ...).
    objective : ``{"total", <term>: ...}`` (weighted person-hours and each term).
    evaluations : timeline replays this search ran (cache misses).
    seconds : wall time.
    optimal : True when proven optimal over the class searched (brute force).
    detail : method-specific extras.
    """

    method: str
    objective: dict[str, float]
    evaluations: int
    seconds: float
    optimal: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """The objective's total, weighted person-hours (lower is better)."""
        return self.objective["total"]
