"""The layering rules of docs/architecture.md, checked on every import in the package.

A module may import from its own layer and the layers below it, never from a layer
above (the import may be at the top of the file or inside a function: both count).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "warmgrid"

#: Lowest first. The first part of a module's path under warmgrid names its layer.
LAYERS: list[set[str]] = [
    {"errors", "rng", "metrics", "outputs", "__init__"},
    {"model"},
    {"io", "solve"},
    {"power"},
    {"services", "water"},
    {"timeline", "hazard", "examples"},
    {"restore"},
    {"study"},
    {"report"},
    {"cli", "__main__"},
]


def _layer(part: str) -> int:
    for i, names in enumerate(LAYERS):
        if part in names:
            return i
    raise AssertionError(f"warmgrid.{part} is in no layer of tests/test_layers.py")


def _part(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("warmgrid.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("warmgrid."):
                out.append((node.lineno, node.module))
            elif node.module == "warmgrid":  # a submodule, or a name of the package itself
                out += [
                    (
                        node.lineno,
                        f"warmgrid.{a.name}"
                        if (SRC / a.name).is_dir() or (SRC / f"{a.name}.py").exists()
                        else "warmgrid",
                    )
                    for a in node.names
                ]
    return out


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_from_a_layer_above_it(path: Path) -> None:
    rel = path.relative_to(SRC)
    own = rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem
    mine = _layer(own)
    bad = [
        f"line {line}: {mod} (layer {_layer(_part(mod))} > {mine})"
        for line, mod in _imports(path)
        if _layer(_part(mod)) > mine
    ]
    assert not bad, f"{rel} ({own}, layer {mine}) imports from above: " + "; ".join(bad)


def test_every_top_level_module_has_a_layer() -> None:
    for p in SRC.iterdir():
        if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()):
            _layer(p.stem if p.suffix else p.name)
