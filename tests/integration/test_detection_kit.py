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
    paraphrase=(4, 10, 2),
)
FRACTIONS = (
    "harvest_recall_throttle_at_300",
    "harvest_recall_challenge_at_1000",
    "benign_challenged_rate",
    "benign_throttled_rate",
    "benign_harmed_rate",
    "benign_harmed_rate_worst_persona",
)


def test_accounts_cover_every_persona_and_strategy() -> None:
    accounts = [acc for acc, _ in build(TINY)]
    scenarios = {acc.scenario for acc in accounts}
    assert set(QUICK.benign) <= scenarios
    assert {"cot_template", "hydra_1000", "low_and_slow", "adaptive"} <= scenarios
    assert len({acc.name for acc in accounts}) == len(accounts)
    nat = [acc.client_ip for acc in accounts if acc.scenario == "corporate_nat"]
    assert len(set(nat)) == 1
    # the paraphrase hydra: squads of 2 share a proxy /24, nothing hard (no payment, no org)
    squads = [acc for acc in accounts if acc.scenario == "hydra_paraphrase"]
    assert len(squads) == 4 and not any(acc.attrs for acc in squads)
    assert len({acc.client_ip.rsplit(".", 1)[0] for acc in squads}) == 2


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
    assert "benign_harmed_rate_worst_persona" in paths[0].read_text()
    assert result["benign_harmed_rate"] >= result["benign_throttled_rate"]


async def test_same_seed_same_numbers() -> None:
    plan = dataclasses.replace(TINY, benign={"casual_chat": 2}, hydras=((2, 10),) * 3)
    first = await evaluate(plan, Options(split="tuning", seed=7))
    second = await evaluate(plan, Options(split="tuning", seed=7))
    strip = ("run",)
    assert {k: v for k, v in first.items() if k not in strip} == {
        k: v for k, v in second.items() if k not in strip
    }


def test_paraphrase_squads_fire_together() -> None:
    from loadtest.detection.context import Context
    from loadtest.detection.pools import load_pools
    from loadtest.detection.scenarios import SQUAD_SPREAD
    from loadtest.detection.traffic import Outcome

    ctx = Context(pools=load_pools("tuning", (), ()), start=0.0, days=2.0, cap=10)
    members = [(acc, fn) for acc, fn in build(TINY) if acc.scenario == "hydra_paraphrase"]
    times: list[list[float]] = []
    texts: set[str] = set()
    for acc, fn in members:
        behaviour = fn(acc, ctx)
        sent = [next(behaviour)]
        while len(sent) < 5:
            sent.append(behaviour.send(Outcome(status=200)))
        times.append([t for t, _ in sent])
        texts |= {r.body["messages"][-1]["content"] for _, r in sent}
    for wave in range(5):
        assert abs(times[0][wave] - times[1][wave]) <= SQUAD_SPREAD  # one squad
        assert abs(times[0][wave] - times[2][wave]) > SQUAD_SPREAD  # another squad
    assert len(texts) == 20  # every ask is its own paraphrase of its own task
