"""docs/architecture.md stays true of the tree: every package has its row, every path it
names exists, and the request path it draws is the order app.py builds."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_every_package_under_gateway_has_a_row_in_the_package_table() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip() for line in doc.splitlines() if line.startswith("| `")}
    packages = sorted(
        f"`gateway/{p.parent.relative_to(ROOT / 'gateway').as_posix()}/`"
        for p in (ROOT / "gateway").rglob("__init__.py")
        if p.parent != ROOT / "gateway"
    )
    assert packages, "no packages found"
    missing = [p for p in packages if p not in rows]
    assert missing == []


def test_every_path_the_doc_names_exists() -> None:
    named = set(re.findall(r"`(gateway/[A-Za-z0-9_./*<>-]+)`", DOC))
    missing = [
        path
        for path in sorted(named)
        if "<" not in path and "*" not in path and not (ROOT / path.rstrip("/")).exists()
    ]
    assert missing == []


def test_the_drawn_stage_order_is_app_pys() -> None:
    app = (ROOT / "gateway" / "app.py").read_text()
    built = re.findall(r"^\s+(\w+)Stage\(", app[app.index("stages = (") :], re.M)
    drawn = "path -> authenticate -> inspect"
    assert [s.lower() for s in built] == ["path", "authenticate", "inspect", "identify", "forward"]
    assert drawn in DOC and "identify ----> decide" in DOC
