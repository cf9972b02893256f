"""Read-back of the AC power flow: unit outputs and branch flows from the solved voltages.

* The reactive output of a PV bus is shared among its units as MATPOWER's ``pfsoln``
  does (in proportion to their reactive ranges, unbounded limits counting as ±1e9 Mvar
  like pandapower's ``q_lim_default``).
* The active output of a slack bus, net of its other units' set points, is shared
  equally by its slack units.
* Branch flows at both ends from the π model (:mod:`warmgrid.power.ybus`).
"""

from __future__ import annotations

import time

import numpy as np

from warmgrid.power.ac_types import ACResult, _Energised, _Solution
from warmgrid.power.network import Network
from warmgrid.power.ybus import _branch_admittances

#: Reactive limit used for an unbounded unit when sharing a bus's reactive output
#: (pandapower's ``q_lim_default``), Mvar.
_Q_UNBOUNDED = 1e9


def _share_q(
    q_bus: np.ndarray, units: np.ndarray, gen_bus: np.ndarray, qmin: np.ndarray, qmax: np.ndarray
) -> np.ndarray:
    """Share each bus's reactive output among its ``units`` (MATPOWER ``pfsoln``).

    Each unit gets ``q_min + (Q − Σq_min) / (Σq_max − Σq_min) · (q_max − q_min)`` of its
    bus's ``Q``; equal shares where the bus's range is zero. Returns (len(units),) Mvar.
    """
    if len(units) == 0:
        return np.zeros(0)
    b = gen_bus[units]
    lo = np.clip(qmin[units], -_Q_UNBOUNDED, _Q_UNBOUNDED)
    hi = np.clip(qmax[units], -_Q_UNBOUNDED, _Q_UNBOUNDED)
    n = len(q_bus)
    count = np.bincount(b, minlength=n)
    sum_lo = np.bincount(b, weights=lo, minlength=n)
    sum_hi = np.bincount(b, weights=hi, minlength=n)
    rng = sum_hi - sum_lo
    single = count[b] == 1
    flat = rng[b] == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = lo + (q_bus[b] - sum_lo[b]) / rng[b] * (hi - lo)
    equal = q_bus[b] / count[b]
    return np.where(single, q_bus[b], np.where(flat, equal, share))


def _read_back(net: Network, e: _Energised, sol: _Solution, t0: float) -> ACResult:
    """The :class:`ACResult` of a solve: NaN quantities unless it converged.

    Parameters
    ----------
    net : compiled network.
    e : the build step (what is live, loads, slack units).
    sol : the solve step.
    t0 : ``time.perf_counter()`` at the start of the call, s.
    """
    n = net.n_bus
    ng = len(net.gen_ids)
    nan_b = np.full(n, np.nan)
    nan_br = np.full(net.n_branch, np.nan)
    nan_g = np.full(ng, np.nan)
    common = {
        "converged": sol.converged,
        "iterations": sol.iterations,
        "q_rounds": sol.rounds,
        "max_mismatch_pu": float(sol.norm),
        "q_limited": sol.limited & e.g_live,
        "bus_type": sol.bus_type,
        "island": e.island,
        "dark_bus": ~e.live,
        "rate_mva": net.rate_mw,
        "f": net.f,
        "t": net.t,
    }
    if not sol.converged:
        return ACResult(
            seconds=time.perf_counter() - t0,
            vm_pu=nan_b,
            va_deg=nan_b.copy(),
            p_from_mw=nan_br,
            q_from_mvar=nan_br.copy(),
            p_to_mw=nan_br.copy(),
            q_to_mvar=nan_br.copy(),
            gen_p_mw=nan_g,
            gen_q_mvar=nan_g.copy(),
            **common,
        )
    pf, qf, pt, qt = _branch_flows(net, e.br_live, sol.v)
    v = sol.v
    return ACResult(
        seconds=time.perf_counter() - t0,
        vm_pu=np.where(e.live, np.abs(v), np.nan),
        va_deg=np.where(e.live, np.rad2deg(np.angle(v)), np.nan),
        p_from_mw=pf,
        q_from_mvar=qf,
        p_to_mw=pt,
        q_to_mvar=qt,
        gen_p_mw=_slack_p(net, e, sol.s_inj),
        gen_q_mvar=sol.q_unit,
        **common,
    )


def _branch_flows(
    net: Network, br_live: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(p_from, q_from, p_to, q_to) per branch, MW and Mvar; NaN where not live.

    Parameters
    ----------
    net : compiled network.
    br_live : (n_branch,) bool, branches in service between live buses.
    v : (n_bus,) complex voltages, p.u.
    """
    base = net.base_mva
    nan_br = np.full(net.n_branch, np.nan)
    on = np.flatnonzero(br_live)
    yff, yft, ytf, ytt = _branch_admittances(net, on)
    vf, vt = v[net.f[on]], v[net.t[on]]
    sf = vf * np.conj(yff * vf + yft * vt) * base
    s_t = vt * np.conj(ytf * vf + ytt * vt) * base
    pf, qf, pt, qt = nan_br.copy(), nan_br.copy(), nan_br.copy(), nan_br.copy()
    pf[on], qf[on], pt[on], qt[on] = sf.real, sf.imag, s_t.real, s_t.imag
    return pf, qf, pt, qt


def _slack_p(net: Network, e: _Energised, s_inj: np.ndarray) -> np.ndarray:
    """(n_gen,) active output per unit, MW: set points, and for the slack units their
    bus's output net of loads and the other units, shared equally; NaN where not live.

    Parameters
    ----------
    net : compiled network.
    e : the build step.
    s_inj : (n_bus,) complex net injection of the solve, MVA.
    """
    g_live, slack = e.g_live, e.slack
    p_unit = np.where(g_live, net.gen_p_mw, np.nan)
    sl = np.flatnonzero(slack & g_live)
    p_bus = s_inj.real + e.load_s.real
    np.subtract.at(p_bus, net.gen_bus, np.where(g_live & ~slack, net.gen_p_mw, 0.0))
    n_sl = np.bincount(net.gen_bus[sl], minlength=net.n_bus)
    p_unit[sl] = p_bus[net.gen_bus[sl]] / n_sl[net.gen_bus[sl]]
    return p_unit
