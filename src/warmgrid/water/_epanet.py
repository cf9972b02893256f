"""A thin session on the EPANET 2.2 toolkit library that ships inside WNTR.

WNTR's :class:`wntr.sim.EpanetSimulator` writes an ``.inp`` file, runs the whole
simulation (``ENsolveH`` + ``ENsolveQ``) into a binary output file and reads it back with
pandas: about 30 ms for a 72 h run of Net3, most of it file I/O, and ``import wntr``
itself costs about 1.1 s (it imports matplotlib, networkx and scipy.optimize). A
restoration search or a Monte Carlo replays one network under many pump-outage
patterns, so this module loads WNTR's build of the EPANET 2.2 library directly with
ctypes (found with :func:`importlib.util.find_spec`, which does not import the package),
opens the network once (``EN_open``, EPANET's own .inp parser) and steps the hydraulics
itself with ``EN_openH`` / ``EN_initH`` / ``EN_runH`` / ``EN_nextH`` (the loop
``EN_solveH`` runs internally; EPANET 2.2 Programmer's Toolkit, "Hydraulic analysis
functions"), reading results with ``EN_getnodevalue`` between steps: about 9 ms for the
same run, with no file written per run.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import platform
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EpanetError", "Session", "library_path"]

# EPANET 2.2 enums (epanet2_enums.h)
EN_ELEVATION = 0
EN_EMITTER = 3
EN_DEMAND = 9
EN_HEAD = 10
EN_PRESSURE = 11
EN_DEMANDDEFICIT = 27
EN_FLOW = 8
EN_INITSTATUS = 4
EN_INITSETTING = 5
EN_STATUS = 11
EN_SETTING = 12
EN_LINKPATTERN = 15
EN_DURATION = 0
EN_HYDSTEP = 1
EN_PATTERNSTEP = 3
EN_PATTERNSTART = 4
EN_REPORTSTEP = 5
EN_REPORTSTART = 6
EN_DEMANDMULT = 4
EN_UNBALANCED = 14
EN_DEFICIENTNODES = 5
EN_NODECOUNT = 0
EN_LINKCOUNT = 2
EN_CONTROLCOUNT = 5
EN_RULECOUNT = 6
EN_JUNCTION, EN_RESERVOIR, EN_TANK = 0, 1, 2
EN_PUMP = 2
EN_DDA, EN_PDA = 0, 1
EN_R_IS_CLOSED = 2
EN_TIMER = 2
_NEVER_S = 2.0e9  # a time (s) no simulation reaches
#: EPANET's "no value" for a rule action's setting (``MISSING`` in types.h).
EN_MISSING = -1.0e10
#: Flow units (EN_getflowunits) → m³/h per unit: the factors of WNTR 1.5's ``FlowUnits``
#: (US gallon 3.785411784 L, imperial gallon 4.54609 L, acre-foot 1233.48184 m³).
FLOW_M3H = {
    0: 0.0283168466 * 3600,  # CFS
    1: 0.003785411784 / 60 * 3600,  # GPM
    2: 3785.411784 / 86400 * 3600,  # MGD
    3: 4546.09 / 86400 * 3600,  # IMGD
    4: 1233.48184 / 86400 * 3600,  # AFD
    5: 3.6,  # LPS
    6: 0.06,  # LPM
    7: 1000 / 24,  # MLD
    8: 1.0,  # CMH
    9: 1 / 24,  # CMD
}
US_UNITS = {0, 1, 2, 3, 4}

#: EPANET warning codes returned by ``EN_runH`` (errors are >= 100).
WARNINGS = {
    1: "system hydraulically unbalanced (results may be inaccurate)",
    2: "system may be hydraulically unstable",
    3: "system disconnected (some nodes have no path to a source)",
    4: "pumps cannot deliver enough flow or head",
    5: "valves cannot deliver enough flow",
    6: "negative pressures",
}


class EpanetError(RuntimeError):
    """The EPANET toolkit returned an error code (>= 100).

    Attributes
    ----------
    code : EPANET's error code.
    line : the input line EPANET rejected, when it names one.
    """

    def __init__(self, code: int, message: str, line: str | None = None) -> None:
        self.code = code
        self.line = line
        super().__init__(message)


def library_path() -> Path:
    """The EPANET 2.2 shared library inside the installed wntr package (not imported)."""
    spec = importlib.util.find_spec("wntr")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the wntr package (which ships EPANET 2.2) is not installed")
    root = Path(next(iter(spec.submodule_search_locations))) / "epanet" / "libepanet"
    if os.name == "nt":
        return root / "windows-x64" / "epanet22.dll"
    if sys.platform == "darwin":  # WNTR's choice of build per processor
        if "arm" in platform.platform().lower():
            return root / "darwin-arm" / "libepanet2.dylib"
        return root / "darwin-x64" / "libepanet22.dylib"
    return root / "linux-x64" / "libepanet22.so"


@functools.cache
def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(library_path()))
    c_int, c_dbl, c_long, p = ctypes.c_int, ctypes.c_double, ctypes.c_long, ctypes.POINTER
    h, s = ctypes.c_void_p, ctypes.c_char_p
    sigs = {
        "EN_createproject": [p(h)],
        "EN_deleteproject": [h],
        "EN_open": [h, s, s, s],
        "EN_close": [h],
        "EN_geterror": [c_int, s, c_int],
        "EN_getnodevalue": [h, c_int, c_int, p(c_dbl)],
        "EN_getlinkvalue": [h, c_int, c_int, p(c_dbl)],
        "EN_setlinkvalue": [h, c_int, c_int, c_dbl],
        "EN_getnodeid": [h, c_int, s],
        "EN_getlinkid": [h, c_int, s],
        "EN_getnodetype": [h, c_int, p(c_int)],
        "EN_getlinktype": [h, c_int, p(c_int)],
        "EN_getcoord": [h, c_int, p(c_dbl), p(c_dbl)],
        "EN_getflowunits": [h, p(c_int)],
        "EN_setdemandmodel": [h, c_int, c_dbl, c_dbl, c_dbl],
        "EN_runH": [h, p(c_long)],
        "EN_nextH": [h, p(c_long)],
        "EN_openH": [h],
        "EN_initH": [h, c_int],
        "EN_closeH": [h],
        "EN_settimeparam": [h, c_int, c_long],
        "EN_gettimeparam": [h, c_int, p(c_long)],
        "EN_getoption": [h, c_int, p(c_dbl)],
        "EN_setoption": [h, c_int, c_dbl],
        "EN_getstatistic": [h, c_int, p(c_dbl)],
        "EN_getnumdemands": [h, c_int, p(c_int)],
        "EN_getbasedemand": [h, c_int, c_int, p(c_dbl)],
        "EN_getdemandpattern": [h, c_int, c_int, p(c_int)],
        "EN_getpatternlen": [h, c_int, p(c_int)],
        "EN_getpatternvalue": [h, c_int, c_int, p(c_dbl)],
        "EN_getcount": [h, c_int, p(c_int)],
        "EN_getcontrol": [h, c_int, p(c_int), p(c_int), p(c_dbl), p(c_int), p(c_dbl)],
        "EN_setcontrol": [h, c_int, c_int, c_int, c_dbl, c_int, c_dbl],
        "EN_getrule": [h, c_int, p(c_int), p(c_int), p(c_int), p(c_dbl)],
        "EN_getthenaction": [h, c_int, c_int, p(c_int), p(c_int), p(c_dbl)],
        "EN_setthenaction": [h, c_int, c_int, c_int, c_int, c_dbl],
        "EN_getelseaction": [h, c_int, c_int, p(c_int), p(c_int), p(c_dbl)],
        "EN_setelseaction": [h, c_int, c_int, c_int, c_int, c_dbl],
    }
    for name, argtypes in sigs.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = c_int
    return lib


def error_text(code: int) -> str:
    buf = ctypes.create_string_buffer(256)
    _lib().EN_geterror(code, buf, 255)
    return buf.value.decode("latin-1") or f"Error {code}"


@dataclass(frozen=True)
class Control:
    """A simple control as the toolkit reports it (``EN_getcontrol``)."""

    index: int
    type: int
    link: int
    setting: float
    node: int
    level: float


@dataclass(frozen=True)
class Action:
    """One THEN or ELSE action of a rule (``EN_getthenaction``)."""

    rule: int
    index: int
    then: bool
    link: int
    status: int
    setting: float


def _first_error(rpt: Path) -> tuple[str | None, str | None]:
    """EPANET's first specific input error in a report file, and the line it quotes."""
    try:
        lines = rpt.read_text(encoding="latin-1").splitlines()
    except OSError:
        return None, None
    for k, ln in enumerate(lines):
        s = ln.strip()
        if s.startswith("Error") and not s.startswith("Error 200"):
            nxt = lines[k + 1].strip() if k + 1 < len(lines) else ""
            quoted = nxt if s.endswith(":") and nxt else None
            return s.rstrip(":"), quoted
    return None, None


