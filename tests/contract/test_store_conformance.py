"""One suite, three stores: memory, a real Redis and a real Redis Cluster (fake time)."""

from __future__ import annotations

import asyncio
import math

import pytest
from store_env import StoreEnv

from gateway.budgets.arithmetic import MAX_CELL
from gateway.model import AcquireRequest, AcquireResult, BudgetSpec, Charge, Level, Settlement

pytestmark = pytest.mark.redis


def req(rid: str, *charges: Charge, **kw: object) -> AcquireRequest:
    return AcquireRequest(rid, charges, **kw)  # type: ignore[arg-type]


async def remaining(env: StoreEnv, spec: BudgetSpec, cell: int | None = None) -> int:
    result = await env.store.peek(
        req("peek", Charge(spec, 0 if spec.algorithm != "novelty" else 1, cell))
    )
    return result.states[0].remaining


async def burst(env: StoreEnv, spec: BudgetSpec, n: int) -> list[AcquireResult]:
    return [await env.store.acquire(req(f"r{i}", Charge(spec))) for i in range(n)]


async def test_bucket_burst_then_refuse(env: StoreEnv) -> None:
    spec = env.spec("bucket", limit=5, window=60, rate=5)  # one unit every 12 s
    results = await burst(env, spec, 6)
    assert [r.allowed for r in results] == [True] * 5 + [False]
    assert [r.states[0].remaining for r in results] == [4, 3, 2, 1, 0, 0]
    assert results[0].states[0].reset_after == pytest.approx(12.0)
    refused = results[5].states[0]
    assert refused.retry_after == pytest.approx(12.0)
    assert refused.reset_after == pytest.approx(60.0)


async def test_bucket_refills_over_fake_time(env: StoreEnv) -> None:
    spec = env.spec("bucket", limit=5, window=60, rate=5)
    await burst(env, spec, 5)
    env.clock.advance(11.9)
    assert not (await env.store.acquire(req("x", Charge(spec)))).allowed
    env.clock.advance(0.1)
    assert (await env.store.acquire(req("y", Charge(spec)))).allowed
    env.clock.advance(1000)
    assert await remaining(env, spec) == 5
    assert [r.allowed for r in await burst(env, spec, 6)] == [True] * 5 + [False]


async def test_retry_after_is_exact(env: StoreEnv) -> None:
    spec = env.spec("bucket", limit=2, window=7, rate=3)  # interval 7/3 s
    await burst(env, spec, 2)
    refused = await env.store.acquire(req("x", Charge(spec)))
    wait = refused.states[0].retry_after
    assert wait == pytest.approx(7 / 3, abs=1e-6)
    env.clock.advance(wait - 0.001)
    assert not (await env.store.acquire(req("y", Charge(spec)))).allowed
    env.clock.advance(0.001)
    assert (await env.store.acquire(req("z", Charge(spec)))).allowed


async def test_window_quota_aligned_to_epoch(env: StoreEnv) -> None:
    spec = env.spec("window", limit=3, window=86400)
    env.clock.advance(3600)  # FakeClock starts at midnight UTC
    results = await burst(env, spec, 4)
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.states[0].remaining for r in results] == [2, 1, 0, 0]
    assert results[3].states[0].retry_after == pytest.approx(86400 - 3600)
    env.clock.advance(86400 - 3600 - 1)
    assert not (await env.store.acquire(req("late", Charge(spec)))).allowed
    env.clock.advance(1)
    assert (await env.store.acquire(req("next-day", Charge(spec)))).allowed
    assert await remaining(env, spec) == 2


@pytest.mark.parametrize("refusing", ["account", "cluster", "global"])
async def test_all_or_nothing(env: StoreEnv, refusing: str) -> None:
    scopes = ["account", "cluster", "global"]
    specs = {s: env.spec("bucket", limit=1 if s == refusing else 10, window=60, rate=1, scope=s)
             for s in scopes}  # fmt: skip
    window = env.spec("window", limit=10, window=3600, scope="global")
    charges = [Charge(specs[s]) for s in scopes] + [Charge(window)]
    assert (await env.store.acquire(req("first", *charges))).allowed
    refused = await env.store.acquire(req("second", *charges))
    assert not refused.allowed
    assert [s.allowed for s in refused.states] == [s != refusing for s in scopes] + [True]
    for scope in scopes:
        assert await remaining(env, specs[scope]) == (0 if scope == refusing else 9)
    assert await remaining(env, window) == 9


async def test_shadow_budget_reports_but_neither_refuses_nor_charges(env: StoreEnv) -> None:
    enforced = env.spec("bucket", limit=10, window=60, rate=1)
    shadow = env.spec("bucket", limit=1, window=60, rate=1, mode="shadow")
    first = await env.store.acquire(req("a", Charge(enforced), Charge(shadow)))
    assert first.allowed and first.states[1].allowed
    second = await env.store.acquire(req("b", Charge(enforced), Charge(shadow)))
    assert second.allowed
    assert not second.states[1].allowed and second.states[1].retry_after > 0
    assert await remaining(env, enforced) == 8
    env.clock.advance(60)  # the shadow bucket was not charged by the refused request
    assert await remaining(env, shadow) == 1


