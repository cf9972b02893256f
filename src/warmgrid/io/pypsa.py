"""PyPSA networks (netCDF ``.nc`` / HDF5 or a CSV folder with ``buses.csv``) to a :class:`Grid`.

PyPSA is an optional extra (``pip install warmgrid[pypsa]``) and is imported lazily.

Units follow PyPSA's own per-unit conversion (``Network.calculate_dependent_values``,
PyPSA documentation "Power flow": lines ``x_pu = x / v_nom²`` on a 1 MVA base,
transformers ``x_pu = x / s_nom``; the linear power flow uses
``x_pu_eff = x_pu · tap_ratio`` for transformers, which is MATPOWER's ``makeBdc``
``b = 1 / (x · tap)``). warmgrid tables are on ``base_mva = 100``, so a PyPSA per-unit
value on 1 MVA is multiplied by 100 for ``r_pu`` and ``x_pu`` and divided by 100 for
``b_pu``. A transformer's ``tap_side`` only matters for AC: the DC model uses the ratio
the same way on either side.

Ids: ``bus:<name>``, ``line:<name>``, ``trafo:<name>``, ``gen:<name>``,
``storage:<name>``, ``load:<name>``, ``shunt:<name>`` (PyPSA component names).
Set points are the static ``p_set`` or, when a time series is given, its first
snapshot. The slack generator of each sub-network is the one PyPSA's own power flow
picks (``SubNetwork.find_slack_bus``). Links and stores are not mapped yet: a network
with any raises an :class:`~warmgrid.errors.InputError` rather than loading a
different grid silently.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError, quoted
from warmgrid.model.grid import Grid

__all__ = ["from_pypsa_network", "load_pypsa"]

#: warmgrid's system base, MVA; PyPSA's per unit is on 1 MVA.
BASE_MVA = 100.0

#: PyPSA carrier (lower case, substring) -> warmgrid generator kind.
_CARRIER_KIND = (
    ("nuclear", "nuclear"),
    ("hydro", "hydro"),
    ("ror", "hydro"),
    ("phs", "hydro"),
    ("wind", "wind"),
    ("solar", "solar"),
    ("pv", "solar"),
    ("chp", "chp"),
)


def _import_pypsa(file: str) -> Any:
    try:
        import pypsa
    except ImportError:
        raise InputError(
            "reading a PyPSA network needs the optional extra: pip install warmgrid[pypsa]",
            file=file,
        ) from None
    logging.getLogger("pypsa").setLevel(logging.ERROR)
    return pypsa


def load_pypsa(path: str | Path) -> Grid:
    """Load a PyPSA network from a netCDF/HDF5 file or a CSV folder (with ``buses.csv``).

    Raises
    ------
    InputError
        If pypsa is not installed, the file cannot be read, or it holds components this
        importer does not map.
    """
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise InputError("no such file or folder", file=file)
    if path.is_dir() and not (path / "buses.csv").exists():
        raise InputError("not a PyPSA CSV folder (no buses.csv)", file=file, field="buses.csv")
    pypsa = _import_pypsa(file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            n = pypsa.Network(str(path))
        except Exception as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"not a readable PyPSA network ({msg[:160]})", file=file) from None
    name = path.stem if path.is_file() else path.name
    if n.name and str(n.name) != "Unnamed Network":  # PyPSA's default name says nothing
        name = str(n.name)
    return from_pypsa_network(n, name=name, source=file, csv_folder=path.is_dir())


def _kind(carrier: pd.Series) -> np.ndarray:
    c = carrier.astype(str).str.lower().to_numpy()
    out = np.full(len(c), "thermal", dtype=object)
    for key, kind in reversed(_CARRIER_KIND):
        out[np.char.find(c.astype(str), key) >= 0] = kind
    return out


def _static(n: Any, component: str) -> Any:
    """The static table of a component (``n.components[c].static`` in PyPSA >= 1.0, whose
    ``n.static(c)`` is deprecated; ``n.df(c)`` before)."""
    comps: Any = getattr(n, "components", None)
    try:
        return comps[component].static
    except (TypeError, KeyError, AttributeError):
        return n.df(component)


def _first_snapshot(n: Any, component: str, attr: str, index: pd.Index) -> np.ndarray:
    """The attribute for the first snapshot (the static value where it does not vary)."""
    if len(index) == 0:
        return np.zeros(0)
    if len(n.snapshots) == 0:
        return _static(n, component)[attr].reindex(index).to_numpy(dtype=float)
    dense = n.get_switchable_as_dense(component, attr, n.snapshots[:1], index)
    return dense.iloc[0].reindex(index).to_numpy(dtype=float)


def _slack_generators(n: Any) -> set[str]:
    """The slack generator of every sub-network, chosen as PyPSA's power flow does."""
    n.determine_network_topology()
    out: set[str] = set()
    for sn in n.c.sub_networks.static.obj:
        sn.find_slack_bus()
        if sn.slack_generator is not None:
            out.add(str(sn.slack_generator))
    return out


