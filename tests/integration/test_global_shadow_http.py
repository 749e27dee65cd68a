"""Global shadow (``GATEWAY_SHADOW=true``) through the gateway: every would-be refusal is
computed and counted in ``gateway_shadow_would_refuse_total``, none is made — budgets,
quotas, diversity, concurrency, detection levels and operators' pins — and degrade leaves
the request as sent."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from gateway_harness import Gateway, pin_level, running_gateway
from redis.asyncio import Redis

from gateway.clock import FakeClock
from loadtest.corpus import load_prompts

POLICY = """
version: 1
defaults: {tier: free, max_tokens: 16}
tiers:
  free:
    requests: {rate: 60/minute, burst: 3}
    quotas: [4/day]
    diversity: {novel: 2/day, repeat_cost: 0.1}
  pair:
    concurrency: 1
detection:
  enabled: true
  mode: enforce
  min_requests: 100000
clusters: {enabled: false}
"""
ACCOUNTS = {"sal": ("free", {}), "pia": ("free", {}), "con": ("pair", {})}
BACKENDS = ["memory", "redis"]


def counts(counter: Any) -> dict[tuple[str, ...], float]:
    """A Prometheus counter's totals by label values."""
    return {
        tuple(sample.labels.values()): sample.value
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


def would_refuse(gw: Gateway) -> dict[str, float]:
    """gateway_shadow_would_refuse_total by its ``budget`` label."""
    return {budget: n for (budget,), n in counts(gw.state.metrics.shadow_refusals).items()}


@asynccontextmanager
async def shadow_gateway(
    tmp_path: Path, backend: str, redis_url: str, key_prefix: str, **options: Any
) -> AsyncIterator[Gateway]:
    """A gateway under global shadow on the memory store or on Redis (keys under the
    test's prefix, which the ``redis_client`` fixture deletes)."""
    async with running_gateway(
        tmp_path,
        policy=POLICY,
        accounts=ACCOUNTS,
        shadow=True,
        store=redis_url if backend == "redis" else "memory://",
        store_prefix=key_prefix,
        **options,
    ) as gw:
        yield gw


@pytest.mark.parametrize("backend", BACKENDS)
async def test_budgets_quotas_and_diversity_count_but_never_refuse(
    tmp_path: Path, backend: str, redis_url: str, key_prefix: str, redis_client: Redis
) -> None:
    prompts = [p.text for p in load_prompts("harvest", files=["harvest_gsm8k.jsonl"], full=False)]
    async with shadow_gateway(tmp_path, backend, redis_url, key_prefix, clock=FakeClock()) as gw:
        statuses = [(await gw.chat("sal", content=text)).status for text in prompts[:8]]
        assert statuses == [200] * 8
        counted = would_refuse(gw)
        for kind in ("requests", "quota", "diversity"):
            assert any(kind in name and n > 0 for name, n in counted.items()), (kind, counted)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_concurrency_counts_but_never_refuses(
    tmp_path: Path, backend: str, redis_url: str, key_prefix: str, redis_client: Redis
) -> None:
    async with shadow_gateway(
        tmp_path, backend, redis_url, key_prefix, mock_options={"latency_ms": 300}
    ) as gw:

        async def one() -> int:
            async with await gw.chat("con") as response:
                await response.read()
                return response.status

        assert await asyncio.gather(*(one() for _ in range(3))) == [200, 200, 200]
        assert sum(n for name, n in would_refuse(gw).items() if "concurrency" in name) == 2


@pytest.mark.parametrize("backend", BACKENDS)
async def test_levels_and_pins_count_but_never_refuse(
    tmp_path: Path, backend: str, redis_url: str, key_prefix: str, redis_client: Redis
) -> None:
    async with shadow_gateway(tmp_path, backend, redis_url, key_prefix, clock=FakeClock()) as gw:
        await pin_level(gw, "sal", "challenge")
        await pin_level(gw, "pia", "block")
        for account in ("sal", "pia"):
            response = await gw.chat(account)
            assert response.status == 200, await response.text()
        counted = would_refuse(gw)
        assert counted["level:challenge"] == 1 and counted["level:block"] == 1
        # nothing was cleared or lowered on the way: the next request is counted again
        assert (await gw.chat("sal")).status == 200
        assert would_refuse(gw)["level:challenge"] == 2


@pytest.mark.parametrize("backend", BACKENDS)
async def test_degrade_counts_but_leaves_the_request_as_sent(
    tmp_path: Path, backend: str, redis_url: str, key_prefix: str, redis_client: Redis
) -> None:
    async with shadow_gateway(tmp_path, backend, redis_url, key_prefix, clock=FakeClock()) as gw:
        await pin_level(gw, "sal", "degrade")
        response = await gw.chat("sal", logprobs=True, top_logprobs=5, n=4, max_tokens=900)
        assert response.status == 200
        assert "x-gateway-degraded" not in response.headers
        seen = (await gw.mock_stats())["last_request"]["body"]
        assert seen["logprobs"] is True and seen["n"] == 4 and seen["max_tokens"] == 900
        assert would_refuse(gw)["level:degrade"] == 1


async def test_the_same_pins_refuse_without_global_shadow(tmp_path: Path) -> None:
    """The control: what global shadow lets through is refused when enforcing."""
    async with running_gateway(tmp_path, policy=POLICY, accounts=ACCOUNTS, clock=FakeClock()) as gw:
        await pin_level(gw, "sal", "challenge")
        await pin_level(gw, "pia", "block")
        assert (await gw.chat("sal")).status == 403
        assert (await gw.chat("pia")).status == 403
        await pin_level(gw, "sal", "degrade")
        degraded = await gw.chat("sal", logprobs=True, n=4)
        assert degraded.status == 200 and "x-gateway-degraded" in degraded.headers
        # a request the budgets refuse is not degraded (nor counted as such)
        statuses = [(await gw.chat("sal", logprobs=True)).status for _ in range(4)]
        assert statuses.count(429) >= 1
        served = 1 + statuses.count(200)
        assert counts(gw.state.metrics.degraded) == {(): served}


@pytest.mark.parametrize("shadow", [False, True])
async def test_a_store_that_fails_closed_refuses_only_when_enforcing(
    tmp_path: Path, shadow: bool
) -> None:
    with socket.socket() as probe:  # a loopback port where no Redis listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with running_gateway(
        tmp_path,
        policy=POLICY.replace("defaults: {", "defaults: {failure_mode: closed, "),
        accounts=ACCOUNTS,
        store=f"redis://127.0.0.1:{port}/0",
        shadow=shadow,
    ) as gw:
        response = await gw.chat("sal")
        if shadow:
            assert response.status == 200
            assert would_refuse(gw) == {"store:unavailable": 1.0}
        else:
            assert response.status == 503
