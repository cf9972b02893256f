"""Apply a damage list (element ids of every kind, substations included) to a network.

A damage is a list of ids: ``bus:12``, ``line:40``, ``trafo:3``, ``branch:7``, ``gen:2``,
``sgen:5``, ``ext_grid:0``, ``load:7``, ``shunt:3`` or a group such as ``substation:S4``.
A group is a set of buses (:attr:`Network.groups`); taking it out takes out its buses and,
through :meth:`State.effective`, every branch, unit, load and shunt attached to them.
Pandapower and MATPOWER cases define no substations; a services overlay (or the caller)
passes them to :func:`~warmgrid.power.network.compile_network` as ``groups``.
"""

from __future__ import annotations

from collections.abc import Sequence

from warmgrid.power.elements import check_ids
from warmgrid.power.network import Network, State

__all__ = ["apply_damage", "check_damage"]


def check_damage(
    net: Network,
    elements: Sequence[str],
    *,
    file: str | None = None,
    key: str = "damage.elements",
    source: str | None = None,
) -> None:
    """Raise one :class:`InputError` listing every unknown id, each with the closest ids.

    Parameters
    ----------
    net : compiled network.
    elements : element ids.
    file : the scenario file, for the message.
    key : the scenario key the ids came from.
    source : what ``warmgrid elements`` takes to list the ids (the scenario file or the
        case); the message points to it. Default: ``file``.
    """
    check_ids(net, elements, file=file, field=key, source=source or file)


def apply_damage(
    net: Network, elements: Sequence[str], state: State | None = None, *, file: str | None = None
) -> State:
    """The state with ``elements`` out of service (substations expanded to their buses).

    Parameters
    ----------
    net : compiled network.
    elements : damaged element ids.
    state : the state to damage; the base state when omitted. It is not mutated.
    file : the scenario file, named in errors.

    Returns
    -------
    State
        The damaged masks; apply :meth:`State.effective` for the consequences of dead buses.

    Raises
    ------
    InputError : an unknown id, naming the file, the key ``damage.elements`` and the
        closest known ids.
    """
    check_damage(net, elements, file=file)
    return (state or net.base_state).without(net, list(elements))
