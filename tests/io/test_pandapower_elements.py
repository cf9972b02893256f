"""pandapower's full element set: ids, aliases, what damage of each id does, bad input.

The net is tests/pp_elements.py's (every element type); its flows are validated against
pandapower in tests/validation/test_elements_pandapower.py.
"""

from __future__ import annotations

import copy
import functools
import json
import warnings

import numpy as np
import pytest

from pp_elements import every_element_net
from warmgrid.errors import InputError
from warmgrid.io import load_grid
from warmgrid.io.pandapower import from_pandapower_net
from warmgrid.io.tables import read_tables, write_tables
from warmgrid.model.services import auto_services
from warmgrid.power.elements import (
    SUBSTATION_KINDS,
    catalogue,
    check_ids,
    element_kind,
    general_kind,
    labels,
)
from warmgrid.power.network import compile_network

warnings.filterwarnings("ignore")


@pytest.fixture(scope="module")
def grid():
    return from_pandapower_net(copy.deepcopy(_good()), name="every", source="every")


@pytest.fixture(scope="module")
def net(grid):
    return compile_network(grid)


def test_ids_of_every_element(grid) -> None:
    assert grid.bus["id"].tolist() == [
        *(f"bus:{i}" for i in (0, 1, 2, 3, 4, 5, 7, 8, 9)),  # bus:6 is fused into bus:1
        "bus:xward-0",
        "bus:trafo3w-0-star",
    ]
    assert grid.branch["id"].tolist() == [
        *(f"line:{i}" for i in range(9)),
        "trafo:0",
        "trafo3w:0:hv",
        "trafo3w:0:mv",
        "trafo3w:0:lv",
        "impedance:0",
        "impedance:1",
        "xward:0:branch",
        "switch:2",
    ]
    assert grid.gen["id"].tolist() == [
        "ext_grid:0",
        "gen:0",
        "sgen:0",
        "dcline:0:from",
        "dcline:0:to",
        "xward:0:source",
    ]
    assert grid.load["id"].tolist()[-2:] == ["load:ward-0", "load:xward-0"]
    assert grid.shunt["id"].tolist() == ["shunt:0", "shunt:ward-0", "shunt:xward-0"]
    br = grid.branch.set_index("id")
    # the winding branches run hv bus -> star -> mv and lv buses, as pandapower builds them
    assert br.loc["trafo3w:0:hv", ["from_bus", "to_bus"]].tolist() == [
        "bus:2",
        "bus:trafo3w-0-star",
    ]
    assert br.loc["trafo3w:0:lv", ["from_bus", "to_bus"]].tolist() == [
        "bus:trafo3w-0-star",
        "bus:5",
    ]
    assert br.loc["line:3", "from_bus"] == "bus:1"  # pandapower's line from bus 6
    assert not br.loc["line:6", "in_service"]  # behind the open line switch
    assert not br.loc["impedance:1", "in_service"]
    assert br.loc["impedance:0", "x_asym_pu"] == pytest.approx(0.02)  # (0.09 − 0.08) · 100/50
    assert br.loc["impedance:0", "rate_mva"] == 0.0  # sn_mva is a base, not a rating
    assert grid.load.set_index("id").loc["load:1", "bus"] == "bus:1"  # at bus 6 in the net


def test_aliases(grid) -> None:
    assert grid.meta["aliases"] == {
        "bus:6": ["bus:1"],
        "trafo3w:0": ["trafo3w:0:hv", "trafo3w:0:mv", "trafo3w:0:lv", "bus:trafo3w-0-star"],
        "ward:0": ["load:ward-0", "shunt:ward-0"],
        "xward:0": [
            "load:xward-0",
            "shunt:xward-0",
            "xward:0:branch",
            "xward:0:source",
            "bus:xward-0",
        ],
        "dcline:0": ["dcline:0:from", "dcline:0:to"],
        "switch:0": ["bus:1"],  # closed, fused: the fused bus
        "switch:1": [],  # open bus-bus switch: nothing to open
        "switch:3": ["line:0"],
        "switch:4": ["line:6"],
        "switch:5": ["trafo:0"],
        "switch:6": ["trafo3w:0:lv"],
    }


