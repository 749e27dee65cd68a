from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from gateway.clock import FakeClock
from gateway.limiter.factory import build_backend, build_store
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.resilient import ResilientStore
from gateway.redis.client import redis_client


async def test_memory_url() -> None:
    backend = build_backend("memory://", clock=FakeClock(), prefix="x")
    assert isinstance(backend.budgets, MemoryBudgetStore)
    assert backend.redis is None and backend.keys.prefix == "x"
    await backend.close()


async def test_redis_url_is_lazy_and_wrappable() -> None:
    # port 1 is never a Redis: building must not connect
    backend = build_backend("redis://127.0.0.1:1/2", failure_mode=lambda: "open", replicas=3)
    assert isinstance(backend.budgets, ResilientStore)
    assert isinstance(backend.budgets.primary, RedisBudgetStore)
    assert isinstance(backend.redis, Redis)
    assert backend.redis.connection_pool.connection_kwargs["db"] == 2
    await backend.close()
    assert isinstance(build_store("redis://127.0.0.1:1/0"), RedisBudgetStore)


async def test_cluster_url() -> None:
    client = redis_client("redis+cluster://127.0.0.1:7000,127.0.0.1:7001")
    assert isinstance(client, RedisCluster)
    assert {n.port for n in client.nodes_manager.startup_nodes.values()} == {7000, 7001}
    await client.aclose()


def test_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unsupported store URL"):
        build_backend("mongodb://x")
