"""Typed errors.

Every problem a user can cause is an :class:`InputError` that names the file, the row
and the field, so the CLI can print one line and exit with code 2. Engine outcomes that
are not bugs (an infeasible LP, a flow that does not converge) have their own types.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ConvergenceError",
    "InfeasibleError",
    "InputError",
    "Interrupted",
    "Problem",
    "WarmgridError",
    "closest",
    "quoted",
    "shorten",
]

#: Longest user-given text (an id, a name) echoed whole in a message.
MAX_ECHO = 80


def shorten(text: object, limit: int = MAX_ECHO) -> str:
    """``text`` as a string, cut to ``limit`` characters with its length said.

    >>> shorten("line:3")
    'line:3'
    >>> shorten("x" * 100, limit=10)
    'xxxxxxxxx… (100 characters)'
    """
    s = str(text)
    return s if len(s) <= limit else f"{s[: limit - 1]}… ({len(s):,} characters)"


def quoted(text: object) -> str:
    """``repr`` of a user-given string, shortened (:func:`shorten`) when long."""
    return repr(shorten(text))


class WarmgridError(Exception):
    """Base class of every error warmgrid raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Parameters
    ----------
    message : what is wrong, in a few words ("must be > 0, got -3").
    file : the file (or bundled case name) it was read from.
    row : the element id or the 1-based row number, where there is one.
    field : the column or key.
    """

    message: str
    file: str | None = None
    row: str | int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {shorten(self.row)}")
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class InputError(WarmgridError, ValueError):
    """Bad input: a file, a table, a scenario or an id.

    The first problem is the message; all of them are in :attr:`problems`, so a user
    fixing a table sees every problem at once (``str(err.problems)``).
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        file: str | None = None,
        row: str | int | None = None,
        field: str | None = None,
        problems: Sequence[Problem] | None = None,
    ) -> None:
        if problems:
            self.problems = list(problems)
        else:
            self.problems = [Problem(message or "invalid input", file, row, field)]
        first = self.problems[0]
        more = len(self.problems) - 1
        text = str(first) + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
        super().__init__(text)

    @property
    def file(self) -> str | None:
        return self.problems[0].file

    @property
    def row(self) -> str | int | None:
        return self.problems[0].row

    @property
    def field(self) -> str | None:
        return self.problems[0].field

    def with_file(self, file: str) -> InputError:
        """Return the same error with ``file`` filled in where it was missing."""
        return InputError(
            problems=[Problem(p.message, p.file or file, p.row, p.field) for p in self.problems]
        )


class Interrupted(WarmgridError):
    """A long run stopped before its end (a signal, or a lost set of workers).

    The message says what was kept and how to go on; ``exit_code`` is what the CLI
    returns: 130 for SIGINT (Ctrl-C), 143 for SIGTERM, 1 for lost workers.
    """

    def __init__(self, message: str, *, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class InfeasibleError(WarmgridError):
    """An optimisation has no feasible solution."""


class ConvergenceError(WarmgridError):
    """An iterative method did not converge."""


def closest(name: str, known: Iterable[str], n: int = 3) -> str:
    """Return ``"; closest: a, b, c"`` for an unknown name, or ``""`` when nothing is close.

    >>> closest("line:41", ["line:40", "line:14", "bus:41"])
    '; closest: line:40, line:14'
    """
    if len(name) > 4 * MAX_ECHO:  # nothing is close to a pasted blob, and difflib is O(n·m)
        return ""
    known = list(known)
    matches = difflib.get_close_matches(name, known, n=n, cutoff=0.5)
    if not matches and ":" in name:
        kind = name.split(":", 1)[0]
        matches = [k for k in known if k.startswith(kind + ":")][:n]
    return f"; closest: {', '.join(matches)}" if matches else ""
