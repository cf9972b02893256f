"""The typed boundary of the AC power flow: its options, its result and the bus type codes.

See :mod:`warmgrid.power.ac` for the model and the solver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from warmgrid.errors import InputError

__all__ = ["DARK", "PQ", "PV", "REF", "ACOptions", "ACResult", "Energised"]

Energised = Literal["slack", "balanced"]

#: Bus type codes of :attr:`ACResult.bus_type` (MATPOWER's, with 4 for a dark bus).
PQ, PV, REF, DARK = 1, 2, 3, 4


@dataclass(frozen=True)
class ACOptions:
    """Options of :func:`ac_flow`.

    Parameters
    ----------
    tol_pu : convergence tolerance on the largest active or reactive bus mismatch, p.u.
        on ``base_mva`` (pandapower's ``tolerance_mva`` default, 1e-8, is applied the
        same way).
    max_iter : Newton iterations per solve (10, as MATPOWER and pandapower).
    init : ``"dc"`` starts from the DC power flow's angles with PQ-bus magnitudes at the
        mean voltage set point of the units that hold one (pandapower's ``init="auto"``
        for grids with angles); ``"flat"`` starts at 1 p.u. and 0 rad. PV and slack
        buses always start at their set points.
    q_limits : enforce the units' reactive limits (PV → PQ switching, see the module
        docstring).
    max_q_rounds : most solves of the reactive-limit outer loop.
    energised : ``"slack"`` (pandapower) or ``"balanced"`` (see the module docstring).
    """

    tol_pu: float = 1e-8
    max_iter: int = 10
    init: Literal["dc", "flat"] = "dc"
    q_limits: bool = False
    max_q_rounds: int = 50
    energised: Energised = "slack"

    def check(self) -> None:
        """Raise :class:`InputError` for an option out of range."""
        if not (np.isfinite(self.tol_pu) and self.tol_pu > 0):
            raise InputError(f"tol_pu must be > 0, got {self.tol_pu}", field="tol_pu")
        if int(self.max_iter) != self.max_iter or self.max_iter < 1:
            raise InputError(
                f"max_iter must be an integer >= 1, got {self.max_iter}", field="max_iter"
            )
        if self.init not in ("dc", "flat"):
            raise InputError(f"init must be 'dc' or 'flat', got {self.init!r}", field="init")
        if self.energised not in ("slack", "balanced"):
            raise InputError(
                f"energised must be 'slack' or 'balanced', got {self.energised!r}",
                field="energised",
            )
        if int(self.max_q_rounds) != self.max_q_rounds or self.max_q_rounds < 1:
            raise InputError(
                f"max_q_rounds must be an integer >= 1, got {self.max_q_rounds}",
                field="max_q_rounds",
            )


@dataclass(frozen=True)
class ACResult:
    """An AC power flow.

    When :attr:`converged` is False every electrical quantity is NaN: a flow that did not
    converge has no answer, and none is given.

    Attributes
    ----------
    converged : the last solve met the tolerance (and, with reactive limits, no unit
        violates one).
    iterations : Newton iterations, summed over the reactive-limit rounds.
    q_rounds : solves done (1 without reactive limits).
    max_mismatch_pu : largest bus power mismatch of the last iterate, p.u.
    seconds : wall time of the call, s.
    vm_pu : (n_bus,) voltage magnitude, p.u.; NaN on dark buses.
    va_deg : (n_bus,) voltage angle, degrees; NaN on dark buses.
    p_from_mw, q_from_mvar, p_to_mw, q_to_mvar : (n_branch,) power entering the branch at
        each end, MW and Mvar; NaN for branches out of service or dark.
    gen_p_mw, gen_q_mvar : (n_gen,) unit output; NaN for units out of service or dark.
    q_limited : (n_gen,) bool, the unit was fixed at a reactive limit.
    bus_type : (n_bus,) int8, :data:`PQ`, :data:`PV`, :data:`REF` or :data:`DARK`, as of
        the last solve.
    island : (n_bus,) island label; −1 for a bus out of service.
    dark_bus : (n_bus,) bool, out of service or in an island that is not solved.
    rate_mva : (n_branch,) ratings used by :attr:`loading_percent` (inf: unrated).
    """

    converged: bool
    iterations: int
    q_rounds: int
    max_mismatch_pu: float
    seconds: float
    vm_pu: np.ndarray
    va_deg: np.ndarray
    p_from_mw: np.ndarray
    q_from_mvar: np.ndarray
    p_to_mw: np.ndarray
    q_to_mvar: np.ndarray
    gen_p_mw: np.ndarray
    gen_q_mvar: np.ndarray
    q_limited: np.ndarray
    bus_type: np.ndarray
    island: np.ndarray
    dark_bus: np.ndarray
    rate_mva: np.ndarray
    f: np.ndarray
    t: np.ndarray

    @property
    def loading_percent(self) -> np.ndarray:
        """(n_branch,) current loading, % of the rating at nominal voltage.

        ``max(|S_f| / |V_f|, |S_t| / |V_t|) / rate · 100``: pandapower's current-based
        loading (``trafo_loading="current"``; lines by ``max_i_ka``). NaN for unrated
        branches (never 0) and for branches out of service or dark.
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            sf = np.hypot(self.p_from_mw, self.q_from_mvar) / self.vm_pu[self.f]
            st = np.hypot(self.p_to_mw, self.q_to_mvar) / self.vm_pu[self.t]
            rate = np.where(np.isfinite(self.rate_mva), self.rate_mva, np.nan)
            return np.fmax(sf, st) / rate * 100.0

    @property
    def loss_mw(self) -> np.ndarray:
        """(n_branch,) active losses of each branch, MW (``p_from + p_to``)."""
        return self.p_from_mw + self.p_to_mw


