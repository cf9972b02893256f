"""pandapower networks (bundled cases and JSON files) to a :class:`Grid`.

Branch parameters are taken from pandapower's own conversion to its internal PYPOWER
case (``_pd2ppc``) with the options of ``rundcpp``, so transformer ratios, phase shifts
and the T-model reactance match pandapower exactly; element ids and set points come
from the element tables (``line:40``, ``trafo:3``, ``gen:2``, ``sgen:5``,
``ext_grid:0``, ``load:7``, ``shunt:4``). pandapower is imported lazily.

The helper modules map one part each: buses, fused buses and auxiliary buses
(:mod:`~warmgrid.io._pp_buses`), branches with three-winding transformers, impedances,
extended wards' internal branches and impedance switches (:mod:`~warmgrid.io._pp_branches`),
units, HVDC links, loads, wards and shunts (:mod:`~warmgrid.io._pp_injections`), the
aliases of switches and of elements that became several (:mod:`~warmgrid.io._pp_aliases`),
and the checks (:mod:`~warmgrid.io._pp_checks`). Switches: a closed bus-bus switch
without impedance fuses its buses (as pandapower does), one with an impedance is a
branch, and an open switch at a line or transformer takes that branch out of service
(pandapower's ``neglect_open_switch_branches``; pandapower's default instead keeps the
branch energised from its other end through an auxiliary bus).
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmgrid.errors import InputError, closest, quoted
from warmgrid.io._dcline import dcline_warning
from warmgrid.io._pp_aliases import aliases
from warmgrid.io._pp_branches import branches
from warmgrid.io._pp_buses import buses
from warmgrid.io._pp_checks import check_injections, check_net
from warmgrid.io._pp_injections import loads, shunts, units
from warmgrid.model.grid import Grid

__all__ = [
    "bundled_case_names",
    "from_pandapower_net",
    "load_pandapower_case",
    "load_pandapower_json",
]

#: Element tables this importer does not map yet: a non-empty one is an error.
_UNSUPPORTED = (
    "storage",
    "motor",
    "asymmetric_load",
    "asymmetric_sgen",
    "svc",
    "tcsc",
    "ssc",
    "vsc",
    "line_dc",
    "bus_dc",
)


def bundled_case_names() -> list[str]:
    """Names of the grids that ``pandapower.networks`` ships as power-system test cases.

    Read from the source of ``pandapower/networks/power_system_test_cases.py`` without
    importing pandapower, so ``warmgrid cases`` stays fast.
    """
    import importlib.util

    spec = importlib.util.find_spec("pandapower")
    if spec is None or not spec.submodule_search_locations:
        return []
    path = (
        Path(next(iter(spec.submodule_search_locations)))
        / "networks"
        / "power_system_test_cases.py"
    )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    names = re.findall(r"^def ((?:case|GB|iceland)\w*)\(", text, flags=re.MULTILINE)
    return sorted(set(names), key=_case_sort_key)


def _case_sort_key(name: str) -> tuple[int, str]:
    m = re.match(r"case(\d+)", name)
    return (int(m.group(1)) if m else 10**6, name)


def _quiet() -> Any:
    """Silence pandapower's import chatter (numba notices) and warnings."""
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    return warnings.catch_warnings()


def load_pandapower_case(name: str) -> Grid:
    """Load a bundled ``pandapower.networks`` case by name (``"case118"``)."""
    names = bundled_case_names()
    if name not in names:
        raise InputError(
            f"unknown case name {quoted(name)}{closest(name, names)} (warmgrid cases lists them)",
            file=name,
            field="case",
        )
    with _quiet():
        warnings.simplefilter("ignore")
        os.environ.setdefault("NUMBA_DISABLE_JIT", "0")
        import pandapower.networks as pn

        net = getattr(pn, name)()
    return from_pandapower_net(net, name=name, source=f"pandapower:{name}")


