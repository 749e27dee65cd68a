"""The novelty key's cell set on Redis (``limiter/lua/cells.lua``): sparse while a window has
seen few cells, dense past that, exact in both forms, and undone exactly on a cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis_servers import delete_prefix

from gateway.clock import FakeClock
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import AcquireRequest, BudgetSpec, Charge
from gateway.redis.client import redis_client
from gateway.redis.keys import KeyBuilder

pytestmark = pytest.mark.redis

SPARSE_MAX = 256  # lua/cells.lua
HEADER = 16  # window index and units used


def novelty(key: str, limit: int = 10_000) -> BudgetSpec:
    return BudgetSpec(key, "account", "diversity", "novelty", key, limit=limit, window=3600.0)


@pytest.fixture(params=["redis", "cluster"])
async def store(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[RedisBudgetStore]:
    url = request.getfixturevalue("redis_url" if request.param == "redis" else "redis_cluster_url")
    clock = FakeClock()
    clock.advance(60)
    store = RedisBudgetStore(redis_client(url, timeout=2), clock)
    try:
        yield store
    finally:
        await delete_prefix(store.client, key_prefix)
        await store.close()


async def novel(store: RedisBudgetStore, spec: BudgetSpec, rid: str, cell: int) -> bool | None:
    result = await store.acquire(AcquireRequest(rid, (Charge(spec, cell=cell),)))
    assert result.allowed
    return result.states[0].novel


async def test_a_few_cells_take_two_bytes_each(store: RedisBudgetStore, key_prefix: str) -> None:
    spec = novelty(KeyBuilder(key_prefix).account_budget("c", "a", "div"))
    cells = [5, 16383, 127, 128, 0, 9000]
    assert [await novel(store, spec, f"n{c}", c) for c in cells] == [True] * len(cells)
    assert [await novel(store, spec, f"r{c}", c) for c in cells] == [False] * len(cells)
    # neighbours of the stored entries (a byte of one entry and of the next) are not seen
    assert await novel(store, spec, "x", 1) is True  # 0x80 0x01 vs 0x80 0x00 / 0x80 0x05
    assert await store.client.strlen(spec.key) == HEADER + 2 * (len(cells) + 1)


async def test_a_sparse_key_holds_no_slack(store: RedisBudgetStore, key_prefix: str) -> None:
    keys = KeyBuilder(key_prefix)
    spec, copy = novelty(keys.account_budget("c", "a", "div")), keys.account_budget("c", "a", "x")
    for cell in range(0, 200 * 37, 37):  # appended 2 bytes at a time (SETRANGE, not SETBIT)
        await novel(store, spec, f"n{cell}", cell)
    assert 0 < (await store.client.pttl(spec.key)) <= 3600 * 1000  # the TTL is kept
    await store.client.set(copy, await store.client.get(spec.key) or b"")
    usage = [await store.client.memory_usage(k) or 0 for k in (spec.key, copy)]
    assert 0 < usage[0] <= usage[1] + 32  # as a fresh string of its bytes (TTL aside)


async def test_many_cells_or_a_high_one_turn_the_key_dense(
    store: RedisBudgetStore, key_prefix: str
) -> None:
    keys = KeyBuilder(key_prefix)
    many, high = (
        novelty(keys.account_budget("c", "a", "many")),
        novelty(keys.account_budget("c", "a", "high")),
    )
    cells = [(i * 37) % 16384 for i in range(SPARSE_MAX + 3)]
    assert all([await novel(store, many, f"n{c}", c) for c in cells])
    # the bitmap, written at once at 2^14 bits (no doubled allocation from growing bit by bit)
    assert await store.client.strlen(many.key) == HEADER + 16384 // 8
    copy = keys.account_budget("c", "a", "copy")
    await store.client.set(copy, await store.client.get(many.key) or b"")
    usage = [await store.client.memory_usage(k) or 0 for k in (many.key, copy)]
    assert 0 < usage[0] <= usage[1] + 32  # as a fresh string of its bytes (TTL aside)
    assert not any([await novel(store, many, f"r{c}", c) for c in cells])
    assert await novel(store, many, "x", 1) is True
    assert await novel(store, high, "a", 3) is True
    assert await novel(store, high, "b", 20_000) is True  # over 2^14: dense at once
    assert await novel(store, high, "c", 3) is False
    assert await novel(store, high, "d", 20_000) is False
    assert await store.client.strlen(high.key) == HEADER + 20_000 // 8 + 1
    peek = await store.peek(AcquireRequest("p", (Charge(many, 1, cell=2),)))
    assert peek.states[0].remaining == 10_000 - len(cells) - 1 - 1  # repeats cost 0.1 each


@pytest.mark.parametrize("dense", [False, True])
async def test_cluster_undo_forgets_the_cell(
    redis_cluster_url: str, key_prefix: str, dense: bool
) -> None:
    keys = KeyBuilder(key_prefix)
    store = RedisBudgetStore(redis_client(redis_cluster_url, timeout=2), FakeClock())
    spec = novelty(keys.cluster_budget("c", "nov"))
    model_key = keys.global_budget("m", "req")
    model = BudgetSpec(model_key, "global", "requests", "window", model_key, limit=1, window=60.0)
    try:
        for cell in [7, 9] + ([100 + i for i in range(SPARSE_MAX)] if dense else []):
            await novel(store, spec, f"n{cell}", cell)
        assert (await store.acquire(AcquireRequest("m", (Charge(model),)))).allowed
        refused = await store.acquire(AcquireRequest("r", (Charge(spec, cell=11), Charge(model))))
        assert not refused.allowed and refused.states[0].novel is True
        after = await store.peek(
            AcquireRequest("p", (Charge(spec, 1, cell=11), Charge(spec, 1, cell=9)))
        )
        assert [s.novel for s in after.states] == [True, False]  # 11 forgotten, 9 kept
        assert await novel(store, spec, "again", 7) is False
        assert 0 < await store.client.pttl(spec.key) <= 3_600_000  # rewritten by the undo: TTL set
    finally:
        await delete_prefix(store.client, key_prefix)
        await store.close()


async def pttl(store: RedisBudgetStore, key: str) -> int:
    return int(await store.client.pttl(key))


@pytest.mark.parametrize("algorithm", ["window", "novelty"])
async def test_the_ttl_ends_with_the_window_the_key_counts_in(
    store: RedisBudgetStore, key_prefix: str, algorithm: str
) -> None:
    """The TTL is set when a window's key starts (anew, a new window, turned dense) and kept
    while it counts on: always the end of its window, never missing."""
    key = KeyBuilder(key_prefix).account_budget("c", "a", algorithm)
    spec = novelty(key) if algorithm == "novelty" else BudgetSpec(
        key, "account", "requests", "window", key, limit=10_000, window=3600.0
    )  # fmt: skip
    clock = store._clock
    assert isinstance(clock, FakeClock)
    assert (await store.acquire(AcquireRequest("a", (Charge(spec, cell=1),)))).allowed
    first = await pttl(store, key)
    assert 3_500_000 < first <= 3_540_000  # the window ends at 3600; the clock says 60
    for i in range(SPARSE_MAX + 2):  # a novelty key turns dense (made anew) on the way
        assert (await store.acquire(AcquireRequest(f"n{i}", (Charge(spec, cell=2 + i),)))).allowed
    assert 3_500_000 < await pttl(store, key) <= 3_540_000
    clock.advance(3700)  # the next window, which ends at 7200: 3440 s from the clock's 3760
    assert (await store.acquire(AcquireRequest("b", (Charge(spec, cell=1),)))).allowed
    assert 3_400_000 < await pttl(store, key) <= 3_440_000
    assert (await store.peek(AcquireRequest("p", (Charge(spec, cell=1),)))).states[0].remaining
