"""Opening a water network for :class:`~warmgrid.water.hydraulics.HydraulicModel`.

The ``.inp`` bytes (from a file, or written by WNTR from a model), EPANET's first input
error as one line, and what the model reads once from the open project: its junctions,
tanks and pumps, units, coordinates and elevations, the pumps' controls, rule actions
and speed patterns, the junctions' demands, and the file's pressure unit.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from warmgrid.errors import InputError
from warmgrid.water import _epanet as en

if TYPE_CHECKING:
    import wntr


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


@dataclass(frozen=True)
class _Layout:
    """The elements of an open project and its units.

    Attributes
    ----------
    junctions, tanks, pumps : EPANET ids, in EPANET's order.
    jidx, tidx, pidx : their EPANET indices (1-based).
    q_m3h : m³/h per unit of the file's flow; h_m : m per unit of its length.
    junction_xy : (n_junctions, 2) coordinates (NaN where none).
    junction_elevation_m : (n_junctions,) m.
    tank_elevation : (n_tanks,) tank bottoms, the file's length units.
    has_emitters : some junction has an emitter (a leak).
    """

    junctions: tuple[str, ...]
    tanks: tuple[str, ...]
    pumps: tuple[str, ...]
    jidx: list[int]
    tidx: list[int]
    pidx: list[int]
    q_m3h: float
    h_m: float
    junction_xy: np.ndarray
    junction_elevation_m: np.ndarray
    tank_elevation: np.ndarray
    has_emitters: bool


def _read_layout(s: en.Session) -> _Layout:
    """Junctions, tanks and pumps, the units, coordinates and elevations of a project."""
    nodes, links = s.nodes(), s.links()
    jpos = [i for i, (_, t) in enumerate(nodes) if t == en.EN_JUNCTION]
    tpos = [i for i, (_, t) in enumerate(nodes) if t == en.EN_TANK]
    ppos = [i for i, (_, t) in enumerate(links) if t == en.EN_PUMP]
    jidx = [i + 1 for i in jpos]
    tidx = [i + 1 for i in tpos]
    units = s.flow_units()
    h = 0.3048 if units in en.US_UNITS else 1.0
    return _Layout(
        junctions=tuple(nodes[i][0] for i in jpos),
        tanks=tuple(nodes[i][0] for i in tpos),
        pumps=tuple(links[i][0] for i in ppos),
        jidx=jidx,
        tidx=tidx,
        pidx=[i + 1 for i in ppos],
        q_m3h=en.FLOW_M3H[units],
        h_m=h,
        junction_xy=np.array([s.coord(i) for i in jidx], dtype=float).reshape(-1, 2),
        junction_elevation_m=np.array([s.node_value(i, en.EN_ELEVATION) for i in jidx]) * h,
        tank_elevation=np.array([s.node_value(i, en.EN_ELEVATION) for i in tidx]),
        has_emitters=any(s.node_value(i, en.EN_EMITTER) > 0 for i in jidx),
    )


def _pressure_unit(s: en.Session, jidx: list[int], h_m: float, source: str) -> float:
    """Metres of water per unit of the file's pressure (psi, m or kPa).

    EPANET converts head to pressure with its own factor (0.4333 psi per ft, times the
    specific gravity); one solve at hour 0 gives pressure / (head − elevation). For
    psi this is 0.3048 / 0.4333 = 0.70344 m, the factor WNTR 1.5 uses too.

    Parameters
    ----------
    s : the open project. jidx : its junctions' indices.
    h_m : m per unit of the file's length. source : the file, for errors.
    """
    ratio = 0.4333 if h_m != 1.0 else 1.0
    try:
        s.open_h()
        s.run_h()
        best = 0.0
        for i in jidx:
            dh = s.node_value(i, en.EN_HEAD) - s.node_value(i, en.EN_ELEVATION)
            if abs(dh) > max(best, 1e-6):
                best, ratio = abs(dh), s.node_value(i, en.EN_PRESSURE) / dh
    except en.EpanetError as err:
        raise InputError(f"EPANET cannot solve hour 0: {err}", file=source) from None
    finally:
        s.close_h()
    return h_m / ratio


def _pump_controls(
    s: en.Session, pidx: list[int]
) -> tuple[list[list[en.Control]], list[list[en.Action]], list[int]]:
    """Each pump's simple controls, rule actions and speed pattern (0: none): what an
    outage turns off while the pump has no power."""
    pos = {k: j for j, k in enumerate(pidx)}
    controls: list[list[en.Control]] = [[] for _ in pidx]
    for c in s.controls():
        if c.link in pos:
            controls[pos[c.link]].append(c)
    actions: list[list[en.Action]] = [[] for _ in pidx]
    for a in s.rule_actions():
        if a.link in pos:
            actions[pos[a.link]].append(a)
    speed_pattern = [int(s.link_value(i, en.EN_LINKPATTERN)) for i in pidx]
    return controls, actions, speed_pattern


def _demands(
    s: en.Session, jidx: list[int]
) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], dict[int, np.ndarray]]:
    """The junctions' demands grouped by pattern, ``pattern → (junction columns, base
    demands)``, and each of those patterns' multipliers."""
    groups: dict[int, tuple[list[int], list[float]]] = {}
    for j, i in enumerate(jidx):
        for base, pat in s.demands(i):
            cols, bases = groups.setdefault(pat, ([], []))
            cols.append(j)
            bases.append(base)
    demand_groups = {k: (np.array(c), np.array(b)) for k, (c, b) in groups.items()}
    patterns = {k: np.array(s.pattern(k)) for k in groups}
    return demand_groups, patterns
