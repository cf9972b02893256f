from warmgrid.power.network import compile_network
from warmgrid.power.topology import islands


def test_intact_case_is_one_island(load):
    net = compile_network(load("case118"))
    isl = islands(net)
    assert isl.count == 1
    assert isl.has_slack.all()
    assert not isl.dark().any()


def test_cutting_a_generator_spur_islands_it(load):
    # case9: line:6 (bus:7 - bus:1) is the only link of generator bus:1
    net = compile_network(load("case9"))
    isl = islands(net, net.state(["line:6"]))
    assert isl.count == 2
    b1 = list(net.bus_ids).index("bus:1")
    # pandapower semantics: only the slack island is solved, bus:1 is dark
    assert isl.dark(need_slack=True)[b1]
    assert isl.dark(need_slack=True).sum() == 1
    # an island with a generator counts as energised for impact analysis
    assert not isl.dark(need_slack=False).any()


def test_out_of_service_bus_is_dark_and_unlabelled(load):
    net = compile_network(load("case9"))
    st = net.state(["bus:4"])
    isl = islands(net, st)
    b4 = list(net.bus_ids).index("bus:4")
    assert isl.label[b4] == -1
    assert isl.dark()[b4]
