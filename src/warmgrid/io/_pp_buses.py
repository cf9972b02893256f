"""pandapower importer: the bus table and the map from pandapower buses to warmgrid's.

pandapower's internal case (``_pd2ppc``) fuses the buses joined by closed bus-bus switches
without impedance into one internal bus, and adds an auxiliary bus per three-winding
transformer (its star point) and per extended ward (its internal voltage source). Here:

* a fused bus keeps the id of its **first** bus in the ``bus`` table's order; the other
  buses' ids become aliases of it (``bus:5`` -> ``bus:4``), so a damage list or an
  overlay written for the unfused buses still resolves (and names the whole fused bus);
* a star bus is ``bus:trafo3w-<i>-star`` and an extended ward's internal bus
  ``bus:xward-<i>`` (``<i>``: the element's pandapower index), with the nominal voltage
  pandapower gives them (the high-voltage bus's, the ward bus's) and that bus's position.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BusMap", "buses", "col", "q_limits"]

#: Column of the internal bus matrix (MATPOWER ``BASE_KV``).
_BASE_KV = 9


def col(df: pd.DataFrame, name: str, default: float) -> np.ndarray:
    """(n,) a numeric column of ``df``; NaN or absent reads ``default``."""
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce").fillna(default).to_numpy(dtype=float)
    return np.full(len(df), default, dtype=float)


def q_limits(tab: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) reactive limits, Mvar; NaN or absent reads as unlimited."""
    return col(tab, "min_q_mvar", -np.inf), col(tab, "max_q_mvar", np.inf)


@dataclass(frozen=True)
class BusMap:
    """Where each pandapower bus went.

    Attributes
    ----------
    lookup : pandapower bus index (auxiliary buses included) -> internal bus.
    ppc_to_id : internal bus -> warmgrid bus id.
    base_kv : (n_internal,) nominal voltage of each internal bus, kV.
    """

    lookup: np.ndarray
    ppc_to_id: dict[int, str]
    base_kv: np.ndarray

    def ids(self, pd_buses: Any) -> list[str]:
        """The warmgrid bus id of each pandapower bus index."""
        return [self.ppc_to_id[int(self.lookup[int(b)])] for b in np.asarray(pd_buses).tolist()]

    def kv(self, pd_buses: Any) -> np.ndarray:
        """(n,) nominal voltage of the internal bus of each pandapower bus, kV."""
        return self.base_kv[self.lookup[np.asarray(pd_buses, dtype=np.int64)]]

    def position(self) -> dict[str, int]:
        """warmgrid bus id -> internal bus."""
        return {v: k for k, v in self.ppc_to_id.items()}


def _geo_xy(geo: pd.Series | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if geo is None:
        return x, y
    for i, g in enumerate(geo.tolist()):
        if isinstance(g, str) and g:
            try:
                c = json.loads(g).get("coordinates")
                x[i], y[i] = float(c[0]), float(c[1])
            except (ValueError, TypeError, IndexError, AttributeError):
                pass
    return x, y


def _text(b: pd.DataFrame, name: str) -> np.ndarray | str:
    if name not in b.columns:
        return ""
    return b[name].astype(object).where(b[name].notna(), "").astype(str).to_numpy()


def buses(
    net: Any, lookup: Any, ppc_bus: np.ndarray
) -> tuple[pd.DataFrame, BusMap, dict[str, list[str]]]:
    """The bus table, the bus map and the aliases of fused buses.

    Parameters
    ----------
    net : the pandapowerNet (after ``_pd2ppc``).
    lookup : ``net._pd2ppc_lookups``.
    ppc_bus : the internal bus matrix.
    """
    b = net.bus
    bus_lookup = np.asarray(lookup["bus"])
    ppc_of = bus_lookup[b.index.to_numpy(dtype=np.int64)]
    first = ~pd.Series(ppc_of).duplicated().to_numpy()
    ids = np.array([f"bus:{i}" for i in b.index], dtype=object)
    ppc_to_id = {int(p): str(ids[k]) for k, p in enumerate(ppc_of.tolist()) if first[k]}
    aliases = {str(ids[k]): [ppc_to_id[int(ppc_of[k])]] for k in np.flatnonzero(~first)}
    bx, by = _geo_xy(b["geo"] if "geo" in b.columns else None, len(b))
    zone = _text(b, "zone")
    df = pd.DataFrame(
        {
            "id": ids,
            "name": _text(b, "name"),
            "vn_kv": b["vn_kv"].to_numpy(dtype=float),
            "x": bx,
            "y": by,
            "zone": zone,
            "vm_min_pu": col(b, "min_vm_pu", np.nan),
            "vm_max_pu": col(b, "max_vm_pu", np.nan),
            "in_service": b["in_service"].to_numpy(dtype=bool),
        }
    )[first]
    pos = pd.Series(np.arange(len(b)), index=b.index)
    aux = lookup.get("aux", {})
    extra = []
    for table, at, name in (
        ("xward", "bus", "bus:xward-{}"),
        ("trafo3w", "hv_bus", "bus:trafo3w-{}-star"),
    ):
        if table not in aux or not len(net[table]):
            continue
        tab = net[table]
        internal = bus_lookup[np.asarray(aux[table], dtype=np.int64)]
        aux_ids = [name.format(i) for i in tab.index]
        ppc_to_id.update(zip(internal.tolist(), aux_ids, strict=True))
        at_pos = pos.loc[tab[at]].to_numpy()
        extra.append(
            pd.DataFrame(
                {
                    "id": aux_ids,
                    "name": _text(tab, "name"),
                    "vn_kv": ppc_bus[internal, _BASE_KV],
                    "x": bx[at_pos],
                    "y": by[at_pos],
                    "zone": zone[at_pos] if isinstance(zone, np.ndarray) else "",
                    "in_service": tab["in_service"].to_numpy(dtype=bool),
                }
            )
        )
    df = pd.concat([df, *extra], ignore_index=True) if extra else df.reset_index(drop=True)
    bm = BusMap(lookup=bus_lookup, ppc_to_id=ppc_to_id, base_kv=ppc_bus[:, _BASE_KV])
    return df, bm, aliases
