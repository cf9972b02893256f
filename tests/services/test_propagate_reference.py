"""The vectorised ``propagate`` against the hour-by-hour reference oracle, bit for bit.

Random overlays (heat sources with and without CHP units and backup, areas fed by up to
four sources, water stations with tanks, facilities with generators), random load
fractions that go out and come back (partly), random outdoor temperatures around the
draining threshold, random step lengths and freeze options, with and without mobile
boiler houses (``dh_floor``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_propagate import reference_propagate
from warmgrid.services.propagate import FreezeOptions, ServiceLinks, ServiceSeries, propagate

FIELDS = list(ServiceSeries.__dataclass_fields__)


def _same(a: ServiceSeries, b: ServiceSeries) -> None:
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype, f
        assert x.shape == y.shape, f
        assert x.flags["C_CONTIGUOUS"], f
        assert np.array_equal(x, y), f


def _pattern(draw, n: int, values) -> np.ndarray:
    """A piecewise-constant series: a value from hour 0, then changes at random hours."""
    out = np.empty(n)
    k = 0
    v = draw(values)
    while k < n:
        run = draw(st.integers(1, max(1, n)))
        out[k : k + run] = v
        k += run
        v = draw(values)
    return out


def _patterns(draw, n: int, cols: int, values) -> np.ndarray:
    """(n, cols) of independent :func:`_pattern` columns."""
    out = np.empty((n, cols))
    for j in range(cols):
        out[:, j] = _pattern(draw, n, values)
    return out


FRACTION = st.one_of(
    st.sampled_from([0.0, 1.0, 1.0, 0.3, 0.5, 1.0 - 1e-10, 0.05]),
    st.floats(0.0, 1.0, allow_nan=False),
)
HOURS = st.one_of(
    st.sampled_from([0.0, 1.0, 2.5, 3.0, 6.0, 24.0]), st.floats(0.0, 30.0, allow_nan=False)
)


@st.composite
def cases(draw):
    n = draw(st.integers(0, 30))
    n_load = draw(st.integers(1, 6))
    n_gen = draw(st.integers(0, 3))
    n_heat = draw(st.integers(0, 4))
    n_area = draw(st.integers(1, 5))
    n_water = draw(st.integers(0, 3))
    n_fac = draw(st.integers(0, 2))
    load = st.integers(-1, n_load - 1)

    def arr(elem, size, dtype=float):
        return np.array([draw(elem) for _ in range(size)], dtype=dtype)

    weight = st.sampled_from([0.0, 1.0]) if draw(st.booleans()) else st.sampled_from([0, 1, 0.5])
    links = ServiceLinks(
        heat_load=arr(load, n_heat, np.int64),
        heat_is_chp=arr(st.booleans(), n_heat, bool),
        heat_gens=[
            np.array(
                sorted(draw(st.sets(st.integers(0, n_gen - 1), max_size=n_gen))) if n_gen else [],
                dtype=np.int64,
            )
            for _ in range(n_heat)
        ],
        heat_peak_share=arr(st.sampled_from([0.0, 0.4, 0.25]), n_heat),
        heat_backup_h=arr(HOURS, n_heat),
        area_load=arr(load, n_area, np.int64),
        area_sources=np.array(
            [[draw(weight) for _ in range(n_heat)] for _ in range(n_area)], dtype=float
        ).reshape(n_area, n_heat),
        area_ish=arr(st.sampled_from([0.0, 0.0, 0.25, 1.0, 0.03]), n_area),
        area_local_power=arr(st.booleans(), n_area, bool),
        water_load=arr(load, n_water, np.int64),
        water_areas=np.array(
            [[draw(st.sampled_from([0.0, 1.0])) for _ in range(n_area)] for _ in range(n_water)],
            dtype=float,
        ).reshape(n_water, n_area),
        water_reservoir_h=arr(HOURS, n_water),
        facility_load=arr(load, n_fac, np.int64),
        facility_backup_h=arr(HOURS, n_fac),
    )
    lf = _patterns(draw, n, n_load, FRACTION)
    if draw(st.booleans()):  # some hour-to-hour noise on top of the outages
        lf = np.clip(lf * draw(st.sampled_from([1.0, 0.999, 0.5])), 0.0, 1.0)
    gen = _patterns(draw, n, n_gen, st.sampled_from([0.0, 1.0])).astype(bool)
    t_out = _pattern(
        draw, n, st.one_of(st.sampled_from([-10.0, -20.0, -5.0]), st.floats(-30.0, 5.0))
    )
    options = FreezeOptions(
        drain_after_h=draw(st.sampled_from([6.0, 2.0, 1.0, 0.5, 0.0, 2.7])),
        drain_below_c=-10.0,
        refill_h=draw(st.sampled_from([24.0, 3.0, 1.0, 0.0, 0.3, 2.5])),
        circulation_min=draw(st.sampled_from([0.1, 0.5, 0.0])),
        reservoir_refill_rate=draw(st.sampled_from([0.5, 0.0, 1.3])),
    )
    dt = draw(st.sampled_from([1.0, 1.0, 0.5, 0.1, 1.0 / 3.0, 2.0]))
    floor = None
    if draw(st.booleans()):
        floor = _patterns(draw, n, n_area, FRACTION)
    return links, lf, gen, t_out, options, dt, floor


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_matches_the_hour_by_hour_reference(case) -> None:
    links, lf, gen, t_out, options, dt, floor = case
    kw = dict(options=options, dt_h=dt, dh_floor=floor)
    _same(propagate(links, lf, gen, t_out, **kw), reference_propagate(links, lf, gen, t_out, **kw))


def _city(n_area: int = 4):
    """Areas 0..3 on one boiler each; stations 0 and 1 serve areas 0-1 and 2-3."""
    n_load = 2 * n_area + 2
    return ServiceLinks(
        heat_load=np.arange(n_area),
        heat_is_chp=np.zeros(n_area, dtype=bool),
        heat_gens=[np.array([], dtype=np.int64)] * n_area,
        heat_peak_share=np.zeros(n_area),
        heat_backup_h=np.array([0.0, 2.0, 0.0, 5.5])[:n_area],
        area_load=np.arange(n_area, 2 * n_area),
        area_sources=np.eye(n_area),
        area_ish=np.zeros(n_area),
        area_local_power=np.zeros(n_area, dtype=bool),
        water_load=np.array([n_load - 2, n_load - 1]),
        water_areas=np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])[:, :n_area],
        water_reservoir_h=np.array([2.5, 15.0]),
        facility_load=np.array([0]),
        facility_backup_h=np.array([3.0]),
    ), n_load


@pytest.mark.parametrize("dt", [1.0, 0.1, 1.0 / 3.0])
def test_repeated_outages_drain_and_refill_twice_like_the_reference(dt: float) -> None:
    """Two outages in deep frost, each long enough to drain, with repairs in between, and
    tanks that empty, refill partly and empty again: a long case the random ones rarely
    reach."""
    links, n_load = _city()
    n = round(120 / dt)
    hour = np.arange(n) * dt
    lf = np.ones((n, n_load))
    for a, b in ((5, 30), (60, 95)):
        out = (hour >= a) & (hour < b)
        lf[out, :4] = 0.0  # boilers
        lf[out, -2:] = 0.0  # pumps
    lf[(hour >= 40) & (hour < 45), -1] = 0.4
    t_out = np.where(hour % 24 < 12, -20.0, -8.0)
    opt = FreezeOptions(drain_after_h=6.0, refill_h=10.0)
    new = propagate(links, lf, np.zeros((n, 0), dtype=bool), t_out, options=opt, dt_h=dt)
    ref = reference_propagate(links, lf, np.zeros((n, 0), dtype=bool), t_out, options=opt, dt_h=dt)
    _same(new, ref)
    starts = np.flatnonzero(np.diff(new.drained[:, 0].astype(int)) == 1)
    assert len(starts) == 2  # the case does drain twice


def test_areas_with_many_sources_use_the_reference_sum_order() -> None:
    """An area fed by three or more sources sums their availability in BLAS's gemv order,
    as the reference does one hour at a time."""
    rng = np.random.default_rng(0)
    n, n_heat = 50, 7
    links = ServiceLinks(
        heat_load=np.arange(n_heat),
        heat_is_chp=np.zeros(n_heat, dtype=bool),
        heat_gens=[np.array([], dtype=np.int64)] * n_heat,
        heat_peak_share=np.zeros(n_heat),
        heat_backup_h=np.zeros(n_heat),
        area_load=np.array([-1, -1]),
        area_sources=np.array([[1.0] * n_heat, [1.0, 0, 1, 0, 1, 0, 1]]),
        area_ish=np.zeros(2),
        area_local_power=np.zeros(2, dtype=bool),
        water_load=np.array([], dtype=np.int64),
        water_areas=np.zeros((0, 2)),
        water_reservoir_h=np.zeros(0),
        facility_load=np.array([], dtype=np.int64),
        facility_backup_h=np.zeros(0),
    )
    lf = rng.uniform(size=(n, n_heat))
    args = (links, lf, np.zeros((n, 0), dtype=bool), np.full(n, -20.0))
    _same(propagate(*args), reference_propagate(*args))
