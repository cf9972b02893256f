"""Random streams: one seed normalised in one place, one stream per Monte Carlo sample.

A Monte Carlo run is reproducible whatever the number of workers because sample ``i``
always draws from the same stream, ``SeedSequence(seed, spawn_key=(i,))``: the ``i``-th
child that ``SeedSequence(seed).spawn(n)`` would return, for any ``n > i`` (numpy's
documented spawning scheme, NEP 19 / ``numpy.random.SeedSequence``). No global RNG is
ever seeded.
"""

from __future__ import annotations

import secrets

import numpy as np

from warmgrid.errors import InputError

__all__ = ["MAX_SEED", "as_generator", "new_seed", "sample_generator", "spawn_streams"]

#: Seeds are stored in the results store as BIGINT: 0 <= seed <= MAX_SEED.
MAX_SEED = 2**63 - 1

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def new_seed() -> int:
    """A fresh random seed (63 bits of OS entropy), to record when the user gave none."""
    return secrets.randbits(63)


def check_seed(seed: object, *, field: str = "seed") -> int:
    """``seed`` as an int in ``[0, MAX_SEED]``, or :class:`InputError`."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an integer in [0, 2**63 - 1], got {seed!r}", field=field)
    s = int(seed)
    if not 0 <= s <= MAX_SEED:
        raise InputError(f"seed must be an integer in [0, 2**63 - 1], got {s}", field=field)
    return s


def as_generator(seed: SeedLike) -> np.random.Generator:
    """A numpy ``Generator`` from an int, a ``SeedSequence``, a ``Generator`` or None.

    A ``Generator`` is returned as is (the caller keeps control of its stream); None draws
    fresh OS entropy (not reproducible).

    >>> float(as_generator(7).random()) == float(as_generator(7).random())
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(check_seed(seed))


def spawn_streams(seed: int, n: int, *, start: int = 0) -> list[np.random.SeedSequence]:
    """The seed sequences of samples ``start .. start + n - 1`` of a run seeded ``seed``.

    Equal to ``SeedSequence(seed).spawn(start + n)[start:]``, computed without spawning
    the first ``start`` children, so a worker handed samples 500..549 builds just those.

    Parameters
    ----------
    seed : the run's seed, 0 <= seed <= 2**63 - 1.
    n : number of streams.
    start : index of the first sample.
    """
    s = check_seed(seed)
    return [np.random.SeedSequence(s, spawn_key=(i,)) for i in range(start, start + n)]


def sample_generator(seed: int, i: int, stream: int = 0) -> np.random.Generator:
    """The generator of sample ``i`` of a run seeded ``seed`` (its own PCG64 stream);
    ``stream`` > 0 gives the sample other independent streams (the damage draws from 0)."""
    key = (int(i),) if stream == 0 else (int(i), int(stream))
    return np.random.default_rng(np.random.SeedSequence(check_seed(seed), spawn_key=key))
