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
    from warmgrid.cli import DONE

    try:
        code = main()
    except KeyboardInterrupt:  # a signal in the instant after main restored its handlers
        if not DONE:  # (cannot happen: main handles every interrupt of a command)
            sys.stderr.write("warmgrid: interrupted\n")
            sys.exit(128 + (got[-1] if got else signal.SIGINT))
        code = DONE[-1]  # the command had finished: its code stands
    for s in (signal.SIGINT, signal.SIGTERM):  # and nothing changes it on the way out
        signal.signal(s, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