@pytest.mark.parametrize(
    ("element", "kind", "general"),
    [
        ("switch:0", "switch", "branch"),
        ("switch:1", "switch", "branch"),
        ("switch:2", "switch", "branch"),  # a branch of its own
        ("switch:3", "switch", "branch"),
        ("bus:6", "bus", "bus"),
        ("trafo3w:0", "trafo", "branch"),
        ("trafo3w:0:mv", "trafo", "branch"),
        ("impedance:0", "impedance", "branch"),
        ("xward:0:branch", "impedance", "branch"),
        ("dcline:0", "dcline", "gen"),
        ("dcline:0:to", "dcline", "gen"),
        ("xward:0:source", "external", "gen"),
        ("ward:0", "load", "load"),
        ("xward:0", "load", "load"),
        ("shunt:ward-0", "shunt", "shunt"),
        ("load:xward-0", "load", "load"),
        ("bus:trafo3w-0-star", "bus", "bus"),
    ],
)
def test_kinds(net, element, kind, general) -> None:
    assert element_kind(net, element) == kind
    assert general_kind(kind) == general


def test_damage_of_aliases(net) -> None:
    base = net.base_state
    pos = {b: i for i, b in enumerate(net.bus_ids.tolist())}
    row = {b: i for i, b in enumerate(net.branch_ids.tolist())}
    unit = {g: i for i, g in enumerate(net.gen_ids.tolist())}
    check_ids(net, list(net.aliases))
    st = net.state(["switch:1"])  # open already
    assert (st.bus_on == base.bus_on).all()
    assert (st.branch_on == base.branch_on).all()
    for e in ("switch:0", "bus:6"):
        assert np.flatnonzero(~net.state([e]).bus_on).tolist() == [pos["bus:1"]]
    assert not net.state(["switch:3"]).branch_on[row["line:0"]]
    st = net.state(["trafo3w:0"])
    assert not st.branch_on[[row[f"trafo3w:0:{s}"] for s in ("hv", "mv", "lv")]].any()
    assert not st.bus_on[pos["bus:trafo3w-0-star"]]
    st = net.state(["dcline:0"])
    assert not st.gen_on[[unit["dcline:0:from"], unit["dcline:0:to"]]].any()
    with pytest.raises(InputError, match="closest: switch:"):
        check_ids(net, ["switch:9"])


def test_catalogue_lists_aliases(net, grid) -> None:
    rows = {e.id: e for e in catalogue(net, grid)}
    assert rows["switch:3"].members == ("line:0",)
    assert rows["switch:3"].in_service
    assert not rows["switch:1"].in_service  # open: names nothing
    assert not rows["switch:4"].in_service  # its line is out
    assert rows["bus:6"].members == ("bus:1",)
    assert rows["bus:6"].kind == "bus"
    assert rows["dcline:0"].to_dict()["general"] == "gen"


def _catalogue_labels(net, grid) -> dict[str, str]:
    return {
        e.id: f"{e.name} substation" if e.kind in SUBSTATION_KINDS else e.name
        for e in catalogue(net, grid)
    }


def test_labels_name_each_id_as_the_catalogue_does(net, grid) -> None:
    want = _catalogue_labels(net, grid)
    assert labels(net, grid, [*want, "switch:99", "bus:1"]) == {**want, "switch:99": "switch:99"}


def test_labels_of_winter_city_name_buses_and_substations() -> None:
    from warmgrid.examples.winter_city import winter_city

    city, services = winter_city()
    wc = compile_network(city, groups=services.groups())
    want = _catalogue_labels(wc, city)
    assert any(v.endswith(" substation") for v in want.values())
    assert any(k.startswith("bus:") and v != k.split(":", 1)[1] for k, v in want.items())
    assert labels(wc, city, list(want)) == want


def test_hvdc_link_is_two_fixed_units_never_customers(grid) -> None:
    g = grid.gen.set_index("id")
    sent, got = g.loc["dcline:0:from"], g.loc["dcline:0:to"]
    assert sent["p_mw"] == sent["p_min_mw"] == sent["p_max_mw"] == -20.0
    assert got["p_mw"] == pytest.approx(20.0 * (1 - 0.012) - 0.5)  # pandapower's losses
    assert (sent["vm_pu"], got["vm_pu"]) == (1.01, 1.0)
    assert (sent["q_min_mvar"], got["q_max_mvar"]) == (-15.0, 15.0)
    assert not grid.load["id"].str.startswith("dcline").any()
    areas = auto_services(grid).areas  # one district per load with p_mw > 0
    assert sorted(areas["load"]) == sorted(grid.load["id"][grid.load["p_mw"] > 0])
    assert any("HVDC link" in w for w in grid.warnings())
    # a link sending from its to bus (p_mw < 0), as pandapower reads it
    ppn = copy.deepcopy(_good())
    ppn.dcline.loc[0, "p_mw"] = -10.0
    g = from_pandapower_net(ppn, name="r", source="r").gen.set_index("id")
    assert g.loc["dcline:0:to", "p_mw"] == -10.0
    assert g.loc["dcline:0:from", "p_mw"] == pytest.approx(10.0 * (1 - 0.012) - 0.5)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_aliases_survive_the_tables_format(grid, tmp_path, fmt) -> None:
    folder = write_tables(grid, tmp_path / "every", fmt=fmt)
    back = read_tables(folder)
    assert back.meta["aliases"] == grid.meta["aliases"]
    assert compile_network(back).aliases == compile_network(grid).aliases
    np.testing.assert_array_equal(back.branch["x_asym_pu"], grid.branch["x_asym_pu"])


