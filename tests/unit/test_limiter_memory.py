"""MemoryBudgetStore specifics: bounded memory and input validation (semantics: tests/contract)."""

from __future__ import annotations

import pytest

from gateway.clock import FakeClock
from gateway.limiter.memory import MemoryBudgetStore
from gateway.model import AcquireRequest, BudgetSpec, Charge, Level


def spec(key: str, algorithm: str = "bucket", window: float = 60.0) -> BudgetSpec:
    return BudgetSpec(key, "account", "requests", algorithm, key, limit=5, window=window, rate=5)  # type: ignore[arg-type]


async def test_idle_state_is_swept() -> None:
    clock = FakeClock()
    store = MemoryBudgetStore(clock, sweep_every=10)
    for i in range(500):
        charges = (Charge(spec(f"b{i}")), Charge(spec(f"w{i}", "window", 3600)))
        assert (await store.acquire(AcquireRequest(f"r{i}", charges))).allowed
    await store.set_level("lvl", Level.THROTTLE, 30)
    await store.set_flag("flag", 30)
    assert len(store) == 1002
    clock.advance(60)  # buckets are full again and forgettable; windows are not over
    await store.get_level("x")
    assert len(store) == 500
    clock.advance(3600)
    await store.get_level("x")
    assert len(store) == 0


async def test_swept_bucket_is_full_again() -> None:
    clock = FakeClock()
    store = MemoryBudgetStore(clock, sweep_every=1)
    bucket = spec("b")
    for _ in range(5):
        await store.acquire(AcquireRequest("r", (Charge(bucket),)))
    clock.advance(61)
    result = await store.peek(AcquireRequest("p", (Charge(bucket),)))
    assert result.states[0].remaining == 4 and len(store) == 0


@pytest.mark.parametrize(
    "charge, factor",
    [
        (Charge(spec("n", "novelty"), cell=-1), 1.0),
        (Charge(spec("b"), cost=-1), 1.0),
        (Charge(spec("b")), 0.0),
    ],
)
async def test_invalid_requests_raise(charge: Charge, factor: float) -> None:
    store = MemoryBudgetStore(FakeClock())
    with pytest.raises(ValueError):
        await store.acquire(AcquireRequest("r", (charge,), throttle_factor=factor))
