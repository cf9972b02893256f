"""Rule vs hydraulics in the limit of one pump and one tank.

Reservoir → pump → elevated tank → one junction with a constant demand D. With the pump
unpowered from hour 0, the tank alone supplies the junction; it is high enough that the
pressure stays above P_req while it drains, so the junction gets its full demand until
the tank is empty, after V / D hours, and nothing after. The rule-based model
(:func:`warmgrid.services.propagate.propagate`) says the same with ``reservoir_h = V / D``.

Tolerance, physically: EPANET stops exactly when the tank is empty (it shortens the time
step to the second the tank drains, ``tanktimestep``), the hourly mean then holds the
fraction of the last hour, as the rule does; the pressure never drops below P_req before
that, so no pressure-dependent tail stretches the supply. The only differences are
EPANET's rounding of the drain time to whole seconds and its solver tolerance: 1e-3.
"""

from __future__ import annotations

import numpy as np
import pytest

from warmgrid.services.propagate import ServiceLinks, propagate
from warmgrid.water import HydraulicModel
from water_helpers import (
    DEMAND_M3H,
    DEPTH_M,
    DIAMETER_M,
    HOURS_OF_WATER,
    tiny_inp,
)


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "tiny.inp"
    p.write_text(tiny_inp())
    with HydraulicModel(p, pump_power={"~@Pump-1": "load:pump"}) as model:
        yield model


def test_ids_verbatim(tiny):
    assert tiny.pumps == ("~@Pump-1",)
    assert tiny.junctions == ("J[1]",)
    assert tiny.tanks == ("T1",)


def test_tank_lasts_volume_over_demand(tiny):
    res = tiny.run(np.zeros((24, 1), dtype=bool))
    served = res.service[:, 0]
    drop = int(np.argmax(served < 1.0 - 1e-6))  # first hour short of demand
    t_empty = drop + served[drop]  # within that hour, the tank lasted this fraction
    assert drop == int(HOURS_OF_WATER)  # within one hour step
    assert abs(t_empty - HOURS_OF_WATER) < 1e-3  # and to the second
    assert (res.min_pressure_m[:drop, 0] > tiny.required_pressure_m).all()
    # after it: nothing but the trickle EPANET lets through a closed link (1e-8 conductance)
    assert np.allclose(served[drop + 1 :], 0.0, atol=1e-4)
    # tank levels fall linearly at D / area while it lasts
    area = np.pi * DIAMETER_M**2 / 4.0
    want = np.maximum(DEPTH_M - DEMAND_M3H * np.arange(25) / area, 0.0)
    np.testing.assert_allclose(res.tank_level_m[:, 0], want, atol=1e-3)


def test_rule_based_limit_agrees(tiny):
    n = 24
    hyd = tiny.run(np.zeros((n, 1), dtype=bool)).service[:, 0]
    links = ServiceLinks(
        heat_load=np.zeros(0, dtype=np.int64),
        heat_is_chp=np.zeros(0, dtype=bool),
        heat_gens=[],
        heat_peak_share=np.zeros(0),
        heat_backup_h=np.zeros(0),
        area_load=np.array([-1]),
        area_sources=np.zeros((1, 0)),
        area_ish=np.zeros(1),
        area_local_power=np.zeros(1, dtype=bool),
        water_load=np.array([0]),
        water_areas=np.ones((1, 1)),
        water_reservoir_h=np.array([HOURS_OF_WATER]),
        facility_load=np.zeros(0, dtype=np.int64),
        facility_backup_h=np.zeros(0),
    )
    rule = propagate(links, np.zeros((n, 1)), np.zeros((n, 0), dtype=bool), np.full(n, -20.0))
    np.testing.assert_allclose(hyd, rule.water[:, 0], atol=1e-3)


def test_pump_refills_after_power_returns(tiny):
    on = np.zeros((24, 1), dtype=bool)
    on[12:] = True
    res = tiny.run(on)
    assert tiny.hydraulic_runs == 2  # this pattern and the baseline it resumes from
    assert res.service[11, 0] < 1e-4
    assert np.allclose(res.service[13:, 0], 1.0)
    assert res.tank_level_m[-1, 0] > res.tank_level_m[12, 0]
