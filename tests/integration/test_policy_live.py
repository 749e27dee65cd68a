"""Policy behaviour in a running gateway: shadow mode, hot reload under traffic."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway_harness import running_gateway

from gateway.clock import FakeClock

SHADOW_POLICY = """
version: 1
defaults: {tier: enforced}
tiers:
  enforced:
    requests: {rate: 10/minute, burst: 5}
    tokens: {rate: 3000/minute, burst: 1000}
  watched:
    mode: shadow
    requests: {rate: 10/minute, burst: 5}
    tokens: {rate: 3000/minute, burst: 1000}
detection: {enabled: false}
clusters: {enabled: false}
"""
ACCOUNTS = {"enf": ("enforced", {}), "sha": ("watched", {})}


def _would_refuse(gw: object) -> float:
    metrics = gw.state.metrics  # type: ignore[attr-defined]
    total = 0.0
    for metric in metrics.shadow_refusals.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                total += sample.value
    return total


async def test_shadow_tier_never_refuses_and_counts_what_enforce_refuses(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_gateway(
        tmp_path, policy=SHADOW_POLICY, clock=clock, accounts=ACCOUNTS
    ) as gw:
        enforced_refusals = 0
        shadow_statuses = []
        for i in range(40):
            max_tokens = 300 if i % 3 else 50
            enforced = await gw.chat("enf", max_tokens=max_tokens)
            enforced_refusals += enforced.status == 429
            shadowed = await gw.chat("sha", max_tokens=max_tokens)
            shadow_statuses.append(shadowed.status)
            assert not any(
                h.lower().startswith(("x-ratelimit", "ratelimit")) for h in shadowed.headers
            )
            await gw.state.background.drain()
            clock.advance(2.0)
        assert set(shadow_statuses) == {200}
        assert enforced_refusals > 5
        assert _would_refuse(gw) == enforced_refusals


async def test_global_shadow_setting_refuses_nothing(tmp_path: Path) -> None:
    async with running_gateway(
        tmp_path, policy=SHADOW_POLICY, clock=FakeClock(), accounts=ACCOUNTS, shadow=True
    ) as gw:
        statuses = [(await gw.chat("enf", max_tokens=50)).status for _ in range(12)]
        assert statuses == [200] * 12
        assert _would_refuse(gw) == 7


RELOAD_POLICY = """
version: 1
defaults: {tier: free}
tiers:
  free:
    requests: {rate: 1/hour, burst: BURST}
detection: {enabled: false}
clusters: {enabled: false}
"""


async def _eventually_status(gw: object, status: int, seconds: float = 2.5) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        response = await gw.chat("bob")  # type: ignore[attr-defined]
        if response.status == status:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_hot_reload_raise_lower_break_fix_under_traffic(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=RELOAD_POLICY.replace("BURST", "3")) as gw:
        policy_file = tmp_path / "policy.yaml"
        assert [(await gw.chat("bob")).status for _ in range(4)] == [200, 200, 200, 429]
        before = gw.state.policy_version()
        # raise: takes effect within 2 s, bucket state survives (3 already used of 8)
        policy_file.write_text(RELOAD_POLICY.replace("BURST", "8"))
        assert await _eventually_status(gw, 200)
        assert gw.state.policy_version() != before
        statuses = [(await gw.chat("bob")).status for _ in range(6)]
        assert statuses.count(200) == 4  # 8 - 3 used - 1 above = 4 left, never more
        # lower: never grants more than the new burst
        policy_file.write_text(RELOAD_POLICY.replace("BURST", "2"))
        await asyncio.sleep(2.0)
        assert (await gw.chat("bob")).status == 429
        # break the file: the last good policy keeps running, the error is counted
        good = gw.state.policy_version()
        policy_file.write_text("version: 1\ntiers: {free: {requests: 5 per minute}}\n")
        await asyncio.sleep(2.0)
        assert gw.state.policy_version() == good
        assert gw.state.holder.last_errors
        assert 'expected "N/period"' in gw.state.holder.last_errors[0]
        assert (await gw.chat("alice")).status == 200  # still serving
        # fix it: reloaded
        policy_file.write_text(RELOAD_POLICY.replace("BURST", "50"))
        assert await _eventually_status(gw, 200)
        assert not gw.state.holder.last_errors
