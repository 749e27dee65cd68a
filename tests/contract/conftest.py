"""The store under test, parametrized over memory, a real Redis and a real Redis Cluster.

Each store gets a FakeClock (the Redis stores send it to their scripts), and a KeyBuilder
with a unique prefix whose keys are deleted after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis_servers import delete_prefix
from store_env import StoreEnv

from gateway.clock import FakeClock
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.redis.client import redis_client
from gateway.redis.keys import KeyBuilder


@pytest.fixture(params=["memory", "redis", "cluster"])
async def env(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[StoreEnv]:
    clock = FakeClock()
    keys = KeyBuilder(key_prefix)
    if request.param == "memory":
        yield StoreEnv("memory", MemoryBudgetStore(clock), clock, keys)
        return
    fixture = "redis_url" if request.param == "redis" else "redis_cluster_url"
    url = request.getfixturevalue(fixture)
    client = redis_client(url, timeout=2.0, max_connections=64)
    # as gateway.limiter.factory builds it: a cluster's node pools fail at once when
    # exhausted, so the store's own calls are bounded (200 concurrent acquires would not be)
    bound = 64 if request.param == "cluster" else None
    store = RedisBudgetStore(client, clock, max_in_flight=bound)
    try:
        yield StoreEnv(request.param, store, clock, keys)
    finally:
        await delete_prefix(client, key_prefix)
        await store.close()
