"""``python -m warmgrid`` and the ``warmgrid`` console script.

The CLI module imports typer and the command modules; a Ctrl-C or a SIGTERM during those
imports must not print a traceback or die silently either, so the entry point turns
both into one line and exit 130 or 143 around the import.
"""

from __future__ import annotations

import signal
import sys


def entry() -> None:  # pragma: no cover - exercised through the console script
    """Run the CLI and exit with its code."""
    got: list[int] = []

    def stop(signum: int, frame: object) -> None:
        got.append(signum)
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, stop)
    try:
        from warmgrid.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("warmgrid: interrupted; nothing was written\n")
        sys.exit(128 + (got[-1] if got else signal.SIGINT))
    finally:
        signal.signal(signal.SIGTERM, old)
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
