"""Memory, Redis and Redis Cluster give identical answers to the same random workload."""

from __future__ import annotations

import random

import pytest
from redis_servers import delete_prefix

from gateway.clock import FakeClock
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.store import BudgetStore
from gateway.model import AcquireRequest, BudgetSpec, Charge, Level, Settlement
from gateway.redis.client import redis_client
from gateway.redis.keys import KeyBuilder

pytestmark = pytest.mark.redis


def budgets(keys: KeyBuilder) -> list[BudgetSpec]:
    def key(name: str, scope: str) -> str:
        if scope == "global":
            return keys.global_budget("m", name)
        return keys.account_budget("c", "a", name)

    def spec(name: str, algorithm: str, limit: int, window: float, **kw: object) -> BudgetSpec:
        scope = str(kw.pop("scope", "account"))
        return BudgetSpec(name, scope, "requests", algorithm, key(name, scope),  # type: ignore[arg-type]
                          limit=limit, window=window, **kw)  # type: ignore[arg-type]  # fmt: skip

    return [
        spec("req", "bucket", 5, 60, rate=10),
        spec("tok", "bucket", 1000, 60, rate=1000, throttleable=False),
        spec("day", "window", 150, 86400),
        spec("conc", "concurrency", 3, 30),
        spec("nov", "novelty", 12, 600, repeat_cost=0.25),
        spec("shadow", "bucket", 2, 60, rate=2, mode="shadow"),
        spec("model", "bucket", 8, 10, rate=7, scope="global"),
    ]


async def test_random_workload_agrees(
    redis_url: str, redis_cluster_url: str, key_prefix: str
) -> None:
    clock = FakeClock()
    keys = KeyBuilder(key_prefix)
    single, cluster = redis_client(redis_url, timeout=2), redis_client(redis_cluster_url, timeout=2)
    stores: list[BudgetStore] = [
        MemoryBudgetStore(clock), RedisBudgetStore(single, clock), RedisBudgetStore(cluster, clock)
    ]  # fmt: skip
    specs = budgets(keys)
    level_key = keys.account_level("c", "a")
    rng = random.Random(7)
    admitted = refused = 0
    try:
        for i in range(300):
            clock.advance(rng.choice([0.0, 0.0, 0.3, 1.7, 6.0, 45.0]))
            if i % 40 == 0:
                level = Level(rng.choice([0, 0, 0, 1, 1, 3]))
                for store in stores:
                    await store.set_level(level_key, level, 60)
            charges = (
                Charge(specs[0]), Charge(specs[1], cost=rng.choice([10, 300, 600, 1200])),
                Charge(specs[2]), Charge(specs[3]), Charge(specs[4], cell=rng.randrange(20)),
                Charge(specs[5]), Charge(specs[6], cost=rng.choice([1, 2])),
            )  # fmt: skip
            request = AcquireRequest(f"r{i}", charges, level_keys=(level_key,), throttle_factor=0.5)
            results = [await store.acquire(request) for store in stores]
            assert results[1] == results[0], f"step {i}: redis differs from memory"
            assert results[2] == results[0], f"step {i}: cluster differs from memory"
            admitted += results[0].allowed
            refused += not results[0].allowed
            if results[0].allowed and rng.random() < 0.7:
                settlement = Settlement(
                    f"r{i}",
                    adjustments=((specs[1], rng.randrange(-400, 400)), (specs[2], 1)),
                    releases=(specs[3],),
                )
                for store in stores:
                    await store.settle(settlement)
        assert admitted > 30 and refused > 30  # the workload exercised both outcomes
    finally:
        await delete_prefix(single, key_prefix)
        await delete_prefix(cluster, key_prefix)
        for store in stores:
            await store.close()
