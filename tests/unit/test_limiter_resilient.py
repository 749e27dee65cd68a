"""ResilientStore logic against a controllable primary (real Redis failures: tests/integration)."""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest

from gateway.clock import FakeClock
from gateway.limiter.memory import MemoryBudgetStore
from gateway.limiter.resilient import ResilientStore
from gateway.model import AcquireRequest, AcquireResult, BudgetSpec, Charge, Level, Settlement
from gateway.store_errors import StoreUnavailable


class Flaky(MemoryBudgetStore):
    """A memory store that can be switched to failing or hanging."""

    mode: Literal["ok", "fail", "hang"] = "ok"
    calls = 0

    async def acquire(self, request: AcquireRequest) -> AcquireResult:
        self.calls += 1
        if self.mode == "fail":
            raise StoreUnavailable("down")
        if self.mode == "hang":
            await asyncio.sleep(60)
        return await super().acquire(request)

    async def ping(self) -> bool:
        return self.mode == "ok"


BUCKET = BudgetSpec("b", "account", "requests", "bucket", "k:b", limit=10, window=60, rate=10)
CONC = BudgetSpec("c", "account", "concurrency", "concurrency", "k:c", limit=4, window=60)


def build(
    mode: Literal["open", "closed"] = "open", **kw: object
) -> tuple[ResilientStore, Flaky, FakeClock]:
    clock = FakeClock()
    primary = Flaky(clock)
    events: list[str] = []
    store = ResilientStore(
        primary, clock, lambda: mode, replicas=3, op_timeout=0.05, failures=2, open_for=3.0,
        on_error=lambda op, exc: events.append(f"error:{op}"),
        on_fallback=lambda op: events.append(f"fallback:{op}"),
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    store.events = events  # type: ignore[attr-defined]
    return store, primary, clock


def req(rid: str, *specs: BudgetSpec) -> AcquireRequest:
    return AcquireRequest(rid, tuple(Charge(s) for s in specs or (BUCKET,)))


async def test_open_mode_falls_back_with_limits_divided_by_replicas() -> None:
    store, primary, _ = build("open")
    assert not (await store.acquire(req("seen"))).fallback  # Redis said: 9 left
    primary.mode = "fail"
    results = [await store.acquire(req(f"r{i}")) for i in range(5)]
    assert [r.allowed for r in results] == [True, True, True, False, False]  # 9 // 3
    assert all(r.fallback for r in results)
    assert results[0].states[0].budget is BUCKET  # reported against the real budget
    assert not store.available
    assert primary.calls == 3  # the breaker opened after two failures
    assert store.errors == 2 and store.fallbacks == 5
    assert store.events[:3] == ["error:acquire", "fallback:acquire", "error:acquire"]  # type: ignore[attr-defined]


async def test_a_spent_budget_stays_spent_across_the_outage() -> None:
    """A 1/minute account that used its request just before Redis went away is refused by
    the fallback (it used to start full: 3 admissions in 10 s across an outage)."""
    one = BudgetSpec("one", "account", "requests", "bucket", "k:one", limit=1, window=60, rate=1)
    store, primary, clock = build("open")
    assert (await store.acquire(req("a", one))).allowed
    primary.mode = "fail"
    for i in range(6):
        clock.advance(1.5)
        assert not (await store.acquire(req(f"b{i}", one))).allowed


async def test_closed_mode_raises_at_once() -> None:
    store, primary, _ = build("closed")
    primary.mode = "fail"
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            await store.acquire(req("r"))
    assert primary.calls == 2


async def test_hanging_primary_is_cut_by_the_timeout() -> None:
    store, primary, _ = build("open")
    primary.mode = "hang"
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await store.acquire(req("r"))
    assert result.fallback and loop.time() - started < 1.0


async def test_recovers_after_a_successful_probe() -> None:
    store, primary, clock = build("open")
    primary.mode = "fail"
    await store.acquire(req("a"))
    await store.acquire(req("b"))
    primary.mode = "ok"
    assert (await store.acquire(req("c"))).fallback  # still open
    clock.advance(3.0)
    assert (await store.acquire(req("d"))).fallback  # answered at once; the probe started
    await asyncio.sleep(0)
    assert store.available and not (await store.acquire(req("e"))).fallback


async def test_fallback_admitted_requests_settle_on_the_fallback() -> None:
    store, primary, _ = build("open")
    primary.mode = "fail"
    held = [await store.acquire(req(f"r{i}", CONC)) for i in range(2)]
    assert [r.allowed for r in held] == [True, False]  # 4 // 3 = 1 slot per replica
    await store.settle(Settlement("r0", releases=(CONC,)))
    assert (await store.acquire(req("r2", CONC))).allowed


async def test_levels_and_flags_fall_back_too() -> None:
    store, primary, _ = build("open")
    primary.mode = "fail"
    await store.acquire(req("a"))
    await store.acquire(req("b"))  # breaker open now
    await store.set_level("lvl", Level.CHALLENGE, 60)
    assert await store.get_level("lvl") == Level.CHALLENGE
    assert await store.set_flag("f", 60) and not await store.set_flag("f", 60)


async def test_a_caller_error_is_no_store_failure() -> None:
    store, _, _ = build("open")
    bad = AcquireRequest("bad", (Charge(BUCKET),), throttle_factor=0.0)
    for _ in range(3):
        with pytest.raises(ValueError):
            await store.acquire(bad)
    assert store.available and store.errors == 0
    assert not (await store.acquire(req("c"))).fallback
