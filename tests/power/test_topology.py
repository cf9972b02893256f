import numpy as np

from warmgrid.power.network import compile_network
from warmgrid.power.topology import islands


def test_intact_case_is_one_island(load):
    net = compile_network(load("case118"))
    isl = islands(net)
    assert isl.count == 1
    assert isl.has_slack.all()
    assert not isl.dark().any()


def test_cutting_a_radial_bus_makes_it_dark(load):
    net = compile_network(load("case9"))
    # bus:0 (a generator bus) hangs on trafo-like line 'line:...' only: find branches at bus 0
    b0 = int(np.flatnonzero(net.bus_ids == "bus:3")[0])
    touching = [net.branch_ids[i] for i in np.flatnonzero((net.f == b0) | (net.t == b0))]
    st = net.state(touching)
    isl = islands(net, st)
    assert isl.count == 2
    dark = isl.dark()
    assert dark[b0]
    assert dark.sum() == 1
