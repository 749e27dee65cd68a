"""The last-seen record: memory and Redis stores, and the recorder's write throttling."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from gateway.accounts.recorder import SeenRecorder
from gateway.accounts.seen import MemorySeen, RedisSeen, Seen
from gateway.background.tasks import Background
from gateway.clock import FakeClock
from gateway.proxy.context import RequestContext
from gateway.redis.keys import KeyBuilder


class _Inner:
    def __init__(self) -> None:
        self.finished = 0

    def finish(self, ctx: RequestContext) -> None:
        self.finished += 1


class _Counting(MemorySeen):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.writes: list[tuple[str, str, float]] = []

    async def touch(self, account: str, tier: str, now: float) -> None:
        self.writes.append((account, tier, now))
        await super().touch(account, tier, now)


def _ctx(account: str, tier: str) -> RequestContext:
    from gateway.model import Identity

    ctx = RequestContext(request_id="r", started=0.0, now=0.0)
    ctx.identity = Identity(account_id=account, tier=tier) if account else None
    ctx.tier = tier
    return ctx


async def test_recorder_writes_once_per_refresh_and_on_a_tier_change() -> None:
    clock, background, inner = FakeClock(), Background(), _Inner()
    store = _Counting(clock)
    recorder = SeenRecorder(inner, store, clock, background, refresh=60.0)
    for _ in range(50):
        recorder.finish(_ctx("a", "free"))
    recorder.finish(_ctx("", ""))  # unauthenticated: nothing to note
    await background.drain()
    assert inner.finished == 51 and len(store.writes) == 1
    clock.advance(30)
    recorder.finish(_ctx("a", "pro"))  # the tier changed: written at once
    clock.advance(59)
    recorder.finish(_ctx("a", "pro"))
    clock.advance(1)
    recorder.finish(_ctx("a", "pro"))  # a minute since the last write
    await background.drain()
    assert [w[1] for w in store.writes] == ["free", "pro", "pro"]
    seen = await store.get("a")
    assert seen is not None and seen.tier == "pro"
    assert seen.first_seen == store.writes[0][2] and seen.last_seen == clock.now()


async def test_memory_forgets_after_the_ttl_like_redis_expires() -> None:
    clock = FakeClock(1000.0)
    store = MemorySeen(clock, ttl=100.0)
    await store.touch("a", "free", 1000.0)
    await store.touch("a", "free", 1050.0)
    assert await store.get("a") == Seen("free", 1000.0, 1050.0)
    await store.touch("a", "free", 1200.0)  # quiet for longer than the ttl: seen anew
    assert await store.get("a") == Seen("free", 1200.0, 1200.0)
    clock.set(1300.0)
    assert await store.get("a") is None  # forgotten, as the Redis hash expires
    assert await store.get("nobody") is None


async def test_redis_keeps_first_seen_and_expires(redis_client: Redis, key_prefix: str) -> None:
    store = RedisSeen(redis_client, KeyBuilder(key_prefix), ttl=3600.0)
    assert await store.get("a") is None
    await store.touch("a", "free", 1000.0)
    await store.touch("a", "pro", 2000.0)
    assert await store.get("a") == Seen("pro", 1000.0, 2000.0)
    key = KeyBuilder(key_prefix).subsystem_entity("seen", "a")
    ttl: Any = await redis_client.ttl(key)
    assert 3500 < ttl <= 3600