async def test_concurrency_acquire_release_and_lease_expiry(env: StoreEnv) -> None:
    spec = env.spec("concurrency", limit=2, window=30)
    one = await env.store.acquire(req("one", Charge(spec)))
    two = await env.store.acquire(req("two", Charge(spec)))
    three = await env.store.acquire(req("three", Charge(spec)))
    assert (one.allowed, two.allowed, three.allowed) == (True, True, False)
    assert (one.states[0].remaining, two.states[0].remaining) == (1, 0)
    assert 0 < three.states[0].retry_after <= 1.0
    again = await env.store.acquire(req("two", Charge(spec)))
    assert again.allowed  # the same request id holds its slot
    await env.store.settle(Settlement("one", releases=(spec,)))
    assert (await env.store.acquire(req("three", Charge(spec)))).allowed
    assert not (await env.store.acquire(req("four", Charge(spec)))).allowed
    env.clock.advance(30.5)  # every lease expired: a crashed replica's slots come back
    assert (await env.store.acquire(req("five", Charge(spec)))).allowed
    assert (await env.store.acquire(req("six", Charge(spec)))).allowed


async def test_refresh_leases_keeps_long_streams(env: StoreEnv) -> None:
    spec = env.spec("concurrency", limit=2, window=30)
    await env.store.acquire(req("long", Charge(spec)))
    await env.store.acquire(req("short", Charge(spec)))
    env.clock.advance(20)
    await env.store.refresh_leases({spec.key: ["long", "ghost"]}, 30)
    env.clock.advance(15)  # "short" expired, "long" still leased
    assert (await env.store.acquire(req("new", Charge(spec)))).allowed
    assert not (await env.store.acquire(req("newer", Charge(spec)))).allowed
    assert await remaining(env, spec) == 0


async def test_token_settlement_refunds_and_charges(env: StoreEnv) -> None:
    tokens = env.spec("bucket", limit=1000, window=60, rate=1000)
    quota = env.spec("window", limit=5000, window=86400)
    charges = (Charge(tokens, 800), Charge(quota, 800))
    result = await env.store.acquire(req("t", *charges))
    assert [s.remaining for s in result.states] == [200, 4200]
    await env.store.settle(Settlement("t", adjustments=((tokens, -500), (quota, -500))))
    assert await remaining(env, tokens) == 700
    assert await remaining(env, quota) == 4700
    await env.store.settle(Settlement("t", adjustments=((tokens, 900), (quota, 900))))
    assert await remaining(env, tokens) == 0  # in debt: 200 over
    assert await remaining(env, quota) == 3800
    refused = await env.store.acquire(req("u", Charge(tokens, 1)))
    assert not refused.allowed
    assert refused.states[0].retry_after == pytest.approx(201 * 0.06)
    await env.store.settle(Settlement("t", adjustments=((tokens, -100000), (quota, -100000))))
    assert await remaining(env, tokens) == 1000  # a refund never overfills
    assert await remaining(env, quota) == 5000


async def test_oversized_charge_never_passes_and_charges_nothing(env: StoreEnv) -> None:
    small = env.spec("bucket", limit=100, window=60, rate=100)
    other = env.spec("bucket", limit=10, window=60, rate=10)
    quota = env.spec("window", limit=50, window=3600)
    result = await env.store.acquire(req("big", Charge(small, 101), Charge(other), Charge(quota)))
    assert not result.allowed
    assert result.states[0].retry_after == math.inf
    assert result.states[1].allowed
    too_big = await env.store.acquire(req("q", Charge(quota, 51)))
    assert too_big.states[0].retry_after == math.inf
    assert await remaining(env, other) == 10
    assert await remaining(env, quota) == 50


async def test_novelty_new_cells_cost_one_repeats_cost_less(env: StoreEnv) -> None:
    spec = env.spec("novelty", limit=3, window=3600, repeat_cost=0.25)
    env.clock.advance(60)
    seen = []
    for rid, cell in [("a", 1), ("b", 1), ("c", 2), ("d", 3), ("e", 1), ("f", 1), ("g", 2)]:
        result = await env.store.acquire(req(rid, Charge(spec, cell=cell)))
        state = result.states[0]
        seen.append((result.allowed, state.novel, state.remaining))
    # used: 1, 1.25, 2.25, (3.25 refused), 2.5, 2.75, 3.0
    assert seen == [
        (True, True, 2), (True, False, 1), (True, True, 0), (False, True, 0),
        (True, False, 0), (True, False, 0), (True, False, 0),
    ]  # fmt: skip
    assert not (await env.store.acquire(req("h", Charge(spec, cell=1)))).allowed
    env.clock.advance(3600 - 60)  # next window: everything is new again
    fresh = await env.store.acquire(req("i", Charge(spec, cell=1)))
    assert fresh.allowed and fresh.states[0].novel is True and fresh.states[0].remaining == 2
    with pytest.raises(ValueError):
        await env.store.acquire(req("j", Charge(spec, cell=MAX_CELL)))


