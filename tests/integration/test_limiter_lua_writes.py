"""acquire.lua and settle.lua skip the writes that would change nothing (issue 13: Redis CPU
per request), counted by a private redis-server's ``INFO commandstats``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis
from redis_servers import RedisServer

from gateway.clock import FakeClock
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import AcquireRequest, BudgetSpec, Charge, Settlement
from gateway.redis.keys import KeyBuilder

pytestmark = [pytest.mark.redis]

KEYS = KeyBuilder("w")
LEASES = BudgetSpec(
    "c", "account", "concurrency", "concurrency", KEYS.account_budget("c1", "a1", "c"),
    limit=3, window=30,
)  # fmt: skip
TOKENS = BudgetSpec(
    "t", "account", "tokens", "bucket", KEYS.account_budget("c1", "a1", "t"),
    limit=1000, window=60, rate=1000,
)  # fmt: skip


async def calls(client: Redis, command: str) -> int:
    stats = await client.info("commandstats")
    found = stats.get(f"cmdstat_{command}")
    return int(found["calls"]) if found else 0


@asynccontextmanager
async def private(
    redis_servers: Callable[[], RedisServer],
) -> AsyncIterator[tuple[RedisBudgetStore, Redis, FakeClock]]:
    """A store with a fake clock on a fresh redis-server, and a client of that server."""
    url, clock = redis_servers().url, FakeClock()
    store, client = RedisBudgetStore(Redis.from_url(url), clock), Redis.from_url(url)
    try:
        yield store, client, clock
    finally:
        await store.close()
        await client.aclose()


async def test_expired_leases_are_removed_only_when_there_are_some(
    redis_servers: Callable[[], RedisServer],
) -> None:
    async with private(redis_servers) as (store, client, clock):
        for rid in ("one", "two"):  # a new key, then a key with a live lease
            assert (await store.acquire(AcquireRequest(rid, (Charge(LEASES),)))).allowed
        assert await calls(client, "zremrangebyscore") == 0
        assert await client.zcard(LEASES.key) == 2
        clock.advance(30.5)  # both leases expired: the next commit drops them
        assert (await store.acquire(AcquireRequest("three", (Charge(LEASES),)))).allowed
        assert await calls(client, "zremrangebyscore") == 1
        assert await client.zrange(LEASES.key, 0, -1) == [b"three"]
        assert 0 < await client.pttl(LEASES.key) <= 30_000


async def test_a_refund_to_an_empty_bucket_deletes_nothing(
    redis_servers: Callable[[], RedisServer],
) -> None:
    async with private(redis_servers) as (store, client, _):
        assert (await store.acquire(AcquireRequest("r", (Charge(TOKENS, cost=100),)))).allowed
        await store.settle(Settlement("r", adjustments=((TOKENS, -100),)))  # refunds it all
        assert await calls(client, "del") == 1 and not await client.exists(TOKENS.key)
        await store.settle(Settlement("s", adjustments=((TOKENS, -5),)))  # nothing to drop
        assert await calls(client, "del") == 1
        state = await store.acquire(AcquireRequest("u", (Charge(TOKENS, cost=1),)))
        assert state.allowed and state.states[0].remaining == 999
