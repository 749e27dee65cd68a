"""The in-memory cluster graph: merges, refusals, unlink, hot-value removal, pruning."""

from __future__ import annotations

from gateway.clock import FakeClock
from gateway.clusters.config import ClustersPolicy
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.types import MANUAL, Evidence


def ev(signal: str, clock: FakeClock, value: str = "v") -> tuple[Evidence, ...]:
    return (Evidence(signal, f"h{value}", clock.now(), clock.now()),)


def graph(clock: FakeClock, **policy: object) -> MemoryClusterGraph:
    section = ClustersPolicy.model_validate(policy)
    return MemoryClusterGraph(clock, lambda: section)


async def test_solitary_account_is_its_own_cluster() -> None:
    g = graph(FakeClock())
    info = await g.info("alice")
    assert (info.cluster_id, info.size) == ("alice", 1)
    assert await g.members("alice") == ["alice"] and await g.links("alice") == []


async def test_merge_keeps_the_larger_side_id() -> None:
    clock = FakeClock()
    g = graph(clock)
    assert (await g.link("a", "b", ev("pay", clock))).status == "merged"
    assert (await g.link("c", "b", ev("pay", clock))).cluster_id == "a"
    assert (await g.link("x", "y", ev("org", clock))).cluster_id == "x"
    result = await g.link("y", "c", ev("org", clock, "2"))
    assert (result.status, result.cluster_id, result.size) == ("merged", "a", 5)
    assert await g.members("a") == ["a", "b", "c", "x", "y"]
    assert await g.cluster_of("x") == "a"


async def test_refresh_widens_evidence() -> None:
    clock = FakeClock()
    g = graph(clock)
    await g.link("a", "b", ev("pay", clock))
    clock.advance(100)
    assert (await g.link("b", "a", ev("pay", clock))).status == "refreshed"
    (link,) = await g.links("a")
    (evidence,) = link.evidence
    assert evidence.count == 2 and evidence.last_seen - evidence.first_seen == 100


async def test_max_size_refuses_and_audits() -> None:
    clock = FakeClock()
    g = graph(clock, max_size=3)
    await g.link("a", "b", ev("pay", clock))
    await g.link("a", "c", ev("pay", clock))
    result = await g.link("a", "d", ev("pay", clock))
    assert result.status == "too_large" and not result.linked
    assert (await g.info("a")).size == 3 and (await g.info("d")).size == 1
    entry = (await g.audit(1))[0]
    assert entry.action == "refused" and entry.detail["merged_size"] == 4


async def test_unlink_splits_and_sticks_until_manual_link() -> None:
    clock = FakeClock()
    g = graph(clock, unlink_ttl="1d")
    await g.link("a", "b", ev("pay", clock))
    await g.link("b", "c", ev("org", clock))
    result = await g.unlink("a", "b", reason="false positive", actor="ops")
    assert result.removed == 1 and result.separated
    assert await g.members("a") == ["a"] and await g.members("b") == ["b", "c"]
    assert all("a" not in (link.a, link.b) for link in await g.links("b"))
    assert (await g.link("a", "b", ev("ip", clock, "new"))).status == "do_not_link"
    clock.advance(86401)
    assert (await g.link("a", "b", ev("ip", clock, "new"))).status == "merged"
    await g.unlink("a", "b", reason="again", actor="ops")
    assert (await g.link("a", "b", ev(MANUAL, clock))).status == "merged"


async def test_unlink_reports_pairs_still_connected() -> None:
    clock = FakeClock()
    g = graph(clock)
    for a, b in [("a", "b"), ("b", "c"), ("c", "a")]:
        await g.link(a, b, ev("pay", clock))
    result = await g.unlink("a", "b", reason="r", actor="ops")
    assert result.removed == 1 and not result.separated and (await g.info("a")).size == 3


async def test_split_keeps_root_id_and_names_parts_by_smallest_member() -> None:
    clock = FakeClock()
    g = graph(clock)
    await g.link("m", "z", ev("s", clock))
    await g.link("z", "q", ev("s", clock))
    await g.link("q", "p", ev("s", clock))
    await g.unlink("z", "q", reason="r", actor="ops")
    assert await g.cluster_of("z") == "m" and await g.cluster_of("q") == "p"


async def test_drop_evidence_keeps_edges_with_other_evidence() -> None:
    clock = FakeClock()
    g = graph(clock)
    await g.link("a", "b", ev("pay", clock))
    await g.link("b", "c", ev("pay", clock) + ev("org", clock))
    assert await g.drop_evidence("pay", "hv", reason="hot", actor="linker") == 1
    assert await g.members("b") == ["b", "c"] and await g.cluster_of("a") == "a"
    await g.link("c", "d", ev("ip", clock) + ev("template", clock))
    assert await g.drop_evidence("ip", "hv", reason="hot", actor="l", whole_edges=True) == 1
    assert await g.cluster_of("d") == "d"


async def test_prune_removes_stale_edges() -> None:
    clock = FakeClock()
    g = graph(clock, evidence_ttl="10d")
    await g.link("a", "b", ev("pay", clock))
    clock.advance(5 * 86400)
    await g.link("c", "b", ev("pay", clock))
    clock.advance(6 * 86400)
    assert await g.prune() == 1
    assert await g.members("b") == ["b", "c"] and await g.cluster_of("a") == "a"


async def test_audit_is_bounded_and_newest_first() -> None:
    clock = FakeClock()
    g = graph(clock, audit_max=10)
    for i in range(15):
        await g.link(f"a{i}", f"b{i}", ev("pay", clock, str(i)))
        clock.advance(1)
    entries = await g.audit(100)
    assert len(entries) == 10 and entries[0].accounts == ("a14", "b14")
    assert entries[0].at > entries[-1].at
