"""Newcomer cohorts (gateway/detection/newcomers.py) and their floor in the worker.

A drip of light accounts first seen close together, each sending a few never-seen single-turn
asks for long answers at a person's pace, is below every per-account threshold; once enough
of them have joined one cohort, each member whose own stream agrees is floored at the
section's level. Accounts of the same hours whose streams disagree (follow-ups, short
answers), accounts of the warm-up (the existing population) and a cohort too small are not.
Memory and Redis stores answer alike.
"""

from __future__ import annotations

import random

import pytest
from redis.asyncio import Redis
from test_detection_traffic import fingerprint

from gateway.clock import FakeClock
from gateway.detection.batch import Sighting
from gateway.detection.config import DetectionPolicy
from gateway.detection.engine import DetectionEngine
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.newcomer_policy import Newcomers
from gateway.detection.newcomers import Arrival, Join, MemoryNewcomers, join_of
from gateway.detection.newcomers_redis import RedisNewcomers
from gateway.detection.redis_state import RedisStateStore
from gateway.detection.state import DetectorStateStore
from gateway.detection.types import EntityState
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.limiter.store import BudgetStore
from gateway.model import Identity, Level, RequestFeatures
from gateway.redis.keys import KeyBuilder

START = 1_800_000_000.0
DAY = 86400.0
ON = Newcomers(level="throttle")


def _state(
    requests: int = 6, single: float = 1.0, novel: float = 1.0, gap: float = 60.0
) -> EntityState:
    counters = {"req": float(requests), "single": single * requests, "nov_exact": novel * requests}
    return EntityState("a:x", requests=requests, counters=counters, iat_mean=gap)


def test_who_joins_a_cohort() -> None:
    epoch, first = START, START + 2 * DAY
    now = first + 600

    def join(
        state: EntityState | None = None,
        max_tokens: int | None = 1500,
        now: float = now,
        first: float = first,
    ) -> Join | None:
        return join_of("x", state or _state(), max_tokens, "pro", now, first, epoch, ON)

    joined = join()
    assert joined is not None and joined.cell == "pro:human"
    assert join(first=epoch + 3600, now=epoch + 4000) is None  # the existing population
    assert join(now=first + 2 * 3600) is None  # no longer new
    assert join(state=_state(requests=5)) is None  # too few requests
    assert join(max_tokens=256) is None and join(max_tokens=None) is None  # short answers
    assert join(state=_state(single=0.7)) is None  # follow-ups
    assert join(state=_state(novel=0.5)) is None  # repeats
    machine, slow = join(state=_state(gap=2.0)), join(state=_state(gap=400.0))
    assert machine is not None and machine.cell == "pro:machine"
    assert slow is not None and slow.cell == "pro:slow"


async def test_a_cohort_counts_this_and_the_previous_bucket_of_one_cell() -> None:
    store = MemoryNewcomers()
    epoch, firsts = await store.arrive_many([Arrival("a", 10.0, 60.0), Arrival("b", 20.0, 60.0)])
    assert (epoch, firsts) == (10.0, [10.0, 20.0])
    assert (await store.arrive_many([Arrival("a", 30.0, 60.0)]))[1] == [10.0]
    joins = [Join("a", "c", 5, 100.0, 1), Join("b", "c", 6, 100.0, 2)]
    joins += [Join("a", "c", 5, 100.0, 1), Join("d", "other", 6, 100.0, 3)]
    joins += [Join("e", "c", 8, 100.0, 4)]
    # members of this and the previous bucket, and whether the ask is new to the bucket
    # (``a`` bringing its ask again is not)
    found = await store.join_many(joins)
    assert found == [(1, True), (2, True), (1, False), (1, True), (1, True)]


