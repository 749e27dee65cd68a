"""Hard-link lookup: a cluster is hard-linked by a hard attribute or an operator's link."""

from __future__ import annotations

from gateway.clock import FakeClock
from gateway.clusters.config import ClustersPolicy
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.hardness import HardLinks
from gateway.clusters.types import MANUAL, Evidence

POLICY = ClustersPolicy()


def ev(signal: str, value: str, now: float) -> Evidence:
    return Evidence(signal, value, now, now)


async def test_soft_only_cluster_is_not_hard_until_a_hard_link_joins() -> None:
    clock = FakeClock()
    graph = MemoryClusterGraph(clock, lambda: POLICY)
    lookup = HardLinks(graph, clock, lambda: POLICY, ttl=30.0)
    now = clock.now()
    hard_name = POLICY.link_on.hard[0]
    result = await graph.link("a", "b", [ev("template", "f1", now), ev("synchrony", "w", now)])
    assert not await lookup(result.cluster_id)
    await graph.link("b", "c", [ev(hard_name, "p1", now)])
    root = await graph.cluster_of("a")
    assert root == result.cluster_id  # the larger side keeps its id
    assert not await lookup(root)  # the answer is cached for ttl
    clock.advance(31.0)
    assert await lookup(root)


async def test_manual_link_counts_as_hard() -> None:
    clock = FakeClock()
    graph = MemoryClusterGraph(clock, lambda: POLICY)
    lookup = HardLinks(graph, clock, lambda: POLICY)
    result = await graph.link("x", "y", [ev(MANUAL, "op", clock.now())])
    assert await lookup(result.cluster_id)
