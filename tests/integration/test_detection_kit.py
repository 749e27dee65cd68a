"""Smoke test of the detection evaluation kit: a tiny run through the real in-process gateway
produces a complete result and a report (no detection thresholds asserted here)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from loadtest.detection.evaluate import Options, evaluate
from loadtest.detection.report import write_report
from loadtest.detection.scenarios import QUICK, build

TINY = dataclasses.replace(
    QUICK,
    name="tiny",
    days=1.0,
    cap=60,
    scale=0.1,
    benign={name: 1 for name in QUICK.benign},
    harvesters=1,
    hydras=((3, 30), (3, 30), (3, 30)),
    hydra_days=0.5,
    solve_budget=2,
)
FRACTIONS = (
    "harvest_recall_throttle_at_300",
    "harvest_recall_challenge_at_1000",
    "benign_challenged_rate",
    "benign_throttled_rate",
)


def test_accounts_cover_every_persona_and_strategy() -> None:
    accounts = [acc for acc, _ in build(TINY)]
    scenarios = {acc.scenario for acc in accounts}
    assert set(QUICK.benign) <= scenarios
    assert {"cot_template", "hydra_1000", "low_and_slow", "adaptive"} <= scenarios
    assert len({acc.name for acc in accounts}) == len(accounts)
    nat = [acc.client_ip for acc in accounts if acc.scenario == "corporate_nat"]
    assert len(set(nat)) == 1


async def test_tiny_run_writes_a_complete_report(tmp_path: Path) -> None:
    result = await evaluate(TINY, Options(split="tuning"))
    for key in FRACTIONS:
        assert 0.0 <= result[key] <= 1.0, key
    assert result["run"]["requests"] > 100
    scenarios = result["scenarios"]
    assert {m["role"] for m in scenarios.values()} == {"benign", "harvest"}
    for name, m in scenarios.items():
        assert m["requests"] > 0, name
        if m["role"] == "harvest":
            assert set(m["recall_throttle"]) == {"100", "300", "1000", "3000"}
            assert m["harvest_responses"] > 0
    paths = write_report(result, tmp_path)
    assert [p.name for p in paths] == ["report.md", "report.json", "responses_before_action.png"]
    assert json.loads(paths[1].read_text())["run"]["split"] == "tuning"
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "benign_throttled_rate" in paths[0].read_text()


async def test_same_seed_same_numbers() -> None:
    plan = dataclasses.replace(TINY, benign={"casual_chat": 2}, hydras=((2, 10),) * 3)
    first = await evaluate(plan, Options(split="tuning", seed=7))
    second = await evaluate(plan, Options(split="tuning", seed=7))
    strip = ("run",)
    assert {k: v for k, v in first.items() if k not in strip} == {
        k: v for k, v in second.items() if k not in strip
    }