async def test_throttle_scales_throttleable_buckets_only(env: StoreEnv) -> None:
    throttled = env.spec("bucket", limit=4, window=40, rate=4)  # 10 s per unit
    steady = env.spec("bucket", limit=4, window=40, rate=4, throttleable=False)
    await env.store.set_level(env.level_key, Level.THROTTLE, 3600)
    results = []
    for i in range(5):
        r = await env.store.acquire(
            req(f"r{i}", Charge(throttled), level_keys=(env.level_key,), throttle_factor=0.5)
        )
        results.append(r)
    assert [r.allowed for r in results] == [True, True, False, False, False]
    assert results[0].level == Level.THROTTLE
    assert results[2].states[0].retry_after == pytest.approx(20.0)
    plain = [
        await env.store.acquire(
            req(f"s{i}", Charge(steady), level_keys=(env.level_key,), throttle_factor=0.5)
        )
        for i in range(5)
    ]
    assert [r.allowed for r in plain] == [True] * 4 + [False]


async def test_challenge_needs_clearance_and_block_refuses(env: StoreEnv) -> None:
    spec = env.spec("bucket", limit=10, window=60, rate=10)
    levels = (env.level_key, env.cluster_level_key)

    async def ask(rid: str) -> AcquireResult:
        return await env.store.acquire(
            req(rid, Charge(spec), level_keys=levels, clearance_keys=(env.clearance_key,))
        )

    await env.store.set_level(env.cluster_level_key, Level.CHALLENGE, 600)
    challenged = await ask("a")
    assert not challenged.allowed and not challenged.cleared
    assert challenged.level == Level.CHALLENGE
    assert await remaining(env, spec) == 10
    assert await env.store.set_flag(env.clearance_key, 300)
    cleared = await ask("b")
    assert cleared.allowed and cleared.cleared
    await env.store.set_level(env.level_key, Level.BLOCK, 600)
    blocked = await ask("c")
    assert not blocked.allowed and blocked.level == Level.BLOCK
    assert await remaining(env, spec) == 9
    env.clock.advance(601)  # both levels expire (fake time, also in Redis)
    assert await env.store.get_level(env.level_key) == Level.NONE
    assert (await ask("d")).level == Level.NONE


async def test_levels_round_trip_and_clear(env: StoreEnv) -> None:
    assert await env.store.get_level(env.level_key) == Level.NONE
    await env.store.set_level(env.level_key, Level.DEGRADE, 60)
    assert await env.store.get_level(env.level_key) == Level.DEGRADE
    await env.store.set_level(env.level_key, Level.NONE, 60)
    assert await env.store.get_level(env.level_key) == Level.NONE


async def test_set_flag_is_set_once_until_it_expires(env: StoreEnv) -> None:
    key = env.keys.subsystem("challenge", "nonce", "n1")
    assert await env.store.set_flag(key, 10)
    assert not await env.store.set_flag(key, 10)
    env.clock.advance(10.5)
    assert await env.store.set_flag(key, 10)


async def test_peek_does_not_consume(env: StoreEnv) -> None:
    bucket = env.spec("bucket", limit=3, window=60, rate=3)
    window = env.spec("window", limit=3, window=60)
    novelty = env.spec("novelty", limit=3, window=60, repeat_cost=0.5)
    conc = env.spec("concurrency", limit=1, window=60)
    charges = (Charge(bucket), Charge(window), Charge(novelty, cell=7), Charge(conc))
    for _ in range(5):
        peeked = await env.store.peek(req("p", *charges))
        assert peeked.allowed
        assert [s.remaining for s in peeked.states] == [2, 2, 2, 0]
        assert peeked.states[2].novel is True
    taken = await env.store.acquire(req("p", *charges))
    assert [s.remaining for s in taken.states] == [2, 2, 2, 0]
    assert not (await env.store.peek(req("q", *charges))).allowed


async def test_concurrent_acquires_admit_exactly_the_burst(env: StoreEnv) -> None:
    spec = env.spec("bucket", limit=20, window=3600, rate=20)
    results = await asyncio.gather(
        *(env.store.acquire(req(f"r{i}", Charge(spec))) for i in range(200))
    )
    assert sum(r.allowed for r in results) == 20


async def test_ping(env: StoreEnv) -> None:
    assert await env.store.ping()
