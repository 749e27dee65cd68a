"""The admin API's OpenAPI document and its Markdown reference."""

from __future__ import annotations

from pathlib import Path

from gateway.admin.openapi import OPERATIONS, document
from gateway.admin.reference import main, render_reference

ROOT = Path(__file__).resolve().parents[2]


def test_docs_admin_api_md_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "admin-api.md").read_text(encoding="utf-8")
    assert committed == render_reference(), (
        "docs/admin-api.md is stale: run `gateway admin docs --output docs/admin-api.md`"
    )


def test_every_operation_is_documented_once_with_its_errors() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    seen = [(op.method, op.path) for op in OPERATIONS]
    assert len(seen) == len(set(seen))
    for op in OPERATIONS:
        responses = doc["paths"][op.path][op.method]["responses"]
        assert set(responses) == {"200", *map(str, op.errors)}


def test_served_document_lists_the_running_tiers_the_reference_does_not() -> None:
    served = document(("free", "pro"))["paths"]["/admin/v1/accounts/{id}"]["get"]
    tier = next(p for p in served["parameters"] if p["name"] == "tier")
    assert tier["schema"] == {"enum": ["free", "pro"]}
    generic = document()["paths"]["/admin/v1/accounts/{id}"]["get"]
    assert next(p for p in generic["parameters"] if p["name"] == "tier")["schema"] == {
        "type": "string"
    }


def test_cli_writes_the_reference(tmp_path: Path) -> None:
    out = tmp_path / "admin.md"
    assert main(["admin", "docs", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_reference()
