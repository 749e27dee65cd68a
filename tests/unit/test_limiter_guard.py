"""StoreGuard: deadlines, timeouts as failures, the short deadline while suspect, fail fast
while open; and the cluster cache's first lookups under the same guard."""

from __future__ import annotations

import asyncio

import pytest

from gateway.clock import FakeClock
from gateway.clusters.cache import ClusterCache
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.types import ClusterInfo
from gateway.limiter.guard import SUSPECT_SHARE, StoreGuard
from gateway.store_errors import StoreUnavailable

TIMEOUT = 0.2


class Hung:
    """A store call that never answers (a frozen Redis), counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(60)
        return 1


async def timed(guard: StoreGuard, call: Hung, share: float = 1.0) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(StoreUnavailable):
        await guard.run("acquire", call, share=share)
    return loop.time() - started


async def test_a_hung_store_costs_one_deadline_then_short_ones_then_nothing() -> None:
    clock = FakeClock()
    states: list[bool] = []
    guard = StoreGuard(clock, up, op_timeout=TIMEOUT, failures=3, on_state=states.append)
    hung = Hung()
    first = await timed(guard, hung)
    assert first >= TIMEOUT * 0.9 and guard.available  # one failure: still closed
    later = [await timed(guard, hung) for _ in range(2)]
    assert all(t < TIMEOUT * SUSPECT_SHARE * 3 for t in later), later  # suspect: short
    assert not guard.available and states == [False]  # timeouts opened it
    assert await timed(guard, hung) < 0.01 and hung.calls == 3  # open: not even tried
    assert guard.errors == 3 and guard.refused == 1


async def up() -> bool:
    return True


async def test_no_request_waits_on_the_probe_which_runs_in_the_background() -> None:
    clock = FakeClock()
    answers = [False]  # the probe's PING: no answer at all, then PONG

    async def probe() -> bool:
        if not answers:
            await asyncio.sleep(60)
        return answers.pop()

    guard = StoreGuard(clock, probe, op_timeout=TIMEOUT, failures=1, open_for=3.0)
    hung = Hung()
    await timed(guard, hung)
    clock.advance(3.0)
    assert await timed(guard, hung) < 0.01  # refused at once; the probe started
    await asyncio.sleep(0.01)
    assert not guard.available and hung.calls == 1  # the probe answered False: open again
    clock.advance(3.0)
    answers[:] = []  # the next probe hangs: bounded by the full deadline
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await timed(guard, hung) < 0.01
    for _ in range(200):
        if guard.errors == 3:
            break
        await asyncio.sleep(0.01)
    assert TIMEOUT * 0.9 <= loop.time() - started < TIMEOUT * 3 and not guard.available
    clock.advance(3.0)
    answers[:] = [True]
    assert await timed(guard, hung) < 0.01
    await asyncio.sleep(0.01)
    assert guard.available  # PONG: closed

    async def ok() -> int:
        return 7

    assert await guard.run("acquire", ok) == 7
    assert guard.deadline()._seconds == TIMEOUT  # healthy again: the full deadline
    await guard.close()


class HungGraph(MemoryClusterGraph):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.calls = 0

    async def info(
        self, account: str, hard: tuple[str, ...] | None = None, soft_max: int = 0
    ) -> ClusterInfo:
        self.calls += 1
        await asyncio.sleep(60)
        raise AssertionError("unreachable")


async def test_first_cluster_lookups_share_the_guard_and_its_breaker() -> None:
    clock = FakeClock()
    graph = HungGraph(clock)
    guard = StoreGuard(clock, up, op_timeout=TIMEOUT, failures=2)
    cache = ClusterCache(graph, clock, guard=guard)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await cache.get("a") == ClusterInfo("a", 1)  # lone, after half a deadline
    assert TIMEOUT * 0.4 <= loop.time() - started < TIMEOUT
    assert await cache.get("b") == ClusterInfo("b", 1)
    assert not guard.available and graph.calls == 2
    started = loop.time()
    assert await cache.get("c") == ClusterInfo("c", 1)  # open: answered at once
    assert loop.time() - started < 0.05 and graph.calls == 2
    await cache.close()
