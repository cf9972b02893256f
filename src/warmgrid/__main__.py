"""``python -m warmgrid`` and the ``warmgrid`` console script.

The CLI module imports typer and the command modules; a Ctrl-C during those imports
must not print a traceback either, so the entry point catches it around the import.
"""

from __future__ import annotations

import sys


def entry() -> None:  # pragma: no cover - exercised through the console script
    """Run the CLI and exit with its code."""
    try:
        from warmgrid.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("warmgrid: interrupted; nothing was written\n")
        sys.exit(130)
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
