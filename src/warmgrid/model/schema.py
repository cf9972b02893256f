"""The tables as data: columns, dtypes, units, defaults, bounds and references.

The grid's tables (:data:`TABLES`) and the services overlay's (:data:`SERVICE_TABLES`)
are described here and checked by one generic validator
(:func:`warmgrid.model.validate.validate_table`).

One truth for validation, the native table format, the docs and the importers (the idea
of PyPSA's ``component_attrs`` and pandapower's ``network_schema``). Units are in the
column names (``p_mw``, ``x_pu``, ``rate_mva``); per-unit values are on the grid's
``base_mva`` and the bus's nominal voltage.
"""

from __future__ import annotations

from dataclasses import dataclass

from warmgrid.model.archetypes import ARCHETYPES

__all__ = [
    "BRANCH_KINDS",
    "GEN_KINDS",
    "HEAT_KINDS",
    "SERVICE_TABLES",
    "TABLES",
    "Column",
    "columns",
]

#: Generator kinds. ``external`` is a supply point from the wider grid (the slack of a
#: pandapower case is its ``ext_grid``), ``static`` a fixed-output static generator
#: (pandapower ``sgen``), ``mobile`` a truck-mounted unit placed during a restoration,
#: ``dcline`` one end of an HVDC link (a fixed set point, negative at the sending end).
GEN_KINDS = (
    "thermal",
    "nuclear",
    "hydro",
    "chp",
    "external",
    "static",
    "wind",
    "solar",
    "mobile",
    "dcline",
)

