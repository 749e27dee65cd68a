"""A floor's level write: ``set_level`` returns the level it replaced, atomically, so that two
workers raising one account to the same floor audit the raise once; and ``floor_to`` is the
one place of the "never lowers, never re-raises" rule."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from redis.asyncio import Redis
from test_detection_batch import START, Rig

from gateway.clock import FakeClock
from gateway.detection.floors import Scored, floor_to
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.redis_state import RedisStateStore
from gateway.detection.types import EntityState
from gateway.detection.verdicts import verdict_of
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import Level
from gateway.redis.keys import KeyBuilder


def scored(rig: Rig, level: Level = Level.NONE) -> Scored:
    """An account's verdict at ``level`` (its own score's, forced for the test)."""
    state = EntityState("a:acc", requests=3, first_seen=START, last_seen=START)
    verdict = verdict_of(state, rig.policy, START, cluster=False)
    verdict = replace(verdict, assessment=replace(verdict.assessment, level=level))
    return Scored(0, state, verdict, rig.policy, START, "org", "acc", None)


def rigs(state: object, budgets: object, keys: KeyBuilder) -> tuple[Rig, Rig]:
    """Two workers (each its own engine) on the same stores."""
    clock = FakeClock(START)
    one = Rig(clock, state, budgets, keys)  # type: ignore[arg-type]
    return one, Rig(clock, state, budgets, keys)  # type: ignore[arg-type]


async def audited_once(one: Rig, two: Rig) -> None:
    """Both workers raise the account to the same floor at once: one audit of the raise."""
    item = floor_to(scored(one), Level.CHALLENGE, START + 600, "test floor", "synchrony")
    await asyncio.gather(one.engine._apply(item), two.engine._apply(item))
    level = await one.engine.budgets.get_level(one.keys.account_level("org", "acc"))
    assert level == Level.CHALLENGE
    audits = [r for r in await one.state.audit("a:acc") if r.get("path") == "synchrony"]
    assert [(r["from"], r["to"]) for r in audits] == [("none", "challenge")]


async def test_two_workers_raising_one_floor_audit_it_once_on_memory() -> None:
    clock = FakeClock(START)
    await audited_once(*rigs(MemoryStateStore(clock), MemoryBudgetStore(clock), KeyBuilder("t")))


@pytest.mark.redis
async def test_two_workers_raising_one_floor_audit_it_once_on_redis(
    redis_client: Redis, key_prefix: str
) -> None:
    keys, clock = KeyBuilder(key_prefix), FakeClock(START)
    state, budgets = RedisStateStore(redis_client, keys), RedisBudgetStore(redis_client, clock)
    await audited_once(*rigs(state, budgets, keys))  # without SET ... GET: audited twice


@pytest.mark.redis
async def test_set_level_returns_the_level_it_replaced(
    redis_client: Redis, key_prefix: str
) -> None:
    clock = FakeClock(START)
    key = KeyBuilder(key_prefix).account_level("org", "acc")
    for store in (RedisBudgetStore(redis_client, clock), MemoryBudgetStore(clock)):
        assert await store.set_level(key, Level.THROTTLE, 60) == Level.NONE
        assert await store.set_level(key, Level.CHALLENGE, 60) == Level.THROTTLE
        clock.advance(61)  # expired by the clock: nothing was there
        assert await store.set_level(key, Level.BLOCK, 60) == Level.NONE
        assert await store.set_level(key, Level.NONE, 0) == Level.BLOCK
        assert await store.get_level(key) == Level.NONE
        replies = await asyncio.gather(*(store.set_level(key, Level.DEGRADE, 60) for _ in range(8)))
        assert sorted(replies) == [Level.NONE] + [Level.DEGRADE] * 7  # exactly one saw none


def test_floor_to_never_lowers_nor_re_raises() -> None:
    rig = Rig.memory()
    for own in (Level.CHALLENGE, Level.BLOCK):
        item = scored(rig, own)
        assert floor_to(item, Level.CHALLENGE, START + 600, "floor", "synchrony") is item
    raised = floor_to(scored(rig, Level.THROTTLE), Level.CHALLENGE, START + 600, "x", "synchrony")
    assert raised.floor == Level.CHALLENGE and raised.verdict.assessment.level == Level.CHALLENGE
    assert raised.path == "synchrony" and raised.verdict.assessment.reasons[-1] == "x"
