"""numba, optional: whether it is there, and the decorators of warmgrid's compiled kernels.

``WARMGRID_NO_NUMBA=1`` in the environment disables it (the numpy/SciPy fallbacks run).
Every kernel is compiled once and cached on disk (``cache=True``).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["HAVE_NUMBA"]

numba: Any
try:  # pragma: no cover - depends on the environment
    if os.environ.get("WARMGRID_NO_NUMBA"):
        raise ImportError
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    numba = None
    HAVE_NUMBA = False


def _njit(fn: Any) -> Any:
    """Compile ``fn`` with numba (cached, releasing the GIL); ``fn`` itself without numba."""
    if HAVE_NUMBA:
        return numba.njit(cache=True, nogil=True)(fn)
    return fn


def _njit_fast(fn: Any) -> Any:
    """Like :func:`_njit`, with ``fastmath`` and numpy's error model (the screening kernel)."""
    # fastmath only lets LLVM vectorise the max/abs/compare loops; no reductions are reordered
    if HAVE_NUMBA:
        return numba.njit(cache=True, nogil=True, fastmath=True, error_model="numpy")(fn)
    return fn


def _njit_inline(fn: Any) -> Any:
    """A piece of a :func:`_njit_fast` kernel, inlined into it at numba IR level.

    ``inline="always"`` puts the piece's code into the caller before compilation, so the
    caller compiles to what it would be with the code written out in it (same options,
    no call).
    """
    if HAVE_NUMBA:
        return numba.njit(
            inline="always", cache=True, nogil=True, fastmath=True, error_model="numpy"
        )(fn)
    return fn
