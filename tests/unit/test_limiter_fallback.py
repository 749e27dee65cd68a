"""The fail-open fallback limiter (on ``limits``) and its seeding from the states last seen."""

from __future__ import annotations

import types

import limits.storage.memory
import pytest

import gateway.limiter.fallback
from gateway.clock import FakeClock
from gateway.limiter.fallback import FallbackLimiter
from gateway.limiter.seeds import LastSeen
from gateway.model import (
    AcquireRequest,
    AcquireResult,
    BudgetSpec,
    BudgetState,
    Charge,
    Level,
    Settlement,
)

# 5 per minute, burst 5: on 2 replicas, 2 per 48 s each
BUCKET = BudgetSpec("b", "account", "requests", "bucket", "k:b", limit=5, window=60, rate=5)
QUOTA = BudgetSpec("q", "account", "requests", "window", "k:q", limit=200, window=86400)
TOKENS = BudgetSpec("t", "account", "tokens", "bucket", "k:t", limit=100, window=60, rate=100)
CONC = BudgetSpec("c", "account", "concurrency", "concurrency", "k:c", limit=4, window=60)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """One fake time for the seeds and for ``limits``' storage (which reads time.time())."""
    clock = FakeClock()
    fake_time = types.SimpleNamespace(time=clock.now)
    monkeypatch.setattr(limits.storage.memory, "time", fake_time)
    monkeypatch.setattr(gateway.limiter.fallback, "time", fake_time)
    return clock


def req(
    rid: str, *specs: BudgetSpec, cost: int = 1, level_keys: tuple[str, ...] = ()
) -> AcquireRequest:
    return AcquireRequest(rid, tuple(Charge(s, cost) for s in specs), level_keys=level_keys)


def seen_by_redis(seen: LastSeen, request: AcquireRequest, remaining: int, now: float,
                  level: Level = Level.NONE) -> None:  # fmt: skip
    states = tuple(BudgetState(c.budget, True, remaining, 0.0, 0.0) for c in request.charges)
    seen.record(request, AcquireResult(True, states, level), now)


def test_items_are_one_replicas_share_with_the_same_long_run_rate(clock: FakeClock) -> None:
    fallback = FallbackLimiter(clock, 2, LastSeen())
    assert str(fallback.item(BUCKET)) == "2 per 48 second"  # 2 / (5/2 per minute)
    assert str(fallback.item(QUOTA)) == "100 per 86400 second"
    one = BudgetSpec("o", "account", "requests", "bucket", "k:o", limit=1, window=60, rate=1)
    assert str(fallback.item(one)) == "1 per 120 second"  # at least 1, at half the rate


def test_a_bucket_never_seen_starts_empty_and_fills_at_its_share(clock: FakeClock) -> None:
    fallback = FallbackLimiter(clock, 2, LastSeen())
    first = fallback.acquire(req("r0", BUCKET))
    assert not first.allowed and first.fallback
    assert 0 < first.states[0].retry_after <= 48
    clock.advance(48)
    assert [fallback.acquire(req(f"r{i}", BUCKET)).allowed for i in range(3)] == [True, True, False]


def test_a_bucket_seen_starts_from_its_last_state_refilled_since(clock: FakeClock) -> None:
    seen = LastSeen()
    seen_by_redis(seen, req("x", BUCKET), remaining=1, now=clock.now() - 24)  # +2 since
    fallback = FallbackLimiter(clock, 2, seen)
    # 3 left fleet-wide, 1 for this replica
    assert [fallback.acquire(req(f"r{i}", BUCKET)).allowed for i in range(2)] == [True, False]


def test_a_quota_never_seen_starts_with_its_share_and_a_seen_one_from_its_state(
    clock: FakeClock,
) -> None:
    seen = LastSeen()
    other = BudgetSpec("q2", "account", "requests", "window", "k:q2", limit=200, window=86400)
    seen_by_redis(seen, req("x", other), remaining=3, now=clock.now())
    fallback = FallbackLimiter(clock, 2, seen)
    assert fallback.acquire(req("a", QUOTA)).states[0].remaining == 99
    assert [fallback.acquire(req(f"b{i}", other)).allowed for i in range(2)] == [True, False]


def test_all_or_nothing_and_token_true_ups(clock: FakeClock) -> None:
    seen = LastSeen()
    seen_by_redis(seen, req("x", QUOTA, TOKENS), remaining=100, now=clock.now())
    fallback = FallbackLimiter(clock, 1, seen)
    refused = fallback.acquire(AcquireRequest("big", (Charge(QUOTA), Charge(TOKENS, 101))))
    assert not refused.allowed and refused.states[0].allowed  # the quota was not charged
    assert fallback.acquire(req("peek", QUOTA), commit=False).states[0].remaining == 99
    assert fallback.acquire(req("r1", TOKENS, cost=60)).allowed
    assert fallback.admitted("r1")
    assert not fallback.acquire(req("r2", TOKENS, cost=60)).allowed
    fallback.settle(Settlement("r1", adjustments=((TOKENS, -50),)))  # used only 10
    assert fallback.acquire(req("r3", TOKENS, cost=60)).allowed


def test_concurrency_slots_are_released_on_settlement(clock: FakeClock) -> None:
    fallback = FallbackLimiter(clock, 2, LastSeen())
    assert [fallback.acquire(req(f"r{i}", CONC)).allowed for i in range(3)] == [True, True, False]
    fallback.settle(Settlement("r0", releases=(CONC,)))
    assert fallback.acquire(req("r3", CONC)).allowed


def test_levels_seen_on_redis_still_refuse_and_levels_set_meanwhile_count(
    clock: FakeClock,
) -> None:
    seen = LastSeen()
    seen_by_redis(seen, req("x", QUOTA, level_keys=("lvl:a", "lvl:c")), 5, clock.now(), Level.BLOCK)
    fallback = FallbackLimiter(clock, 1, seen)
    blocked = fallback.acquire(req("r", QUOTA, level_keys=("lvl:a",)))
    assert not blocked.allowed and blocked.level == Level.BLOCK
    fallback.set_level("lvl:a", Level.NONE, 60)  # an operator unblocked it meanwhile
    assert fallback.acquire(req("r2", QUOTA, level_keys=("lvl:a",))).allowed
    fallback.set_level("lvl:b", Level.CHALLENGE, 60)
    assert fallback.get_level("lvl:b") == Level.CHALLENGE
    assert fallback.set_flag("f", 60) and not fallback.set_flag("f", 60)


def test_reset_seeds_the_next_outage_afresh(clock: FakeClock) -> None:
    seen = LastSeen()
    seen_by_redis(seen, req("x", BUCKET), remaining=0, now=clock.now())
    fallback = FallbackLimiter(clock, 2, seen)
    assert not fallback.acquire(req("r0", BUCKET)).allowed
    fallback.reset()  # Redis is back, and says the budget is full again
    seen_by_redis(seen, req("y", BUCKET), remaining=5, now=clock.now())
    assert [fallback.acquire(req(f"r{i}", BUCKET)).allowed for i in range(3)] == [True, True, False]
