"""The linker on memory backends: hard links, soft-signal rules, hot values, stickiness."""

from __future__ import annotations

import json

from gateway.clock import FakeClock
from gateway.clusters.config import ClustersPolicy
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.linker import Linker
from gateway.clusters.observations import MemoryObservations
from gateway.model import Identity

DAY = 86400.0


class Rig:
    def __init__(self, **policy: object) -> None:
        self.clock = FakeClock()
        self.policy = ClustersPolicy.model_validate(policy)
        self.graph = MemoryClusterGraph(self.clock, lambda: self.policy)
        self.linker = Linker(
            self.graph, MemoryObservations(), lambda: self.policy, self.clock, salt=b"k"
        )

    async def see(
        self, account: str, *, ip: str = "", template: int | None = None, **attrs: str
    ) -> None:
        identity = Identity(account, "free", attrs, client_ip=ip)
        await self.linker.observe(identity, template, self.clock.now())

    async def cluster(self, account: str) -> str:
        return await self.graph.cluster_of(account)


async def test_shared_payment_fingerprint_links_and_third_is_unaffected() -> None:
    rig = Rig()
    await rig.see("a", payment_fingerprint="card-1")
    await rig.see("b", payment_fingerprint="card-1")
    await rig.see("c", payment_fingerprint="card-2")
    assert await rig.cluster("a") == await rig.cluster("b") == "a"
    assert (await rig.graph.info("a")).size == 2 and await rig.cluster("c") == "c"
    (link,) = await rig.graph.links("a")
    assert link.evidence[0].signal == "payment_fingerprint"


async def test_attributes_not_named_in_link_on_are_ignored() -> None:
    rig = Rig(link_on={"hard": ["org_id"]})
    await rig.see("a", payment_fingerprint="card-1")
    await rig.see("b", payment_fingerprint="card-1")
    assert await rig.cluster("b") == "b"


async def test_one_soft_signal_alone_does_not_link() -> None:
    rig = Rig()
    await rig.see("a", ip="203.0.113.7")
    await rig.see("b", ip="203.0.113.99")
    rig.clock.advance(3600)
    await rig.see("a", ip="203.0.113.7")
    await rig.see("b", ip="203.0.113.99")
    assert await rig.cluster("b") == "b"


async def test_two_agreeing_soft_signals_link() -> None:
    rig = Rig()
    await rig.see("a", ip="203.0.113.7", template=0xABC)
    await rig.see("b", ip="203.0.113.99", template=0xABC)
    assert await rig.cluster("b") == "a"
    (link,) = await rig.graph.links("a")
    assert {e.signal for e in link.evidence} == {"ip_prefix", "template"}


async def test_different_prefixes_and_templates_do_not_link() -> None:
    rig = Rig()
    await rig.see("a", ip="203.0.113.7", template=1)
    await rig.see("b", ip="203.0.114.7", template=1)
    await rig.see("c", ip="203.0.113.8", template=2)
    assert {await rig.cluster(x) for x in "abc"} == {"a", "b", "c"}


async def test_one_soft_signal_repeating_on_three_days_links() -> None:
    rig = Rig(soft_repeat_days=3)
    for day in range(3):
        await rig.see("a", ip="2001:db8:1:2::1")
        await rig.see("b", ip="2001:db8:1:2:ffff::9")
        if day < 2:
            assert await rig.cluster("b") == "b", f"linked after {day + 1} days"
        rig.clock.advance(DAY)
    assert await rig.cluster("b") == await rig.cluster("a")
    (link,) = await rig.graph.links(await rig.cluster("a"))
    assert link.evidence[0].signal == "ip_prefix" and link.evidence[0].count == 3


async def test_synchrony_counts_only_after_repeated_cooccurrence() -> None:
    rig = Rig(synchrony={"window": "2s", "min_cooccurrences": 3})
    for i in range(3):
        await rig.see("a", ip="198.51.100.1")
        await rig.see("b", ip="198.51.100.2")
        if i < 2:
            assert await rig.cluster("b") == "b"
        rig.clock.advance(10)  # a new window each round, same day
    assert await rig.cluster("b") == "a"


async def test_synchrony_needs_the_same_window() -> None:
    rig = Rig(
        synchrony={"window": "2s", "min_cooccurrences": 2},
        link_on={"soft": ["synchrony"]},
        soft_min_signals=1,
    )
    for _ in range(5):
        await rig.see("a")
        rig.clock.advance(5)
        await rig.see("b")
        rig.clock.advance(5)
    assert await rig.cluster("b") == "b"


