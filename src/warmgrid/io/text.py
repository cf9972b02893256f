"""Reading text inputs: one check for binary files, shared by every text reader."""

from __future__ import annotations

from pathlib import Path

from warmgrid.errors import InputError

__all__ = ["read_text_bytes"]


def read_text_bytes(path: Path, expected: str) -> bytes:
    """The file's bytes; a NUL byte in its first 4 KiB is an InputError naming the line.

    Parameters
    ----------
    path : the file.
    expected : what it should be, for the message ("CSV text", "a MATPOWER .m text file").
    """
    raw = path.read_bytes()
    nul = raw.find(b"\x00", 0, 4096)
    if nul >= 0:
        raise InputError(
            f"binary file (NUL byte at offset {nul}), expected {expected}",
            file=str(path),
            row=raw.count(b"\n", 0, nul) + 1,
        )
    return raw
