"""Service propagation on hand-made cases whose answers follow from the rules by hand."""

from __future__ import annotations

import numpy as np
import pytest

from warmgrid.services.propagate import FreezeOptions, ServiceLinks, propagate


def links(**kw):
    """One boiler (load 0), one CHP (load 1, gen 0), one area fed by both (load 2),
    one water station (load 3) serving the area, one hospital (load 4)."""
    base = dict(
        heat_load=np.array([0, 1]),
        heat_is_chp=np.array([False, True]),
        heat_gens=[np.array([], dtype=np.int64), np.array([0])],
        heat_peak_share=np.array([0.0, 0.4]),
        heat_backup_h=np.array([0.0, 0.0]),
        area_load=np.array([2]),
        area_sources=np.array([[1.0, 1.0]]),
        area_ish=np.array([0.0]),
        area_local_power=np.array([False]),
        water_load=np.array([3]),
        water_areas=np.array([[1.0]]),
        water_reservoir_h=np.array([0.0]),
        facility_load=np.array([4]),
        facility_backup_h=np.array([0.0]),
    )
    base.update(kw)
    return ServiceLinks(**base)


def run(lk, load_frac, gen_online, t_out=-20.0, **opt):
    n = load_frac.shape[0]
    return propagate(lk, load_frac, gen_online, np.full(n, t_out), options=FreezeOptions(**opt))


def test_everything_powered_gives_full_service():
    s = run(links(), np.ones((5, 5)), np.ones((5, 1), dtype=bool))
    assert np.allclose(s.heat, 1)
    assert np.allclose(s.water, 1)
    assert np.allclose(s.light, 1)
    assert s.facility_ok.all()
    assert not s.drained.any()


def test_chp_unit_down_with_pumps_gives_peak_boiler_share():
    # CHP unit down, all loads served: boiler 1.0, CHP 0.4 -> area mean 0.7
    s = run(links(), np.ones((3, 5)), np.zeros((3, 1), dtype=bool))
    assert s.heat_source[:, 1] == pytest.approx([0.4] * 3)
    assert s.heat[:, 0] == pytest.approx([0.7] * 3)


def test_chp_unit_running_heats_without_grid_pumps():
    lf = np.ones((2, 5))
    lf[:, 1] = 0.0
    s = run(links(), lf, np.ones((2, 1), dtype=bool))
    assert s.heat_source[:, 1] == pytest.approx([1.0, 1.0])


def test_backup_power_lasts_its_hours():
    lk = links(heat_backup_h=np.array([3.0, 0.0]))
    lf = np.ones((6, 5))
    lf[:, 0] = 0.0  # boiler pumps lose the grid
    s = run(lk, lf, np.ones((6, 1), dtype=bool))
    assert s.heat_source[:, 0].tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_freeze_protection_drains_then_refills_after_delay():
    # no circulation at -20 C: drained after 2 h; source back at step 5; refill 3 h
    lk = links(area_sources=np.array([[1.0, 0.0]]))
    lf = np.ones((12, 5))
    lf[:5, 0] = 0.0
    s = run(lk, lf, np.ones((12, 1), dtype=bool), drain_after_h=2.0, refill_h=3.0)
    # refilling takes steps 5, 6 and 7 (3 h); heat returns at step 8
    assert s.drained[:, 0].tolist() == [False] + [True] * 7 + [False] * 4
    # heat stays off while drained, even after the source is back at step 5
    assert s.heat[:, 0].tolist() == [0.0] * 8 + [1.0] * 4


def test_no_draining_in_mild_weather():
    lk = links(area_sources=np.array([[1.0, 0.0]]))
    lf = np.ones((8, 5))
    lf[:5, 0] = 0.0
    s = run(lk, lf, np.ones((8, 1), dtype=bool), t_out=-2.0, drain_after_h=2.0)
    assert not s.drained.any()
    assert s.heat[:, 0].tolist() == [0.0] * 5 + [1.0] * 3


def test_water_tank_carries_the_area_for_its_hours():
    lk = links(water_reservoir_h=np.array([2.5]))
    lf = np.ones((5, 5))
    lf[:, 3] = 0.0
    s = run(lk, lf, np.ones((5, 1), dtype=bool))
    assert s.water[:, 0] == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0])


def test_individual_heating_follows_power():
    lk = links(area_ish=np.array([0.25]), area_sources=np.array([[1.0, 0.0]]))
    lf = np.ones((2, 5))
    lf[:, 2] = 0.0  # area dark, boiler fine
    s = run(lk, lf, np.ones((2, 1), dtype=bool))
    assert s.heat[:, 0] == pytest.approx([0.75, 0.75])
    assert s.light[:, 0] == pytest.approx([0.0, 0.0])


def test_hospital_backup_then_down():
    lk = links(facility_backup_h=np.array([2.0]))
    lf = np.ones((4, 5))
    lf[:, 4] = 0.0
    s = run(lk, lf, np.ones((4, 1), dtype=bool))
    assert s.facility_ok[:, 0].tolist() == [True, True, False, False]
    assert s.facility_on_backup[:, 0].tolist() == [True, True, False, False]


def test_less_power_never_gives_more_heat_or_water():
    rng = np.random.default_rng(3)
    lk = links(heat_backup_h=np.array([2.0, 1.0]), water_reservoir_h=np.array([3.0]))
    for _ in range(50):
        lf = rng.uniform(size=(10, 5))
        worse = lf * rng.uniform(size=lf.shape)
        g = rng.uniform(size=(10, 1)) < 0.5
        a = run(lk, lf, g)
        b = run(lk, worse, g & (rng.uniform(size=g.shape) < 0.7))
        assert np.all(b.heat <= a.heat + 1e-12)
        assert np.all(b.water <= a.water + 1e-12)
        assert np.all(b.light <= a.light + 1e-12)
