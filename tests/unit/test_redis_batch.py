"""Fewer round trips off the hot path: command batches, settlement batches, hiredis packing
(real Redis). The hot path's shared connection: ``test_redis_mux.py``."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio.connection as redis_connection
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import RedisError, ResponseError
from redis_servers import silent_server

from gateway.clock import FakeClock
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import AcquireRequest, BudgetSpec, Charge, Settlement
from gateway.redis.batch import run_batch
from gateway.redis.client import redis_client as gateway_client
from gateway.redis.keys import KeyBuilder
from gateway.redis.packing import PackingConnection, connection_class
from gateway.redis.scripts import Script

pytestmark = pytest.mark.redis


def test_hiredis_packing_gives_the_bytes_redis_py_would() -> None:
    python, packing = Connection(), PackingConnection()
    for args in [
        ("EVALSHA", "ab" * 20, 2, "k{x}:1", b"k2", 1.5, 1e-7, -3, 2**64 - 1, "ünï", b"", ""),
        ("CONFIG GET", "maxmemory"),
        (b"SET", "k", float("inf")),
    ]:
        assert b"".join(packing.pack_command(*args)) == b"".join(python.pack_command(*args))
    assert connection_class("redis") is PackingConnection
    assert connection_class("redis+cluster") is None


async def test_run_batch_reloads_lost_scripts_keeps_order_and_reports_errors_in_place(
    redis_client: Redis, key_prefix: str
) -> None:
    # a script no server has seen yet: its calls fail with NOSCRIPT, are reloaded and re-run
    script = Script("t", f"-- {uuid.uuid4()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
    key = f"{key_prefix}:n"
    first = await run_batch(
        redis_client, [script.call(1, [key, 2]), script.call(1, [key, 3])], (script,)
    )
    assert first == [2, 5]
    replies = await run_batch(
        redis_client,
        [script.call(1, [key, 1]), ("GET", key), ("HGET", key, "f"), script.call(1, [key, 1])],
        (script,),
    )
    assert replies[0] == 6 and replies[1] == b"6" and replies[3] == 7
    assert isinstance(replies[2], ResponseError)  # WRONGTYPE, in place; the rest ran
    assert await run_batch(redis_client, []) == []


@contextlib.contextmanager
def _timers_armed() -> Iterator[list[float]]:
    """The read timers redis-py arms meanwhile (their seconds), one per call."""
    armed: list[float] = []
    original = redis_connection.async_timeout  # type: ignore[attr-defined]

    def counting(delay: float | None) -> Any:
        armed.append(delay or 0.0)
        return original(delay)

    setattr(redis_connection, "async_timeout", counting)  # noqa: B010 - not exported
    try:
        yield armed
    finally:
        setattr(redis_connection, "async_timeout", original)  # noqa: B010


async def test_run_batch_reads_a_pipeline_under_one_deadline_not_a_timer_per_reply(
    redis_url: str, key_prefix: str
) -> None:
    client = gateway_client(redis_url, timeout=5)
    key = f"{key_prefix}:timers"
    try:
        await client.ping()  # connected: no connect timer below
        with _timers_armed() as armed:
            replies = await run_batch(client, [("INCR", key)] * 200)
        assert replies == list(range(1, 201))
        with _timers_armed() as single:
            assert await client.get(key) == b"200"  # a single command keeps its read timer
        assert 5.0 in single
        # the pool's wait at most: was one more per reply (~15 % of a worker's CPU)
        assert len(armed) < len(single)
    finally:
        await client.delete(key)
        await client.aclose()


async def test_run_batch_fails_when_redis_stops_answering() -> None:
    async with silent_server() as port:
        client = gateway_client(f"redis://127.0.0.1:{port}", timeout=0.05)
        try:
            with pytest.raises((TimeoutError, RedisError)):
                await run_batch(client, [("GET", "k")] * 3)
        finally:
            await client.aclose()


def _specs(keys: KeyBuilder, account: str) -> tuple[BudgetSpec, BudgetSpec, BudgetSpec]:
    tokens = BudgetSpec(
        "t",
        "account",
        "tokens",
        "bucket",
        keys.account_budget(account, account, "t"),
        limit=1000,
        window=60.0,
        rate=1000.0,
    )
    daily = BudgetSpec(
        "d",
        "account",
        "tokens",
        "window",
        keys.account_budget(account, account, "d"),
        limit=10_000,
        window=86400.0,
    )
    slots = BudgetSpec(
        "c",
        "account",
        "concurrency",
        "concurrency",
        keys.account_budget(account, account, "c"),
        limit=2,
        window=60.0,
    )
    return tokens, daily, slots


async def test_settlements_in_one_batch_equal_one_by_one(
    redis_client: Redis, key_prefix: str
) -> None:
    clock = FakeClock()
    keys = KeyBuilder(key_prefix)
    store = RedisBudgetStore(redis_client, clock)
    results: dict[str, list[int]] = {}
    for mode in ("single", "batch"):
        tokens, daily, slots = _specs(keys, mode)
        settlements = []
        for i in range(2):
            rid = f"{mode}{i}"
            charges = (Charge(tokens, 300), Charge(daily, 300), Charge(slots))
            assert (await store.acquire(AcquireRequest(rid, charges))).allowed
            settlements.append(Settlement(rid, ((tokens, -200 + i), (daily, -100)), (slots,)))
        refused = await store.peek(AcquireRequest("x", (Charge(slots),)))
        assert not refused.allowed  # both slots held
        if mode == "single":
            for s in settlements:
                await store.settle(s)
        else:
            await store.settle_many(settlements)
        after = await store.peek(AcquireRequest("y", (Charge(tokens), Charge(daily))))
        free = await store.peek(AcquireRequest("z", (Charge(slots),)))
        results[mode] = [s.remaining for s in after.states] + [free.states[0].remaining]
    assert results["batch"] == results["single"]
    # what a peek of one more unit would leave: refunds applied, both slots released
    assert results["batch"] == [1000 - 600 + 399 - 1, 10_000 - 400 - 1, 2 - 1]