def test_bad_aliases_are_one_line_errors(grid, tmp_path) -> None:
    folder = write_tables(grid, tmp_path / "every")
    toml = folder / "grid.toml"
    text = toml.read_text()
    toml.write_text(text.replace('"switch:3" = ["line:0"]', '"switch:3" = "line:0"'))
    with pytest.raises(InputError, match="must be a list of element ids") as err:
        read_tables(folder)
    assert "\n" not in str(err.value)
    toml.write_text(text.replace('"switch:3" = ["line:0"]', '"switch:3" = ["line:99"]'))
    with pytest.raises(InputError, match="names unknown element 'line:99'"):
        compile_network(read_tables(folder))
    toml.write_text(text.replace('"switch:3" = ["line:0"]', '"line:1" = ["line:0"]'))
    with pytest.raises(InputError, match="also an element's own id"):
        compile_network(read_tables(folder))


@functools.cache
def _good():
    return every_element_net()


def _bad(change):
    net = copy.deepcopy(_good())
    change(net)
    return net


def _set(table, idx, column, value):
    def change(net):
        net[table].loc[idx, column] = value

    return change


BAD = {
    "switch to an unknown line": (_set("switch", 3, "element", 99), "unknown line 99"),
    "switch to an unknown bus": (_set("switch", 0, "element", 99), "unknown bus 99"),
    "switch at a bus not of its line": (_set("switch", 3, "bus", 5), "is not a bus of line 0"),
    "switch of an unknown type": (_set("switch", 3, "et", "x"), "unknown element type"),
    "negative switch impedance": (_set("switch", 2, "z_ohm", -1.0), "must be >= 0"),
    "gen set point": (_set("gen", 0, "vm_pu", 1.7), "must be in 0.5–1.5 p.u., got 1.7"),
    "ext_grid set point": (_set("ext_grid", 0, "vm_pu", 0.2), "must be in 0.5–1.5"),
    "dcline set point": (_set("dcline", 0, "vm_to_pu", 0.3), "must be in 0.5–1.5"),
    "xward set point": (_set("xward", 0, "vm_pu", 2.0), "must be in 0.5–1.5"),
    "vm_min > vm_max": (_set("bus", 4, "min_vm_pu", 1.2), "min_vm_pu 1.2 > max_vm_pu 1.1"),
    "zero impedance": (_set("impedance", 0, "xft_pu", 0.0), "series reactance must not be 0"),
    "zero xward reactance": (_set("xward", 0, "x_ohm", 0.0), "series reactance must not be 0"),
    "zero short-circuit voltage": (_set("trafo", 0, "vk_percent", 0.0), "vkr_percent"),
    "vkr above vk": (_set("trafo3w", 0, "vkr_mv_percent", 11.0), "no reactance left"),
    "zero length": (_set("line", 2, "length_km", 0.0), "must be > 0, got 0.0"),
    "zero rating base": (_set("impedance", 0, "sn_mva", 0.0), "must be > 0"),
    "load at an unknown bus": (_set("load", 0, "bus", 42), "unknown bus 42"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line(case) -> None:
    change, message = BAD[case]
    with pytest.raises(InputError, match=message) as err:
        from_pandapower_net(_bad(change), name="bad", source="bad.json")
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("bad.json, row ")


def test_bad_input_exits_2_in_one_line(tmp_path, capsys) -> None:
    import pandapower as pp

    from warmgrid.cli import main

    path = tmp_path / "bad.json"
    pp.to_json(_bad(_set("switch", 5, "element", 7)), str(path))
    with pytest.raises(InputError, match="refers to unknown trafo 7"):
        load_grid(path)
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "Traceback" not in err
    assert "row switch:5, field 'switch.element': refers to unknown trafo 7" in err


def test_elements_command_lists_switches(grid, tmp_path, capsys) -> None:
    import pandapower as pp

    from warmgrid.cli import main

    path = tmp_path / "every.json"
    pp.to_json(_good(), str(path))
    assert main(["elements", str(path), "--kind", "switch", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [f"switch:{i}" for i in (2, 0, 1, 3, 4, 5, 6)]
    assert {r["id"]: r.get("members") for r in rows}["switch:5"] == ["trafo:0"]
