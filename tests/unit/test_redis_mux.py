"""The hot path's shared, auto-pipelined Redis connection (real Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis_servers import RedisServer

from gateway.clock import FakeClock
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import AcquireRequest, BudgetSpec, Charge, Settlement
from gateway.redis.keys import KeyBuilder
from gateway.redis.mux import Endpoint, Multiplexer
from gateway.redis.scripts import Script
from gateway.store_errors import ScriptMissing

pytestmark = pytest.mark.redis


def _slots(keys: KeyBuilder, account: str, limit: int) -> BudgetSpec:
    key = keys.account_budget(account, account, "c")
    return BudgetSpec("c", "account", "concurrency", "concurrency", key, limit=limit, window=60)


def _tokens(keys: KeyBuilder, account: str) -> BudgetSpec:
    key = keys.account_budget(account, account, "t")
    return BudgetSpec("t", "account", "tokens", "bucket", key, limit=1000, window=60, rate=1000)


async def test_concurrent_acquires_and_settlements_share_writes(
    redis_client: Redis, key_prefix: str
) -> None:
    store = RedisBudgetStore(redis_client, FakeClock())
    keys = KeyBuilder(key_prefix)
    tokens, slots = _tokens(keys, "acct"), _slots(keys, "acct", 100)
    await store.peek(AcquireRequest("warm", (Charge(tokens, 0),)))  # connected, scripts loaded
    connected = store.round_trips or 0
    requests = [AcquireRequest(f"r{i}", (Charge(tokens, 5), Charge(slots))) for i in range(40)]
    results = await asyncio.gather(*(store.acquire(r) for r in requests))
    assert all(r.allowed for r in results)
    assert store.round_trips is not None and store.round_trips - connected <= 2  # not 40
    before = store.round_trips
    await store.settle_many([Settlement(r.request_id, (), (slots,)) for r in requests])
    assert store.round_trips - before == 1
    free = await store.peek(AcquireRequest("p", (Charge(slots),)))
    assert free.states[0].remaining == 100 - 1  # every slot released (the peek takes one)
    remaining = [r.states[0].remaining for r in results]
    assert sorted(remaining, reverse=True) == [1000 - 5 * (i + 1) for i in range(40)]


async def test_deferred_settlements_ride_with_the_next_budget_check_ahead_of_it(
    redis_client: Redis, key_prefix: str
) -> None:
    # a long linger: only the next acquire can carry the settlement out
    store = RedisBudgetStore(redis_client, FakeClock(), settle_linger=30.0)
    one = _slots(KeyBuilder(key_prefix), "ride", 1)
    assert (await store.acquire(AcquireRequest("r1", (Charge(one),)))).allowed
    before = store.round_trips or 0
    settled = asyncio.ensure_future(store.settle_many([Settlement("r1", (), (one,))]))
    await asyncio.sleep(0.05)
    assert not settled.done() and store.round_trips == before  # waiting for a ride
    # the next request of the same account finds its slot free: the release went first
    assert (await store.acquire(AcquireRequest("r2", (Charge(one),)))).allowed
    await asyncio.wait_for(settled, 1.0)
    assert store.round_trips == before + 1  # settlement and acquire in one write


async def test_deferred_settlements_leave_alone_after_the_linger(
    redis_client: Redis, key_prefix: str
) -> None:
    store = RedisBudgetStore(redis_client, FakeClock(), settle_linger=0.02)
    one = _slots(KeyBuilder(key_prefix), "alone", 1)
    assert (await store.acquire(AcquireRequest("r1", (Charge(one),)))).allowed
    await asyncio.wait_for(store.settle_many([Settlement("r1", (), (one,))]), 1.0)
    other = RedisBudgetStore(redis_client, FakeClock())  # another replica sees the release
    assert (await other.peek(AcquireRequest("r2", (Charge(one),)))).allowed


async def test_an_abandoned_call_does_not_put_replies_out_of_step(redis_url: str) -> None:
    mux = Multiplexer(Endpoint.of(Redis.from_url(redis_url)))
    try:
        slow = asyncio.ensure_future(mux.execute("ECHO", "first"))
        await asyncio.sleep(0)
        slow.cancel()  # the caller gives up; its reply still arrives and is dropped
        assert await mux.execute("ECHO", "second") == b"second"
        replies = await asyncio.gather(*(mux.execute("ECHO", str(i)) for i in range(50)))
        assert replies == [str(i).encode() for i in range(50)]
    finally:
        await mux.aclose()


async def test_scripts_the_server_never_saw_are_sent_whole_once(redis_url: str) -> None:
    mux = Multiplexer(Endpoint.of(Redis.from_url(redis_url)))
    script = Script("t", f"-- {uuid.uuid4()}\nreturn ARGV[1] .. '!'")
    try:
        assert await mux.run(script, 0, ["a"]) == b"a!"  # NOSCRIPT, then EVAL
        assert await mux.run(script, 0, ["b"]) == b"b!"  # EVAL cached it: EVALSHA works
        assert await mux.run_deferred_many(script, [(0, ["c"])]) == [b"c!"]
    finally:
        await mux.aclose()


async def test_a_lost_connection_fails_waiting_callers_and_the_next_call_reconnects(
    redis_client: Redis, redis_url: str, key_prefix: str
) -> None:
    mux = Multiplexer(Endpoint.of(Redis.from_url(redis_url)))
    try:
        mine = await mux.execute("CLIENT", "ID")
        waiting = asyncio.ensure_future(mux.execute("BLPOP", f"{key_prefix}:never", 5))
        await asyncio.sleep(0.05)
        assert await redis_client.execute_command("CLIENT", "KILL", "ID", mine) == 1
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(waiting, 2.0)
        assert await mux.execute("PING") == b"PONG"  # a new connection
        assert await mux.execute("CLIENT", "ID") != mine
    finally:
        await mux.aclose()


async def test_a_server_that_stops_answering_is_cut_off(
    redis_client: Redis, redis_url: str
) -> None:
    mux = Multiplexer(Endpoint.of(Redis.from_url(redis_url)), max_waiting=3)
    try:
        await mux.execute("PING")
        await redis_client.execute_command("CLIENT", "PAUSE", 300, "ALL")
        calls = [asyncio.ensure_future(mux.execute("PING")) for _ in range(5)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, ConnectionError) for r in results)
        await redis_client.execute_command("CLIENT", "UNPAUSE")
        assert await mux.execute("PING") == b"PONG"
    finally:
        await redis_client.execute_command("CLIENT", "UNPAUSE")
        await mux.aclose()


async def test_the_url_database_and_credentials_are_used(
    redis_client: Redis, redis_url: str, key_prefix: str
) -> None:
    parts = urlsplit(redis_url)
    other_db = parts._replace(path="/7").geturl()
    mux = Multiplexer(Endpoint.of(Redis.from_url(other_db)))
    db7 = Redis.from_url(other_db)
    key = f"{key_prefix}:db"
    try:
        parsed = Endpoint.of(Redis.from_url("redis://u:p@h:1/3"))
        assert (parsed.host, parsed.port, parsed.db) == ("h", 1, 3)
        assert (parsed.username, parsed.password, parsed.ssl) == ("u", "p", None)
        assert Endpoint.of(Redis.from_url("unix:///tmp/r.sock?db=2")).path == "/tmp/r.sock"
        await mux.execute("SET", key, "x", "PX", 5000)
        assert await db7.get(key) == b"x"
        if parts.path != "/7":
            assert await redis_client.get(key) is None
    finally:
        await db7.delete(key)
        await db7.aclose()
        await mux.aclose()


def test_a_store_serves_one_event_loop_after_another(redis_url: str, key_prefix: str) -> None:
    store = RedisBudgetStore(Redis.from_url(redis_url), FakeClock())
    tokens = _tokens(KeyBuilder(key_prefix), "loops")

    async def once() -> int:
        result = await store.acquire(AcquireRequest(uuid.uuid4().hex, (Charge(tokens, 10),)))
        return result.states[0].remaining

    try:
        assert asyncio.run(once()) == 990
        assert asyncio.run(once()) == 980  # a new loop: the connection is opened again
    finally:
        asyncio.run(_cleanup(redis_url, tokens.key))


async def _cleanup(url: str, key: str) -> None:
    client = Redis.from_url(url)
    await client.delete(key)
    await client.aclose()


async def test_a_password_protected_server(redis_servers: Callable[[], RedisServer]) -> None:
    server = redis_servers()  # a private server: its password does not bother other tests
    admin = Redis.from_url(server.url)
    await admin.config_set("requirepass", "s3cret")
    await admin.aclose()
    url = server.url.replace("redis://", "redis://:s3cret@")
    denied = Multiplexer(Endpoint.of(Redis.from_url(server.url)))
    allowed = Multiplexer(Endpoint.of(Redis.from_url(url)))
    try:
        with pytest.raises(ResponseError, match="NOAUTH"):
            await denied.execute("PING")
        assert await allowed.execute("PING") == b"PONG"
    finally:
        await denied.aclose()
        await allowed.aclose()


def test_on_uvloop_the_loop_the_gateway_runs_on(redis_url: str) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def main() -> list[bytes]:
        mux = Multiplexer(Endpoint.of(Redis.from_url(redis_url)), linger=0.01)
        script = Script("t", "return ARGV[1]")
        try:
            now = asyncio.gather(*(mux.execute("ECHO", str(i)) for i in range(3)))
            later = mux.run_deferred_many(script, [(0, ["d"])])
            return [*(await now), *(await later)]
        finally:
            await mux.aclose()

    assert uvloop.run(main()) == [b"0", b"1", b"2", b"d"]


async def test_settle_soon_is_queued_before_any_later_budget_check(
    redis_client: Redis, key_prefix: str
) -> None:
    store = RedisBudgetStore(redis_client, FakeClock(), settle_linger=30.0)
    one = _slots(KeyBuilder(key_prefix), "soon", 1)
    assert (await store.acquire(AcquireRequest("r1", (Charge(one),)))).allowed
    queued = store.settle_soon([Settlement("r1", (), (one,))])
    assert queued is not None  # connected: queued synchronously, nothing awaited yet
    # the very next check of the same account, issued right away, finds the slot free
    assert (await store.acquire(AcquireRequest("r2", (Charge(one),)))).allowed
    await asyncio.wait_for(queued, 1.0)


def test_settle_soon_needs_a_connection_in_this_loop(redis_url: str, key_prefix: str) -> None:
    store = RedisBudgetStore(Redis.from_url(redis_url), FakeClock())
    one = _slots(KeyBuilder(key_prefix), "never", 1)

    async def first() -> object:
        return store.settle_soon([Settlement("r", (), (one,))])

    assert asyncio.run(first()) is None  # never connected: the caller takes the async path


async def test_a_fresh_server_has_the_scripts_before_the_first_deferred_settlement(
    redis_servers: Callable[[], RedisServer], key_prefix: str
) -> None:
    server = redis_servers()  # nothing loaded: a deferred EVALSHA would meet NOSCRIPT
    client = Redis.from_url(server.url)
    store = RedisBudgetStore(client, FakeClock())
    one = _slots(KeyBuilder(key_prefix), "fresh", 1)
    try:
        assert (await store.acquire(AcquireRequest("r1", (Charge(one),)))).allowed
        queued = store.settle_soon([Settlement("r1", (), (one,))])
        assert queued is not None
        await asyncio.wait_for(queued, 1.0)  # no ScriptMissing: loaded at connect
        assert (await store.peek(AcquireRequest("r2", (Charge(one),)))).allowed
    finally:
        await store.close()


async def test_a_flushed_script_cache_is_no_store_failure(
    redis_servers: Callable[[], RedisServer], key_prefix: str
) -> None:
    from gateway.limiter.resilient import ResilientStore

    server = redis_servers()
    client = Redis.from_url(server.url)
    redis_store = RedisBudgetStore(client, FakeClock())
    store = ResilientStore(redis_store, FakeClock(), lambda: "closed", batcher=redis_store)
    one = _slots(KeyBuilder(key_prefix), "flushed", 10)
    try:
        for i in range(5):
            assert (await store.acquire(AcquireRequest(f"r{i}", (Charge(one),)))).allowed
        await client.script_flush()
        failed = [store.settle_soon([Settlement(f"r{i}", (), (one,))]) for i in range(5)]
        for queued in failed:
            assert queued is not None
            with pytest.raises(ScriptMissing):
                await asyncio.wait_for(queued, 1.0)
        assert store.available and store.errors == 0  # the breaker did not open
        result = await store.acquire(AcquireRequest("after", (Charge(one),)))
        assert result.allowed and not result.fallback  # still decided by Redis
    finally:
        await store.close()


async def test_the_settle_stage_sends_a_batch_again_after_noscript(
    redis_servers: Callable[[], RedisServer], key_prefix: str
) -> None:
    from gateway.background.tasks import Background
    from gateway.limiter.resilient import ResilientStore
    from gateway.proxy.context import RequestContext
    from gateway.proxy.settle import InFlightLeases, Settler

    server = redis_servers()
    client = Redis.from_url(server.url)
    redis_store = RedisBudgetStore(client, FakeClock())
    store = ResilientStore(redis_store, FakeClock(), lambda: "closed", batcher=redis_store)
    one = _slots(KeyBuilder(key_prefix), "again", 1)
    background = Background()
    settler = Settler(store, background, InFlightLeases(), batcher=store)
    try:
        assert (await store.acquire(AcquireRequest("r1", (Charge(one),)))).allowed
        await client.script_flush()  # the queued settlement will meet NOSCRIPT
        ctx = RequestContext(request_id="r1", started=0.0, now=0.0)
        ctx.acquired, ctx.concurrency = True, (one,)
        settler.finish(ctx)
        for _ in range(50):
            await asyncio.sleep(0.02)
            if background.pending == 0:
                break
        await background.drain()
        assert (await store.peek(AcquireRequest("r2", (Charge(one),)))).allowed  # released
        assert store.available and store.errors == 0
    finally:
        await store.close()
