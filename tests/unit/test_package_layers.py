"""The package layering docs/architecture.md draws: every runtime import goes down its layer
table, and no two packages import each other (type-only imports under TYPE_CHECKING do not
count)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
# package pairs that still import each other at runtime (none left: keep it that way)
KNOWN: set[frozenset[str]] = set()


def _runtime_imports(tree: ast.Module) -> list[str]:
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.ImportFrom) and sub.module:
                found.append(sub.module)
    return found


def _package_imports() -> dict[str, set[str]]:
    deps: dict[str, set[str]] = defaultdict(set)
    for path in GATEWAY.rglob("*.py"):
        rel = path.relative_to(GATEWAY).parts
        package = rel[0].removesuffix(".py")
        for module in _runtime_imports(ast.parse(path.read_text())):
            parts = module.split(".")
            if parts[0] == "gateway" and len(parts) > 1 and parts[1] != package:
                deps[package].add(parts[1])
    return deps


def test_no_two_packages_import_each_other() -> None:
    deps = _package_imports()
    cycles = {
        frozenset({a, b}) for a, targets in deps.items() for b in targets if a in deps.get(b, ())
    }
    assert cycles - KNOWN == set()


def test_policy_sections_do_not_import_the_policy_package() -> None:
    deps = _package_imports()
    for package in ("detection", "clusters", "budgets", "notation"):
        assert "policy" not in deps[package], package


def _layers() -> dict[str, int]:
    doc = (GATEWAY.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = doc[doc.index("## The packages") :]
    block = block[block.index("```") + 3 :]
    block = block[: block.index("```")]
    layers: dict[str, int] = {}
    for line in block.splitlines():
        match = re.match(r"^\s*(\d+)\s+(.*)$", line)
        if match is None:
            continue
        for name in re.findall(r"\b([a-z_]+)(?:/|\.py)", match.group(2)):
            if (GATEWAY / name).is_dir() or (GATEWAY / f"{name}.py").is_file():
                layers[name] = int(match.group(1))
    return layers


def test_every_import_goes_down_the_documented_layers() -> None:
    layers = _layers()
    tops = {
        p.name.removesuffix(".py")
        for p in GATEWAY.iterdir()
        if not p.name.startswith((".", "_")) and (p.is_dir() or p.suffix == ".py")
    }
    assert sorted(tops - set(layers)) == []  # every package and top-level module has a layer
    upward = []
    for path in GATEWAY.rglob("*.py"):
        source = path.relative_to(GATEWAY).parts[0].removesuffix(".py")
        if source not in layers:
            continue
        for module in _runtime_imports(ast.parse(path.read_text())):
            parts = module.split(".")
            if parts[0] != "gateway" or len(parts) < 2 or parts[1] == source:
                continue
            target = parts[1]
            if module == "gateway.observability.metrics":
                continue  # imported from every layer
            if frozenset({source, target}) in KNOWN:
                continue  # the known cycles, either way
            if layers.get(target, 0) > layers[source]:
                upward.append(f"{path.relative_to(GATEWAY)} -> {module}")
    assert upward == []
