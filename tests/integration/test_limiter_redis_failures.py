"""ResilientStore against a real redis-server that dies, hangs and comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal

import pytest
from redis_servers import RedisServer, free_port, silent_server

from gateway.clock import SystemClock
from gateway.limiter.factory import build_backend
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.resilient import ResilientStore
from gateway.model import AcquireRequest, BudgetSpec, Charge, Settlement
from gateway.redis.client import redis_client
from gateway.redis.mux import Endpoint, Multiplexer
from gateway.redis.scripts import Script
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
    async with silent_server() as port:
        store = resilient(f"redis://127.0.0.1:{port}/0", "open")
        try:
            for i in range(5):
                result, took = await timed(lambda i=i: store.acquire(req(i)))
                assert result.fallback and took < STALL  # type: ignore[attr-defined]
        finally:
            await store.close()


async def test_a_frozen_redis_costs_one_deadline_then_the_breaker_skips_it(
    redis_servers: Callable[[], RedisServer],
) -> None:
    """SIGSTOP: the socket stays open and nothing answers. The first call waits the store
    deadline (250 ms by default), the next ones the short suspect deadline, then the breaker
    is open and calls neither wait nor write; the fallback starts from the states seen."""
    server = redis_servers()
    backend = build_backend(server.url, failure_mode=lambda: "open", replicas=2)
    store = backend.budgets
    assert isinstance(store, ResilientStore) and isinstance(store.primary, RedisBudgetStore)
    try:
        assert not (await store.acquire(req(0))).fallback
        server.freeze()
        results = [await timed(lambda i=i: store.acquire(req(i))) for i in range(1, 4)]
        latencies = [took for _, took in results]
        print(f"\nfrozen Redis: first calls {[round(t * 1000) for t in latencies]} ms")
        assert sum(latencies) < 0.6 and max(latencies) < 0.45, latencies
        assert all(r.allowed and r.fallback for r, _ in results)  # type: ignore[attr-defined]
        assert not store.available
        writes = store.primary.round_trips
        for i in range(4, 20):
            result, took = await timed(lambda i=i: store.acquire(req(i)))
            assert result.allowed and took < 0.05  # type: ignore[attr-defined]
        assert store.primary.round_trips == writes  # open: the socket is left alone
        server.thaw()
        deadline = time.monotonic() + 10
        recovered = False
        while time.monotonic() < deadline and not recovered:
            await asyncio.sleep(0.2)
            recovered = not (await store.acquire(req(999))).fallback
        assert recovered and store.available
    finally:
        server.thaw()
        await backend.close()


async def test_the_mux_cuts_a_frozen_connection_and_bounds_the_reconnect(
    redis_servers: Callable[[], RedisServer],
) -> None:
    """Without any caller deadline, a reply owed for ``timeout`` seconds with no reply
    meanwhile aborts the connection (every waiter fails); reconnecting to the frozen server
    (TCP accepts, the handshake never answers) fails within ``timeout`` too."""
    server = redis_servers()
    mux = Multiplexer(Endpoint(port=server.port, timeout=0.3), scripts=(Script("t", "return 1"),))
    try:
        assert await mux.execute("PING") == b"PONG"
        server.freeze()
        for _ in range(2):  # the live connection, then a new one
            started = time.perf_counter()
            with pytest.raises(OSError):  # ConnectionError, or TimeoutError in the handshake
                async with asyncio.timeout(5):
                    await asyncio.gather(*(mux.execute("PING") for _ in range(3)))
            assert time.perf_counter() - started < 2.0
        server.thaw()
        assert await mux.execute("PING") == b"PONG"
    finally:
        server.thaw()
        await mux.aclose()


async def test_settlements_do_not_pile_up_on_a_frozen_redis(
    redis_servers: Callable[[], RedisServer],
) -> None:
    """Settlements queued on the shared connection before the breaker knows fail within the
    connection watchdog (3 deadlines), not never; once the breaker is open they are not sent
    at all and settle at once (nothing to wait for, nothing queued)."""
    server = redis_servers()
    backend = build_backend(server.url, failure_mode=lambda: "open", replicas=2)
    store = backend.budgets
    assert isinstance(store, ResilientStore) and isinstance(store.primary, RedisBudgetStore)
    try:
        admitted = [await store.acquire(req(i)) for i in range(20)]
        assert all(r.allowed and not r.fallback for r in admitted)
        server.freeze()
        started = time.perf_counter()
        queued = store.settle_soon([Settlement(f"r{i}", ((BUCKET, -1),)) for i in range(20)])
        assert queued is not None  # the breaker has not seen a failure yet
        with pytest.raises(ConnectionError):  # the watchdog cut the connection
            await asyncio.wait_for(queued, 5)
        assert time.perf_counter() - started < 2.0
        while store.available:  # budget checks time out until the breaker opens
            await store.acquire(req(100))
        writes = store.primary.round_trips
        assert store.settle_soon([Settlement("r1", ((BUCKET, -1),))]) is None
        started = time.perf_counter()
        await store.settle_many([Settlement(f"r{i}", ((BUCKET, -1),)) for i in range(20)])
        assert time.perf_counter() - started < 0.05
        assert store.primary.round_trips == writes
    finally:
        server.thaw()
        await backend.close()
