"""One EPANET run stepped through its hours, recording what a hydraulic result needs.

EPANET steps the hydraulics at its own pace (the hydraulic step, shorter where a tank
fills or empties or a control fires). :class:`_Steps` runs one step at a time
(``run_h``, ``next_h``) and keeps, in the file's own units:

* each hour's delivered and expected demand, weighted by the length of its steps;
* each hour's lowest pressure, over its start and the steps where some junction is
  short of its demand (EPANET's ``EN_DEFICIENTNODES`` > 0; other steps are not read
  junction by junction);
* the marks at every whole hour: pressures, delivered demands, tank heads, pump flows
  and speed settings.

:class:`~warmgrid.water.hydraulics.HydraulicModel` switches pump power between steps and
converts the record to SI units (:mod:`warmgrid.water.hydraulics`).
"""

from __future__ import annotations

import numpy as np

from warmgrid.water import _epanet as en

_HOUR_S = 3600


class _Steps:
    """The record of one run, filled by :meth:`step`.

    Parameters
    ----------
    s : the open EPANET session (hydraulics opened by the caller).
    n : hours in the run.
    jidx, tidx, pidx : EPANET indices of the junctions, tanks and pumps.
    expected : (n_periods, n_junctions) full demand per pattern period, flow units.
    first_period : the pattern period of ``expected``'s first row.
    pattern_start, pattern_step : the file's pattern start and step, s.
    preq : pressure at or above which a junction gets its full demand, file units.

    Attributes
    ----------
    t : EPANET's clock, s. solves : hydraulic solves so far.
    warn_codes : EPANET warning code → times (s) of the steps that raised it.
    delivered, expected_acc : (n, n_junctions) demand × step length per hour.
    min_pressure : (n, n_junctions) lowest pressure read in each hour (inf: none).
    pressure, demand : (n + 1, n_junctions); tank_head : (n + 1, n_tanks);
    pump_flow, pump_speed : (n + 1, n_pumps): the marks.
    """

    def __init__(
        self,
        s: en.Session,
        n: int,
        jidx: list[int],
        tidx: list[int],
        pidx: list[int],
        expected: np.ndarray,
        first_period: int,
        pattern_start: int,
        pattern_step: int,
        preq: float,
    ) -> None:
        nj, nt, npump = len(jidx), len(tidx), len(pidx)
        self.s, self.jidx, self.tidx, self.pidx = s, jidx, tidx, pidx
        self.table, self.p0 = expected, first_period
        self.pstart, self.pstep, self.preq = pattern_start, pattern_step, preq
        self.read = s.node_reader
        self.delivered = np.zeros((n, nj))
        self.expected_acc = np.zeros((n, nj))
        self.min_pressure = np.full((n, nj), np.inf)
        self.pressure = np.empty((n + 1, nj))
        self.demand = np.empty((n + 1, nj))
        self.tank_head = np.empty((n + 1, nt))
        self.pump_flow = np.empty((n + 1, npump))
        self.pump_speed = np.empty((n + 1, npump))
        self.warn_codes: dict[int, list[int]] = {}
        self.solves = 0
        self.t = 0

    def step(self) -> bool:
        """Solve at the current time, record it, and advance; False at the end of the run.

        Raises
        ------
        RuntimeError : EPANET stepped across a whole hour.
        """
        s = self.s
        t, code = s.run_h()
        self.t = t
        self.solves += 1
        if code:
            self.warn_codes.setdefault(code, []).append(t)
        exp_u = self.table[(t + self.pstart) // self.pstep - self.p0]
        mark = t % _HOUR_S == 0
        full = mark or s.deficient_nodes() > 0
        if full:
            prs, dlv = self._read_delivered(exp_u)
        else:  # every junction gets its full demand: nothing to read
            dlv = exp_u
        if mark:
            self._read_mark(t // _HOUR_S, prs)
        dt = s.next_h()
        if dt <= 0:
            return False
        h = t // _HOUR_S
        if (t + dt) // _HOUR_S > h and (t + dt) % _HOUR_S:
            raise RuntimeError(f"EPANET stepped across hour {h + 1} (t = {t} s, dt = {dt} s)")
        self.delivered[h] += dlv * dt
        self.expected_acc[h] += exp_u * dt
        if full:
            np.minimum(self.min_pressure[h], prs, out=self.min_pressure[h])
        self.t = t + dt
        return True

    def _read_delivered(self, exp_u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n_junctions,) pressures and delivered demand now: the full demand ``exp_u``
        minus EPANET's deficit where the pressure is below ``preq`` (file units)."""
        jidx = self.jidx
        nj = len(jidx)
        prs = np.fromiter(self.read(jidx, en.EN_PRESSURE), float, nj)
        dlv = exp_u.copy()
        low = np.flatnonzero(prs < self.preq)  # PDA can only cut demand there
        if low.size:
            idx = [jidx[i] for i in low]
            dlv[low] -= np.fromiter(self.read(idx, en.EN_DEMANDDEFICIT), float, low.size)
        return prs, dlv

    def _read_mark(self, k: int, prs: np.ndarray) -> None:
        """Record the mark at hour ``k``: pressures ``prs``, demands, tanks and pumps."""
        s, jidx, tidx = self.s, self.jidx, self.tidx
        self.pressure[k] = prs
        self.demand[k] = np.fromiter(self.read(jidx, en.EN_DEMAND), float, len(jidx))
        self.tank_head[k] = np.fromiter(self.read(tidx, en.EN_HEAD), float, len(tidx))
        self.pump_flow[k] = [s.link_value(i, en.EN_FLOW) for i in self.pidx]
        self.pump_speed[k] = [s.link_value(i, en.EN_SETTING) for i in self.pidx]
