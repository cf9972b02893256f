"""The bus admittance matrix ``Ybus`` of the AC power flow (MATPOWER's π branch model).

Branch (π model with an ideal transformer at the from end, ``τ = tap · e^{j·shift}``,
series admittance ``y_s = 1 / (r + jx)``, branch shunt ``y_c = g + jb`` split half to
each end)::

    | I_f |   | (y_s + y_c/2) / |τ|²    −y_s / τ* |   | V_f |
    |     | = |                                    | · |     |
    | I_t |   |      −y_s / τ           y_s + y_c/2 |   | V_t |

``Ybus = Cfᵀ Yf + Ctᵀ Yt + diag(y_sh)`` with bus shunts ``y_sh = (g_mw + j b_mvar) / base``
(Zimmerman, Murillo-Sánchez & Thomas, IEEE Trans. Power Syst. 26(1), 2011; MATPOWER
manual, section 3.2).

A non-reciprocal branch (pandapower's ``impedance`` with ``rtf_pu ≠ rft_pu``, the
T model of a transformer whose magnetising branch is not centred) has a to-end series
admittance ``y_st = 1 / (r + r_asym + j(x + x_asym))`` in ``−y_st / τ`` and ``y_st +
y_ct/2`` and a to-end shunt ``y_ct = g + g_asym + j(b + b_asym)``, as pandapower's
``makeYbus.branch_vectors``; with the asymmetries 0 (every other branch) it is the π
model above.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from warmgrid.power.network import Network

__all__ = ["make_ybus"]


def _branch_admittances(
    net: Network, on: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(yff, yft, ytf, ytt) of the branches in ``on`` (the module docstring's π model)."""
    r, x = net.r_pu[on], net.x_pu[on]
    g, b = net.charging_g_pu[on], net.charging_b_pu[on]
    ys = 1.0 / (r + 1j * x)
    yc = 0.5 * (g + 1j * b)
    yst, yct = ys, yc
    if net.r_asym_pu is not None or net.x_asym_pu is not None:
        ra = 0.0 if net.r_asym_pu is None else net.r_asym_pu[on]
        xa = 0.0 if net.x_asym_pu is None else net.x_asym_pu[on]
        yst = 1.0 / (r + ra + 1j * (x + xa))
    if net.g_asym_pu is not None or net.b_asym_pu is not None:
        ga = 0.0 if net.g_asym_pu is None else net.g_asym_pu[on]
        ba = 0.0 if net.b_asym_pu is None else net.b_asym_pu[on]
        yct = 0.5 * (g + ga + 1j * (b + ba))
    tap = net.tap[on]
    tau = tap * np.exp(1j * net.shift_rad[on])
    yff = (ys + yc) / (tap * tap)
    yft = -ys / np.conj(tau)
    ytf = -yst / tau
    ytt = yst + yct
    return yff, yft, ytf, ytt


def make_ybus(
    net: Network, branch_on: np.ndarray, bus_on: np.ndarray | None = None
) -> sp.csr_matrix:
    """The (n_bus, n_bus) complex bus admittance matrix, p.u.

    Parameters
    ----------
    net : compiled network.
    branch_on : (n_branch,) bool, branches to include.
    bus_on : (n_bus,) bool, buses whose shunts count (all when omitted).

    Returns
    -------
    CSR matrix with sorted indices and an explicit (possibly zero) diagonal entry for
    every bus, so a Jacobian pattern built from it has every diagonal block.
    """
    n = net.n_bus
    on = np.flatnonzero(branch_on)
    f, t = net.f[on], net.t[on]
    yff, yft, ytf, ytt = _branch_admittances(net, on)
    ysh = np.zeros(n, dtype=complex)
    sh_on = np.ones(len(net.shunt_bus), dtype=bool) if bus_on is None else bus_on[net.shunt_bus]
    np.add.at(
        ysh,
        net.shunt_bus[sh_on],
        (net.shunt_g_mw[sh_on] + 1j * net.shunt_b_mvar[sh_on]) / net.base_mva,
    )
    diag = np.arange(n)
    rows = np.concatenate([f, f, t, t, diag])
    cols = np.concatenate([f, t, f, t, diag])
    vals = np.concatenate([yff, yft, ytf, ytt, ysh])
    y = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    y.sum_duplicates()
    y.sort_indices()
    return y


def _diag_positions(y: sp.csr_matrix) -> np.ndarray:
    """(n,) position of each diagonal entry in ``y.data`` (it must be present)."""
    n = y.shape[0]
    rows = np.repeat(np.arange(n), np.diff(y.indptr))
    hit = np.flatnonzero(rows == y.indices)
    if len(hit) != n:  # pragma: no cover - make_ybus always stores the diagonal
        raise ValueError("Ybus lacks diagonal entries")
    return hit
