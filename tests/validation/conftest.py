"""Shared reference helpers of the validation tests."""

from __future__ import annotations

import warnings

import numpy as np
import pytest


def _rundcpp_flows(ppn):
    """pandapower ``rundcpp`` on ``ppn``: from-end flows (lines then trafos) and dark buses."""
    import pandapower as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.rundcpp(ppn)
    flow = np.concatenate([ppn.res_line.p_from_mw.to_numpy(), ppn.res_trafo.p_hv_mw.to_numpy()])
    dark = ppn.res_bus.va_degree.isna().to_numpy()
    return flow, dark


@pytest.fixture(scope="session")
def rundcpp_flows():
    """The pandapower reference DC flow as a function of a net."""
    return _rundcpp_flows
