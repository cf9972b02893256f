"""Outputs: the ones a command has completed so far, and the JSON-safe form of a value
(no heavy imports: the CLI reads this module).

:mod:`warmgrid.io.atomic` appends each file or folder it moves into place to
:data:`PUBLISHED`; the CLI clears the list per command and names what is complete when
an interrupt comes after. :func:`plain` is what the results store and the pages write as
JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["PUBLISHED", "plain"]

#: Every output moved into place in this process since the list was last cleared.
PUBLISHED: list[Path] = []


def plain(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays as Python values and NaN or infinity as None
    (JSON has neither); mappings with string keys."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return plain(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
