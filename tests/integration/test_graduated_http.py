"""Throttle and diversity budgets as customers see them (fake time, memory store)."""

from __future__ import annotations

from pathlib import Path

from gateway_harness import ADMIN_TOKEN, running_gateway

from gateway.clock import FakeClock
from loadtest.corpus import load_prompts

POLICY = """
version: 1
defaults: {tier: free}
tiers:
  free:
    requests: {rate: 60/minute, burst: 10}
    diversity: {novel: 5/day, repeat_cost: 0.1}
detection:
  throttle_factor: 0.25
clusters: {enabled: false}
"""
THROTTLE_POLICY = POLICY.replace("    diversity: {novel: 5/day, repeat_cost: 0.1}\n", "").replace(
    "  throttle_factor: 0.25",
    "  enabled: true\n  mode: enforce\n  min_requests: 100000\n  throttle_factor: 0.25",
)
ACCOUNTS = {"tom": ("free", {}), "nina": ("free", {})}


async def test_throttle_level_scales_the_refill_rate(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_gateway(
        tmp_path, policy=THROTTLE_POLICY, clock=clock, accounts=ACCOUNTS
    ) as gw:
        pinned = await gw.http.post(
            f"{gw.admin_url}/admin/v1/accounts/tom/level",
            json={"level": "throttle", "ttl": 3600, "reason": "test"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert pinned.status == 200
        admitted = {"tom": 0, "nina": 0}
        for _ in range(60):  # one simulated minute, asking every second
            for account in admitted:
                response = await gw.chat(account, content="same topic again")
                admitted[account] += response.status == 200
            clock.advance(1.0)
        # nina asks at exactly her rate and gets everything; tom refills at a quarter of the
        # rate (and a quarter of the burst: throttle shrinks both)
        assert admitted["nina"] == 60
        assert admitted["tom"] <= admitted["nina"] // 3
        refused = await gw.chat("tom", content="same topic again")
        assert refused.status == 429
        assert (await refused.json())["error"]["type"] == "requests"  # says nothing of detection


async def test_diversity_budget_refuses_once_the_day_is_spent(tmp_path: Path) -> None:
    prompts = [p.text for p in load_prompts("harvest", files=["harvest_gsm8k.jsonl"], full=False)]
    clock = FakeClock()
    async with running_gateway(tmp_path, policy=POLICY, clock=clock, accounts=ACCOUNTS) as gw:
        statuses = []
        for text in prompts[:12]:
            statuses.append((await gw.chat("nina", content=text)).status)
            clock.advance(10)
        assert statuses.count(200) >= 5
        refused = next(i for i, s in enumerate(statuses) if s == 429)
        response = await gw.chat("nina", content=prompts[refused + 20])
        assert response.status == 429
        error = (await response.json())["error"]
        assert error["type"] == "diversity"
        assert "different topics" in error["message"]
        assert response.headers["x-should-retry"] == "false"
        # repeats cost a tenth of a new topic: after 5 new topics, nothing is left today
        assert (await gw.chat("nina", content=prompts[0])).status == 429
        clock.advance(86400)  # the window turns
        assert (await gw.chat("nina", content=prompts[30])).status == 200
