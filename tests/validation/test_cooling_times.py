"""How fast homes cool, against the published table (model.archetypes.PUBLISHED).

For every row, the building type's archetype is simulated with the real integrator
(services.thermal.simulate_indoor, heat off, at the row's outdoor and starting
temperatures; an empty test cell has no internal gains) and the time to the row's
indoor temperature is read off exactly (crossing_times_h).

* The guidance calibration reproduces every row it is fitted to within 20 % (it is
  fitted, so within 1 %: the check is that the fit and the integrator agree).
* The slow calibration reproduces every fitted row within 20 %, except where the
  expert estimate is slower than the published figure (panel5: the expert's 5-storey
  panel block keeps its heat longer than SPEK's generic panel block), so that slow is
  the expert's; that row is named here and in docs/model.md.
* The band (the fast and the slow calibration) brackets every row, fitted or not, and
  the central calibration lies inside the band.
"""

from __future__ import annotations

import numpy as np
import pytest

from warmgrid.model.archetypes import ARCHETYPES, PUBLISHED, archetype_parameters
from warmgrid.services.thermal import crossing_times_h, simulate_indoor, time_constant_h


def _hours_to(row, calibration: str) -> float:
    """Simulated hours from ``row.t0_c`` to ``row.target_c``, heat off."""
    p = archetype_parameters([row.archetype], calibration)
    if not row.occupied:
        p["outage_gain_w_m2"] = np.zeros(1)
    n = 24 * 40
    temps = simulate_indoor(
        np.array([row.t0_c]),
        np.full(n, float(row.t_out_c)),
        np.zeros((n, 1)),
        np.zeros((n, 1)),
        **p,
    )
    tau = time_constant_h(p["h_w_per_k_m2"], p["c_kj_per_k_m2"])
    return float(crossing_times_h(temps, [row.target_c], tau)[0, 0])


ROWS = [pytest.param(r, id=f"{r.building}->{r.archetype}") for r in PUBLISHED]


@pytest.mark.parametrize("row", [r for r in ROWS if r.values[0].fitted])
def test_guidance_reproduces_the_rows_it_is_fitted_to(row) -> None:
    assert _hours_to(row, "guidance") == pytest.approx(row.hours, rel=0.01)
    assert abs(_hours_to(row, "guidance") - row.hours) <= 0.2 * row.hours


#: Archetypes whose expert estimate cools slower than the published row: their slow
#: calibration is the expert's, not the guidance fitted to the row.
EXPERT_SLOWER = {"panel5"}


@pytest.mark.parametrize("row", [r for r in ROWS if r.values[0].fitted])
def test_slow_reproduces_the_rows_it_is_fitted_to(row) -> None:
    r = row
    a = ARCHETYPES[r.archetype]
    slow = _hours_to(r, "slow")
    if r.archetype in EXPERT_SLOWER:
        # named: the expert figure (~36 h from 20 to 12 °C) is slower than SPEK's panel
        # block (36 h from 21 to 10 °C), so the slow end is 50 h, +39 %
        assert a.tau_for("expert") > a.tau_for("guidance")
        assert slow == pytest.approx(_hours_to(r, "expert"), rel=1e-9)
        assert slow > 1.2 * r.hours
        return
    assert a.tau_for("slow") == a.tau_for("guidance")
    assert abs(slow - r.hours) <= 0.2 * r.hours


@pytest.mark.parametrize("row", ROWS)
def test_the_band_brackets_every_published_row(row) -> None:
    fast, slow, central = (_hours_to(row, c) for c in ("fast", "slow", "central"))
    assert fast <= central <= slow
    assert fast <= row.hours * 1.0001
    assert row.hours <= slow * 1.0001, f"{row.building} ({row.hours} h) beyond the band"


def test_the_band_spans_the_sources_disagreement() -> None:
    """The two sources disagree by up to about 4x in τ (panel16: 25 h against 110 h);
    every archetype's band is the span between them, central their geometric mean."""
    for a in ARCHETYPES.values():
        lo, hi = a.tau_for("fast"), a.tau_for("slow")
        assert lo < hi
        assert a.tau_for("central") == pytest.approx(np.sqrt(lo * hi), rel=1e-12)
        assert {round(lo, 9), round(hi, 9)} == {
            round(a.tau_for("expert"), 9),
            round(a.tau_for("guidance"), 9),
        }
    assert ARCHETYPES["panel16"].tau_for("slow") / ARCHETYPES["panel16"].tau_for("fast") > 4
