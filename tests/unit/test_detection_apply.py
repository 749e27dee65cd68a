"""The worker's apply side: a batch of sightings with ids counts once, however often it is
applied (a worker SIGKILLed after applying, before acknowledging; another claims its entries).

Counted sightings: every account's and the cluster's request count must equal the number of
distinct sightings delivered, and the detector states and level keys must equal those of a
clean run that applied each batch once, on the memory stores and on a real Redis.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from redis.asyncio import Redis
from test_detection_batch import MEMBERS, START, Rig, workload

from gateway.clock import FakeClock
from gateway.detection.batch import Sighting
from gateway.detection.redis_state import RedisStateStore
from gateway.detection.state import ScoreWrite
from gateway.detection.types import EntityState, ScoreState
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.redis.keys import KeyBuilder

ENTITIES = ("a:h0", "a:h1", "a:h2", "c:org", "a:honest", "a:tutor", "a:solo")


class Died(Exception):
    """The worker was killed (here: between its store calls)."""


def with_ids(sightings: list[Sighting]) -> list[Sighting]:
    """Stream ids as the transport gives them: ``shard:entry id``."""
    return [replace(s, id=f"{i % 3}:{1800000000000 + i}-0") for i, s in enumerate(sightings)]


def detector_state(state: EntityState) -> EntityState:
    return replace(state, score=ScoreState(), pin=None)


async def redis_rig(client: Redis, prefix: str) -> Rig:
    keys = KeyBuilder(prefix)
    clock = FakeClock(START)
    return Rig(clock, RedisStateStore(client, keys), RedisBudgetStore(client, clock), keys)


def fresh_worker(rig: Rig) -> Rig:
    """Another worker process on the same stores (its own engine, in-process state)."""
    return Rig(rig.clock, rig.state, rig.budgets, rig.keys)


async def apply(rig: Rig, batches: list[list[Sighting]]) -> None:
    for batch in batches:
        rig.clock.set(batch[-1].now)
        await rig.engine.observe_many(batch)


def split(sightings: list[Sighting], size: int) -> list[list[Sighting]]:
    return [sightings[at : at + size] for at in range(0, len(sightings), size)]


async def dies_before_scores(rig: Rig, batch: list[Sighting]) -> None:
    """Apply ``batch`` and die after the observations, before the scores were saved."""
    save = rig.state.save_scores

    async def killed(writes: list[ScoreWrite]) -> None:
        raise Died

    rig.state.save_scores = killed  # type: ignore[method-assign]
    rig.clock.set(batch[-1].now)
    with pytest.raises(Died):
        await rig.engine.observe_many(batch)
    rig.state.save_scores = save  # type: ignore[method-assign]


async def check_counted(rig: Rig, clean: Rig, sightings: list[Sighting]) -> None:
    now = sightings[-1].now
    observed = [s for s in sightings if s.features.retry_count == 0]
    for name in (*MEMBERS, "honest", "tutor", "solo"):
        state = await rig.state.load(f"a:{name}", now)
        assert state.requests == sum(1 for s in observed if s.identity.account_id == name)
    org = await rig.state.load("c:org", now)
    assert org.requests == sum(1 for s in observed if s.cluster_id == "org")
    for entity in ENTITIES:
        got, want = await rig.state.load(entity, now), await clean.state.load(entity, now)
        assert detector_state(got) == detector_state(want)
    assert await rig.levels() == await clean.levels()


async def test_a_batch_applied_twice_counts_once_on_memory() -> None:
    sightings = with_ids(workload(80))
    clean, twice = Rig.memory(), Rig.memory()
    await apply(clean, split(sightings, 32))
    for batch in split(sightings, 32):
        await apply(twice, [batch, batch])
    await check_counted(twice, clean, sightings)


async def test_a_killed_worker_s_entries_claimed_by_another_count_once_on_memory() -> None:
    sightings = with_ids(workload(80))
    batches = split(sightings, 32)
    clean, rig = Rig.memory(), Rig.memory()
    await apply(clean, batches)
    await apply(rig, batches[:2])
    await dies_before_scores(rig, batches[2])
    other = fresh_worker(rig)
    # the claimed entries come back together with new ones, in other batch boundaries
    await apply(other, split([*batches[2], *[s for b in batches[3:] for s in b]], 20))
    await check_counted(other, clean, sightings)


@pytest.mark.redis
async def test_killed_worker_and_redelivery_count_once_on_redis(
    redis_client: Redis, key_prefix: str
) -> None:
    sightings = with_ids(workload(80))
    batches = split(sightings, 32)
    clean = await redis_rig(redis_client, key_prefix + "c")
    rig = await redis_rig(redis_client, key_prefix + "r")
    await apply(clean, batches)  # (the fixture deletes both rigs' keys: same prefix)
    await apply(rig, [batches[0], batches[0], batches[1]])  # applied, never acknowledged
    await dies_before_scores(rig, batches[2])
    other = fresh_worker(rig)
    await apply(other, split([*batches[1], *[s for b in batches[2:] for s in b]], 20))
    await check_counted(other, clean, sightings)


async def test_without_ids_a_second_apply_counts_twice() -> None:
    """The test above can fail: without ids nothing tells a redelivery from new traffic."""
    sightings = workload(40)
    rig = Rig.memory()
    await apply(rig, [sightings, sightings])
    state = await rig.state.load("a:honest", sightings[-1].now)
    assert state.requests == 2 * sum(1 for s in sightings if s.identity.account_id == "honest")


async def test_a_worker_retrying_its_own_batch_records_co_activity_once() -> None:
    """The co-activity tracker lives in the worker: its own retry must not count twice."""
    sightings = with_ids(workload(40))
    rig = Rig.memory()
    recorded: list[tuple[str, float]] = []
    record = rig.engine.synchrony.record

    def counting(account: str, now: float, policy: object) -> None:
        recorded.append((account, now))
        record(account, now, policy)  # type: ignore[arg-type]

    rig.engine.synchrony.record = counting  # type: ignore[method-assign]
    for batch in split(sightings, 16):
        await apply(rig, [batch, batch])
    observed = [(s.identity.account_id, s.now) for s in sightings if s.features.retry_count == 0]
    assert recorded == observed
