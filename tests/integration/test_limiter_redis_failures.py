"""ResilientStore against a real redis-server that dies, hangs and comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal

import pytest
from redis_servers import RedisServer, free_port

from gateway.clock import SystemClock
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.resilient import ResilientStore
from gateway.model import AcquireRequest, BudgetSpec, Charge
from gateway.redis.client import redis_client
from gateway.store_errors import StoreUnavailable

pytestmark = [pytest.mark.redis, pytest.mark.slow]

BUCKET = BudgetSpec(
    "b", "account", "requests", "bucket", "fail:{c:x}:b", limit=1000, window=60, rate=1000
)
STALL = 0.6  # no single call may take longer than this while Redis is dead


def resilient(url: str, mode: Literal["open", "closed"]) -> ResilientStore:
    primary = RedisBudgetStore(redis_client(url, timeout=0.2))
    return ResilientStore(
        primary,
        SystemClock(),
        lambda: mode,
        replicas=2,
        op_timeout=0.2,
        failures=2,
        open_for=0.5,
        batcher=primary,
    )


async def timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    try:
        result = await call()  # type: ignore[misc]
    except StoreUnavailable as exc:
        result = exc
    return result, time.perf_counter() - started


def req(i: int) -> AcquireRequest:
    return AcquireRequest(f"r{i}", (Charge(BUCKET),))


async def test_open_mode_serves_from_fallback_then_recovers(
    redis_servers: Callable[[], RedisServer],
) -> None:
    server = redis_servers()
    store = resilient(server.url, "open")
    try:
        first = await store.acquire(req(0))
        assert first.allowed and not first.fallback and store.available
        server.kill()
        latencies = []
        for i in range(40):
            result, took = await timed(lambda i=i: store.acquire(req(i)))
            latencies.append(took)
            assert not isinstance(result, Exception) and result.allowed  # type: ignore[attr-defined]
            assert result.fallback  # type: ignore[attr-defined]
        assert max(latencies) < STALL
        assert sorted(latencies)[len(latencies) // 2] < 0.01  # the breaker skips Redis
        assert not store.available and store.errors >= 2
        server.start()  # same port
        deadline = time.monotonic() + 10
        recovered = False
        while time.monotonic() < deadline and not recovered:
            await asyncio.sleep(0.1)
            recovered = not (await store.acquire(req(999))).fallback
        assert recovered and store.available
    finally:
        await store.close()


async def test_closed_mode_raises_fast(redis_servers: Callable[[], RedisServer]) -> None:
    server = redis_servers()
    store = resilient(server.url, "closed")
    try:
        assert (await store.acquire(req(0))).allowed
        server.kill()
        for i in range(10):
            result, took = await timed(lambda i=i: store.acquire(req(i)))
            assert isinstance(result, StoreUnavailable)
            assert took < STALL
    finally:
        await store.close()


async def test_start_up_with_redis_down_does_not_crash() -> None:
    store = resilient(f"redis://127.0.0.1:{free_port()}/0", "open")
    try:
        result, took = await timed(lambda: store.acquire(req(0)))
        assert result.fallback and took < STALL  # type: ignore[attr-defined]
        assert not await store.ping()
    finally:
        await store.close()


async def test_a_redis_that_never_answers_is_cut_by_the_timeout() -> None:
    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)  # read the command, never answer
        await asyncio.sleep(30)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = resilient(f"redis://127.0.0.1:{port}/0", "open")
    try:
        for i in range(5):
            result, took = await timed(lambda i=i: store.acquire(req(i)))
            assert result.fallback and took < STALL  # type: ignore[attr-defined]
    finally:
        await store.close()
        server.close()