def _sightings(workshop: bool = False) -> list[Sighting]:
    """An old customer on day 0 (the population's epoch), then from day 2 twelve drip
    accounts (``drip-N``, 8 never-seen single-turn asks for long answers, a minute apart,
    one account starting every 4 minutes), and among them ``chat`` (follow-ups) and ``short``
    (max_tokens 200) with the same pace and hours. ``workshop``: the twelve each send the
    same 8 asks (a class running one lab's task set), new to each of them."""
    rng = random.Random(5)
    lab = [fingerprint(rng, cell=rng.getrandbits(14)) for _ in range(8)]
    plan = [("old", START, 1500, 1)]
    plan += [(f"drip-{i}", START + 2 * DAY + 240.0 * i, 1500, 1) for i in range(12)]
    plan += [("chat", START + 2 * DAY + 300.0, 1500, 2), ("short", START + 2 * DAY + 500.0, 200, 1)]
    out = []
    for name, first, max_tokens, turns in plan:
        for i in range(8):
            features = RequestFeatures(
                endpoint="chat", model="m", max_tokens=max_tokens, turns=turns if i % 2 else 1
            )
            at = first + i * 60.0 + rng.uniform(0, 20)
            fp = fingerprint(rng, cell=rng.getrandbits(14))
            if workshop and name.startswith("drip-"):
                fp = lab[i]
            out.append(Sighting(Identity(account_id=name, tier=None), name, 1, fp, features, at))
    return sorted(out, key=lambda s: s.now)


async def _levels(
    state: DetectorStateStore,
    budgets: BudgetStore,
    keys: KeyBuilder,
    clock: FakeClock,
    level: str,
    workshop: bool = False,
    new_asks: bool = True,
) -> dict[str, Level]:
    doc = {"tuning": {"synchrony": False}, "newcomers": {"level": level, "new_asks": new_asks}}
    policy = DetectionPolicy.model_validate(doc)
    engine = DetectionEngine(state, budgets, keys, lambda: policy, clock)
    sightings = _sightings(workshop)
    for at in range(0, len(sightings), 4):
        batch = sightings[at : at + 4]
        clock.set(batch[-1].now)
        await engine.observe_many(batch)
    names = ["old", "chat", "short"] + [f"drip-{i}" for i in range(12)]
    return {n: Level(await budgets.get_level(keys.account_level(n, n))) for n in names}


async def _on_memory(level: str, workshop: bool = False, new_asks: bool = True) -> dict[str, Level]:
    clock = FakeClock(START)
    return await _levels(
        MemoryStateStore(clock),
        MemoryBudgetStore(clock),
        KeyBuilder("t"),
        clock,
        level,
        workshop,
        new_asks,
    )


async def test_a_drip_cohort_is_floored_member_by_member() -> None:
    off, on = await _on_memory("none"), await _on_memory("throttle")
    assert set(off.values()) == {Level.NONE}, off  # each account alone is below every threshold
    assert on["old"] == on["chat"] == on["short"] == Level.NONE, on
    # members join at their 6th request; the cohort reaches 6 members at the 6th account's:
    # it and every later member are floored (the first five were done by then)
    assert [on[f"drip-{i}"] for i in range(12)] == [Level.NONE] * 5 + [Level.THROTTLE] * 7, on


async def test_a_workshop_running_one_task_set_is_not_a_cohort() -> None:
    """The same twelve accounts, each sending the same eight asks (a class signed up in the
    same hour running its lab): each repeats the asks of the first, so the cohort passes
    nothing on (with ``new_asks`` off the class is floored like the drip)."""
    unchecked = await _on_memory("throttle", workshop=True, new_asks=False)
    assert [unchecked[f"drip-{i}"] for i in range(12)] == [Level.NONE] * 5 + [Level.THROTTLE] * 7
    on = await _on_memory("throttle", workshop=True)
    assert set(on.values()) == {Level.NONE}, on


@pytest.mark.redis
async def test_redis_newcomers_answer_as_memory(redis_client: Redis, key_prefix: str) -> None:
    redis = RedisNewcomers(redis_client, KeyBuilder(key_prefix))
    memory = MemoryNewcomers()
    arrivals = [Arrival("a", 10.0, 60.0), Arrival("b", 20.0, 60.0), Arrival("a", 30.0, 60.0)]
    assert await redis.arrive_many(arrivals) == await memory.arrive_many(arrivals)
    joins = [Join("a", "c", 5, 100.0, 1), Join("b", "c", 6, 100.0, 2)]
    joins += [Join("a", "c", 5, 100.0, 1), Join("d", "other", 6, 100.0, 3)]
    assert await redis.join_many(joins) == await memory.join_many(joins)
    for workshop in (False, True):
        clock = FakeClock(START)
        keys = KeyBuilder(f"{key_prefix}{int(workshop)}")
        state = RedisStateStore(redis_client, keys)
        budgets = RedisBudgetStore(redis_client, clock)
        levels = await _levels(state, budgets, keys, clock, "throttle", workshop)
        assert levels == await _on_memory("throttle", workshop)
