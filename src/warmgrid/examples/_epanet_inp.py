"""A small writer of EPANET 2.2 ``.inp`` files (SI units: m, mm, m³/h), for winter-city's water.

Sections are collected as text lines in the order they are added, then written in
EPANET's section order with the options winter-city's model uses (pressure-driven
demand, 72 h at hourly steps). See :mod:`warmgrid.examples.winter_city_water`.
"""

from __future__ import annotations


class _Inp:
    """Collects the sections of an EPANET .inp file (SI: m, mm, m³/h).

    Parameters
    ----------
    c_hw : Hazen–Williams coefficient written for every pipe.
    """

    def __init__(self, c_hw: float) -> None:
        self.c_hw = c_hw  # Hazen–Williams roughness of every pipe
        self.sec: dict[str, list[str]] = {
            k: []
            for k in (
                "JUNCTIONS", "RESERVOIRS", "TANKS", "PIPES", "PUMPS", "CURVES", "PATTERNS",
                "CONTROLS", "COORDINATES",
            )
        }  # fmt: skip
        self.xy: dict[str, tuple[float, float]] = {}

    def node(self, section: str, name: str, fields: str, xy: tuple[float, float]) -> None:
        self.sec[section].append(f"{name} {fields}")
        self.sec["COORDINATES"].append(f"{name} {xy[0]:.3f} {xy[1]:.3f}")
        self.xy[name] = xy

    def pipe(self, name: str, a: str, b: str, length_m: float, d_m: float) -> None:
        self.sec["PIPES"].append(
            f"{name} {a} {b} {length_m:.1f} {d_m * 1000:.0f} {self.c_hw:g} 0 Open"
        )

    def text(self, title: str) -> str:
        head = {
            "JUNCTIONS": ";ID Elevation(m) Demand(m3/h) Pattern",
            "RESERVOIRS": ";ID Head(m)",
            "TANKS": ";ID Bottom(m) InitLevel MinLevel MaxLevel Diameter(m) MinVol",
            "PIPES": ";ID Node1 Node2 Length(m) Diameter(mm) C-HW MinorLoss Status",
            "PUMPS": ";ID Node1 Node2 Parameters",
            "CURVES": ";ID Flow(m3/h) Head(m)",
            "PATTERNS": ";ID Multipliers",
            "CONTROLS": "",
            "COORDINATES": ";Node X(km) Y(km)",
        }
        out = ["[TITLE]", title, ""]
        for k, rows in self.sec.items():
            if k == "COORDINATES":
                continue
            out += [f"[{k}]", head[k], *rows, ""]
        out += [
            "[OPTIONS]",
            "UNITS CMH",
            "HEADLOSS H-W",
            "DEMAND MODEL PDA",
            "MINIMUM PRESSURE 0",
            "REQUIRED PRESSURE 20",
            "PRESSURE EXPONENT 0.5",
            "UNBALANCED CONTINUE 10",
            "",
            "[TIMES]",
            "DURATION 72:00",
            "HYDRAULIC TIMESTEP 1:00",
            "PATTERN TIMESTEP 1:00",
            "REPORT TIMESTEP 1:00",
            "",
            "[REPORT]",
            "STATUS NO",
            "SUMMARY NO",
            "",
            "[COORDINATES]",
            ";Node X(km) Y(km)",
            *self.sec["COORDINATES"],
            "",
            "[END]",
            "",
        ]
        return "\n".join(out)
