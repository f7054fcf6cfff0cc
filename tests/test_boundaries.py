"""No module of tfsenti/ or benchmarks/ uses another module's private names (`from x import _name`, `x._name`).

A private module of the importing module's own package is allowed (`from tfsenti.embeddings import _pair_sgd_kernel`
inside tfsenti/embeddings/): that is how a package keeps its parts. Make a name public where it is, or move it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("tfsenti", "benchmarks")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path: Path) -> str:
    return ".".join(path.relative_to(REPO).parent.parts)


def is_module(dotted: str) -> bool:
    """Whether `dotted` names a module or package of this repository (benchmarks import each other bare)."""
    candidates = [dotted] if dotted.startswith(SCANNED) else [dotted, f"benchmarks.{dotted}"]
    for name in candidates:
        base = REPO.joinpath(*name.split("."))
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return True
    return False


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def resolve(node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    base = package_of(path).split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def violations(path: Path, source: str | None = None) -> list[str]:
    """`file:line: what` for every private name of another module that `path` (or `source`, as if at `path`) uses."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source, filename=str(path))
    own_package, found = package_of(path), []
    modules: dict[str, str] = {}  # local name -> module it is bound to
    where = path.relative_to(REPO)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                    alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source = resolve(node, path)
            for alias in node.names:
                full = f"{source}.{alias.name}"
                if is_module(full) or (source and not source.startswith(SCANNED) and not is_module(source)):
                    modules[alias.asname or alias.name] = full
                if private(alias.name):
                    same_package_module = source == own_package and is_module(full)
                    if not same_package_module:
                        found.append(f"{where}:{node.lineno}: from {source} import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            chain = dotted(node.value)
            if chain is None:
                continue
            root, _, rest = chain.partition(".")
            if root in modules:
                target = ".".join(filter(None, [modules[root], rest]))
                if is_module(target) and target != module_name(path):
                    found.append(f"{where}:{node.lineno}: {chain}.{node.attr}")
    return found


def scanned_files() -> list[Path]:
    return sorted(p for folder in SCANNED for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_uses_another_modules_private_names():
    found = [line for path in scanned_files() for line in violations(path)]
    assert not found, "private names used across modules (make them public where they live):\n" + "\n".join(found)


@pytest.mark.parametrize("source, expected", [
    ("from tfsenti.bert.checkpoint import _from_preset\n", "from tfsenti.bert.checkpoint import _from_preset"),
    ("from tfsenti.bert import checkpoint\ncheckpoint._from_preset(1, 2)\n", "checkpoint._from_preset"),
    ("import tfsenti.recipes.bert\ntfsenti.recipes.bert._batches\n", "tfsenti.recipes.bert._batches"),
    ("from ..bert.checkpoint import _from_preset\n", "from tfsenti.bert.checkpoint import _from_preset"),
    ("from tfsenti.hub import _private_module\n", "from tfsenti.hub import _private_module"),
])
def test_the_scan_catches_each_form(source, expected):
    found = violations(REPO / "tfsenti" / "recipes" / "probe.py", source)
    assert any(expected in line for line in found), found


def test_a_private_module_of_the_same_package_and_outside_libraries_are_allowed():
    source = ("from tfsenti.embeddings import _pair_sgd_kernel\nfrom . import _pair_sgd_kernel as kernel\n"
              "import os\nos._exit(0)\nfrom keras_hub.src.utils.preset_utils import get_file\n")
    assert violations(REPO / "tfsenti" / "embeddings" / "probe.py", source) == []
