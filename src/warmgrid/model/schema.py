"""The grid's tables as data: columns, dtypes, units, defaults and bounds.

One truth for validation, the native table format, the docs and the importers (the idea
of PyPSA's ``component_attrs`` and pandapower's ``network_schema``). Units are in the
column names (``p_mw``, ``x_pu``, ``rate_mva``); per-unit values are on the grid's
``base_mva`` and the bus's nominal voltage.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BRANCH_KINDS", "GEN_KINDS", "TABLES", "Column", "columns"]

#: Generator kinds. ``external`` is a supply point from the wider grid (the slack of a
#: pandapower case is its ``ext_grid``), ``static`` a fixed-output static generator
#: (pandapower ``sgen``), ``mobile`` a truck-mounted unit placed during a restoration.
GEN_KINDS = ("thermal", "nuclear", "hydro", "chp", "external", "static", "wind", "solar", "mobile")

#: Branch kinds: a line, a two-winding transformer (tap and phase shift), an impedance.
BRANCH_KINDS = ("line", "trafo", "impedance")


@dataclass(frozen=True)
class Column:
    """One column of a grid table.

    Parameters
    ----------
    name : column name, with its unit as suffix where it has one.
    dtype : ``"str"``, ``"float"``, ``"bool"``.
    description : what it is.
    default : value used when the column is absent; ``None`` means required.
    lo, hi : inclusive bounds for floats (``None``: unbounded).
    nonzero : the value may not be 0 (a reactance).
    ref : name of the table whose ``id`` this column refers to.
    choices : allowed values for strings.
    finite : NaN and infinity are rejected (``hi=inf`` is allowed for ratings).
    """

    name: str
    dtype: str
    description: str
    default: object = None
    lo: float | None = None
    hi: float | None = None
    nonzero: bool = False
    ref: str | None = None
    choices: tuple[str, ...] | None = None
    finite: bool = True

    @property
    def required(self) -> bool:
        return self.default is None


_ID = Column("id", "str", "element id, 'kind:name', unique in the grid")
_ON = Column("in_service", "bool", "element is in service in the base case", default=True)

TABLES: dict[str, tuple[Column, ...]] = {
    "bus": (
        _ID,
        Column("name", "str", "human-readable name", default=""),
        Column("vn_kv", "float", "nominal voltage, kV", lo=0.0, hi=2000.0),
        Column(
            "x",
            "float",
            "map coordinate x (longitude or km east)",
            default=float("nan"),
            finite=False,
        ),
        Column(
            "y",
            "float",
            "map coordinate y (latitude or km north)",
            default=float("nan"),
            finite=False,
        ),
        Column("zone", "str", "zone or substation group", default=""),
        Column(
            "vm_min_pu",
            "float",
            "lowest acceptable voltage magnitude, p.u. (NaN: no limit); AC reports only",
            default=float("nan"),
            lo=0.0,
            hi=10.0,
            finite=False,
        ),
        Column(
            "vm_max_pu",
            "float",
            "highest acceptable voltage magnitude, p.u. (NaN: no limit); AC reports only",
            default=float("nan"),
            lo=0.0,
            hi=10.0,
            finite=False,
        ),
        _ON,
    ),
    "branch": (
        _ID,
        Column("kind", "str", "line, trafo or impedance", default="line", choices=BRANCH_KINDS),
        Column("from_bus", "str", "bus id at the from end", ref="bus"),
        Column("to_bus", "str", "bus id at the to end", ref="bus"),
        Column(
            "r_pu", "float", "series resistance, p.u. on base_mva", default=0.0, lo=-1e3, hi=1e3
        ),
        Column(
            "x_pu", "float", "series reactance, p.u. on base_mva", lo=-1e3, hi=1e3, nonzero=True
        ),
        Column(
            "b_pu", "float", "total line charging susceptance, p.u.", default=0.0, lo=-1e4, hi=1e4
        ),
        Column(
            "g_pu",
            "float",
            "total shunt conductance of the branch (charging, transformer iron losses), p.u.",
            default=0.0,
            lo=-1e4,
            hi=1e4,
        ),
        Column(
            "tap_ratio",
            "float",
            "off-nominal turns ratio at the from end (1 = none)",
            default=1.0,
            lo=0.01,
            hi=100.0,
        ),
        Column(
            "shift_deg", "float", "phase shift angle, degrees", default=0.0, lo=-360.0, hi=360.0
        ),
        Column(
            "rate_mva",
            "float",
            "thermal rating; 0 or inf means unlimited",
            default=0.0,
            lo=0.0,
            hi=float("inf"),
            finite=False,
        ),
        _ON,
    ),
    "gen": (
        _ID,
        Column("bus", "str", "bus id", ref="bus"),
        Column("kind", "str", "generator kind", default="thermal", choices=GEN_KINDS),
        Column("p_mw", "float", "active power set point, MW", default=0.0, lo=-1e6, hi=1e6),
        Column(
            "p_min_mw", "float", "minimum output when running, MW", default=0.0, lo=-1e6, hi=1e6
        ),
        Column(
            "p_max_mw",
            "float",
            "maximum output, MW (inf: unlimited supply)",
            lo=-1e6,
            hi=float("inf"),
            finite=False,
        ),
        Column(
            "slack",
            "bool",
            "angle reference and balancing unit (a pandapower ext_grid)",
            default=False,
        ),
        Column(
            "va_deg",
            "float",
            "voltage angle a slack unit holds, degrees",
            default=0.0,
            lo=-360.0,
            hi=360.0,
        ),
        Column(
            "voltage_control",
            "bool",
            "the unit holds its bus at vm_pu (a PV unit, pandapower gen/ext_grid); "
            "False: it injects p_mw + j q_mvar (a PQ unit, pandapower sgen)",
            default=True,
        ),
        Column(
            "vm_pu", "float", "voltage set point, p.u. (AC flow)", default=1.0, lo=0.01, hi=10.0
        ),
        Column(
            "q_mvar",
            "float",
            "reactive output of a unit without voltage control, Mvar (AC flow)",
            default=0.0,
            lo=-1e6,
            hi=1e6,
        ),
        Column(
            "q_min_mvar",
            "float",
            "lowest reactive output, Mvar (-inf: unlimited)",
            default=float("-inf"),
            lo=float("-inf"),
            hi=1e6,
            finite=False,
        ),
        Column(
            "q_max_mvar",
            "float",
            "highest reactive output, Mvar (inf: unlimited)",
            default=float("inf"),
            lo=-1e6,
            hi=float("inf"),
            finite=False,
        ),
        _ON,
    ),
    "load": (
        _ID,
        Column("bus", "str", "bus id", ref="bus"),
        Column("p_mw", "float", "active power demand, MW", lo=-1e6, hi=1e6),
        Column("q_mvar", "float", "reactive power demand, Mvar", default=0.0, lo=-1e6, hi=1e6),
        _ON,
    ),
    "shunt": (
        _ID,
        Column("bus", "str", "bus id", ref="bus"),
        Column(
            "g_mw",
            "float",
            "active power drawn at 1 p.u. voltage, MW",
            default=0.0,
            lo=-1e6,
            hi=1e6,
        ),
        Column(
            "b_mvar",
            "float",
            "reactive power injected at 1 p.u. voltage, Mvar",
            default=0.0,
            lo=-1e6,
            hi=1e6,
        ),
        _ON,
    ),
}


def columns(table: str) -> list[str]:
    """Column names of ``table`` in schema order.

    >>> columns("load")
    ['id', 'bus', 'p_mw', 'q_mvar', 'in_service']
    """
    return [c.name for c in TABLES[table]]
