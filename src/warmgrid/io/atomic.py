"""Atomic writes: a file or a folder is complete or untouched.

Everything is written under a temporary name in the target's own folder and renamed into
place (``os.replace`` is atomic on one file system), so an error or an interrupt never
leaves a half-written output behind. The result gets the modes a plain ``open`` or
``mkdir`` would give under the user's umask (0644 and 0755 under umask 022), not the
private 0600 and 0700 of the temporary names.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from warmgrid.errors import InputError
from warmgrid.outputs import PUBLISHED

__all__ = ["atomic_file", "atomic_folder", "write_text_atomic", "write_texts_atomic"]


def _umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _make_parent(p: Path) -> None:
    """Create the folders above ``p``; a file in the way is a clear error."""
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(
            "cannot create the folder for it: a file is in the way", file=str(p)
        ) from None
    except PermissionError:
        raise InputError("no permission to create its folder", file=str(p)) from None


def _publish_modes(root: Path) -> None:
    """Give ``root`` (a file or a folder tree) the modes ``open``/``mkdir`` would give."""
    mask = _umask()
    if root.is_dir():
        for dirpath, _dirs, files in os.walk(root):
            os.chmod(dirpath, 0o777 & ~mask)
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o666 & ~mask)
    else:
        os.chmod(root, 0o666 & ~mask)


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place on success."""
    p = Path(path)
    if p.is_dir():
        raise InputError("is a directory, expected a file to write", file=str(p))
    _make_parent(p)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=p.suffix, dir=p.parent)
    except PermissionError:
        raise InputError("no permission to write in its folder", file=str(p)) from None
    os.close(fd)
    try:
        yield Path(tmp)
        _publish_modes(Path(tmp))
        os.replace(tmp, p)
        _published(p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(folder: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``folder``; move it into place on success.

    Raises
    ------
    InputError
        If ``folder`` exists and ``overwrite`` is false.
    """
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise InputError("already exists (pass --overwrite to replace it)", file=str(folder))
    if folder.exists() and not folder.is_dir():
        raise InputError("is a file, expected a folder to write", file=str(folder))
    if Path.cwd().resolve().is_relative_to(folder.resolve()):
        raise InputError(
            "is the current folder or holds it; give a folder to write, such as out/grid",
            file=str(folder) or ".",
        )
    _make_parent(folder)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except PermissionError:
        raise InputError("no permission to write in its folder", file=str(folder)) from None
    _BUILDING.append(tmp)
    try:
        yield tmp
        _publish_modes(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _BUILDING.remove(tmp)
    with _uninterrupted():  # the old folder and the new one swap whole, then the old goes
        old = None
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            try:
                os.replace(folder, old)  # (onto an empty folder: allowed)
            except OSError:  # (a mount point, a busy folder): leave everything as it was
                old.rmdir()
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        os.replace(tmp, folder)
        _published(folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


#: Temporary folders being filled: what is published inside them is not complete yet.
_BUILDING: list[Path] = []


def _published(p: Path) -> None:
    """Record an output moved into place, unless it lies in a folder still being built."""
    if not any(p.is_relative_to(t) for t in _BUILDING):
        PUBLISHED.append(p)


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends (the output is complete by then and
    the command finishes); outside the main thread, nothing changes."""
    import signal

    saved = {}
    try:
        for s in (signal.SIGINT, signal.SIGTERM):
            saved[s] = signal.signal(s, signal.SIG_IGN)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write a text file atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_texts_atomic(files: Sequence[tuple[str | os.PathLike[str], str]]) -> list[Path]:
    """Write several text files, each atomically, renaming them only once all are written.

    An error or an interrupt while writing leaves every target untouched (the renames at
    the end take microseconds).
    """
    with ExitStack() as stack:
        for path, text in files:
            stack.enter_context(atomic_file(path)).write_text(text, encoding="utf-8")
    return [Path(p) for p, _ in files]
