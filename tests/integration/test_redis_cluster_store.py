"""Redis store specifics: server TIME, NOSCRIPT recovery, cross-slot work on a real cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from redis_servers import RedisServer, delete_prefix

from gateway.clock import FakeClock
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.slots import group_by_slot
from gateway.model import AcquireRequest, BudgetSpec, Charge, Level, Settlement
from gateway.redis.client import redis_client
from gateway.redis.keys import KeyBuilder
from gateway.store_errors import StoreUnavailable

pytestmark = pytest.mark.redis


def spec(key: str, algorithm: str = "bucket", limit: int = 3, **kw: object) -> BudgetSpec:
    kw.setdefault("window", 60.0)
    kw.setdefault("rate", 3.0 if algorithm == "bucket" else 0.0)
    return BudgetSpec(key, "account", "requests", algorithm, key, limit=limit, **kw)  # type: ignore[arg-type]


@pytest.fixture(params=["redis", "cluster"])
async def client_url(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[str]:
    url = request.getfixturevalue("redis_url" if request.param == "redis" else "redis_cluster_url")
    yield url
    client = redis_client(url, timeout=2)
    await delete_prefix(client, key_prefix)
    await client.aclose()


async def test_server_time_mode(client_url: str, key_prefix: str) -> None:
    keys = KeyBuilder(key_prefix)
    store = RedisBudgetStore(redis_client(client_url, timeout=2))  # no clock: Redis TIME
    bucket = spec(keys.account_budget("c", "a", "req"))
    try:
        results = [
            await store.acquire(AcquireRequest(f"r{i}", (Charge(bucket),))) for i in range(4)
        ]
        assert [r.allowed for r in results] == [True, True, True, False]
        assert 19.0 < results[3].states[0].retry_after <= 20.0
        level_key = keys.account_level("c", "a")
        await store.set_level(level_key, Level.DEGRADE, 30)
        assert await store.get_level(level_key) == Level.DEGRADE
        flag = keys.account_clearance("c", "a")
        assert await store.set_flag(flag, 30) and not await store.set_flag(flag, 30)
    finally:
        await store.close()


async def test_noscript_is_recovered(redis_url: str, key_prefix: str) -> None:
    store = RedisBudgetStore(redis_client(redis_url, timeout=2), FakeClock())
    bucket = spec(KeyBuilder(key_prefix).account_budget("c", "a", "req"))
    try:
        await store.client.execute_command("SCRIPT", "FLUSH")
        assert (await store.acquire(AcquireRequest("r", (Charge(bucket),)))).allowed
        assert (await store.peek(AcquireRequest("p", (Charge(bucket),)))).states[0].remaining == 1
    finally:
        await delete_prefix(store.client, key_prefix)
        await store.close()


async def test_pipelined_acquires_recover_from_noscript(redis_url: str, key_prefix: str) -> None:
    store = RedisBudgetStore(redis_client(redis_url, timeout=2), FakeClock())
    bucket = spec(KeyBuilder(key_prefix).account_budget("c", "a", "req"), limit=30, rate=30)
    try:
        await store.client.execute_command("SCRIPT", "FLUSH")
        results = await asyncio.gather(
            *(store.acquire(AcquireRequest(f"r{i}", (Charge(bucket),))) for i in range(50))
        )
        assert sum(r.allowed for r in results) == 30
        assert sorted(r.states[0].remaining for r in results if r.allowed) == list(range(30))
    finally:
        await delete_prefix(store.client, key_prefix)
        await store.close()


async def test_pipelined_acquires_report_a_dead_server(
    redis_servers: Callable[[], RedisServer],
) -> None:
    server = redis_servers()
    store = RedisBudgetStore(redis_client(server.url, timeout=0.5), FakeClock())
    bucket = spec("dead:{c:x}:req")
    await store.acquire(AcquireRequest("warm", (Charge(bucket),)))
    server.kill()
    results = await asyncio.gather(
        *(store.acquire(AcquireRequest(f"r{i}", (Charge(bucket),))) for i in range(20)),
        return_exceptions=True,
    )
    assert all(isinstance(r, StoreUnavailable) for r in results)
    await store.close()


async def test_cluster_undoes_committed_groups(redis_cluster_url: str, key_prefix: str) -> None:
    keys = KeyBuilder(key_prefix)
    store = RedisBudgetStore(redis_client(redis_cluster_url, timeout=2), FakeClock())
    conc = spec(keys.account_budget("c", "a", "conc"), "concurrency", limit=5)
    novelty = spec(keys.cluster_budget("c", "nov"), "novelty", limit=5, repeat_cost=0.5)
    quota = spec(keys.account_budget("c", "a", "day"), "window", limit=5)
    model = spec(keys.global_budget("m", "req"), limit=1)
    request = AcquireRequest(
        "r1",
        (Charge(conc), Charge(novelty, cell=9), Charge(quota), Charge(model)),
        level_keys=(keys.account_level("c", "a"),),
    )
    assert len(group_by_slot(request)) == 2
    try:
        assert (await store.acquire(request)).allowed
        refused = await store.acquire(AcquireRequest("r2", request.charges, request.level_keys))
        assert not refused.allowed
        assert [s.allowed for s in refused.states] == [True, True, True, False]
        assert refused.states[1].novel is False
        assert await store.client.zcard(conc.key) == 1  # r2's lease was released
        peek = await store.peek(AcquireRequest("p", (Charge(novelty, cell=10), Charge(quota))))
        assert [s.remaining for s in peek.states] == [3, 3]  # r2's charges were undone
        assert peek.states[0].novel is True
    finally:
        await delete_prefix(store.client, key_prefix)
        await store.close()


async def test_cluster_settles_and_refreshes_across_slots(
    redis_cluster_url: str, key_prefix: str
) -> None:
    keys = KeyBuilder(key_prefix)
    clock = FakeClock()
    store = RedisBudgetStore(redis_client(redis_cluster_url, timeout=2), clock)
    local = spec(keys.account_budget("c", "a", "tok"), limit=100, rate=100)
    shared = spec(keys.global_budget("m", "tok"), limit=100, rate=100)
    conc_a = spec(keys.account_budget("c", "a", "conc"), "concurrency", limit=1, window=10)
    conc_g = spec(keys.global_budget("m", "conc"), "concurrency", limit=1, window=10)
    charges = (Charge(local, 50), Charge(shared, 50), Charge(conc_a), Charge(conc_g))
    try:
        assert (await store.acquire(AcquireRequest("r", charges))).allowed
        await store.settle(Settlement("r", adjustments=((local, -40), (shared, 30))))
        peek = await store.peek(AcquireRequest("p", (Charge(local, 0), Charge(shared, 0))))
        assert [s.remaining for s in peek.states] == [90, 20]
        clock.advance(8)
        await store.refresh_leases({conc_a.key: ["r"], conc_g.key: ["r"]}, 10)
        clock.advance(8)
        held = await store.acquire(AcquireRequest("q", (Charge(conc_a),)))
        held_g = await store.acquire(AcquireRequest("q", (Charge(conc_g),)))
        assert not held.allowed and not held_g.allowed  # leases were extended on both slots
        await store.settle(Settlement("r", releases=(conc_a, conc_g)))
        assert (await store.acquire(AcquireRequest("q", (Charge(conc_a), Charge(conc_g))))).allowed
    finally:
        await delete_prefix(store.client, key_prefix)
        await store.close()
