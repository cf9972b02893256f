"""The ``warmgrid`` command line (typer).

Each command lives in its own module and only parses, calls the public API, and prints
or writes. Heavy libraries are imported inside the commands, so ``warmgrid --help``
answers fast.

Exit codes, as careful command-line tools use them (git, ripgrep):

* 0: done.
* 1: a run failed for a reason that is not the input's (a lost set of Dask workers, an
  internal error). One line on stderr.
* 2: bad input or a usage error (an unknown option, a missing argument, a value of the
  wrong type or out of range, a malformed file, an unknown id). One line on stderr that
  names the option, or the file, the row and the field.
* 130 / 143: interrupted by Ctrl-C (SIGINT) / SIGTERM. One line on stderr saying what
  was kept and how to resume.

No traceback ever reaches the user; ``WARMGRID_TRACEBACK=1`` shows the traceback of an
internal error for a bug report.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from warmgrid import __version__
from warmgrid.errors import InputError, Interrupted, WarmgridError, shorten

app = typer.Typer(
    name="warmgrid",
    help="Power-grid outages and the light, heat and water that depend on them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"warmgrid {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Power-grid outages and the light, heat and water that depend on them."""


# Command modules register themselves on `app` when imported.
from warmgrid.cli import demo, flow, grids, impact, report, restore, study  # noqa: E402,F401

# typer vendors click (typer 0.29: ``typer._click``); take its exception classes from
# typer's public ones rather than from a module path that moves between releases.
_CLICK_BASES = {c.__name__: c for c in typer.BadParameter.__mro__}
_ClickException: type[Exception] = _CLICK_BASES["ClickException"]
_UsageError: type[Exception] = _CLICK_BASES["UsageError"]

#: Longest error line printed (a pasted blob in an argument must not flood the terminal).
_MAX_LINE = 600

#: The signal that stopped the run (set by the handler, read by :func:`main`).
_SIGNALLED: list[int] = []


def _say(text: str) -> None:
    """One line on stderr: newlines folded, cut to a readable length."""
    line = " ".join(str(text).split())
    typer.echo(shorten(line, _MAX_LINE), err=True)


#: typer's messages for a value of the wrong type, in plainer words.
_TYPE_WORDS = {
    "Input should be a valid integer": "expected a whole number",
    "Input should be a valid number": "expected a number",
    "Input should be a valid boolean": "expected true or false",
}

#: typer's words for a value out of range, as comparisons.
_RANGE_WORDS = {
    "Input should be greater than or equal to": "must be >=",
    "Input should be less than or equal to": "must be <=",
    "Input should be greater than": "must be >",
    "Input should be less than": "must be <",
}


def _given(argv: list[str], opts: list[str]) -> str | None:
    """The value given to an option in ``argv`` (``--crews two`` or ``--crews=two``)."""
    for i, tok in enumerate(argv):
        for o in opts:
            if tok == o and i + 1 < len(argv):
                return argv[i + 1]
            if tok.startswith(o + "="):
                return tok[len(o) + 1 :]
    return None


def _usage_line(e: Any, argv: list[str]) -> str:
    """``warmgrid CMD: error: MESSAGE (see 'warmgrid CMD --help')`` for a click usage error."""
    ctx = getattr(e, "ctx", None)
    path = ctx.command_path if ctx is not None else "warmgrid"
    msg = e.format_message().replace("Value error, ", "")
    if type(e).__name__ == "BadParameter":
        param = getattr(e, "param", None)
        value = _given(argv, list(getattr(param, "opts", []) or []))
        for typer_words, plain in _TYPE_WORDS.items():
            if typer_words in msg:
                msg = msg.split(": ", 1)[0] + f": {plain}"
        for typer_words, plain in _RANGE_WORDS.items():
            msg = msg.replace(typer_words, plain)
        if value is not None and len(value) > 80 and value in msg:
            msg = msg.replace(value, shorten(value))  # the valid values must stay in view
        elif value is not None and repr(value) not in msg:
            msg = msg.rstrip(".") + f", got {shorten(value)!r}"
    if type(e).__name__ == "UsageError" and msg.startswith("No such command"):
        from warmgrid.errors import closest

        cmds = sorted(app_commands())
        bad = msg.split("'")[1] if "'" in msg else ""
        msg = f"no such command {bad!r}{closest(bad, cmds)}; commands: {', '.join(cmds)}"
    if "requires an argument" in msg:  # click names no command here: find it in argv
        cmd = next((a for a in argv if not a.startswith("-")), None)
        if cmd in app_commands():
            path = f"warmgrid {cmd}"
            choices = _option_choices(cmd, msg.split("'")[1] if "'" in msg else "")
            if choices:
                msg = msg.rstrip(".") + f": one of {', '.join(choices)}"
    msg = msg[:1].lower() + msg[1:]
    return f"{path}: error: {msg.rstrip('.')} (see '{path} --help')"


