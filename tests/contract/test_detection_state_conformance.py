"""Detector state stores (memory, a real Redis and a Redis Cluster) apply batches alike,
idempotently.

A recorded sequence of observations of one entity (three members, templated prompts, follow-
ups, a window epoch boundary) is applied one by one and in entity batches; with sighting ids,
applying a batch again (a worker died before acknowledging it) changes nothing, on both
stores, and the ids an entity remembers are bounded.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from typing import Any

import pytest
from redis_servers import delete_prefix

from gateway.clock import FakeClock
from gateway.detection import memory_state, redis_state
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.redis_state import RedisStateStore
from gateway.detection.state import DetectorStateStore, EntityBatch, FanoutRequest, Seen
from gateway.detection.types import EntityState, Observation
from gateway.redis.client import RedisClient, redis_client
from gateway.redis.keys import KeyBuilder

WINDOW, HALF_LIFE = 3600.0, 900.0
START = 1_800_000_000.0 - 600.0  # the sequence crosses a window epoch
ENTITY = "c:org"
AT = START + 3600.0  # the applying worker's clock


def recorded(count: int = 90, seed: int = 7) -> list[Seen]:
    """A harvesting cluster's observations: three members, three templates, some follow-ups
    and repeated prompts, a regular clock with bursts; each with its sighting id."""
    rng = random.Random(seed)
    t, out, sent = START, [], [0]
    for i in range(count):
        t += rng.choice((0.5, 1.0, 20.0, 45.0))
        follow_up = rng.random() < 0.2
        # a follow-up's conversation: one this entity started (its first ask sent) or not
        thread = (rng.choice(sent) or 1) if rng.random() < 0.5 else rng.getrandbits(64) | 1
        obs = Observation(
            cell=rng.getrandbits(20) if rng.random() < 0.8 else 12345,
            skeleton=rng.choice((11, 22, 33)),
            exact=rng.getrandbits(64) if rng.random() < 0.9 else 999,
            elicitation=rng.random(),
            params=rng.random() < 0.3,
            single_turn=not follow_up,
            max_output=rng.random() < 0.5,
            topic=rng.randrange(128),
            member=f"m{i % 3}",
            fanout=rng.random() < 0.5,
            limited=rng.random() < 0.1,
            follow_up=follow_up,
            system=rng.random() < 0.5,
            system_elicitation=rng.random() * 0.5,
            product=(i % 5) / 5,  # distillation-product asks (the "prod" counter)
            thread=thread if follow_up else 0,
            thread_topic=rng.randrange(128),
        )
        sent.append(obs.exact)
        out.append(Seen(obs, t, f"{i % 4}:{1700000000000 + i}-0"))
    return out


def batches(seen: list[Seen], size: int) -> list[EntityBatch]:
    """``seen`` in batches of ``size``, split at window epochs (as the engine does)."""
    out: list[EntityBatch] = []
    for at in range(0, len(seen), size):
        run: list[Seen] = []
        for s in seen[at : at + size]:
            if run and int(s.now // WINDOW) != int(run[-1].now // WINDOW):
                out.append(EntityBatch(ENTITY, tuple(run), WINDOW, HALF_LIFE))
                run = []
            run.append(s)
        out.append(EntityBatch(ENTITY, tuple(run), WINDOW, HALF_LIFE))
    return out


def same(a: EntityState, b: EntityState) -> None:
    fa, fb = asdict(a), asdict(b)
    counters_a, counters_b = fa.pop("counters"), fb.pop("counters")
    assert fa == fb
    assert counters_a == pytest.approx(counters_b, rel=1e-12)


class Rig:
    def __init__(
        self, kind: str, store: DetectorStateStore, redis: RedisClient | None, prefix: str
    ):
        self.kind, self.store, self.redis, self.prefix = kind, store, redis, prefix

    async def raw(self) -> dict[str, Any]:
        """Every detector key's value (Redis), without the applied ids and TTLs."""
        assert self.redis is not None
        out: dict[str, Any] = {}
        async for key in self.redis.scan_iter(match=f"{self.prefix}*"):
            name = key.decode()
            kind = await self.redis.type(key)
            if name.endswith(":ids"):
                continue
            if kind == b"hash":
                out[name] = await self.redis.hgetall(key)
            elif kind == b"set":
                out[name] = await self.redis.smembers(key)
            else:
                out[name] = await self.redis.get(key) if kind == b"string" else kind
        return out


