"""Batched observation (the worker's path) against one by one.

A mixed workload (a three-member harvesting cluster, an honest and a tutoring account, a
retry) is observed one request at a time on one rig and in batches on another. Batches of
one agree in every field. In bigger batches each entity is scored once, after the batch:
the detector states (everything but the scorer's memory) and the level keys at the end must
agree, on the memory stores and on a real Redis (shared fixtures in tests/conftest.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from redis.asyncio import Redis
from test_detection_traffic import HARVESTER, HONEST, TUTOR, events

from gateway.clock import FakeClock
from gateway.detection.batch import Sighting
from gateway.detection.config import DetectionPolicy
from gateway.detection.engine import DetectionEngine
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.redis_state import RedisStateStore
from gateway.detection.state import DetectorStateStore
from gateway.detection.types import Assessment, EntityState, ScoreState
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.store import BudgetStore
from gateway.model import Identity, Level
from gateway.redis.keys import KeyBuilder

START = 1_800_000_000.0
MEMBERS = ("h0", "h1", "h2")
LONERS = {"honest": (HONEST, 3), "tutor": (TUTOR, 3), "solo": (HARVESTER, 1)}  # count divisor


def workload(count: int = 150) -> list[Sighting]:
    """Time-ordered sightings: three harvesters in cluster "org", three solitary accounts."""
    out: list[Sighting] = []
    for i, member in enumerate(MEMBERS):
        for t, fp, features in events(HARVESTER, count, seed=10 + i):
            ident = Identity(account_id=member, tier=None)
            out.append(Sighting(ident, "org", 3, fp, features, START + t + i * 0.25))
    for seed, (name, (persona, share)) in enumerate(LONERS.items()):
        for t, fp, features in events(persona, count // share, seed=20 + seed):
            out.append(
                Sighting(Identity(account_id=name, tier=None), name, 1, fp, features, START + t)
            )
    out.sort(key=lambda s: s.now)
    retried = out[40]  # an SDK retry: read, never observed
    out[41:41] = [replace(retried, features=replace(retried.features, retry_count=1))]
    return out


class Rig:
    def __init__(
        self, clock: FakeClock, state: DetectorStateStore, budgets: BudgetStore, keys: KeyBuilder
    ) -> None:
        self.clock = clock
        self.keys = keys
        self.budgets = budgets
        self.state = state
        self.policy = DetectionPolicy.model_validate({"verification": {"enabled": True}})
        self.engine = DetectionEngine(state, budgets, keys, lambda: self.policy, clock)

    @classmethod
    def memory(cls) -> Rig:
        clock = FakeClock(START)
        return cls(clock, MemoryStateStore(clock), MemoryBudgetStore(clock), KeyBuilder("t"))

    async def one_by_one(self, sightings: list[Sighting]) -> list[tuple[Assessment, Assessment]]:
        out = []
        for s in sightings:
            self.clock.set(s.now)
            out.append(
                await self.engine.observe(
                    s.identity, s.cluster_id, s.cluster_size, s.fingerprint, s.features, s.now
                )
            )
        return out

    async def batched(
        self, sightings: list[Sighting], size: int
    ) -> list[tuple[Assessment, Assessment]]:
        out = []
        for at in range(0, len(sightings), size):
            batch = sightings[at : at + size]
            self.clock.set(batch[-1].now)
            out += await self.engine.observe_many(batch)
        return out

    async def levels(self) -> dict[str, Level]:
        keys = {m: self.keys.account_level("org", m) for m in MEMBERS}
        keys.update({name: self.keys.account_level(name, name) for name in LONERS})
        keys["org"] = self.keys.cluster_level("org")
        return {name: await self.budgets.get_level(key) for name, key in keys.items()}


def _summary(pairs: list[tuple[Assessment, Assessment]]) -> list[tuple[object, ...]]:
    return [
        (a.entity, a.level, a.changed, a.pinned, a.reasons, c.entity, c.level, c.changed)
        for a, c in pairs
    ]


def _detector_state(state: EntityState) -> EntityState:
    """The state without the scorer's memory (held score, pins)."""
    return replace(state, score=ScoreState(), pin=None)


async def test_batches_of_one_equal_one_by_one_in_every_field() -> None:
    sightings = workload()
    one, many = Rig.memory(), Rig.memory()
    expected = await one.one_by_one(sightings)
    got = await many.batched(sightings, 1)
    assert got == expected  # every field, scores included
    assert Level.BLOCK in {c.level for _, c in expected}  # the workload reaches the top
    assert any(a.pinned for a, _ in expected)  # and a verification pin
    assert await many.levels() == await one.levels()


@pytest.mark.parametrize("size", [7, 64])
async def test_batches_on_memory_end_like_one_by_one(size: int) -> None:
    sightings = workload()
    one, many = Rig.memory(), Rig.memory()
    await one.one_by_one(sightings)
    got = await many.batched(sightings, size)
    assert await many.levels() == await one.levels()
    assert Level.BLOCK in set((await one.levels()).values())
    assert any(a.pinned for a, _ in got)
    now = sightings[-1].now
    for entity in ("a:h0", "a:h2", "c:org", "a:honest", "a:tutor", "a:solo"):
        assert _detector_state(await many.state.load(entity, now)) == _detector_state(
            await one.state.load(entity, now)
        )


@pytest.mark.parametrize("size", [7, 64])
async def test_each_entity_is_scored_once_per_batch(size: int) -> None:
    sightings = workload(60)
    rig = Rig.memory()
    scored: list[str] = []
    rig.engine.on_assessment = lambda a: scored.append(a.entity)
    for at in range(0, len(sightings), size):
        batch = sightings[at : at + size]
        scored.clear()
        rig.clock.set(batch[-1].now)
        pairs = await rig.engine.observe_many(batch)
        assert len(scored) == len(set(scored))  # no entity twice
        observed = {s.identity.account_id for s in batch if s.features.retry_count == 0}
        assert {f"a:{a}" for a in observed} <= set(scored)
        for s, (a, _) in zip(batch, pairs, strict=True):  # the entity's verdict, each time
            assert a.entity == f"a:{s.identity.account_id}"


@pytest.mark.redis
async def test_batches_on_redis_end_like_one_by_one_in_memory(
    redis_client: Redis, key_prefix: str
) -> None:
    sightings = workload(120)
    keys = KeyBuilder(key_prefix)
    one, in_memory = Rig.memory(), Rig.memory()
    clock = FakeClock(START)
    budgets = RedisBudgetStore(redis_client, clock)
    on_redis = Rig(clock, RedisStateStore(redis_client, keys), budgets, keys)
    await one.one_by_one(sightings)
    expected = await in_memory.batched(sightings, 32)
    got = await on_redis.batched(sightings, 32)
    assert _summary(got) == _summary(expected)
    for (a, c), (ea, ec) in zip(got, expected, strict=True):
        assert (a.score, c.score) == pytest.approx((ea.score, ec.score), rel=1e-9, abs=1e-12)
    assert await on_redis.levels() == await one.levels()
