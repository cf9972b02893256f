"""Atomic writes: a file or a folder is complete or untouched.

Everything is written under a temporary name in the target's own folder and renamed into
place (``os.replace`` is atomic on one file system), so an error or an interrupt never
leaves a half-written output behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warmgrid.errors import InputError

__all__ = ["atomic_file", "atomic_folder", "write_text_atomic"]


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place on success."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=p.suffix, dir=p.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, p)
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
        raise InputError("already exists (pass overwrite=True)", file=str(folder))
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield tmp
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write a text file atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