def _vm_set(n: Any, buses: pd.Series) -> np.ndarray:
    """Voltage set point of each unit's bus, p.u. (1.0 where PyPSA's is unset or not > 0)."""
    v = _first_snapshot(n, "Bus", "v_mag_pu_set", pd.Index(buses.unique()))
    by_bus = dict(zip(buses.unique().tolist(), v.tolist(), strict=True))
    out = np.array([by_bus[b] for b in buses.tolist()], dtype=float)
    return np.where(np.isfinite(out) & (out > 0), out, 1.0)


#: Components whose bus columns this importer reads: PyPSA class, list name, columns.
_BUS_REFS = (
    ("Line", "lines", ("bus0", "bus1")),
    ("Transformer", "transformers", ("bus0", "bus1")),
    ("Generator", "generators", ("bus",)),
    ("StorageUnit", "storage_units", ("bus",)),
    ("Load", "loads", ("bus",)),
    ("ShuntImpedance", "shunt_impedances", ("bus",)),
)


def _check_bus_refs(n: Any, source: str, csv_folder: bool) -> None:
    """Raise for the first component that refers to a bus the network does not have."""
    known = set(n.buses.index)
    for comp, table, cols in _BUS_REFS:
        tab = _static(n, comp)
        for col in cols:
            bad = ~tab[col].isin(known)
            if bad.any():
                row = tab.index[bad.to_numpy()][0]
                file = str(Path(source) / f"{table}.csv") if csv_folder else source
                raise InputError(
                    f"refers to unknown bus {quoted(tab.at[row, col])}",
                    file=file,
                    row=str(row),
                    field=f"{table}.{col}",
                )


def from_pypsa_network(n: Any, *, name: str, source: str, csv_folder: bool = False) -> Grid:
    """Convert a ``pypsa.Network`` to a Grid.

    The network gets PyPSA's dependent values computed (``x_pu_eff`` and friends) and
    its topology determined; its component tables are otherwise unchanged.

    ``csv_folder`` says that ``source`` is a PyPSA CSV folder, so errors name the
    component's file (``lines.csv``).

    Raises
    ------
    InputError
        For links or stores (not mapped yet), references to unknown buses, or values PyPSA itself
        cannot convert.
    """
    for comp, table in (("Link", "links"), ("Store", "stores")):
        if len(_static(n, comp)):
            raise InputError(
                f"PyPSA {table} are not supported by the importer yet", file=source, field=table
            )
    if len(n.buses) == 0:
        raise InputError("the network has no buses", file=source, field="buses")
    _check_bus_refs(n, source, csv_folder)
    slack = _prepare(n, source)
    return Grid(
        name=name,
        bus=_buses(n),
        branch=_branches(n),
        gen=_units(n, slack),
        load=_loads(n),
        shunt=_shunts(n),
        base_mva=BASE_MVA,
        source=source,
        allow_negative_x=True,
        meta={"format": "pypsa"},
    )


