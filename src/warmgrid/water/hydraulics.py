"""Pressure-dependent extended-period hydraulics under pump power outages (EPANET 2.2).

:class:`HydraulicModel` holds one water network open in the EPANET 2.2 toolkit shipped
with WNTR and replays it under pump-outage patterns: ``run(pump_on)`` with ``pump_on``
an (n_steps, n_pumps) bool matrix (True: the pump has power in that hour) returns a
:class:`HydraulicResult` with each junction's hourly delivered and expected demand,
pressures, tank levels and pump flows. Results are cached by the outage pattern (the
hours at which the set of unpowered pumps changes, with each new set), so a restoration
search or a Monte Carlo that revisits a pattern pays once; :attr:`HydraulicModel.hydraulic_runs`
counts the simulations actually run.

Physics
-------
* **Pressure-dependent demand** (EPANET 2.2's PDA; Rossman et al. 2020, EPANET 2.2 User
  Manual, EPA/600/R-20/133, section 3.1 "Pressure driven demand"; the formula of Wagner,
  Shamir & Marks 1988, "Water distribution reliability: simulation methods", J. Water
  Resour. Plann. Manage. 114(3)): a junction with full demand ``D`` receives

      d = D                                        if p >= P_req
      d = D · ((p − P_min) / (P_req − P_min))^e     if P_min < p < P_req
      d = 0                                        if p <= P_min

  with ``P_req`` = ``required_pressure_m`` (default 20 m), ``P_min`` =
  ``minimum_pressure_m`` (default 0 m) and ``e`` = 0.5. WNTR exposes the same options as
  ``wn.options.hydraulic.demand_model = "PDD"`` (Klise et al. 2018).
* **Extended period**: EPANET's own hydraulic stepping (1 h hydraulic and report step,
  shorter steps where a tank fills or empties or a control fires), so tanks drain and
  refill physically; the .inp file's pattern step and controls are kept.
* **Unpowered pumps are closed and stay closed** for every hour they lack power, whatever
  the .inp's own controls, rules or speed patterns say: while a pump is unpowered its
  simple controls are turned into timers that never fire, its rule actions into "closed",
  its speed pattern is detached, and its status is set to closed before EPANET solves
  the hour (from the start, its initial status, when it is unpowered at hour 0).
  (WNTR's ``Pump.add_outage`` writes a priority-6 rule instead; EPANET evaluates rules
  only between hydraulic steps and simple controls at every step, so a timer or tank
  control re-opens the pump at the hour it fires and the solution at the outage's first
  hour still has the pump running. Checked on Net3's pump 10, whose timer opens it at
  hour 25.) When power returns, the pump resumes the state (on/off and speed) it has at
  that hour in the run with every pump powered, and its controls take over again.
* **Hourly values**: delivered and expected demand are means over each hour (EPANET's
  intermediate steps weighted by their length). Expected demand is Σ base demand ×
  pattern × demand multiplier, as EPANET computes it; delivered demand is that minus
  EPANET's demand deficit (``EN_DEMANDDEFICIT``), so emitter (leak) outflow does not
  count as delivered. Steps where EPANET finds no pressure-deficient junction
  (``EN_DEFICIENTNODES`` = 0: every deficit below 1e-4 cfs, 0.01 m³/h) count as fully
  delivered without reading each junction. Pressures, tank levels and pump flows are
  given at each whole hour (what EPANET and WNTR report), with the lowest pressure over
  each hour's deficient steps.
* **Runs are independent**: every run restarts EPANET's hydraulics from the file's
  initial state (tank levels, statuses, the flows' first guess), so a cached result
  never depends on the runs before it.

Negative pressures
------------------
EPANET's steady-state equations allow pressures below zero (below atmospheric), which
real mains turn into air ingress or emptied pipes. The rule here:

* In the run with **every pump powered**, a pressure below ``-negative_tol_m`` at a
  junction with demand is bad input (the network as given cannot serve that junction even
  in normal operation): :class:`~warmgrid.errors.InputError` naming the junction (row),
  the hour and the pressure, one line for the CLI (exit 2).
* In any run, negative pressures are reported in :attr:`HydraulicResult.negative_pressures`
  (junction, first hour, lowest value) and summarised in
  :attr:`HydraulicResult.warnings`. During outages they are a consequence of the damage
  (e.g. a drained district, or an idle pump's discharge node without demand like Net3's
  junction 10 at −0.66 m even with every pump powered), not an input error: delivered demand there is zero anyway (p < P_min), so
  the service figures stay right, but the pressures are not physical.

Modules: :mod:`warmgrid.water.hydraulic_result` (what a run returns),
:mod:`warmgrid.water._steps` (one run stepped through its hours), this module (the
model: opening the network, outage patterns, the run cache).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from warmgrid.errors import InputError
from warmgrid.water import _epanet as en
from warmgrid.water._opening import (
    _demands,
    _open_error,
    _pressure_unit,
    _pump_controls,
    _read_layout,
    _release,
    _wntr_inp_bytes,
)
from warmgrid.water._steps import _Steps
from warmgrid.water.hydraulic_result import HydraulicResult, NegativePressure, OutagePattern
from warmgrid.water.network import check_pump_power, pump_on_matrix, resolve_network

if TYPE_CHECKING:
    import wntr

__all__ = ["HydraulicModel", "HydraulicResult", "NegativePressure", "OutagePattern"]

_HOUR_S = 3600


class HydraulicModel:
    """A water network opened once for repeated pressure-dependent runs.

    Parameters
    ----------
    network : a path to an EPANET ``.inp`` file (read by EPANET's own parser, without
        importing WNTR), a bundled name (``"Net3"``, see
        :func:`~warmgrid.water.network.bundled_networks`), or a
        :class:`wntr.network.WaterNetworkModel` (written out with WNTR's writer; never
        modified).
    pump_power : pump id → grid load or bus id. Pumps not named have power throughout.
        Unknown pump ids raise InputError naming the pump and the closest ids.
    required_pressure_m, minimum_pressure_m : the PDD curve's P_req and P_min, m of water
        (converted to the file's pressure units with EPANET's factor, as WNTR does:
        1 psi = 0.3048 / 0.4333 m).
    pressure_exponent : the PDD curve's exponent (0.5, Wagner et al. 1988).
    negative_tol_m : pressures below minus this count as negative, m.
    max_cached_runs : results kept (least recently used dropped first).
    source : the file named in errors (default: the path given, or the network's name).

    Attributes
    ----------
    junctions, tanks, pumps : EPANET ids in EPANET's order (result columns).
    junction_xy : (n_junctions, 2) the ``.inp`` coordinates (NaN where none).
    junction_elevation_m : (n_junctions,) m.
    hydraulic_runs : simulations run so far (cache hits are not runs).

    Raises
    ------
    InputError : a file that does not parse (EPANET's first message, with the line), an
        unknown pump, or bad PDD pressures.
    """

    def __init__(
        self,
        network: wntr.network.WaterNetworkModel | str | Path,
        *,
        pump_power: Mapping[str, str] | None = None,
        required_pressure_m: float = 20.0,
        minimum_pressure_m: float = 0.0,
        pressure_exponent: float = 0.5,
        negative_tol_m: float = 0.1,
        max_cached_runs: int = 256,
        source: str | None = None,
    ) -> None:
        if isinstance(network, (str, Path)):
            path = resolve_network(network)
            src = source or str(network)
            self._inp_bytes = path.read_bytes()
        else:
            src = source or (network.name or "water network")
            self._inp_bytes = _wntr_inp_bytes(network)
        if not (np.isfinite(required_pressure_m) and np.isfinite(minimum_pressure_m)):
            raise InputError("PDD pressures must be numbers", file=src, field="water")
        if minimum_pressure_m < 0:
            raise InputError(
                f"minimum_pressure_m must be >= 0 (EPANET 2.2), got {minimum_pressure_m}",
                file=src,
                field="water.minimum_pressure_m",
            )
        if required_pressure_m < minimum_pressure_m + 0.1:
            raise InputError(
                f"required_pressure_m ({required_pressure_m}) must exceed minimum_pressure_m "
                f"({minimum_pressure_m}) by at least 0.1 m",
                file=src,
                field="water.required_pressure_m",
            )
        if not pressure_exponent > 0:
            raise InputError(
                f"pressure exponent must be > 0, got {pressure_exponent}",
                file=src,
                field="water.pressure_exponent",
            )
        self.source = src
        self.required_pressure_m = float(required_pressure_m)
        self.minimum_pressure_m = float(minimum_pressure_m)
        self.pressure_exponent = float(pressure_exponent)
        self.negative_tol_m = float(negative_tol_m)
        self.max_cached_runs = int(max_cached_runs)
        self._open()
        self.pump_power: dict[str, str] = check_pump_power(
            dict(pump_power or {}), self.pumps, file=src
        )
        self.hydraulic_runs = 0
        self._cache: OrderedDict[tuple[int, OutagePattern], HydraulicResult] = OrderedDict()

    def _open(self) -> None:
        """Open the network in a private temporary folder (removed by :meth:`close`)."""
        folder = tempfile.mkdtemp(prefix="warmgrid-water-")
        inp = Path(folder) / "network.inp"
        inp.write_bytes(self._inp_bytes)
        try:
            s = en.Session(str(inp), str(Path(folder) / "network.rpt"))
        except en.EpanetError as err:
            shutil.rmtree(folder, ignore_errors=True)
            raise _open_error(err, self._inp_bytes, self.source) from None
        self._session = s
        self._folder = folder
        self._finalizer = weakref.finalize(self, _release, s, folder)
        self._lock = threading.RLock()
        lay = _read_layout(s)
        self.junctions, self.tanks, self.pumps = lay.junctions, lay.tanks, lay.pumps
        self._jidx, self._tidx, self._pidx = lay.jidx, lay.tidx, lay.pidx
        self._q, self._h = lay.q_m3h, lay.h_m  # flow units -> m³/h, length units -> m
        self.junction_xy, self.junction_elevation_m = lay.junction_xy, lay.junction_elevation_m
        self._tank_elev, self.has_emitters = lay.tank_elevation, lay.has_emitters
        self._p = _pressure_unit(s, self._jidx, self._h, self.source)  # pressure units -> m
        self._notes = self._set_options(s)
        self._controls, self._actions, self._speed_pattern = _pump_controls(s, self._pidx)
        self._pstep = s.time(en.EN_PATTERNSTEP)
        self._pstart = s.time(en.EN_PATTERNSTART)
        self._dmult = s.option(en.EN_DEMANDMULT)
        self._demand_groups, self._patterns = _demands(s, self._jidx)
        self._expected_cache: dict[int, tuple[np.ndarray, int]] = {}

    def _set_options(self, s: en.Session) -> list[str]:
        """Set the PDA curve, the hourly report and hydraulic steps and, for a file that
        stops on an unbalanced hour, EPANET's ``UNBALANCED CONTINUE 10``; returns the
        notes to state with the results."""
        notes = []
        if s.option(en.EN_UNBALANCED) < 0:  # UNBALANCED STOP: one bad hour ends the run
            s.set_option(en.EN_UNBALANCED, 10)
            notes.append(
                "an hour whose hydraulics do not converge continues with 10 more trials "
                "(EPANET's UNBALANCED CONTINUE 10) instead of ending the run; such hours are "
                "reported as warnings"
            )
        if self.has_emitters:
            notes.append("emitter (leak) outflow is not counted as delivered demand")
        s.set_pda(
            self.minimum_pressure_m / self._p,
            self.required_pressure_m / self._p,
            self.pressure_exponent,
        )
        s.set_time(en.EN_REPORTSTEP, _HOUR_S)
        s.set_time(en.EN_REPORTSTART, 0)
        s.set_time(en.EN_HYDSTEP, _HOUR_S)  # EPANET caps it at the pattern step
        return notes

    @property
    def assumptions(self) -> tuple[str, ...]:
        """Sentences the caller should state with the results (unpowered-by-default pumps,
        convergence handling)."""
        free = [p for p in self.pumps if p not in self.pump_power]
        head = (
            [
                f"{len(free)} of {len(self.pumps)} pumps have no pump_power entry and keep "
                f"power throughout: {', '.join(free[:8])}{', …' if len(free) > 8 else ''}"
            ]
            if free
            else []
        )
        return tuple(head + self._notes)

    def close(self) -> None:
        """Close the EPANET project and remove its temporary folder."""
        self._finalizer()

    def __enter__(self) -> HydraulicModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the open project or the cache (a Dask worker re-opens it)."""
        keep = (
            "_inp_bytes",
            "source",
            "required_pressure_m",
            "minimum_pressure_m",
            "pressure_exponent",
            "negative_tol_m",
            "max_cached_runs",
            "pump_power",
            "hydraulic_runs",
        )
        return {k: self.__dict__[k] for k in keep}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache = OrderedDict()
        self._open()

    # ------------------------------------------------------------------ inputs
    def pump_on(
        self, supply: Mapping[str, np.ndarray], n_steps: int, *, threshold: float = 0.5
    ) -> np.ndarray:
        """(n_steps, n_pumps) powered matrix from each grid element's served fraction
        (:func:`warmgrid.water.network.pump_on_matrix` with this model's pumps)."""
        return pump_on_matrix(self.pumps, self.pump_power, supply, n_steps, threshold=threshold)

    def pattern(self, pump_on: np.ndarray) -> OutagePattern:
        """The outage pattern of an (n_steps, n_pumps) powered matrix (the cache key)."""
        off = ~np.asarray(pump_on, dtype=bool)
        out: list[tuple[int, frozenset[str]]] = []
        prev: frozenset[str] | None = None
        for h in range(off.shape[0]):
            cur = frozenset(self.pumps[j] for j in np.flatnonzero(off[h]))
            if cur != prev:
                out.append((h, cur))
                prev = cur
        return tuple(out)

    def _check_on(self, pump_on: Any, hours: int | None) -> np.ndarray:
        on = np.asarray(pump_on, dtype=bool)
        if on.ndim == 1:
            on = on[None, :]
        if on.ndim != 2 or on.shape[1] != len(self.pumps) or on.shape[0] == 0:
            raise InputError(
                f"pump_on must be (n_steps, {len(self.pumps)}) booleans, one column per pump "
                f"({', '.join(self.pumps[:5])}{', …' if len(self.pumps) > 5 else ''}); "
                f"got shape {on.shape}",
                file=self.source,
                field="pump_on",
            )
        n = on.shape[0] if hours is None else int(hours)
        if n < 1:
            raise InputError(f"hours must be >= 1, got {hours}", field="horizon.hours")
        if on.shape[0] < n:  # the last row holds to the end
            on = np.vstack([on, np.repeat(on[-1:], n - on.shape[0], axis=0)])
        return on[:n]

    # ------------------------------------------------------------------ runs
    def run(self, pump_on: Any, *, hours: int | None = None) -> HydraulicResult:
        """Simulate ``hours`` hours with the given pumps powered (cached by pattern).

        Parameters
        ----------
        pump_on : (n_steps, n_pumps) bool, True where the pump has power in that hour
            (columns in :attr:`pumps` order). Fewer rows than ``hours``: the last row holds.
        hours : horizon, h (default: the number of rows).

        Returns
        -------
        HydraulicResult

        Raises
        ------
        InputError : a bad matrix, or negative pressure at a junction with demand while
            every pump has power (the network cannot serve it; junction and hour named).
        """
        on = self._check_on(pump_on, hours)
        n = on.shape[0]
        pattern = self.pattern(on)
        key = (n, pattern)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            repowered = any(prev - cur for (_, prev), (_, cur) in itertools.pairwise(pattern))
            baseline = (
                self.run(np.ones((1, len(self.pumps)), dtype=bool), hours=n) if repowered else None
            )
            res = self._simulate(n, on, pattern, baseline)
            self.hydraulic_runs += 1
            if all(not s for _, s in pattern):
                self._check_baseline(res)
            self._cache[key] = res
            while len(self._cache) > self.max_cached_runs:
                self._cache.popitem(last=False)
            return res

    def baseline(self, hours: int) -> HydraulicResult:
        """The run with every pump powered over ``hours`` hours."""
        return self.run(np.ones((1, len(self.pumps)), dtype=bool), hours=hours)

    def clear_cache(self) -> None:
        self._cache.clear()

    def _check_baseline(self, res: HydraulicResult) -> None:
        for neg in res.negative_pressures:
            j = self.junctions.index(neg.junction)
            if res.expected_m3h[:, j].max() > 1e-9:
                raise InputError(
                    f"negative pressure {neg.pressure_m:.2f} m at junction {neg.junction!r} "
                    f"from hour {neg.hour} with every pump powered: the network cannot serve "
                    "it (check elevations, pump curves, tank levels)",
                    file=self.source,
                    row=neg.junction,
                    field="pressure",
                )

    def _cut(self, j: int) -> None:
        s, i = self._session, self._pidx[j]
        for c in self._controls[j]:
            s.disable_control(c)
        for a in self._actions[j]:
            s.close_action(a)
        if self._speed_pattern[j]:
            s.set_link_value(i, en.EN_LINKPATTERN, 0)
        s.set_link_value(i, en.EN_STATUS, 0)

    def _uncut(self, j: int) -> None:
        s, i = self._session, self._pidx[j]
        for c in self._controls[j]:
            s.restore_control(c)
        for a in self._actions[j]:
            s.restore_action(a)
        if self._speed_pattern[j]:
            s.set_link_value(i, en.EN_LINKPATTERN, self._speed_pattern[j])

    def _simulate(
        self,
        n: int,
        on: np.ndarray,
        pattern: OutagePattern,
        baseline: HydraulicResult | None,
    ) -> HydraulicResult:
        """Run ``n`` hours with the pumps of ``pattern`` unpowered (see the module docstring).

        ``baseline`` (the run with every pump powered) gives the state a pump resumes
        when its power returns; it is needed only when some pump is repowered.
        """
        s, pidx = self._session, self._pidx
        pos = {p: j for j, p in enumerate(self.pumps)}
        changes = {h: {pos[p] for p in off} for h, off in pattern}
        expected, p0 = self._expected(n)
        preq_u = (self.required_pressure_m + 0.5) / self._p
        steps = _Steps(
            s, n, self._jidx, self._tidx, pidx, expected, p0, self._pstart, self._pstep, preq_u
        )
        s.set_time(en.EN_DURATION, n * _HOUR_S)
        # pumps unpowered from hour 0 start closed, as if the .inp said so (EPANET's first
        # guess of the flows then matches a file with the pump closed)
        start_off = [
            j for j in sorted(changes.get(0, ())) if s.link_value(pidx[j], en.EN_INITSTATUS)
        ]
        init_set = {j: s.link_value(pidx[j], en.EN_INITSETTING) for j in start_off}
        for j in start_off:
            s.set_link_value(pidx[j], en.EN_INITSTATUS, 0)
        try:
            s.open_h()
        except en.EpanetError:
            for j in start_off:
                s.set_link_value(pidx[j], en.EN_INITSETTING, init_set[j])
            raise
        cut: set[int] = set()
        try:
            while True:
                t = steps.t
                if t % _HOUR_S == 0 and t // _HOUR_S in changes:
                    self._switch_power(t // _HOUR_S, changes[t // _HOUR_S], cut, baseline)
                if not steps.step():
                    break
        except en.EpanetError as err:
            raise InputError(
                f"EPANET failed at hour {steps.t / _HOUR_S:g}: {err}", file=self.source
            ) from None
        finally:
            s.close_h()
            for j in sorted(cut):
                self._uncut(j)
            for j in start_off:
                s.set_link_value(pidx[j], en.EN_INITSETTING, init_set[j])
        if steps.t != n * _HOUR_S:
            raise RuntimeError(f"EPANET stopped at t = {steps.t} s, expected {n * _HOUR_S} s")
        return self._result(steps, n, on, pattern)

    def _switch_power(
        self, h: int, now: set[int], cut: set[int], baseline: HydraulicResult | None
    ) -> None:
        """At hour ``h``: cut the pumps in ``now`` that have power, and give power back to
        the ones in ``cut`` that are not in ``now`` (each resumes its state in
        ``baseline``); ``cut`` becomes ``now``."""
        s, pidx = self._session, self._pidx
        for j in sorted(now - cut):
            self._cut(j)
        for j in sorted(cut - now):
            self._uncut(j)
            assert baseline is not None
            sp = float(baseline.pump_speed[h, j])
            if sp > 0:
                s.set_link_value(pidx[j], en.EN_SETTING, sp)
            else:
                s.set_link_value(pidx[j], en.EN_STATUS, 0)
        cut.clear()
        cut.update(now)

    def _result(
        self, steps: _Steps, n: int, on: np.ndarray, pattern: OutagePattern
    ) -> HydraulicResult:
        """The record of a run in SI units, with its negative pressures and warnings."""
        q, p = self._q / _HOUR_S, self._p
        delivered, expected = steps.delivered * q, steps.expected_acc * q
        minp = steps.min_pressure
        minp *= p
        pres_mk = steps.pressure
        pres_mk *= p
        dem_mk = steps.demand
        dem_mk *= self._q
        tank_mk = (steps.tank_head - self._tank_elev) * self._h
        flow_mk = steps.pump_flow
        flow_mk *= self._q
        negs = self._negatives(minp, pres_mk[n])
        warnings = [
            f"EPANET warning {c} ({en.WARNINGS.get(c, 'unknown')}) at {len(ts)} of "
            f"{steps.solves} steps, first at hour {ts[0] / _HOUR_S:g}"
            for c, ts in sorted(steps.warn_codes.items())
        ]
        if negs:
            worst = min(negs, key=lambda x: x.pressure_m)
            warnings.append(
                f"negative pressure at {len(negs)} junction{'s' if len(negs) > 1 else ''}, "
                f"worst {worst}"
            )
        return HydraulicResult(
            hours=np.arange(n, dtype=float),
            junctions=self.junctions,
            tanks=self.tanks,
            pumps=self.pumps,
            delivered_m3h=delivered,
            expected_m3h=expected,
            min_pressure_m=minp,
            pressure_m=pres_mk,
            demand_m3h=dem_mk,
            tank_level_m=tank_mk,
            pump_flow_m3h=flow_mk,
            pump_speed=steps.pump_speed,
            pump_on=on.copy(),
            pattern=pattern,
            negative_pressures=tuple(negs),
            warnings=tuple(warnings),
            solves=steps.solves,
        )

    def _expected(self, n: int) -> tuple[np.ndarray, int]:
        """Full demand of each junction (file's flow units) per pattern period over ``n``
        hours, as EPANET's ``demands()`` computes it: Σ base · pattern · multiplier, the
        period being (t + pattern start) // pattern step. Returns (table, first period)."""
        hit = self._expected_cache.get(n)
        if hit is not None:
            return hit
        p0 = self._pstart // self._pstep
        p1 = (n * _HOUR_S + self._pstart) // self._pstep
        periods = np.arange(p0, p1 + 1)
        table = np.zeros((len(periods), len(self.junctions)))
        for pat, (cols, bases) in self._demand_groups.items():
            f = self._patterns[pat]
            np.add.at(table.T, cols, np.outer(bases, f[periods % len(f)]))
        table *= self._dmult
        self._expected_cache[n] = (table, p0)
        return table, p0

    def _negatives(self, minp: np.ndarray, last: np.ndarray) -> list[NegativePressure]:
        allp = np.vstack([minp, last[None, :]])
        bad = allp < -self.negative_tol_m
        out = []
        for j in np.flatnonzero(bad.any(axis=0)):
            first = int(np.argmax(bad[:, j]))
            out.append(
                NegativePressure(
                    self.junctions[j], min(first, len(minp) - 1), float(allp[:, j].min())
                )
            )
        return out