@dataclass(frozen=True)
class _Energised:
    """The build step of one AC flow: what is solved and its fixed injections.

    Attributes
    ----------
    island : (n_bus,) island label; −1 for a bus out of service.
    live : (n_bus,) bool, the bus is in a solved island.
    slack : (n_gen,) bool, slack units (with the ones ``energised="balanced"`` picks).
    g_live : (n_gen,) bool, units in service on live buses.
    br_live : (n_branch,) bool, branches in service between live buses.
    load_s : (n_bus,) complex, load per bus, MW + j Mvar (``load_scale`` applied).
    fixed_q : (n_gen,) reactive output of the live units without voltage control, Mvar;
        NaN for the units whose reactive output is solved for.
    gen_p : (n_gen,) active set point of the live units, MW (0 for the others).
    ref : (n_ref,) slack buses; ref_unit : (n_ref,) the first slack unit of each.
    ref_mask : (n_bus,) bool, the slack buses.
    ref_va : (n_ref,) angle each slack bus holds, rad.
    """

    island: np.ndarray
    live: np.ndarray
    slack: np.ndarray
    g_live: np.ndarray
    br_live: np.ndarray
    load_s: np.ndarray
    fixed_q: np.ndarray
    gen_p: np.ndarray
    ref: np.ndarray
    ref_unit: np.ndarray
    ref_mask: np.ndarray
    ref_va: np.ndarray


@dataclass(frozen=True)
class _Solution:
    """The solve step of one AC flow: the last Newton solve of the reactive-limit loop.

    Attributes
    ----------
    v : (n_bus,) complex voltages, p.u.
    converged : the last solve converged (and, with reactive limits, no unit violates one).
    iterations : Newton iterations over all solves.
    rounds : solves done.
    norm : largest bus mismatch of the last iterate, p.u.
    bus_type : (n_bus,) int8 bus types of the last solve.
    q_unit : (n_gen,) reactive output per unit, Mvar (NaN if no solve converged).
    s_inj : (n_bus,) complex net injection of the last converged solve, MVA.
    limited : (n_gen,) bool, units fixed at a reactive limit.
    """

    v: np.ndarray
    converged: bool
    iterations: int
    rounds: int
    norm: float
    bus_type: np.ndarray
    q_unit: np.ndarray
    s_inj: np.ndarray
    limited: np.ndarray
