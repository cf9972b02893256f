"""The outputs a command has completed so far (no heavy imports: the CLI reads it).

:mod:`warmgrid.io.atomic` appends each file or folder it moves into place; the CLI
clears the list per command and names what is complete when an interrupt comes after.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PUBLISHED"]

#: Every output moved into place in this process since the list was last cleared.
PUBLISHED: list[Path] = []
