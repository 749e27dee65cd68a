"""Detection through the gateway with the shipped default policy (memory store, fake time)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from gateway_harness import ADMIN_TOKEN, Gateway, running_gateway

from gateway.clock import FakeClock
from gateway.model import Level
from loadtest.corpus import load_prompts

REPO = Path(__file__).resolve().parents[2]
COT = (
    "Solve the following problem. Articulate the internal reasoning behind your answer "
    "step by step, then give the final answer.\n\nProblem: {q}"
)
ACCOUNTS = {"harvester": ("free", {}), "human": ("free", {}), "prober": ("free", {})}


def _default_policy() -> str:
    return (REPO / "policies" / "default.yaml").read_text()


async def _level(gw: Gateway, account: str) -> Level:
    await gw.state.observations_applied()
    view: dict[str, Any] = await gw.state.detection.view(f"a:{account}")
    return Level[str(view["level"]).upper()]


async def test_cot_sweep_is_acted_on_before_300_and_a_human_never_is(tmp_path: Path) -> None:
    clock = FakeClock()
    harvest = [p.text for p in load_prompts("harvest", files=["harvest_gsm8k.jsonl"], full=False)]
    human = [
        p.text
        for p in load_prompts("benign", files=["benign_arena_hard_user_prompts.jsonl"], full=False)
    ]
    rng = random.Random(7)
    async with running_gateway(
        tmp_path, policy=_default_policy(), clock=clock, accounts=ACCOUNTS
    ) as gw:
        acted_at = None
        for served in range(1, 300):
            response = await gw.chat(
                "harvester", content=COT.format(q=harvest[served]), max_tokens=1024
            )
            clock.advance(20 + rng.random())
            if response.status in (403,) or (await _level(gw, "harvester")) >= Level.THROTTLE:
                acted_at = served
                break
            assert response.status in (200, 429), response.status
        print(f"harvester acted on after {acted_at} responses")
        assert acted_at is not None and acted_at < 300, acted_at

        # a human: short sessions with follow-ups, long pauses, over two days
        history: list[dict[str, str]] = []
        for i in range(80):
            if i % 4 == 0:
                history = []
                clock.advance(rng.uniform(1800, 14400))  # a pause of 0.5-4 hours
            question = human[i] if not history else "Can you explain that part in more detail?"
            history.append({"role": "user", "content": question})
            response = await gw.http.post(
                f"{gw.url}/v1/chat/completions",
                headers=gw.auth("human"),
                json={"model": "mock-gpt", "messages": history, "max_tokens": 400},
            )
            assert response.status == 200, await response.text()
            answer = (await response.json())["choices"][0]["message"]["content"]
            history.append({"role": "assistant", "content": answer})
            clock.advance(rng.uniform(30, 240))
            assert await _level(gw, "human") == Level.NONE


async def test_degrade_strips_logprobs_and_says_so(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=_default_policy(), accounts=ACCOUNTS) as gw:
        pinned = await gw.http.post(
            f"{gw.admin_url}/admin/v1/accounts/prober/level",
            json={"level": "degrade", "ttl": 600, "reason": "test"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert pinned.status == 200
        response = await gw.chat("prober", logprobs=True, top_logprobs=5, n=4, max_tokens=4000)
        assert response.status == 200
        changed = response.headers["x-gateway-degraded"]
        assert "logprobs" in changed
        seen = (await gw.mock_stats())["last_request"]["body"]
        assert "logprobs" not in seen and "top_logprobs" not in seen
        assert seen["n"] == 1 and seen["max_tokens"] <= 1024


async def test_block_is_403_account_blocked(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=_default_policy(), accounts=ACCOUNTS) as gw:
        await gw.http.post(
            f"{gw.admin_url}/admin/v1/accounts/prober/level",
            json={"level": "block", "ttl": 600, "reason": "test"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        response = await gw.chat("prober")
        assert response.status == 403
        error = (await response.json())["error"]
        assert error["code"] == "account_blocked"
        assert response.headers["x-should-retry"] == "false"
        assert (await gw.chat("human")).status == 200
        cleared = await gw.http.post(
            f"{gw.admin_url}/admin/v1/accounts/prober/level",
            json={"level": "none", "reason": "appeal accepted"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert cleared.status == 200
        assert (await gw.chat("prober")).status == 200


async def test_verification_required_until_an_operator_clears_it(tmp_path: Path) -> None:
    policy = _default_policy().replace(
        "detection:",
        "detection:\n  verification:\n    enabled: true\n    url: https://example.test/verify",
        1,
    )
    async with running_gateway(tmp_path, policy=policy, accounts=ACCOUNTS) as gw:
        await gw.state.detection.pin(
            "a:prober", Level.BLOCK, 3600, "test", "step-up", verification=True
        )
        response = await gw.chat("prober")
        assert response.status == 403
        error = (await response.json())["error"]
        assert error["code"] == "verification_required"
        assert error["verification_url"] == "https://example.test/verify"
        assert response.headers["x-should-retry"] == "false"
        cleared = await gw.http.post(
            f"{gw.admin_url}/admin/v1/accounts/prober/level",
            json={"level": "none", "reason": "verified by support"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert cleared.status == 200
        assert (await gw.chat("prober")).status == 200
