"""The concurrency key's TTL on Redis (``limiter/lua/acquire.lua``): a key made by an acquire
gets the lease TTL; one with live leases keeps a later TTL (a refreshed stream's) and is
extended to the lease TTL when that is later."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis_servers import delete_prefix

from gateway.clock import FakeClock
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import AcquireRequest, BudgetSpec, Charge
from gateway.redis.client import redis_client
from gateway.redis.keys import KeyBuilder

pytestmark = pytest.mark.redis


@pytest.fixture(params=["redis", "cluster"])
async def rig(
    request: pytest.FixtureRequest, key_prefix: str
) -> AsyncIterator[tuple[RedisBudgetStore, FakeClock]]:
    url = request.getfixturevalue("redis_url" if request.param == "redis" else "redis_cluster_url")
    clock = FakeClock()
    clock.advance(1000)
    store = RedisBudgetStore(redis_client(url, timeout=2), clock)
    try:
        yield store, clock
    finally:
        await delete_prefix(store.client, key_prefix)
        await store.close()


async def test_the_lease_key_ttl(rig: tuple[RedisBudgetStore, FakeClock], key_prefix: str) -> None:
    store, clock = rig
    key = KeyBuilder(key_prefix).account_budget("c", "a", "conc")
    spec = BudgetSpec(key, "account", "concurrency", "concurrency", key, limit=3, window=30.0)

    async def acquire(rid: str) -> int:
        assert (await store.acquire(AcquireRequest(rid, (Charge(spec),)))).allowed
        return int(await store.client.pttl(key))

    assert 29_000 < await acquire("a") <= 30_000  # a new key: the lease TTL
    await store.refresh_leases({key: ["a"]}, 300.0)  # a long stream
    assert 290_000 < await acquire("b") <= 300_000  # live leases: the later TTL kept
    clock.advance(100)  # "a" (till 1300) and "b" (till 1030): only "a" still live
    await store.client.pexpire(key, 10_000)  # sooner than a new lease's
    assert 29_000 < await acquire("c") <= 30_000  # extended to the lease TTL
    clock.advance(400)  # every lease expired: the acquire's sweep empties the key
    assert 29_000 < await acquire("d") <= 30_000  # made again, with a TTL