#: Branch kinds: a line, a two-winding transformer (tap and phase shift; a three-winding
#: transformer is three of them around a star bus), an impedance, a bus-bus switch with an
#: impedance (pandapower ``z_ohm > 0``).
BRANCH_KINDS = ("line", "trafo", "impedance", "switch")


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
    signed : a negative value only in published equivalents (``allow_negative_x``; a
        series resistance).
    ref : name of the table whose ``id`` this column refers to (``"load"``, ``"bus"``,
        ``"gen"`` for the grid's; ``"heat"``, ``"areas"`` for the overlay's).
    choices : allowed values for strings.
    finite : NaN and infinity are rejected (``hi=inf`` is allowed for ratings).
    many : a ``;``-joined list of ids (each refers to ``ref``).
    cosmetic : the default invents nothing that changes a figure (a name, a coordinate),
        so a missing column need not be stated as an assumption.
    """

    name: str
    dtype: str
    description: str
    default: object = None
    lo: float | None = None
    hi: float | None = None
    nonzero: bool = False
    signed: bool = False
    ref: str | None = None
    choices: tuple[str, ...] | None = None
    finite: bool = True
    many: bool = False
    cosmetic: bool = False

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
        Column(
            "kind", "str", "line, trafo, impedance or switch", default="line", choices=BRANCH_KINDS
        ),
        Column("from_bus", "str", "bus id at the from end", ref="bus"),
        Column("to_bus", "str", "bus id at the to end", ref="bus"),
        Column(
            "r_pu",
            "float",
            "series resistance, p.u. on base_mva (negative only with allow_negative_x)",
            default=0.0,
            lo=-1e3,
            hi=1e3,
            signed=True,
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
            "ang_min_deg",
            "float",
            "lower limit of the angle difference from minus to, degrees, for the MLD "
            "(MATPOWER ANGMIN; 0 or -360 or less: none)",
            default=-360.0,
            lo=-360.0,
            hi=360.0,
            cosmetic=True,
        ),
        Column(
            "ang_max_deg",
            "float",
            "upper limit of the angle difference, degrees (MATPOWER ANGMAX; 0 or 360 or "
            "more: none)",
            default=360.0,
            lo=-360.0,
            hi=360.0,
            cosmetic=True,
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
        Column(
            "r_asym_pu",
            "float",
            "series resistance seen from the to end minus r_pu (a non-reciprocal branch, "
            "pandapower impedance rtf_pu − rft_pu; 0 for every other branch), p.u.",
            default=0.0,
            lo=-1e3,
            hi=1e3,
            cosmetic=True,
        ),
        Column(
            "x_asym_pu",
            "float",
            "series reactance seen from the to end minus x_pu (as r_asym_pu), p.u.",
            default=0.0,
            lo=-1e3,
            hi=1e3,
            cosmetic=True,
        ),
        Column(
            "g_asym_pu",
            "float",
            "asymmetry of the branch shunt conductance: the to end gets (g_pu + g_asym_pu) / 2 "
            "instead of g_pu / 2 (transformer T models, pandapower impedance), p.u.",
            default=0.0,
            lo=-1e4,
            hi=1e4,
            cosmetic=True,
        ),
        Column(
            "b_asym_pu",
            "float",
            "asymmetry of the branch shunt susceptance, as g_asym_pu, p.u.",
            default=0.0,
            lo=-1e4,
            hi=1e4,
            cosmetic=True,
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
        Column("vm_pu", "float", "voltage set point, p.u. (AC flow)", default=1.0, lo=0.5, hi=1.5),
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


#: Heat source kinds: a combined heat-and-power plant, a heat-only boiler house.
HEAT_KINDS = ("chp", "boiler")

_NAME = Column("name", "str", "human-readable name", default="", cosmetic=True)
_X = Column("x", "float", "map x, km east", default=float("nan"), finite=False, cosmetic=True)
_Y = Column("y", "float", "map y, km north", default=float("nan"), finite=False, cosmetic=True)
_HOURS = 24.0 * 366 * 2  # buffers longer than two years are a typo

#: The services overlay (:mod:`warmgrid.model.services`): who lives where and what
#: powers their heat, water and hospitals. Every service element names the grid load
#: that powers it.
SERVICE_TABLES: dict[str, tuple[Column, ...]] = {
    "areas": (
        Column("id", "str", "area id, 'area:name'"),
        _NAME,
        Column("population", "float", "residents, persons", lo=0.0, hi=1e9),
        Column(
            "archetype",
            "str",
            "building type (a key of warmgrid.model.archetypes.ARCHETYPES)",
            default="panel9",
            choices=tuple(ARCHETYPES),
        ),
        Column("load", "str", "grid load that feeds its homes", ref="load"),
        Column(
            "heat_sources",
            "str",
            "';'-joined heat ids of its district heating (empty: none)",
            default="",
            ref="heat",
            many=True,
        ),
        Column(
            "individual_heating_share",
            "float",
            "share of people with their own heating, which needs power",
            default=0.0,
            lo=0.0,
            hi=1.0,
        ),
        Column(
            "needs_local_power",
            "bool",
            "building circulation pumps need the area's own power (modern blocks)",
            default=False,
        ),
        _X,
        _Y,
        Column("district", "str", "administrative district", default="", cosmetic=True),
    ),
    "heat": (
        Column("id", "str", "heat source id, 'heat:name'"),
        _NAME,
        Column("kind", "str", "chp or boiler", default="boiler", choices=HEAT_KINDS),
        Column("load", "str", "grid load of its pumps and controls", default="", ref="load"),
        Column(
            "gens",
            "str",
            "';'-joined generator ids a CHP co-produces with",
            default="",
            ref="gen",
            many=True,
        ),
        Column("heat_mw", "float", "heat capacity, MW", default=0.0, lo=0.0, hi=1e5),
        Column(
            "peak_boiler_share",
            "float",
            "share of its heat its peak boilers give while its units are down",
            default=0.0,
            lo=0.0,
            hi=1.0,
        ),
        Column("backup_h", "float", "hours of backup power", default=0.0, lo=0.0, hi=_HOURS),
        _X,
        _Y,
    ),
    "water": (
        Column("id", "str", "water station id, 'water:name'"),
        _NAME,
        Column("load", "str", "grid load of its pumps", ref="load"),
        Column("areas", "str", "';'-joined area ids it serves", default="", ref="areas", many=True),
        Column(
            "reservoir_h",
            "float",
            "hours its clean-water tanks carry its areas",
            default=0.0,
            lo=0.0,
            hi=_HOURS,
        ),
        _X,
        _Y,
    ),
    "facilities": (
        Column("id", "str", "facility id, 'facility:name'"),
        _NAME,
        Column("kind", "str", "hospital, ...", default="hospital"),
        Column("load", "str", "grid load of its mains power", ref="load"),
        Column("backup_h", "float", "hours of backup generation", default=0.0, lo=0.0, hi=_HOURS),
        Column("people_served", "float", "patients and staff", default=0.0, lo=0.0, hi=1e9),
        _X,
        _Y,
    ),
}


def columns(table: str) -> list[str]:
    """Column names of ``table`` in schema order.

    >>> columns("load")
    ['id', 'bus', 'p_mw', 'q_mvar', 'in_service']
    """
    return [c.name for c in {**TABLES, **SERVICE_TABLES}[table]]
