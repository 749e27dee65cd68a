"""``gateway policy check | explain | schema | docs``."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from gateway.policy.commands import main, policy_json_schema
from gateway.policy.loader import load_policy
from gateway.policy.reference import render_reference

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "policies"
DEFAULT = ROOT / "policies" / "default.yaml"


def test_check_ok_and_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    version = load_policy(str(DEFAULT)).version
    assert main(["check", str(DEFAULT)]) == 0
    assert capsys.readouterr().out == f"ok {DEFAULT} (version {version})\n"


def test_check_reports_every_message_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    bad = FIXTURES / "invalid" / "many_errors.yaml"
    expected = (FIXTURES / "invalid" / "many_errors.expected").read_text().splitlines()
    assert main(["check", str(DEFAULT), str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"ok {DEFAULT}")
    lines = err.splitlines()
    assert lines[:-1] == [f"{bad.parent}/{line}" for line in expected]
    assert lines[-1] == f"invalid {bad} ({len(expected)} problems)"


def test_explain_table(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "explain",
        "--policies",
        str(FIXTURES / "valid" / "issue_example.yaml"),
        "--tier",
        "free",
        "--model",
        "gpt-4o",
        "--cluster-size",
        "4",
        "--account",
        "acme",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if ":" in line[:40]}
    assert rows["account:requests"][1:5] == ["enforce", "bucket", "burst", "5"]
    assert rows["account:requests"][5] == "5/minute"
    assert rows["model[gpt-4*]:tokens"][-1] == 'models["gpt-4*"].free.tokens'
    assert rows["cluster:requests"][4:6] == ["10", "10/minute"]  # sqrt(4) = 2 x the account
    assert rows["cluster:requests"][-2:] == ["x", "2.00"]
    assert "  account:requests: dg:{c:acme}:a:acme:account:requests" in out.splitlines()


def test_explain_json_shadow_tier_and_unknown_tier(capsys: pytest.CaptureFixture[str]) -> None:
    policies = str(FIXTURES / "valid" / "issue_example.yaml")
    assert main(["explain", "--policies", policies, "--tier", "pro", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tier"] == "pro" and {b["mode"] for b in report["budgets"]} == {"shadow"}
    assert [b["name"] for b in report["budgets"]] == ["account:requests", "account:tokens"]
    assert main(["explain", "--policies", policies, "--tier", "gold", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["tier"] == "free" and "not defined" in captured.err


def test_explain_with_an_invalid_policy_fails(capsys: pytest.CaptureFixture[str]) -> None:
    bad = FIXTURES / "invalid" / "bad_rate.yaml"
    assert main(["explain", "--policies", str(bad)]) == 1
    assert "tiers.free.requests" in capsys.readouterr().err


def test_schema_is_valid_json_schema_and_accepts_the_fixtures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json.loads(json.dumps(policy_json_schema()))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    documents = [DEFAULT, *sorted((FIXTURES / "valid").glob("*.yaml"))]
    for path in documents:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert errors == [], f"{path}: {errors[0].message if errors else ''}"
    rate = schema["$defs"]["BucketBudget"]["anyOf"][0]
    assert rate["type"] == "string" and "pattern" in rate
    doc = {"version": 1, "tiers": {"free": {"requests": "5 per minute"}}}
    assert list(validator.iter_errors(doc)), "a bad rate must not pass the schema"
    doc = {"version": 1, "tiers": {"free": {"tokens": {"rate": "1/day", "burts": 3}}}}
    assert list(validator.iter_errors(doc)), "an unknown key must not pass the schema"


def test_docs_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "policy-reference.md").read_text(encoding="utf-8")
    assert committed == render_reference(), (
        "docs/policy-reference.md is stale: run "
        "`python -m gateway.policy.commands docs --output docs/policy-reference.md`"
    )


def test_docs_command_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "reference.md"
    assert main(["docs", "--output", str(target)]) == 0
    assert target.read_text() == render_reference()
    assert main(["docs", "--output", str(target), "--check"]) == 0
    target.write_text("old\n")
    assert main(["docs", "--output", str(target), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err


def test_reference_documents_every_field() -> None:
    text = render_reference()
    for field in (
        "`failure_mode`",
        "`max_tokens`",
        "`burst`",
        "`repeat_cost`",
        "`growth`",
        "`hot_value_limit`",
        "`thresholds`",
        "`global`",
        "`routes`",
    ):
        assert field in text
    assert "| `rate` | rate | required |" in text
    assert "| `lease_ttl` | duration | `1m` |" in text


def test_every_field_has_a_description() -> None:
    schema = policy_json_schema()
    missing = []
    for name, node in [("Policy", schema), *schema["$defs"].items()]:
        for branch in [node, *node.get("anyOf", [])]:
            for field, child in branch.get("properties", {}).items():
                ref = child.get("$ref", "").rsplit("/", 1)[-1]
                described = child.get("description") or schema["$defs"].get(ref, {}).get(
                    "description"
                )
                if not described:
                    missing.append(f"{name}.{field}")
    assert missing == []
