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
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError
from warmgrid.water import _epanet as en
from warmgrid.water.network import check_pump_power, pump_on_matrix, resolve_network

if TYPE_CHECKING:
    import wntr

__all__ = ["HydraulicModel", "HydraulicResult", "NegativePressure", "OutagePattern"]

#: (hour, unpowered pump ids) at each hour where the set changes, the first at hour 0.
OutagePattern = tuple[tuple[int, frozenset[str]], ...]

_HOUR_S = 3600


@dataclass(frozen=True)
class NegativePressure:
    """A junction whose pressure fell below zero (beyond the tolerance) in a run.

    Attributes
    ----------
    junction : EPANET junction id.
    hour : first hour (0-based step index) in which it happened.
    pressure_m : the lowest pressure over the horizon, m.
    """

    junction: str
    hour: int
    pressure_m: float

    def __str__(self) -> str:
        return f"junction {self.junction!r} at {self.pressure_m:.2f} m from hour {self.hour}"


@dataclass(frozen=True, eq=False)
class HydraulicResult:
    """One extended-period run. ``n_steps`` hours; "marks" are the hours 0 … n_steps.

    Attributes
    ----------
    hours : (n_steps,) start of each hour, h.
    junctions, tanks, pumps : EPANET ids, in the order of the array columns.
    delivered_m3h : (n_steps, n_junctions) delivered demand, mean over each hour, m³/h.
    expected_m3h : (n_steps, n_junctions) full (required) demand, mean over each hour, m³/h.
    min_pressure_m : (n_steps, n_junctions) lowest pressure in each hour, m: at the
        hour's start and at every EPANET step within it where some junction is short of
        its demand (steps where every junction gets its full demand are not read junction
        by junction, which halves a run's time; pressures there are above P_req).
    pressure_m : (n_steps + 1, n_junctions) pressure at each mark, m.
    demand_m3h : (n_steps + 1, n_junctions) delivered demand at each mark, m³/h (what
        EPANET and :class:`wntr.sim.EpanetSimulator` report).
    tank_level_m : (n_steps + 1, n_tanks) water depth above each tank's bottom, m.
    pump_flow_m3h : (n_steps + 1, n_pumps) flow through each pump at each mark, m³/h.
    pump_speed : (n_steps + 1, n_pumps) relative speed setting at each mark (0: off).
    pump_on : (n_steps, n_pumps) bool, the power pattern that was simulated.
    pattern : the cache key: hours where the set of unpowered pumps changes, with the set.
    negative_pressures : junctions below ``-negative_tol_m`` (see the module docstring).
    warnings : one line each: EPANET warnings and the negative-pressure summary.
    solves : EPANET hydraulic solves (time steps) in the run.
    """

    hours: np.ndarray
    junctions: tuple[str, ...]
    tanks: tuple[str, ...]
    pumps: tuple[str, ...]
    delivered_m3h: np.ndarray
    expected_m3h: np.ndarray
    min_pressure_m: np.ndarray
    pressure_m: np.ndarray
    demand_m3h: np.ndarray
    tank_level_m: np.ndarray
    pump_flow_m3h: np.ndarray
    pump_speed: np.ndarray
    pump_on: np.ndarray
    pattern: OutagePattern
    negative_pressures: tuple[NegativePressure, ...] = ()
    warnings: tuple[str, ...] = ()
    solves: int = 0

    @property
    def n_steps(self) -> int:
        return len(self.hours)

    @property
    def service(self) -> np.ndarray:
        """(n_steps, n_junctions) delivered / expected demand in [0, 1]; 1 where none is expected."""
        return _ratio(self.delivered_m3h, self.expected_m3h)

    def junction_frame(self) -> pd.DataFrame:
        """Long table, one row per (hour, junction): ``hour, junction, delivered_m3h,
        expected_m3h, pressure_m`` (at the hour's start) and ``min_pressure_m``."""
        n, m = self.delivered_m3h.shape
        return pd.DataFrame(
            {
                "hour": np.repeat(self.hours, m),
                "junction": np.tile(np.array(self.junctions, dtype=object), n),
                "delivered_m3h": self.delivered_m3h.ravel(),
                "expected_m3h": self.expected_m3h.ravel(),
                "pressure_m": self.pressure_m[:n].ravel(),
                "min_pressure_m": self.min_pressure_m.ravel(),
            }
        )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den clipped to [0, 1], 1 where den is (numerically) zero."""
    ok = den > 1e-9
    return np.clip(np.divide(num, den, out=np.ones_like(num), where=ok), 0.0, 1.0)


def _release(session: en.Session, folder: str) -> None:
    session.close()
    shutil.rmtree(folder, ignore_errors=True)


def _wntr_inp_bytes(wn: wntr.network.WaterNetworkModel) -> bytes:
    """A WNTR model as .inp bytes (WNTR's writer, in the model's own units)."""
    from wntr.network.io import write_inpfile

    folder = tempfile.mkdtemp(prefix="warmgrid-water-")
    try:
        path = Path(folder) / "network.inp"
        write_inpfile(wn, str(path), units=wn.options.hydraulic.inpfile_units, version=2.2)
        return path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _open_error(err: en.EpanetError, text: bytes, source: str) -> InputError:
    """EPANET's first input error as one line, with the file's line number when it quotes one."""
    row = None
    if err.line:
        want = " ".join(err.line.split())
        for k, ln in enumerate(text.decode("latin-1").splitlines(), start=1):
            if " ".join(ln.split()) == want:
                row = k
                break
    msg = str(err)
    if err.line and row is None:
        msg += f": {err.line}"
    return InputError(f"not a valid EPANET .inp file: {msg}", file=source, row=row)


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

    # ------------------------------------------------------------------ lifecycle
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
        nodes, links = s.nodes(), s.links()
        jpos = [i for i, (_, t) in enumerate(nodes) if t == en.EN_JUNCTION]
        tpos = [i for i, (_, t) in enumerate(nodes) if t == en.EN_TANK]
        ppos = [i for i, (_, t) in enumerate(links) if t == en.EN_PUMP]
        self.junctions: tuple[str, ...] = tuple(nodes[i][0] for i in jpos)
        self.tanks: tuple[str, ...] = tuple(nodes[i][0] for i in tpos)
        self.pumps: tuple[str, ...] = tuple(links[i][0] for i in ppos)
        self._jidx = [i + 1 for i in jpos]
        self._tidx = [i + 1 for i in tpos]
        self._pidx = [i + 1 for i in ppos]
        units = s.flow_units()
        self._q = en.FLOW_M3H[units]  # flow units -> m³/h
        self._h = 0.3048 if units in en.US_UNITS else 1.0  # length units -> m
        self.junction_xy = np.array([s.coord(i) for i in self._jidx], dtype=float).reshape(-1, 2)
        self.junction_elevation_m = (
            np.array([s.node_value(i, en.EN_ELEVATION) for i in self._jidx]) * self._h
        )
        self._tank_elev = np.array([s.node_value(i, en.EN_ELEVATION) for i in self._tidx])
        self.has_emitters = any(s.node_value(i, en.EN_EMITTER) > 0 for i in self._jidx)
        self._p = self._pressure_unit()  # pressure units -> m
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
        self._notes = notes
        s.set_pda(
            self.minimum_pressure_m / self._p,
            self.required_pressure_m / self._p,
            self.pressure_exponent,
        )
        s.set_time(en.EN_REPORTSTEP, _HOUR_S)
        s.set_time(en.EN_REPORTSTART, 0)
        s.set_time(en.EN_HYDSTEP, _HOUR_S)  # EPANET caps it at the pattern step
        pos = {k: j for j, k in enumerate(self._pidx)}
        self._controls: list[list[en.Control]] = [[] for _ in self.pumps]
        for c in s.controls():
            if c.link in pos:
                self._controls[pos[c.link]].append(c)
        self._actions: list[list[en.Action]] = [[] for _ in self.pumps]
        for a in s.rule_actions():
            if a.link in pos:
                self._actions[pos[a.link]].append(a)
        self._speed_pattern = [int(s.link_value(i, en.EN_LINKPATTERN)) for i in self._pidx]
        self._pstep = s.time(en.EN_PATTERNSTEP)
        self._pstart = s.time(en.EN_PATTERNSTART)
        self._dmult = s.option(en.EN_DEMANDMULT)
        groups: dict[int, tuple[list[int], list[float]]] = {}
        for j, i in enumerate(self._jidx):
            for base, pat in s.demands(i):
                cols, bases = groups.setdefault(pat, ([], []))
                cols.append(j)
                bases.append(base)
        self._demand_groups = {k: (np.array(c), np.array(b)) for k, (c, b) in groups.items()}
        self._patterns = {k: np.array(s.pattern(k)) for k in groups}
        self._expected_cache: dict[int, tuple[np.ndarray, int]] = {}

    def _pressure_unit(self) -> float:
        """Metres of water per unit of the file's pressure (psi, m or kPa).

        EPANET converts head to pressure with its own factor (0.4333 psi per ft, times the
        specific gravity); one solve at hour 0 gives pressure / (head − elevation). For
        psi this is 0.3048 / 0.4333 = 0.70344 m, the factor WNTR 1.5 uses too.
        """
        s = self._session
        ratio = 0.4333 if self._h != 1.0 else 1.0
        try:
            s.open_h()
            s.run_h()
            best = 0.0
            for i in self._jidx:
                dh = s.node_value(i, en.EN_HEAD) - s.node_value(i, en.EN_ELEVATION)
                if abs(dh) > max(best, 1e-6):
                    best, ratio = abs(dh), s.node_value(i, en.EN_PRESSURE) / dh
        except en.EpanetError as err:
            raise InputError(f"EPANET cannot solve hour 0: {err}", file=self.source) from None
        finally:
            s.close_h()
        return self._h / ratio

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
        s = self._session
        nj, nt, npump = len(self.junctions), len(self.tanks), len(self.pumps)
        pos = {p: j for j, p in enumerate(self.pumps)}
        changes = {h: {pos[p] for p in off} for h, off in pattern}
        acc_del = np.zeros((n, nj))
        acc_exp = np.zeros((n, nj))
        minp = np.full((n, nj), np.inf)
        pres_mk = np.empty((n + 1, nj))
        dem_mk = np.empty((n + 1, nj))
        tank_mk = np.empty((n + 1, nt))
        flow_mk = np.empty((n + 1, npump))
        speed_mk = np.empty((n + 1, npump))
        warn_codes: dict[int, list[int]] = {}
        jidx, tidx, pidx = self._jidx, self._tidx, self._pidx
        read = s.node_reader
        cut: set[int] = set()
        solves = 0
        expected, p0 = self._expected(n)
        preq_u = (self.required_pressure_m + 0.5) / self._p
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
        try:
            t = 0
            while True:
                if t % _HOUR_S == 0 and t // _HOUR_S in changes:
                    h = t // _HOUR_S
                    now = changes[h]
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
                    cut = set(now)
                t, code = s.run_h()
                solves += 1
                if code:
                    warn_codes.setdefault(code, []).append(t)
                exp_u = expected[(t + self._pstart) // self._pstep - p0]
                mark = t % _HOUR_S == 0
                full = mark or s.deficient_nodes() > 0
                if full:
                    prs = np.fromiter(read(jidx, en.EN_PRESSURE), float, nj)
                    dlv = exp_u.copy()
                    low = np.flatnonzero(prs < preq_u)  # PDA can only cut demand there
                    if low.size:
                        idx = [jidx[i] for i in low]
                        dlv[low] -= np.fromiter(read(idx, en.EN_DEMANDDEFICIT), float, low.size)
                else:  # every junction gets its full demand: nothing to read
                    dlv = exp_u
                if mark:
                    k = t // _HOUR_S
                    pres_mk[k] = prs
                    dem_mk[k] = np.fromiter(read(jidx, en.EN_DEMAND), float, nj)
                    tank_mk[k] = np.fromiter(read(tidx, en.EN_HEAD), float, nt)
                    flow_mk[k] = [s.link_value(i, en.EN_FLOW) for i in pidx]
                    speed_mk[k] = [s.link_value(i, en.EN_SETTING) for i in pidx]
                dt = s.next_h()
                if dt <= 0:
                    break
                h = t // _HOUR_S
                if (t + dt) // _HOUR_S > h and (t + dt) % _HOUR_S:
                    raise RuntimeError(
                        f"EPANET stepped across hour {h + 1} (t = {t} s, dt = {dt} s)"
                    )
                acc_del[h] += dlv * dt
                acc_exp[h] += exp_u * dt
                if full:
                    np.minimum(minp[h], prs, out=minp[h])
                t += dt
        except en.EpanetError as err:
            raise InputError(
                f"EPANET failed at hour {t / _HOUR_S:g}: {err}", file=self.source
            ) from None
        finally:
            s.close_h()
            for j in sorted(cut):
                self._uncut(j)
            for j in start_off:
                s.set_link_value(pidx[j], en.EN_INITSETTING, init_set[j])
        if t != n * _HOUR_S:
            raise RuntimeError(f"EPANET stopped at t = {t} s, expected {n * _HOUR_S} s")
        q, p = self._q / _HOUR_S, self._p
        delivered, expected = acc_del * q, acc_exp * q
        minp *= p
        pres_mk *= p
        dem_mk *= self._q
        tank_mk = (tank_mk - self._tank_elev) * self._h
        flow_mk *= self._q
        negs = self._negatives(minp, pres_mk[n])
        warnings = [
            f"EPANET warning {c} ({en.WARNINGS.get(c, 'unknown')}) at {len(ts)} of {solves} "
            f"steps, first at hour {ts[0] / _HOUR_S:g}"
            for c, ts in sorted(warn_codes.items())
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
            pump_speed=speed_mk,
            pump_on=on.copy(),
            pattern=pattern,
            negative_pressures=tuple(negs),
            warnings=tuple(warnings),
            solves=solves,
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
            np.add.at(table, (slice(None), cols), np.outer(f[periods % len(f)], bases))
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
