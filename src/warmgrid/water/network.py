"""Water networks: EPANET ``.inp`` files read with WNTR, and the pumps' links to the grid.

A water network is an EPANET input file read by WNTR
(:class:`wntr.network.WaterNetworkModel`; Klise et al. 2018, "A software framework for
assessing the resilience of drinking water systems to disasters", Environmental
Modelling & Software 95). Node and link ids are EPANET's own names, kept verbatim
(``~@Pump-1`` stays ``~@Pump-1``).

Which pumps stop when the grid fails is the ``pump_power`` mapping: pump id → the grid
load (or bus) that powers it. Pumps without an entry are taken to have power throughout
(their own supply, or outside the modelled grid). :func:`check_pump_power` checks the
pump ids against the network; :func:`check_grid_targets` checks the grid ids against a
grid (the caller knows the grid). :func:`pump_on_matrix` turns the served fraction of
each grid element over the horizon into the (n_steps, n_pumps) powered matrix that
:meth:`warmgrid.water.HydraulicModel.run` takes.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from warmgrid.errors import InputError, Problem, closest

if TYPE_CHECKING:
    import wntr

__all__ = [
    "bundled_networks",
    "check_grid_targets",
    "check_pump_power",
    "load_network",
    "network_path",
    "pump_on_matrix",
    "resolve_network",
]

#: WNTR's example networks, shipped inside the wntr package (``wntr/library/networks``).
_WNTR_NETWORKS = ("Net1", "Net2", "Net3", "Net6", "ky4", "ky10")


def bundled_networks() -> list[str]:
    """Names :func:`load_network` accepts besides paths: WNTR's example networks."""
    return list(_WNTR_NETWORKS)


def network_path(name: str) -> Path | None:
    """The file of a bundled network name (``"Net3"``), or None."""
    if name not in _WNTR_NETWORKS:
        return None
    spec = importlib.util.find_spec("wntr")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "library" / "networks" / f"{name}.inp"


def _clean(err: BaseException) -> str:
    """WNTR's parse errors in one line: ``(Error 201) syntax error (%s), at line 3:\\n x``."""
    text = str(err).replace(" (%s)", "")
    text = re.sub(r":\s*\n\s*", ": ", text)
    return " ".join(text.split()) or type(err).__name__


def resolve_network(inp: str | Path) -> Path:
    """The file of a path or bundled network name.

    Raises
    ------
    InputError : neither an existing file nor a bundled name (with the closest names).
    """
    name = str(inp)
    p = Path(name).expanduser()
    if not p.exists():
        bundled = network_path(name)
        if bundled is None:
            raise InputError(
                "no such EPANET .inp file or bundled network"
                f"{closest(name, _WNTR_NETWORKS)} (bundled: {', '.join(_WNTR_NETWORKS)})",
                file=name,
            )
        p = bundled
    if p.is_dir():
        raise InputError("is a directory, expected an EPANET .inp file", file=str(p))
    return p


def load_network(inp: str | Path) -> wntr.network.WaterNetworkModel:
    """Read an EPANET ``.inp`` file (or a bundled name) into a WNTR model.

    :class:`~warmgrid.water.hydraulics.HydraulicModel` does not need this (it opens the
    file with EPANET directly); use it to inspect or edit a network with WNTR.

    Raises
    ------
    InputError : no such file, or a file that does not parse (one line naming the file
        and the reason).
    """
    import wntr

    p = resolve_network(inp)
    try:
        return wntr.network.WaterNetworkModel(str(p))
    except UnicodeDecodeError:
        raise InputError("not text, expected an EPANET .inp file", file=str(p)) from None
    except Exception as err:  # WNTR raises ENSyntaxError and plain Python errors alike
        raise InputError(f"not a valid EPANET .inp file: {_clean(err)}", file=str(p)) from None


def check_pump_power(
    pump_power: Mapping[str, str],
    pump_ids: Iterable[str],
    *,
    file: str | None = None,
    field: str = "water.pump_power",
) -> dict[str, str]:
    """Check that every pump named in ``pump_power`` exists in the network.

    Returns
    -------
    dict : the mapping (pump id → grid id), unchanged.

    Raises
    ------
    InputError : an unknown pump (named, with the closest pump ids) or an empty grid id.
    """
    known = list(pump_ids)
    kset = set(known)
    probs = []
    for pump, target in pump_power.items():
        if pump not in kset:
            probs.append(
                Problem(
                    f"no pump {pump!r} in the network{closest(str(pump), known)}"
                    + ("" if closest(str(pump), known) else f" (pumps: {', '.join(known[:10])})"),
                    file,
                    pump,
                    field,
                )
            )
        elif not isinstance(target, str) or not target:
            probs.append(Problem(f"pump {pump!r} needs a grid load or bus id", file, pump, field))
    if probs:
        raise InputError(problems=probs)
    return dict(pump_power)


def check_grid_targets(
    pump_power: Mapping[str, str],
    grid_ids: Iterable[str],
    *,
    file: str | None = None,
    field: str = "water.pump_power",
) -> None:
    """Check that every pump's grid id is a known load or bus (``grid_ids``).

    Raises
    ------
    InputError : naming the pump (row) and the closest grid ids.
    """
    known = list(grid_ids)
    kset = set(known)
    probs = [
        Problem(
            f"pump {pump!r} is powered by unknown grid element {target!r}"
            f"{closest(str(target), known)}",
            file,
            pump,
            field,
        )
        for pump, target in pump_power.items()
        if target not in kset
    ]
    if probs:
        raise InputError(problems=probs)


def pump_on_matrix(
    pump_ids: Iterable[str],
    pump_power: Mapping[str, str],
    supply: Mapping[str, np.ndarray],
    n_steps: int,
    *,
    threshold: float = 0.5,
) -> np.ndarray:
    """(n_steps, n_pumps) bool: which pumps have power in each hour.

    Parameters
    ----------
    pump_ids : every pump of the network, in the model's order.
    pump_power : pump id → grid id; pumps without an entry have power throughout.
    supply : grid id → (n_steps,) served fraction of that load, or 1/0 for a bus that is
        energised/dark.
    n_steps : hours.
    threshold : a pump runs while its element's served fraction is at least this. A
        pumping station's load is one block of priority load: the operator's response
        serves it whole or not at all, so a fraction is rare; half is the cut (assumed).

    Raises
    ------
    InputError : a grid id missing from ``supply``.
    """
    ids = list(pump_ids)
    out = np.ones((n_steps, len(ids)), dtype=bool)
    for j, pump in enumerate(ids):
        target = pump_power.get(pump)
        if target is None:
            continue
        if target not in supply:
            raise InputError(
                f"no supply series for grid element {target!r}{closest(target, list(supply))}",
                row=pump,
                field="water.pump_power",
            )
        s = np.asarray(supply[target], dtype=float).reshape(-1)
        if len(s) != n_steps:
            raise InputError(
                f"supply series of {target!r} has {len(s)} steps, expected {n_steps}",
                row=pump,
                field="water.pump_power",
            )
        out[:, j] = s >= threshold
    return out