@pytest.fixture(params=["memory", "redis", "cluster"])
async def rig(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[Rig]:
    if request.param == "memory":
        yield Rig("memory", MemoryStateStore(FakeClock(START)), None, key_prefix)
        return
    fixture = "redis_url" if request.param == "redis" else "redis_cluster_url"
    client = redis_client(request.getfixturevalue(fixture), timeout=2.0)
    try:
        store = RedisStateStore(client, KeyBuilder(key_prefix))
        yield Rig(request.param, store, client, key_prefix)
    finally:
        await delete_prefix(client, key_prefix)
        await client.aclose()


async def one_by_one(store: DetectorStateStore, seen: list[Seen], entity: str) -> EntityState:
    state = EntityState(entity)
    for s in seen:
        state = await store.observe(entity, s.obs, s.now, window=WINDOW, half_life=HALF_LIFE)
    return state


@pytest.mark.redis
@pytest.mark.parametrize("size", [1, 4, 32, 90])
async def test_entity_batches_equal_one_by_one(rig: Rig, size: int) -> None:
    seen = recorded()
    expected = await one_by_one(MemoryStateStore(FakeClock(START)), seen, ENTITY)
    states = await rig.store.observe_batches(batches(seen, size), AT)
    assert len({int(s.now // WINDOW) for s in seen}) == 2  # batches split at the epoch
    same(states[-1], expected)
    assert expected.requests == 90 and 0 < expected.share("tpl") < 1
    assert expected.counter("sync") > 0 and 0 < sum(expected.histogram) < 90


@pytest.mark.redis
async def test_a_batch_applied_twice_counts_once(rig: Rig) -> None:
    seen = recorded(40)
    first = await rig.store.observe_batches(batches(seen, 16), AT)
    raw = await rig.raw() if rig.redis is not None else None
    again = await rig.store.observe_batches(batches(seen, 16), AT)
    same(again[-1], first[-1])
    assert again[-1].requests == 40
    if rig.redis is not None:  # no counter, bitmap or histogram byte changed
        assert await rig.raw() == raw


@pytest.mark.redis
async def test_an_overlapping_redelivery_applies_only_the_new_sightings(rig: Rig) -> None:
    seen = recorded(40)
    expected = await one_by_one(MemoryStateStore(FakeClock(START)), seen, ENTITY)
    await rig.store.observe_batches(batches(seen[:25], 25), AT)  # applied, never acknowledged
    claimed = seen[10:25] + seen[25:]  # another worker: the claimed entries, then new ones
    states = await rig.store.observe_batches(batches(claimed, 30), AT)
    same(states[-1], expected)


@pytest.mark.redis
async def test_sightings_without_ids_are_always_applied(rig: Rig) -> None:
    seen = [replace(s, sighting="") for s in recorded(10)]
    await rig.store.observe_batches(batches(seen, 10), AT)
    states = await rig.store.observe_batches(batches(seen, 10), AT)
    assert states[-1].requests == 20


@pytest.mark.redis
async def test_remembered_ids_are_bounded_in_number_and_time(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_state, "APPLIED_CAP", 4)
    monkeypatch.setattr(memory_state, "APPLIED_CAP", 4)
    seen = recorded(10)
    await rig.store.observe_batches(batches(seen, 10), AT)
    # four ids are remembered (applied at the same time: the last four by id)
    states = await rig.store.observe_batches(batches(seen, 10), AT)
    assert states[-1].requests == 16
    later = AT + redis_state.APPLIED_HORIZON + 1.0  # ids applied before the horizon: forgotten
    late = [replace(s, sighting=f"late{i}") for i, s in enumerate(seen[-3:])]
    before = (await rig.store.observe_batches(batches(late, 10), later))[-1].requests
    again = (await rig.store.observe_batches(batches(seen[-1:], 10), later))[-1]
    assert again.requests == before + 1
    replayed = (await rig.store.observe_batches(batches(late, 10), later))[-1]
    assert replayed.requests == again.requests  # the recent ones are still remembered
    if rig.redis is not None:
        key = KeyBuilder(rig.prefix).detection(ENTITY, "ids")
        assert await rig.redis.zcard(key) <= 4
        assert 0 < await rig.redis.pttl(key) <= redis_state.APPLIED_HORIZON * 1000


@pytest.mark.redis
async def test_template_fan_out_counts_in_order_and_ignores_replays(rig: Rig) -> None:
    accounts = ["a", "b", "a", "c", "b", "d"]
    calls = [FanoutRequest(0xABC, name, 600.0) for name in accounts]
    calls.insert(3, FanoutRequest(0xDEF, "z", 600.0))
    counts = await rig.store.fanout_many(calls)
    assert counts == [1, 2, 2, 1, 3, 3, 4]
    assert await rig.store.fanout_many(calls) == [4, 4, 4, 1, 4, 4, 4]


def crowded(count: int, seed: int = 11) -> list[Seen]:
    """A heavy entity: ``count`` observations, most with a new cell, skeleton and prompt (more
    than a sparse set holds), a quarter repeating an earlier one, on ever higher coarse topics;
    it crosses a window epoch."""
    rng = random.Random(seed)
    base, t, out = recorded(1)[0].obs, START, []
    for i in range(count):
        t += 1.5
        again = rng.random() < 0.25
        bits = rng.randrange(1 << 14) if not again else (i * 7919) % 97
        obs = replace(
            base, cell=bits, skeleton=bits ^ 0x55, exact=bits * 3, member=f"m{i % 2}", topic=i // 12
        )  # topics climbing batch by batch: the histogram grows
        out.append(Seen(obs, t, f"0:{1700000000000 + i}-0"))
    return out


@pytest.mark.redis
async def test_heavy_entities_switch_to_bitmaps_with_the_same_answers(rig: Rig) -> None:
    seen = crowded(1500)
    expected = await one_by_one(MemoryStateStore(FakeClock(START)), seen, ENTITY)
    states = await rig.store.observe_batches(batches(seen, 64), AT)
    same(states[-1], expected)
    assert 0.3 < expected.share("nov_exact") < 0.9
    if rig.redis is not None:  # dense now: bitmaps; a light entity keeps small sets
        keys = KeyBuilder(rig.prefix)
        epoch = int(seen[-1].now // WINDOW)
        for kind in ("cell", "skel", "exact"):
            dense = keys.detection(ENTITY, kind, str(epoch))
            assert await rig.redis.type(dense) == b"string"
            # written at its size (2^14 bits), not grown bit by bit into a doubled allocation
            assert await rig.redis.strlen(dense) == 2048
            assert (await rig.redis.memory_usage(dense) or 0) < 3072  # jemalloc: 2560
        topics = keys.detection(ENTITY, "topics", str(epoch))
        copy = keys.detection(ENTITY, "topics", "copy")
        await rig.redis.set(copy, await rig.redis.get(topics) or b"")
        usage = [await rig.redis.memory_usage(k) or 0 for k in (topics, copy)]
        # the histogram holds no slack: the same bytes as a fresh string of its value (TTL aside)
        assert 0 < usage[0] <= usage[1] + 32
        await rig.redis.delete(copy)
        light = recorded(12)
        await rig.store.observe_batches(
            [replace(b, entity="a:light") for b in batches(light, 12)], AT
        )
        epoch = str(int(light[0].now // WINDOW))
        sparse = keys.detection("a:light", "bits", epoch)  # the three kinds in one small set
        assert await rig.redis.type(sparse) == b"set"
        assert await rig.redis.object("encoding", sparse) == b"intset"
        assert (await rig.redis.memory_usage(sparse) or 0) < 200
        for kind in ("cell", "skel", "exact"):
            assert not await rig.redis.exists(keys.detection("a:light", kind, epoch))
        heavy = keys.detection(ENTITY, "bits", str(int(seen[-1].now // WINDOW)))
        assert await rig.redis.get(heavy) == b"split"  # moved into its kinds' keys


@pytest.mark.redis
async def test_conversations_taken_over_count_alike(rig: Rig) -> None:
    """A follow-up whose conversation's first ask the entity never sent counts as ``adopt``
    and its thread's topic as a new topic; one whose first ask it sent counts neither."""
    first = Observation(cell=1, skeleton=2, exact=0xABCDEF, elicitation=0.0, params=False,
                        single_turn=True, max_output=False, topic=5)  # fmt: skip
    own = replace(first, exact=77, single_turn=False, follow_up=True, topic=6, thread=0xABCDEF,
                  thread_topic=7)  # fmt: skip
    other = replace(own, exact=78, thread=0x123457, thread_topic=9)
    seen = [Seen(first, START, ""), Seen(own, START, ""), Seen(other, START, "")]
    state = await one_by_one(rig.store, seen, "a:relay")
    assert state.counter("adopt") == pytest.approx(1.0)
    assert state.counter("single") == pytest.approx(1.0)
    assert state.histogram[5] == 1 and state.histogram[9] == 1
    assert state.histogram[6] == 0 and state.histogram[7] == 0


async def _as_earlier_layout(client: RedisClient, keys: KeyBuilder, epoch: int) -> None:
    """Move an epoch's shared set of bits into its kinds' keys, as the earlier layout kept
    them."""
    shared = keys.detection(ENTITY, "bits", str(epoch))
    members = sorted(int(m) for m in await client.smembers(shared))
    assert members
    for m in members:
        kind = (m + 32768) // 16384
        name = ("cell", "skel", "exact")[kind]
        await client.sadd(keys.detection(ENTITY, name, str(epoch)), m + 32768 - 16384 * kind)
    await client.delete(shared)


@pytest.mark.redis
@pytest.mark.parametrize("cut", ["current", "previous"])
async def test_bits_of_the_earlier_layout_are_read_alike(rig: Rig, cut: str) -> None:
    """An epoch whose bits sit in the kinds' own keys (the layout before the shared set) is
    read and written there (marked ``split`` by its first new bit): the same state as in
    memory, whether the epoch is still the current one or already the previous one."""
    if rig.redis is None:
        pytest.skip("Redis layouts")
    seen = recorded(90)
    expected = await one_by_one(MemoryStateStore(FakeClock(START)), seen, ENTITY)
    keys = KeyBuilder(rig.prefix)
    epochs = sorted({int(s.now // WINDOW) for s in seen})
    first = len([s for s in seen if int(s.now // WINDOW) == epochs[0]])
    at = first if cut == "previous" else first // 2
    await rig.store.observe_batches(batches(seen[:at], 8), AT)
    await _as_earlier_layout(rig.redis, keys, epochs[0])
    states = await rig.store.observe_batches(batches(seen[at:], 8), AT)
    same(states[-1], expected)
    shared = [keys.detection(ENTITY, "bits", str(e)) for e in epochs]
    assert await rig.redis.type(shared[-1]) == b"set"
    if cut == "current":  # its first new bit found the kinds' keys: marked
        assert await rig.redis.get(shared[0]) == b"split"
