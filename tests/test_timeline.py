"""The one timeline simulator on a hand-made three-bus city whose answers follow by hand.

bus:a holds the supply point (slack, 100 MW); bus:b feeds the homes of one area; bus:c
feeds one boiler house's pumps and one water station. Cutting line a-c stops heat and
water; the indoor temperature must then follow the 1R1C closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

from cities import small_city
from warmgrid.errors import InputError
from warmgrid.services.propagate import FreezeOptions
from warmgrid.services.thermal import ARCHETYPES
from warmgrid.timeline import Event, Simulator


def closed_form(t_h, t0, t_out, arch, gain):
    # the simulator's default calibration (model.archetypes: the central one)
    h, c = arch.h_w_per_k_m2, arch.c_for("central") * 1000.0 / 3600.0  # W/(K m2), Wh/(K m2)
    tau = c / h
    t_eq = t_out + gain / h
    return t_eq + (t0 - t_eq) * np.exp(-np.asarray(t_h) / tau)


def test_no_damage_everyone_served_and_warm():
    grid, svc = small_city()
    sim = Simulator(grid, svc, np.full(24, -20.0))
    tl = sim.run([])
    assert tl.people_without_power.max() == 0
    assert tl.people_without_heat.max() == 0
    assert tl.people_without_water.max() == 0
    # full weather-compensated heat holds the setpoint
    assert np.allclose(tl.temp_c, ARCHETYPES["panel9"].setpoint_c)


def test_cut_boiler_feeder_cools_homes_as_the_closed_form():
    grid, svc = small_city()
    n = 30
    sim = Simulator(grid, svc, np.full(n, -20.0), freeze=FreezeOptions(drain_after_h=6.0))
    tl = sim.run(["line:ac"])
    # power: homes keep light, boiler and pump are dark
    assert tl.people_without_power.max() == 0
    assert tl.people_without_heat.tolist() == [10_000.0] * n
    # the tank carries water 3 h, then nothing
    assert tl.water[:, 0].tolist() == [1.0, 1.0, 1.0] + [0.0] * (n - 3)
    arch = ARCHETYPES["panel9"]
    expect = closed_form(np.arange(n + 1), arch.setpoint_c, -20.0, arch, arch.internal_gain_w_m2)
    assert tl.temp_c[:, 0] == pytest.approx(expect, abs=1e-9)
    # drained after 6 h of no circulation at -20 C
    assert not tl.drained[4, 0]
    assert tl.drained[5, 0]
    # served MW: homes 10 MW and the hospital 0.5 MW, the rest dark
    assert tl.served_mw[0] == pytest.approx(10.5)
    assert tl.shed_mw[0] == pytest.approx(3.0)


def test_repair_brings_heat_back_only_after_the_refill_delay():
    grid, svc = small_city()
    n = 48
    sim = Simulator(
        grid, svc, np.full(n, -20.0), freeze=FreezeOptions(drain_after_h=6.0, refill_h=12.0)
    )
    tl = sim.run(["line:ac"], [Event(10.0, "line:ac")])
    heat = tl.heat[:, 0]
    # power back at hour 10; drained buildings refill for 12 h (steps 10..21) -> heat
    # from step 22 on
    assert heat[:22].max() == 0.0
    assert heat[22:].min() == 1.0
    # water is back as soon as the pump has power
    assert tl.water[10:, 0].min() == 1.0
    # the temperature recovers once heat is back, and never beyond the setpoint
    assert tl.temp_c[-1, 0] > tl.temp_c[22, 0]
    assert tl.temp_c.max() <= ARCHETYPES["panel9"].setpoint_c + 1e-9


def test_substation_strike_and_supply_shortage():
    # supply 8 MW: less than the 13.5 MW demand; the MLD priorities serve the hospital
    # (0.5 MW), the boiler (1 MW) and the pump (2 MW) first, then 4.5 of the 10 MW of homes
    grid, svc = small_city(supply_mw=8.0)
    sim = Simulator(grid, svc, np.full(6, -20.0))
    tl = sim.run([])
    pw = tl.power[0]
    lf = dict(zip(sim.net.load_ids, pw.load_frac, strict=True))
    assert lf["load:boiler"] == pytest.approx(1.0)
    assert lf["load:pump"] == pytest.approx(1.0)
    assert lf["load:hospital"] == pytest.approx(1.0)
    assert lf["load:homes"] == pytest.approx(0.45)
    assert tl.people_without_power[0] == pytest.approx(5_500.0)
    # a strike on substation c darkens bus c: boiler and pump down
    tl2 = sim.run(["substation:c"])
    lf2 = dict(zip(sim.net.load_ids, tl2.power[0].load_frac, strict=True))
    assert lf2["load:boiler"] == 0.0
    assert lf2["load:pump"] == 0.0
    assert lf2["load:homes"] == pytest.approx(0.75)  # 8 MW - 0.5 MW hospital = 7.5 of 10


def test_more_damage_never_fewer_people_without_service():
    grid, svc = small_city()
    sim = Simulator(grid, svc, np.full(24, -20.0))
    a = sim.run(["line:ac"])
    b = sim.run(["line:ac", "line:ab"])
    for attr in ("people_without_power", "people_without_heat", "people_without_water"):
        assert np.all(getattr(b, attr) >= getattr(a, attr) - 1e-9)
    assert np.all(b.temp_c <= a.temp_c + 1e-9)


def test_unknown_damage_id_is_an_input_error():
    grid, svc = small_city()
    sim = Simulator(grid, svc, np.full(4, -20.0))
    with pytest.raises(InputError, match="line:ab"):
        sim.run(["line:abc"])


def test_power_results_are_cached_per_state():
    grid, svc = small_city()
    sim = Simulator(grid, svc, np.full(24, -20.0))
    tl = sim.run(["line:ac"], [Event(5.0, "line:ac")])
    assert len(sim._cache) == 2
    assert tl.power[0] is tl.power[4]
    assert tl.power[5] is tl.power[23]


def test_mobile_boiler_house_gives_its_share_of_the_heat_demand():
    """Boiler cut off at constant -20 C; a mobile boiler house of half the area's heat
    demand from hour 0 gives heat fraction 0.5 exactly, the temperature follows the 1R1C
    closed form at f = 0.5, and the circulation it keeps going prevents draining."""
    grid, svc = small_city()
    n = 24
    sim = Simulator(grid, svc, np.full(n, -20.0), freeze=FreezeOptions(drain_after_h=6.0))
    arch = ARCHETYPES["panel9"]
    floor_m2 = 10_000.0 * arch.floor_m2_per_person
    demand_w_m2 = arch.h_w_per_k_m2 * (arch.setpoint_c + 20.0) - arch.internal_gain_w_m2
    demand_mw = demand_w_m2 * floor_m2 / 1e6
    assert sim.heat_demand_mw()[0, 0] == pytest.approx(demand_mw, rel=1e-12)
    tl = sim.run(["line:ac"], [Event(0.0, "area:one", kind="mobile_heat", value=demand_mw / 2)])
    assert tl.heat[:, 0] == pytest.approx(np.full(n, 0.5), abs=1e-12)
    assert not tl.drained.any()
    # closed form with half the weather-compensated heat: T_eq = T_out + (0.5 demand + gain) / H
    h, c = arch.h_w_per_k_m2, arch.c_for("central") * 1000.0 / 3600.0
    t_eq = -20.0 + (0.5 * demand_w_m2 + arch.internal_gain_w_m2) / h
    expect = t_eq + (arch.setpoint_c - t_eq) * np.exp(-np.arange(n + 1) * h / c)
    assert tl.temp_c[:, 0] == pytest.approx(expect, abs=1e-9)
    # a unit as large as the demand restores full heat; more is capped at 1
    full = sim.run(["line:ac"], [Event(0.0, "area:one", kind="mobile_heat", value=3 * demand_mw)])
    assert full.heat[:, 0] == pytest.approx(np.ones(n))


def test_mobile_heat_needs_a_district_heated_area():
    grid, svc = small_city()
    sim = Simulator(grid, svc, np.full(4, -20.0))
    with pytest.raises(InputError, match="area:one"):
        sim.run([], [Event(0.0, "area:onee", kind="mobile_heat", value=1.0)])
