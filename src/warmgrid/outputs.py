"""Outputs: the ones a command has completed so far, and the JSON-safe form of a value
(no heavy imports: the CLI reads this module).

:mod:`warmgrid.io.atomic` appends each file or folder it moves into place to
:data:`PUBLISHED`; the CLI clears the list per command and names what is complete when
an interrupt comes after. :func:`plain` is what the results store and the pages write as
JSON. :func:`ignoring` holds signals off while an output is swapped into place, a store
write is salvaged or child processes start.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["PUBLISHED", "ignoring", "plain"]

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


@contextmanager
def ignoring(*signums: int) -> Iterator[None]:
    """Ignore the signals ``signums`` for the block (a Ctrl-C or SIGTERM in it is dropped;
    the command finishes what it was doing, then exits as usual). Outside the main thread
    this does nothing.

    Child processes started in the block inherit ``SIG_IGN``: a Ctrl-C in a terminal
    reaches the whole process group, and worker processes that ignore it keep quiet (no
    ``KeyboardInterrupt`` traceback from each) while the driver stops them in order.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, signal.SIG_IGN) for s in signums}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
