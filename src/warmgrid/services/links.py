"""The services overlay's ids mapped to the compiled network's integer indices."""

from __future__ import annotations

from typing import Any

import numpy as np

from warmgrid.model.grid import Grid
from warmgrid.model.services import Services
from warmgrid.model.validate import split_ids
from warmgrid.power.network import Network
from warmgrid.services.propagate import ServiceLinks

__all__ = ["compile_links", "site_loads"]


def compile_links(grid: Grid, services: Services, net: Network) -> ServiceLinks:
    """Map the overlay's ids to the network's integer indices (−1: no load)."""
    load_pos = {x: i for i, x in enumerate(net.load_ids.tolist())}
    gen_pos = {x: i for i, x in enumerate(net.gen_ids.tolist())}
    heat_pos = {x: i for i, x in enumerate(services.heat["id"].tolist())}
    area_pos = {x: i for i, x in enumerate(services.areas["id"].tolist())}

    def lidx(col: Any) -> np.ndarray:
        return np.array([load_pos.get(v, -1) if v else -1 for v in col], dtype=np.int64)

    a, h, w, f = services.areas, services.heat, services.water, services.facilities
    src = np.zeros((len(a), len(h)))
    for i, hs in enumerate(a["heat_sources"]):
        for s in split_ids(hs):
            src[i, heat_pos[s]] = 1.0
    wa = np.zeros((len(w), len(a)))
    for i, ars in enumerate(w["areas"]):
        for s in split_ids(ars):
            wa[i, area_pos[s]] = 1.0
    return ServiceLinks(
        heat_load=lidx(h["load"]),
        heat_is_chp=(h["kind"] == "chp").to_numpy(dtype=bool),
        heat_gens=[
            np.array([gen_pos[g] for g in split_ids(gs)], dtype=np.int64) for gs in h["gens"]
        ],
        heat_peak_share=h["peak_boiler_share"].to_numpy(dtype=float),
        heat_backup_h=h["backup_h"].to_numpy(dtype=float),
        area_load=lidx(a["load"]),
        area_sources=src,
        area_ish=a["individual_heating_share"].to_numpy(dtype=float),
        area_local_power=a["needs_local_power"].to_numpy(dtype=bool),
        water_load=lidx(w["load"]),
        water_areas=wa,
        water_reservoir_h=w["reservoir_h"].to_numpy(dtype=float),
        facility_load=lidx(f["load"]),
        facility_backup_h=f["backup_h"].to_numpy(dtype=float),
    )


def site_loads(services: Services, links: ServiceLinks, net: Network) -> dict[str, int]:
    """Load index of every grid load id and of every service id that names a load (the
    sites a mobile generator can feed)."""
    out = {x: i for i, x in enumerate(net.load_ids.tolist())}
    for ids, idx in (
        (services.areas["id"], links.area_load),
        (services.heat["id"], links.heat_load),
        (services.water["id"], links.water_load),
        (services.facilities["id"], links.facility_load),
    ):
        out.update({e: int(i) for e, i in zip(ids.tolist(), idx.tolist(), strict=True) if i >= 0})
    return out
