"""The hot-path cluster cache, the background linker worker and the admin service."""

from __future__ import annotations

import asyncio

from gateway.clock import FakeClock
from gateway.clusters.cache import ClusterCache
from gateway.clusters.config import ClustersPolicy
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.service import ClusterService
from gateway.clusters.types import ClusterInfo, Evidence
from gateway.store_errors import StoreUnavailable


class CountingGraph(MemoryClusterGraph):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.calls = 0
        self.fail = False

    async def info(
        self, account: str, hard: tuple[str, ...] | None = None, soft_max: int = 0
    ) -> ClusterInfo:
        self.calls += 1
        await asyncio.sleep(0)
        if self.fail:
            raise StoreUnavailable("down")
        return await super().info(account, hard, soft_max)


def ev(clock: FakeClock) -> tuple[Evidence, ...]:
    return (Evidence("payment_fingerprint", "h", clock.now(), clock.now()),)


async def test_cache_looks_up_once_then_serves_locally() -> None:
    clock = FakeClock()
    graph = CountingGraph(clock)
    cache = ClusterCache(graph, clock)
    results = await asyncio.gather(*(cache.get("a") for _ in range(5)))
    assert results == [ClusterInfo("a", 1)] * 5 and graph.calls == 1
    clock.advance(4)
    await cache.get("a")
    assert graph.calls == 1


async def test_stale_entry_is_served_and_refreshed_in_background() -> None:
    clock = FakeClock()
    graph = CountingGraph(clock)
    cache = ClusterCache(graph, clock)
    await cache.get("b")
    await graph.link("a", "b", ev(clock))  # another replica linked them
    clock.advance(6)
    assert await cache.get("b") == ClusterInfo("b", 1)  # stale answer, no waiting
    for _ in range(3):
        await asyncio.sleep(0)
    assert cache.peek("b") == ClusterInfo("a", 2) and graph.calls == 2


async def test_invalidate_drops_the_whole_cluster() -> None:
    clock = FakeClock()
    graph = CountingGraph(clock)
    cache = ClusterCache(graph, clock)
    await graph.link("a", "b", ev(clock))
    await cache.get("a")
    await cache.get("b")
    await cache.get("c")
    cache.invalidate("a")
    assert cache.peek("a") is None and cache.peek("b") is None
    assert cache.peek("c") == ClusterInfo("c", 1)


async def test_unreachable_graph_means_solitary() -> None:
    clock = FakeClock()
    graph = CountingGraph(clock)
    graph.fail = True
    cache = ClusterCache(graph, clock)
    assert await cache.get("a") == ClusterInfo("a", 1)
    assert cache.peek("a") is None and cache.errors == 1


async def test_cache_capacity_is_bounded() -> None:
    clock = FakeClock()
    cache = ClusterCache(MemoryClusterGraph(clock), clock, capacity=3)
    for name in "abcde":
        await cache.get(name)
    assert cache.peek("a") is None and cache.peek("e") == ClusterInfo("e", 1)


async def test_service_views_and_operator_actions() -> None:
    clock = FakeClock()
    graph = MemoryClusterGraph(clock)
    cache = ClusterCache(graph, clock)
    service = ClusterService(graph, clock, cache)
    linked = await service.link("a", "b", reason="same company", actor="ops")
    assert linked["linked"] and linked["size"] == 2
    await graph.link("b", "c", ev(clock))
    await cache.get("a")
    view = await service.cluster_view("c")
    assert view["cluster_id"] == "a" and view["members"] == ["a", "b", "c"]
    assert len(view["links"]) == 2
    account = await service.account_view("a")
    assert account["members"] == 3 and [link["b"] for link in account["links"]] == ["b"]
    unlinked = await service.unlink("a", "b", reason="wrong", actor="ops")
    assert unlinked["separated"] and cache.peek("a") is None
    audit = await service.audit(10)
    assert [e["action"] for e in audit["entries"]][:2] == ["unlink", "link"]
    assert audit["entries"][0]["actor"] == "ops" and audit["entries"][0]["reason"] == "wrong"


async def test_cache_tells_a_soft_only_cluster_from_a_hard_linked_one() -> None:
    clock = FakeClock()
    graph = MemoryClusterGraph(clock)
    now = clock.now()
    await graph.link("s1", "s2", (Evidence("ip_prefix", "h", now, now),), actor="t", reason="r")
    await graph.link("h1", "h2", (Evidence("org_id", "o", now, now),), actor="t", reason="r")
    cache = ClusterCache(graph, clock)
    soft, hard = await cache.get("s1"), await cache.get("h2")
    assert (soft.size, soft.soft) == (2, True)
    assert (hard.size, hard.soft) == (2, False)
    assert (await cache.get("alone")).soft is False


async def test_a_refresh_reads_the_standing_in_its_one_lookup() -> None:
    """Each member's lookup says whether its cluster stands on soft links only (no read of
    the cluster's links apart); a hard link that arrives is seen by each member's next
    refresh, and an invalidation (a link by this process) looks the members up again."""
    clock = FakeClock()
    graph = CountingGraph(clock)
    now = clock.now()
    for other in ("s2", "s3", "s4"):
        await graph.link(
            "s1", other, (Evidence("ip_prefix", "h", now, now),), actor="t", reason="r"
        )
    cache = ClusterCache(graph, clock)  # cache_ttl 5 s
    infos = [await cache.get(a) for a in ("s1", "s2", "s3", "s4")]
    assert {(i.size, i.soft) for i in infos} == {(4, True)} and graph.calls == 4
    await graph.link("s2", "s3", (Evidence("org_id", "o", now, now),), actor="t", reason="r")
    clock.advance(5.1)  # every entry is due: answered as it was, refreshed in the background
    assert (await cache.get("s2")).soft is True
    await _settled()
    assert cache.peek("s2") == ClusterInfo("s1", 4, False) and graph.calls == 5
    assert cache.peek("s3") == ClusterInfo("s1", 4, True)  # not refreshed yet
    cache.invalidate("s4")
    await _settled()  # the dropped members are looked up again
    assert {cache.peek(a) for a in ("s1", "s2", "s3", "s4")} == {ClusterInfo("s1", 4, False)}
    big = ClusterCache(graph, clock, lambda: ClustersPolicy(soft_max_size=3))
    assert await big.get("s1") == ClusterInfo("s1", 4, False)  # above soft_max: not read


async def _settled() -> None:
    for _ in range(10):
        await asyncio.sleep(0)
