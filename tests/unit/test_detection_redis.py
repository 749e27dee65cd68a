"""Detector state and challenges on a real Redis (shared fixtures in tests/conftest.py)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import asdict, replace

import pytest
from redis.asyncio import Redis
from test_detection_traffic import HARVESTER, HONEST, Persona, events

from gateway.challenges import tokens as pow
from gateway.clock import FakeClock
from gateway.detection.config import DetectionPolicy
from gateway.detection.engine import DetectionEngine
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.observation import observation
from gateway.detection.redis_state import RedisStateStore
from gateway.detection.state import EntityBatch, Seen
from gateway.detection.types import TOPICS, Pin, ScoreState
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import Identity, Level, RequestFeatures
from gateway.redis.keys import KeyBuilder

pytestmark = pytest.mark.redis
DAY = 86400.0


def _structured(features: RequestFeatures, i: int) -> RequestFeatures:
    """Request structure (trace schemas, worked histories, reasoning, resampling) mixed in."""
    return replace(
        features,
        trace_schema=(i * 7919 % 65535 + 1) if i % 3 else 0,
        worked_history=(i * 31 + 1) if i % 3 == 0 else 0,
        reasoning=i % 2 == 0,
        resample=i % 5 == 0,
    )


@pytest.mark.parametrize(
    ("persona", "structure"),
    [(HARVESTER, False), (HONEST, False), (HARVESTER, True)],
    ids=["harvester", "follow-ups", "structure"],
)
async def test_redis_state_matches_the_memory_state(
    redis_client: Redis, key_prefix: str, persona: Persona, structure: bool
) -> None:
    clock = FakeClock()
    memory = MemoryStateStore(clock)
    redis = RedisStateStore(redis_client, KeyBuilder(key_prefix))
    policy = DetectionPolicy()
    start = clock.now()
    for i, (t, fp, features) in enumerate(events(persona, 120, 3)):
        clock.set(start + t)
        features = _structured(features, i) if structure else features
        if structure:  # a system prompt that changes per request (hash bits sb0..sb3) and
            # distillation-product asks on some requests (prod)
            fp = replace(
                fp,
                system=i * 0x9E3779B97F4A7C15 % (1 << 64) or 1,
                product=(0.55, 0.0, 0.72)[i % 3],
            )
        obs = observation(fp, features, policy, clock.now(), member=f"m{i % 3}")
        kw = {"window": DAY, "half_life": 6 * 3600.0}
        a = await memory.observe("c:x", obs, clock.now(), **kw)
        b = await redis.observe("c:x", obs, clock.now(), **kw)
    fa, fb = asdict(a), asdict(b)
    counters_a, counters_b = fa.pop("counters"), fb.pop("counters")
    assert fa == fb
    assert counters_a == pytest.approx(counters_b, rel=1e-9)
    assert b.requests == 120
    if structure:  # the new counters travel through lua/observe.lua
        names = ("trace", "worked", "vb0", "vb1", "vb2", "reason", "resample")
        for name in (*names, "sb0", "sb1", "sb2", "sb3", "prod"):
            assert b.counter(name) > 0, name
    elif persona is HARVESTER:
        assert b.share("tpl") > 0.5
    else:  # follow-ups are kept out of the topic histogram
        assert 0 < sum(b.histogram) < 120


async def test_entity_state_expires_when_idle(redis_client: Redis, key_prefix: str) -> None:
    keys = KeyBuilder(key_prefix)
    store = RedisStateStore(redis_client, keys)
    _, fp, features = next(events(HARVESTER, 1, 1))
    obs = observation(fp, features, DetectionPolicy(), 1000.0)
    await store.observe("a:x", obs, 1000.0, window=600.0, half_life=60.0)
    names = [k async for k in redis_client.scan_iter(match=f"{key_prefix}*")]
    assert len(names) == 3  # state hash, the bits and the topic histogram of this epoch
    for name in names:
        assert name.decode().startswith(keys.subsystem_entity("det", "a:x"))
        assert 0 < await redis_client.ttl(name) <= 1200


async def test_observe_runs_no_type_and_writes_only_changed_fields(
    redis_url: str, redis_client: Redis, key_prefix: str
) -> None:
    """The script's own commands (MONITOR, this test's keys only): no ``TYPE`` (a set command
    is tried first; a bitmap answers it WRONGTYPE), and an observation in the same hour and
    epoch writes no hour or epoch field again."""
    store = RedisStateStore(redis_client, KeyBuilder(key_prefix))
    seen = list(events(HARVESTER, 2, 1))
    policy = DetectionPolicy()
    obs = [observation(fp, f, policy, 1000.0 + i) for i, (_, fp, f) in enumerate(seen)]
    await store.observe("a:x", obs[0], 1000.0, window=600.0, half_life=60.0)
    lines: list[str] = []
    monitor_client = Redis.from_url(redis_url)
    try:
        async with monitor_client.monitor() as monitor:
            await store.observe("a:x", obs[1], 1001.0, window=600.0, half_life=60.0)
            await redis_client.execute_command("ECHO", f"{key_prefix}:done")
            while not lines or f"{key_prefix}:done" not in lines[-1]:
                lines.append(str((await monitor.next_command())["command"]))
    finally:
        await monitor_client.aclose()
    ours = [line for line in lines if key_prefix in line]
    assert any(line.startswith("HSET") for line in ours)
    assert not [line for line in ours if line.startswith("TYPE")]
    hset = next(line for line in ours if line.startswith("HSET"))
    assert " h0 " not in hset and " ep " not in hset  # unchanged: not written again


async def test_score_pin_audit_and_fan_out(redis_client: Redis, key_prefix: str) -> None:
    store = RedisStateStore(redis_client, KeyBuilder(key_prefix))
    await store.save_score("a:x", ScoreState(held=0.75, stamp=5.0, level=Level.DEGRADE,
                                             until=99.0), ttl=60)  # fmt: skip
    await store.set_pin("a:x", Pin(Level.BLOCK, 200.0, "ops", "r", verification=True), now=10.0)
    state = await store.load("a:x", now=50.0)
    assert state.score == ScoreState(held=0.75, stamp=5.0, level=Level.DEGRADE, until=99.0)
    assert state.pin == Pin(Level.BLOCK, 200.0, "ops", "r", verification=True)
    await store.set_pin("a:x", None, now=60.0)
    assert (await store.load("a:x", now=60.0)).pin is None
    for i in range(7):
        await store.append_audit("a:x", {"i": i}, keep=3, ttl=60)
    assert [r["i"] for r in await store.audit("a:x")] == [6, 5, 4]
    counts = [await store.template_fanout(0xABC, f"acct{i % 4}", 600) for i in range(10)]
    assert counts[:4] == [1, 2, 3, 4] and counts[-1] == 4


async def test_engine_on_redis_writes_levels_the_budget_store_reads(
    redis_client: Redis, key_prefix: str
) -> None:
    clock = FakeClock()
    keys = KeyBuilder(key_prefix)
    budgets = RedisBudgetStore(redis_client)
    policy = DetectionPolicy()
    engine = DetectionEngine(RedisStateStore(redis_client, keys), budgets, keys,
                             lambda: policy, clock)  # fmt: skip
    ident = Identity(account_id="acct", tier=None)
    start = clock.now()
    for t, fp, features in events(HARVESTER, 120, 1):
        clock.set(start + t)
        account, _ = await engine.observe(ident, "acct", 1, fp, features, clock.now())
    assert account.level == Level.BLOCK
    level_key = keys.account_level("acct", "acct")
    assert await budgets.get_level(level_key) == Level.BLOCK
    assert 0 < await redis_client.ttl(level_key) <= policy.ttl.block
    view = await engine.view("a:acct")
    assert view["level"] == "block" and view["requests"] == 120
    assert next(r["to"] for r in view["audit"]) == "block"
    await engine.clear("a:acct", "ops", "false positive")
    assert await budgets.get_level(level_key) == Level.NONE


async def test_challenge_replay_rejected_across_replicas(
    redis_client: Redis, key_prefix: str
) -> None:
    clock = FakeClock()
    keys = KeyBuilder(key_prefix)
    secret = b"z" * 32
    replica_a = pow.ChallengeIssuer(secret, clock, RedisBudgetStore(redis_client), keys)
    replica_b = pow.ChallengeIssuer(secret, clock, RedisBudgetStore(redis_client), keys)
    c = replica_a.issue("acct", "POST", "/v1/chat/completions", 10)
    header = pow.header_value(c.token, pow.solve(c.token, 10))
    chat = {"method": "POST", "path": "/v1/chat/completions", "cluster_id": "org"}
    assert await replica_b.verify(header, "acct", **chat)
    assert not await replica_a.verify(header, "acct", **chat)
    assert await redis_client.exists(keys.account_clearance("org", "acct"))


async def test_state_numbers_binary_and_earlier_text_read_alike(
    redis_client: Redis, key_prefix: str
) -> None:
    """observe.lua stores the state's numbers as a zero byte and the 8-byte double; a hash
    written as '%.17g' text (before that layout) is read as the same numbers: the same state
    after the next observation, and load() reads both."""
    keys = KeyBuilder(key_prefix)
    store = RedisStateStore(redis_client, keys)
    policy = DetectionPolicy()
    seen = list(events(HARVESTER, 12, 1))
    obs = [observation(fp, f, policy, 1000.0 + 7 * i) for i, (_, fp, f) in enumerate(seen)]
    kw = {"window": DAY, "half_life": 3600.0}
    for i, o in enumerate(obs[:-1]):
        for entity in ("a:bin", "a:text"):
            await store.observe(entity, o, 1000.0 + 7 * i, **kw)
    stored = await redis_client.hgetall(keys.detection("a:bin", "s"))
    assert stored[b"c:req"][:1] == b"\0" and len(stored[b"c:req"]) == 9
    assert stored[b"h0"][:1] != b"\0"  # hour fields and the epoch stay text
    text = keys.detection("a:text", "s")
    for field, value in (await redis_client.hgetall(text)).items():
        if value[:1] == b"\0":  # as the earlier layout wrote it
            number = struct.unpack_from("<d", value, 1)[0]
            await redis_client.hset(text, field, "0" if number == 0 else f"{number:.17g}")
    assert asdict(await store.load("a:text", 1100.0)) == {
        **asdict(await store.load("a:bin", 1100.0)),
        "entity": "a:text",
    }
    now = 1000.0 + 7 * (len(obs) - 1)
    a = await store.observe("a:bin", obs[-1], now, **kw)
    b = await store.observe("a:text", obs[-1], now, **kw)
    assert asdict(b) == {**asdict(a), "entity": "a:text"}


async def test_topic_histogram_saturates_like_bitfield(
    redis_client: Redis, key_prefix: str
) -> None:
    """The u16 topic counters observe.lua counts itself saturate at 65535 (BITFIELD OVERFLOW
    SAT). A dense histogram (the earlier layout's, or one past the sparse form's size) stays
    dense, grown to exactly the counters it holds; a new one is sparse (topic and counter,
    an odd length) while that is shorter, then dense."""
    keys = KeyBuilder(key_prefix)
    store = RedisStateStore(redis_client, keys)
    _, fp, features = next(events(HARVESTER, 1, 1))
    base = replace(observation(fp, features, DetectionPolicy(), 0.0), follow_up=False)
    epoch = int(1000.0 // DAY)

    def batch(entity: str, topics: Sequence[int], at: float) -> EntityBatch:
        seen = tuple(Seen(replace(base, topic=t), at + i) for i, t in enumerate(topics))
        return EntityBatch(entity, seen, DAY, 3600.0)

    key = keys.detection("a:x", "topics", str(epoch))
    await redis_client.set(key, struct.pack(">2H", 7, 65534))
    state = (await store.observe_batches([batch("a:x", (1, 1, 4, 0, 1), 1000.0)], 1004.0))[0]
    assert await redis_client.get(key) == struct.pack(">5H", 8, 65535, 0, 0, 1)
    assert state.histogram == (8, 65535, 0, 0, 1) + (0,) * (TOPICS - 5)
    key = keys.detection("a:y", "topics", str(epoch))
    state = (await store.observe_batches([batch("a:y", (9, 1, 9, 4), 1000.0)], 1004.0))[0]
    assert await redis_client.get(key) == struct.pack(">BHBHBH", 1, 1, 4, 1, 9, 2)
    assert state.histogram[:10] == (0, 1, 0, 0, 1, 0, 0, 0, 0, 2)
    state = (await store.observe_batches([batch("a:y", (0,), 1010.0)], 1010.0))[0]
    assert await redis_client.get(key) == struct.pack(">BHBHBHBHx", 0, 1, 1, 1, 4, 1, 9, 2)
    many = [t for t in range(40) for _ in range(2 if t == 1 else 1)]
    state = (await store.observe_batches([batch("a:y", many, 1020.0)], 1100.0))[0]
    dense = await redis_client.get(key)  # 40 topics: 80 bytes dense, 121 sparse
    assert len(dense) == 2 * 40 and struct.unpack(">40H", dense) == state.histogram[:40]
    assert state.histogram[:11] == (2, 3, 1, 1, 2, 1, 1, 1, 1, 3, 1)
    assert sum(state.histogram) == 5 + 41
    assert (await store.load("a:y", 1100.0)).histogram == state.histogram