def _prepare(n: Any, source: str) -> set[str]:
    """Compute PyPSA's dependent values and topology; return the slack generators.

    Raises
    ------
    InputError : PyPSA cannot prepare the network.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            n.calculate_dependent_values()
            return _slack_generators(n)
        except Exception as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"PyPSA could not prepare the network ({msg[:160]})", file=source
            ) from None


def _buses(n: Any) -> pd.DataFrame:
    """The bus table (every bus in service: PyPSA buses have no status)."""
    buses = n.buses
    return pd.DataFrame(
        {
            "id": [f"bus:{b}" for b in buses.index],
            "vn_kv": buses["v_nom"].to_numpy(dtype=float),
            "x": buses["x"].to_numpy(dtype=float),
            "y": buses["y"].to_numpy(dtype=float),
            "in_service": True,
        }
    )


def _branches(n: Any) -> pd.DataFrame | None:
    """Lines and transformers, per unit on :data:`BASE_MVA` (module docstring)."""
    rows = []
    for comp, kind in (("Line", "line"), ("Transformer", "trafo")):
        tab = _static(n, comp)
        if len(tab) == 0:
            continue
        tap = tab["tap_ratio"].to_numpy(dtype=float) if kind == "trafo" else np.ones(len(tab))
        tap = np.where(np.isfinite(tap) & (tap != 0), tap, 1.0)
        shift = tab["phase_shift"].to_numpy(dtype=float) if kind == "trafo" else np.zeros(len(tab))
        rows.append(
            pd.DataFrame(
                {
                    "id": [f"{kind}:{i}" for i in tab.index],
                    "kind": kind,
                    "from_bus": [f"bus:{b}" for b in tab["bus0"]],
                    "to_bus": [f"bus:{b}" for b in tab["bus1"]],
                    "r_pu": tab["r_pu_eff"].to_numpy(dtype=float) / tap * BASE_MVA,
                    "x_pu": tab["x_pu_eff"].to_numpy(dtype=float) / tap * BASE_MVA,
                    "b_pu": tab["b_pu"].to_numpy(dtype=float) / BASE_MVA,
                    "tap_ratio": tap,
                    "shift_deg": shift,
                    "rate_mva": (tab["s_nom"] * tab["s_max_pu"]).to_numpy(dtype=float),
                    "in_service": tab["active"].to_numpy(dtype=bool),
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else None


def _units(n: Any, slack: set[str]) -> pd.DataFrame | None:
    """Generators and storage units at their first snapshot's set points.

    Parameters
    ----------
    n : the network.
    slack : names of the slack generators (:func:`_slack_generators`).
    """
    gens = []
    for comp, prefix in (("Generator", "gen"), ("StorageUnit", "storage")):
        tab = _static(n, comp)
        if len(tab) == 0:
            continue
        p_nom = tab["p_nom"].to_numpy(dtype=float)
        pmax = p_nom * _first_snapshot(n, comp, "p_max_pu", tab.index)
        pmin = p_nom * _first_snapshot(n, comp, "p_min_pu", tab.index)
        gens.append(
            pd.DataFrame(
                {
                    "id": [f"{prefix}:{i}" for i in tab.index],
                    "bus": [f"bus:{b}" for b in tab["bus"]],
                    "kind": _kind(tab["carrier"]) if comp == "Generator" else "hydro",
                    "p_mw": np.nan_to_num(_first_snapshot(n, comp, "p_set", tab.index), nan=0.0),
                    "p_min_mw": np.minimum(pmin, pmax),
                    "p_max_mw": pmax,
                    "slack": [str(i) in slack for i in tab.index] if comp == "Generator" else False,
                    # PyPSA's control: PV and Slack units hold their bus's v_mag_pu_set
                    "voltage_control": tab["control"].isin(["PV", "Slack"]).to_numpy()
                    if "control" in tab.columns
                    else False,
                    "vm_pu": _vm_set(n, tab["bus"]),
                    "q_mvar": np.nan_to_num(_first_snapshot(n, comp, "q_set", tab.index), nan=0.0),
                    "in_service": tab["active"].to_numpy(dtype=bool),
                }
            )
        )
    return pd.concat(gens, ignore_index=True) if gens else None


def _loads(n: Any) -> pd.DataFrame:
    """Loads at their first snapshot's set points."""
    ld = n.loads
    return pd.DataFrame(
        {
            "id": [f"load:{i}" for i in ld.index],
            "bus": [f"bus:{b}" for b in ld["bus"]],
            "p_mw": np.nan_to_num(_first_snapshot(n, "Load", "p_set", ld.index), nan=0.0),
            "q_mvar": np.nan_to_num(_first_snapshot(n, "Load", "q_set", ld.index), nan=0.0),
            "in_service": ld["active"].to_numpy(dtype=bool),
        }
    )


def _shunts(n: Any) -> pd.DataFrame:
    """Shunt impedances: PyPSA's lpf draws g_pu (1 MVA base, so MW) at every shunt
    impedance; b_pu is Mvar."""
    sh = n.shunt_impedances
    return pd.DataFrame(
        {
            "id": [f"shunt:{i}" for i in sh.index],
            "bus": [f"bus:{b}" for b in sh["bus"]],
            "g_mw": sh["g_pu"].to_numpy(dtype=float),
            "b_mvar": sh["b_pu"].to_numpy(dtype=float),
            "in_service": sh["active"].to_numpy(dtype=bool),
        }
    )