class Session:
    """One open EPANET project (``EN_createproject`` + ``EN_open``).

    Parameters
    ----------
    inp : path of the ``.inp`` file (EPANET reads it whole at open).
    rpt : path of the report file EPANET keeps open (only input errors are written).

    Raises
    ------
    EpanetError : EPANET rejects the file (its first specific message and quoted line).
    """

    def __init__(self, inp: str, rpt: str) -> None:
        lib = _lib()
        self.lib = lib
        self.ph = ctypes.c_void_p()
        self.closed = True
        if lib.EN_createproject(ctypes.byref(self.ph)):
            raise EpanetError(101, "EPANET could not create a project")
        enc = sys.getfilesystemencoding()
        code = lib.EN_open(self.ph, inp.encode(enc), rpt.encode(enc), b"")
        if code >= 100:
            lib.EN_close(self.ph)
            lib.EN_deleteproject(self.ph)
            msg, line = _first_error(Path(rpt))
            raise EpanetError(code, msg or error_text(code), line)
        self.closed = False
        self._dbl = ctypes.c_double()
        self._dbl_ref = ctypes.byref(self._dbl)
        self._long = ctypes.c_long()
        self._int = ctypes.c_int()

    # ------------------------------------------------------------------ basics
    def _call(self, name: str, *args: object) -> int:
        code = getattr(self.lib, name)(self.ph, *args)
        if code >= 100:
            raise EpanetError(code, f"{error_text(code)} (in {name})")
        return code

    def count(self, what: int) -> int:
        self._call("EN_getcount", what, ctypes.byref(self._int))
        return self._int.value

    def nodes(self) -> list[tuple[str, int]]:
        """(id, type) of every node, in EPANET's index order (1-based index = position + 1)."""
        buf = ctypes.create_string_buffer(64)
        out = []
        for i in range(1, self.count(EN_NODECOUNT) + 1):
            self._call("EN_getnodeid", i, buf)
            self._call("EN_getnodetype", i, ctypes.byref(self._int))
            out.append((buf.value.decode("latin-1"), self._int.value))
        return out

    def links(self) -> list[tuple[str, int]]:
        """(id, type) of every link, in EPANET's index order."""
        buf = ctypes.create_string_buffer(64)
        out = []
        for i in range(1, self.count(EN_LINKCOUNT) + 1):
            self._call("EN_getlinkid", i, buf)
            self._call("EN_getlinktype", i, ctypes.byref(self._int))
            out.append((buf.value.decode("latin-1"), self._int.value))
        return out

    def coord(self, index: int) -> tuple[float, float]:
        """(x, y) of a node in the file's units; NaN when it has none."""
        x, y = ctypes.c_double(), ctypes.c_double()
        if self.lib.EN_getcoord(self.ph, index, ctypes.byref(x), ctypes.byref(y)):
            return float("nan"), float("nan")
        return x.value, y.value

    def flow_units(self) -> int:
        self._call("EN_getflowunits", ctypes.byref(self._int))
        return self._int.value

    def node_value(self, index: int, prop: int) -> float:
        self.lib.EN_getnodevalue(self.ph, index, prop, self._dbl_ref)
        return self._dbl.value

    def link_value(self, index: int, prop: int) -> float:
        self.lib.EN_getlinkvalue(self.ph, index, prop, self._dbl_ref)
        return self._dbl.value

    def set_link_value(self, index: int, prop: int, value: float) -> None:
        self._call("EN_setlinkvalue", index, prop, value)

    def set_time(self, param: int, seconds: int) -> None:
        self._call("EN_settimeparam", param, seconds)

    def time(self, param: int) -> int:
        self._call("EN_gettimeparam", param, ctypes.byref(self._long))
        return self._long.value

    def option(self, opt: int) -> float:
        self._call("EN_getoption", opt, ctypes.byref(self._dbl))
        return self._dbl.value

    def deficient_nodes(self) -> int:
        """Junctions short of their full demand in the last solve (EN_DEFICIENTNODES:
        a deficit above 1e-4 cfs, about 0.01 m³/h)."""
        self.lib.EN_getstatistic(self.ph, EN_DEFICIENTNODES, self._dbl_ref)
        return int(self._dbl.value)

    def set_option(self, opt: int, value: float) -> None:
        self._call("EN_setoption", opt, value)

    def demands(self, index: int) -> list[tuple[float, int]]:
        """(base demand in the file's flow units, pattern index; 0: none) of each of a
        node's demand categories."""
        self._call("EN_getnumdemands", index, ctypes.byref(self._int))
        out = []
        pat = ctypes.c_int()
        for d in range(1, self._int.value + 1):
            self._call("EN_getbasedemand", index, d, ctypes.byref(self._dbl))
            self._call("EN_getdemandpattern", index, d, ctypes.byref(pat))
            out.append((self._dbl.value, pat.value))
        return out

    def pattern(self, index: int) -> list[float]:
        """Multipliers of a time pattern (index 0: the constant 1)."""
        if index == 0:
            return [1.0]
        self._call("EN_getpatternlen", index, ctypes.byref(self._int))
        out = []
        for k in range(1, self._int.value + 1):
            self._call("EN_getpatternvalue", index, k, ctypes.byref(self._dbl))
            out.append(self._dbl.value)
        return out

    def set_pda(self, pmin: float, preq: float, pexp: float) -> None:
        """Pressure-driven demand with P_min, P_req in the file's pressure units."""
        self._call("EN_setdemandmodel", EN_PDA, pmin, preq, pexp)

    def node_reader(self, indices: list[int], prop: int) -> Iterator[float]:
        """Yield ``prop`` of each node in ``indices`` (the hot loop: no error checks)."""
        fn, ph, ref, d = self.lib.EN_getnodevalue, self.ph, self._dbl_ref, self._dbl
        for i in indices:
            fn(ph, i, prop, ref)
            yield d.value

    # ------------------------------------------------------------------ controls, rules
    def controls(self) -> list[Control]:
        """Every simple control of the project."""
        out = []
        t, lk, nd = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        s, lv = ctypes.c_double(), ctypes.c_double()
        for i in range(1, self.count(EN_CONTROLCOUNT) + 1):
            self._call(
                "EN_getcontrol",
                i,
                ctypes.byref(t),
                ctypes.byref(lk),
                ctypes.byref(s),
                ctypes.byref(nd),
                ctypes.byref(lv),
            )
            out.append(Control(i, t.value, lk.value, s.value, nd.value, lv.value))
        return out

    def disable_control(self, c: Control) -> None:
        """Neutralise a simple control: a timer that would close its link at a time never
        reached. (``EN_setcontrol`` with link index 0 deactivates a control, but EPANET
        2.2's ``controltimestep`` still cuts the time step where a deactivated tank
        control would have fired, so results would differ from a file without it.)"""
        self._call("EN_setcontrol", c.index, EN_TIMER, c.link, 0.0, 0, _NEVER_S)

    def restore_control(self, c: Control) -> None:
        self._call("EN_setcontrol", c.index, c.type, c.link, c.setting, c.node, c.level)

    def rule_actions(self) -> list[Action]:
        """Every THEN and ELSE action of every rule."""
        out = []
        npr, nth, nel = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        prio = ctypes.c_double()
        lk, st, se = ctypes.c_int(), ctypes.c_int(), ctypes.c_double()
        for r in range(1, self.count(EN_RULECOUNT) + 1):
            self._call(
                "EN_getrule",
                r,
                ctypes.byref(npr),
                ctypes.byref(nth),
                ctypes.byref(nel),
                ctypes.byref(prio),
            )
            for then, n, getter in (
                (True, nth.value, "EN_getthenaction"),
                (False, nel.value, "EN_getelseaction"),
            ):
                for a in range(1, n + 1):
                    self._call(getter, r, a, ctypes.byref(lk), ctypes.byref(st), ctypes.byref(se))
                    out.append(Action(r, a, then, lk.value, st.value, se.value))
        return out

    def close_action(self, a: Action) -> None:
        """Make a rule action keep its link closed: status CLOSED and no setting (an
        action with a setting would re-open a pump; EPANET's ``takeactions``)."""
        name = "EN_setthenaction" if a.then else "EN_setelseaction"
        self._call(name, a.rule, a.index, a.link, EN_R_IS_CLOSED, EN_MISSING)

    def restore_action(self, a: Action) -> None:
        name = "EN_setthenaction" if a.then else "EN_setelseaction"
        self._call(name, a.rule, a.index, a.link, a.status, a.setting)

    # ------------------------------------------------------------------ stepping
    def open_h(self) -> None:
        self._call("EN_openH")
        # 10 = EN_INITFLOW: re-initialise link flows, so every run starts from the same
        # guess as a fresh EN_solveH and results do not depend on the runs before it
        self._call("EN_initH", 10)

    def run_h(self) -> tuple[int, int]:
        """Solve at the current time: (time in s, warning code 0-6)."""
        code = self._call("EN_runH", ctypes.byref(self._long))
        return self._long.value, code

    def next_h(self) -> int:
        """Advance: the step taken in s (0 at the end of the horizon)."""
        self._call("EN_nextH", ctypes.byref(self._long))
        return self._long.value

    def close_h(self) -> None:
        self.lib.EN_closeH(self.ph)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.lib.EN_close(self.ph)
            self.lib.EN_deleteproject(self.ph)