def load_pandapower_json(path: str | Path) -> Grid:
    """Load a pandapower network saved with ``pandapower.to_json``."""
    path = Path(path)
    with _quiet():
        warnings.simplefilter("ignore")
        import pandapower as pp

        try:
            net = pp.from_json(str(path))
        except Exception as exc:  # pandapower raises many types on bad JSON
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"not a readable pandapower JSON network ({msg[:160]})", file=str(path)
            ) from None
    return from_pandapower_net(net, name=path.stem, source=str(path))


def from_pandapower_net(net: Any, *, name: str, source: str) -> Grid:
    """Convert a pandapowerNet to a Grid (the net is not modified in its tables).

    Raises
    ------
    InputError
        If the net holds element types this importer does not map, bad references or
        values (:mod:`warmgrid.io._pp_checks`), or if pandapower cannot build its
        internal case from it.
    """
    _check_supported(net, source)
    check_net(net, source)
    lookup, ppc_bus, ppc_br = _internal_case(net, source)
    bus_df, bm, fused = buses(net, lookup, ppc_bus)
    gen_df = units(net, bm)
    grid = Grid(
        name=name,
        bus=bus_df,
        branch=branches(net, lookup["branch"], ppc_br, bm, source),
        gen=gen_df,
        load=loads(net, bm),
        shunt=shunts(net, bm),
        base_mva=float(net.sn_mva),
        source=source,
        allow_negative_x=True,
        meta=_meta({**fused, **aliases(net, bm)}, gen_df),
    )
    check_injections(grid, ppc_bus, bm, source)
    return grid


def _meta(alias: dict[str, list[str]], gen_df: pd.DataFrame | None) -> dict[str, Any]:
    """The grid's meta: its format, aliases, and the warning an HVDC link needs."""
    meta: dict[str, Any] = {"format": "pandapower"}
    if alias:
        meta["aliases"] = alias
    n_dc = 0 if gen_df is None else int((gen_df["kind"] == "dcline").sum()) // 2
    if n_dc:
        meta["warnings"] = [dcline_warning(n_dc)]
    return meta


def _check_supported(net: Any, source: str) -> None:
    """Raise for element tables the importer does not map, or no buses."""
    for t in _UNSUPPORTED:
        if (
            t in net
            and hasattr(net[t], "__len__")
            and len(net[t])
            and bool(np.any(net[t].get("in_service", True)))
        ):
            raise InputError(
                f"element table '{t}' is not supported by the pandapower importer yet",
                file=source,
                field=t,
            )
    if len(net.bus) == 0:
        raise InputError("the network has no buses", file=source, field="bus")


def _internal_case(net: Any, source: str) -> tuple[Any, np.ndarray, np.ndarray]:
    """pandapower's internal case with ``rundcpp``'s options (``_pd2ppc``), a branch
    behind an open switch out of service (``neglect_open_switch_branches``).

    Returns
    -------
    lookup : ``net._pd2ppc_lookups`` (``"bus"``: internal bus of each pandapower bus,
        auxiliary buses included; ``"branch"``: row range of each branch table;
        ``"aux"``: the auxiliary buses of ``xward`` and ``trafo3w``).
    ppc_bus : (n_ppc_bus, n_col) the internal bus matrix (real part).
    ppc_br : (n_ppc_branch, n_col) the internal branch matrix (real part).
    """
    from pandapower.auxiliary import _init_rundcpp_options
    from pandapower.powerflow import _pd2ppc

    try:
        _init_rundcpp_options(
            net,
            trafo_model="t",
            trafo_loading="current",
            recycle=None,
            check_connectivity=False,
            switch_rx_ratio=2,
            trafo3w_losses="hv",
        )
        net._options["neglect_open_switch_branches"] = True
        ppc, _ = _pd2ppc(net)
    except Exception as exc:  # pandapower raises bare exceptions on bad data
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"pandapower could not build the case ({msg[:160]})", file=source
        ) from None
    return net._pd2ppc_lookups, np.real(ppc["bus"]), np.real(ppc["branch"])