async def test_hot_nat_prefix_links_nobody_and_is_reported() -> None:
    rig = Rig(hot_value_limit=50)
    for i in range(60):
        await rig.see(f"user{i:02d}", ip=f"192.0.2.{i + 1}", template=0x77)
    for i in range(60):
        assert await rig.cluster(f"user{i:02d}") == f"user{i:02d}"
    assert rig.linker.stats.hot_values == 2  # the /24 and the shared template
    hot = [e for e in await rig.graph.audit(1000) if e.action == "hot_value"]
    assert {e.detail["signal"] for e in hot} == {"ip_prefix", "template"}


async def test_links_a_value_made_are_removed_when_it_turns_hot() -> None:
    rig = Rig(hot_value_limit=3)
    for name in "abc":
        await rig.see(name, org_id="acme")
    assert (await rig.graph.info("a")).size == 3
    await rig.see("d", org_id="acme")
    assert {await rig.cluster(x) for x in "abcd"} == {"a", "b", "c", "d"}
    await rig.see("e", org_id="acme")
    assert await rig.cluster("e") == "e"


async def test_hot_limit_override_per_signal() -> None:
    rig = Rig(hot_value_limit=3, hot_value_limits={"payment_fingerprint": 100})
    for i in range(10):
        await rig.see(f"h{i}", payment_fingerprint="stolen-card")
    assert (await rig.graph.info("h0")).size == 10


async def test_max_size_is_respected() -> None:
    rig = Rig(max_size=4)
    for i in range(7):
        await rig.see(f"x{i}", payment_fingerprint="card")
    assert (await rig.graph.info("x0")).size == 4
    assert rig.linker.stats.refused == 3
    assert any(e.action == "refused" for e in await rig.graph.audit(100))


async def test_operator_unlink_sticks_against_new_evidence() -> None:
    rig = Rig()
    await rig.see("a", payment_fingerprint="card")
    await rig.see("b", payment_fingerprint="card")
    result = await rig.graph.unlink("a", "b", reason="family plan", actor="ops@example")
    assert result.separated and await rig.graph.links("a") == []
    rig.clock.advance(DAY)  # past the linker's local dedup: both report again
    await rig.see("b", payment_fingerprint="card", ip="203.0.113.1", template=5)
    await rig.see("a", payment_fingerprint="card", ip="203.0.113.2", template=5)
    assert await rig.cluster("b") == "b" and await rig.cluster("a") == "a"
    assert rig.linker.stats.refused >= 1


async def test_evidence_and_audit_hold_hashes_only() -> None:
    rig = Rig(hot_value_limit=2)
    await rig.see("a", payment_fingerprint="4111-1111-secret", ip="203.0.113.7", template=9)
    await rig.see("b", payment_fingerprint="4111-1111-secret", ip="203.0.113.8", template=9)
    for i in range(3):
        await rig.see(f"n{i}", ip="198.51.100.5")
    dump = json.dumps([link.to_json() for link in await rig.graph.links("a")])
    dump += json.dumps([entry.to_json() for entry in await rig.graph.audit(100)])
    assert "payment_fingerprint" in dump and "hot_value" in dump
    for raw in ("4111-1111-secret", "203.0.113", "198.51.100"):
        assert raw not in dump


async def test_disabled_policy_links_nothing() -> None:
    rig = Rig(enabled=False)
    await rig.see("a", payment_fingerprint="card")
    await rig.see("b", payment_fingerprint="card")
    assert await rig.cluster("b") == "b" and rig.linker.stats.observed == 0


async def test_soft_links_stop_growing_a_cluster_at_soft_max_size() -> None:
    """Chains of soft evidence cannot snowball into one huge cluster; hard links can."""
    rig = Rig(soft_max_size=4, hot_value_limit=40)
    for i in range(8):  # every account shares the /24 and the frame: soft pairs galore
        await rig.see(f"s{i}", ip=f"203.0.113.{i + 1}", template=0x5EED)
    sizes = {(await rig.graph.info(f"s{i}")).size for i in range(8)}
    assert max(sizes) == 4
    assert rig.linker.stats.refused > 0
    refused = [e for e in await rig.graph.audit() if e.action == "refused"]
    assert refused and refused[0].detail["refused"] == "soft_too_large"
    for i in range(8):  # a shared card still links them all (up to max_size)
        await rig.see(f"s{i}", payment_fingerprint="card-9")
    assert (await rig.graph.info("s0")).size == 8
