"""docs/architecture.md names only files and packages that exist, and the request path it
draws is the order app.py builds."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text()


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
