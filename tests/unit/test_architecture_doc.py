"""docs/architecture.md stays true of the tree: every package has its row."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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