def _option_choices(cmd: str, option: str) -> list[str]:
    """The values an option of a command accepts, when they are a fixed list (a
    ``Literal`` annotation); [] when unknown (this runs inside the error handler, so it
    never raises)."""
    try:
        group = typer.main.get_command(app)
        command = group.commands[cmd]  # type: ignore[attr-defined]
        for p in command.params:
            if option in (getattr(p, "opts", []) or []):
                desc = getattr(p, "type_descriptor", None)
                choices = getattr(desc, "choices", None) or getattr(
                    getattr(p, "type", None), "choices", None
                )
                return [str(c) for c in choices or []]
    except Exception:  # pragma: no cover - typer internals changed: say less
        return []
    return []


def app_commands() -> list[str]:
    """The names of the registered commands."""
    return [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]


def _on_signal(signum: int, frame: Any) -> None:
    _SIGNALLED.append(signum)
    raise KeyboardInterrupt


@contextmanager
def _signals() -> Iterator[None]:
    """SIGTERM behaves as Ctrl-C (KeyboardInterrupt), and both are recorded."""
    _SIGNALLED.clear()
    old = {}
    try:
        for s in (signal.SIGINT, signal.SIGTERM):
            old[s] = signal.signal(s, _on_signal)
    except ValueError:  # not the main thread (a test harness): leave the handlers alone
        pass
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def interrupted_code() -> int:
    """128 + the signal that stopped the run (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + (_SIGNALLED[-1] if _SIGNALLED else signal.SIGINT)


#: The exit code of the last command, set once it is decided: a signal in the instant
#: after (main's handlers restored, not yet returned) must not change it.
DONE: list[int] = []


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 failure, 2 bad input or usage, 130/143
    interrupted)."""
    from warmgrid.outputs import PUBLISHED

    DONE.clear()
    PUBLISHED.clear()
    with _signals():
        code = _main(argv)
        DONE.append(code)
    return code


def _main(argv: list[str] | None) -> int:
    """:func:`main` inside its signal handlers."""
    try:
        rv = app(args=argv, standalone_mode=False, prog_name="warmgrid")
    except typer.Exit as e:  # --help, --version, or a command's explicit exit
        return int(e.exit_code or 0)
    except _UsageError as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # a bare `warmgrid` or group
            ctx = getattr(e, "ctx", None)
            typer.echo(ctx.get_help() if ctx is not None else "usage: warmgrid", err=True)
            return 2
        try:
            line = _usage_line(e, list(sys.argv[1:] if argv is None else argv))
        except Exception:  # pragma: no cover - never a traceback for a usage error
            line = f"warmgrid: error: {e.format_message()}"  # type: ignore[attr-defined]
        _say(line)
        return 2
    except _ClickException as e:  # click's other errors (a file option that cannot open)
        _say(f"warmgrid: error: {e.format_message()}")  # type: ignore[attr-defined]
        return 2
    except InputError as e:
        _say(f"warmgrid: error: {e}")
        return 2
    except Interrupted as e:
        _say(f"warmgrid: {e}")
        return e.exit_code
    except WarmgridError as e:
        _say(f"warmgrid: error: {e}")
        return 1
    except KeyboardInterrupt:
        _say(_interrupted_line())
        return interrupted_code()
    except BrokenPipeError:  # `warmgrid ... | head`: the reader left, not an error
        _quiet_stdout()
        return 0
    except OSError as e:  # a path the user gave that cannot be opened or made
        if e.filename is None:
            return _internal(e)
        from warmgrid.errors import quoted

        _say(f"warmgrid: error: {quoted(str(e.filename))}: {e.strerror or e}")
        return 2
    except SystemExit as e:  # typer exits 1 itself on a broken pipe
        _quiet_stdout()
        return e.code if isinstance(e.code, int) else 1
    except MemoryError:
        _say(
            "warmgrid: error: out of memory; try a smaller problem (fewer samples, "
            "candidates or a shorter horizon)"
        )
        return 1
    except Exception as e:  # a bug: one line, the traceback on request
        return _internal(e)
    if rv == 130 and _SIGNALLED:  # typer turned a KeyboardInterrupt into Exit(130)
        _say(_interrupted_line())
        return interrupted_code()
    return int(rv) if isinstance(rv, int) and not isinstance(rv, bool) else 0


def _interrupted_line() -> str:
    """``interrupted; nothing was written``, or the outputs already complete (an
    interrupt after an atomic write published them)."""
    from warmgrid.outputs import PUBLISHED

    if not PUBLISHED:
        return "warmgrid: interrupted; nothing was written"
    names = ", ".join(str(p) for p in PUBLISHED[:3]) + (", …" if len(PUBLISHED) > 3 else "")
    return f"warmgrid: interrupted; complete before it: {names}"


def _internal(e: BaseException) -> int:
    """One line for a bug (exit 1); the traceback with ``WARMGRID_TRACEBACK=1``."""
    if os.environ.get("WARMGRID_TRACEBACK"):
        raise e
    _say(
        f"warmgrid: internal error: {type(e).__name__}: {e} "
        "(please report it; WARMGRID_TRACEBACK=1 shows the traceback)"
    )
    return 1


def _quiet_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush
    does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:  # pragma: no cover
        pass
