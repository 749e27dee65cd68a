"""The cluster graph and the linker's observations on a real Redis (shared fixtures in
tests/conftest.py: ``redis_client`` and a unique ``key_prefix`` per test, cleaned up after)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from gateway.clock import FakeClock
from gateway.clusters.config import ClustersPolicy
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.graph_redis import RedisClusterGraph
from gateway.clusters.linker import Linker
from gateway.clusters.observations_redis import PAIR_SHARDS, RedisObservations
from gateway.clusters.types import MANUAL, ClusterInfo, Evidence
from gateway.model import Identity
from gateway.redis.keys import KeyBuilder, slot_of

pytestmark = pytest.mark.redis


def ev(signal: str, clock: FakeClock, value: str = "v") -> tuple[Evidence, ...]:
    return (Evidence(signal, f"h{value}", clock.now(), clock.now()),)


def make(client: Redis, prefix: str, clock: FakeClock, **policy: object) -> RedisClusterGraph:
    section = ClustersPolicy.model_validate(policy)
    return RedisClusterGraph(client, clock, lambda: section, KeyBuilder(prefix))


async def partition(
    graph: MemoryClusterGraph | RedisClusterGraph, accounts: list[str]
) -> set[tuple[str, tuple[str, ...]]]:
    out = set()
    for account in accounts:
        info = await graph.info(account)
        members = await graph.members(info.cluster_id)
        assert account in members and len(members) == info.size
        out.add((info.cluster_id, tuple(members)))
    return out


async def test_random_operations_match_the_memory_graph(
    redis_client: Redis, key_prefix: str
) -> None:
    clock = FakeClock()
    memory = MemoryClusterGraph(clock, lambda: ClustersPolicy(max_size=12))
    redis_graph = make(redis_client, key_prefix, clock, max_size=12)
    rng = random.Random(7)
    accounts = [f"u{i}" for i in range(30)]
    for step in range(400):
        a, b = rng.sample(accounts, 2)
        roll = rng.random()
        signal = rng.choice(["pay", "org", "ip"])
        value = str(rng.randrange(4))
        if roll < 0.7:
            expected = await memory.link(a, b, ev(signal, clock, value))
            got = await redis_graph.link(a, b, ev(signal, clock, value))
        elif roll < 0.9:
            expected = await memory.unlink(a, b, reason="r", actor="t")  # type: ignore[assignment]
            got = await redis_graph.unlink(a, b, reason="r", actor="t")  # type: ignore[assignment]
        else:
            expected = await memory.drop_evidence(signal, f"h{value}", reason="hot", actor="t")  # type: ignore[assignment]
            got = await redis_graph.drop_evidence(signal, f"h{value}", reason="hot", actor="t")  # type: ignore[assignment]
        assert got == expected, f"step {step}"
        clock.advance(60)
    assert await partition(redis_graph, accounts) == await partition(memory, accounts)
    for cluster_id, _ in await partition(memory, accounts):
        assert await redis_graph.links(cluster_id) == await memory.links(cluster_id)
    for account in accounts:  # the standing read in the lookup: hard "pay", soft the rest
        for hard, soft_max in ((("pay",), 12), (("org", "ip"), 5), ((), 12)):
            got = await redis_graph.info(account, hard, soft_max)
            assert got == await memory.info(account, hard, soft_max), (account, hard)


async def test_two_replicas_see_the_same_clusters(redis_url: str, key_prefix: str) -> None:
    clock = FakeClock()
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        one, two = make(first, key_prefix, clock), make(second, key_prefix, clock)
        await one.link("a", "b", ev("pay", clock))
        await two.link("c", "b", ev("org", clock))
        assert await one.members("a") == await two.members("a") == ["a", "b", "c"]
        await two.unlink("b", "c", reason="r", actor="ops")
        assert await one.cluster_of("c") == "c"
        assert [e.action for e in await one.audit(5)] == ["unlink", "link", "link"]
    finally:
        await first.delete(*[k async for k in first.scan_iter(match=f"{key_prefix}*")])
        await first.aclose()
        await second.aclose()


async def test_concurrent_links_lose_no_members(redis_url: str, key_prefix: str) -> None:
    clock = FakeClock()
    clients = [Redis.from_url(redis_url) for _ in range(4)]
    try:
        graphs = [make(c, key_prefix, clock) for c in clients]
        rng = random.Random(11)
        accounts = [f"acct{i}" for i in range(120)]
        pairs = [tuple(rng.sample(accounts, 2)) for _ in range(150)]
        await asyncio.gather(
            *(graphs[i % 4].link(a, b, ev("pay", clock, str(i))) for i, (a, b) in enumerate(pairs))
        )
        reference = MemoryClusterGraph(clock)
        for i, (a, b) in enumerate(pairs):
            await reference.link(a, b, ev("pay", clock, str(i)))
        got = {members for _, members in await partition(graphs[0], accounts)}
        want = {members for _, members in await partition(reference, accounts)}
        assert got == want
        assert sum(len(m) for m in got) == len(accounts)
    finally:
        await clients[0].delete(*[k async for k in clients[0].scan_iter(match=f"{key_prefix}*")])
        for client in clients:
            await client.aclose()


async def test_concurrent_merges_respect_max_size(redis_client: Redis, key_prefix: str) -> None:
    clock = FakeClock()
    graph = make(redis_client, key_prefix, clock, max_size=10)
    results = await asyncio.gather(
        *(graph.link("hub", f"spoke{i}", ev("pay", clock)) for i in range(40))
    )
    assert sum(r.status == "merged" for r in results) == 9
    assert sum(r.status == "too_large" for r in results) == 31
    assert (await graph.info("hub")).size == 10


async def test_unlink_sticks_and_prune_expires(redis_client: Redis, key_prefix: str) -> None:
    clock = FakeClock()
    graph = make(redis_client, key_prefix, clock, evidence_ttl="10d", unlink_ttl="30d")
    await graph.link("a", "b", ev("pay", clock))
    await graph.link("b", "c", ev("org", clock))
    assert (await graph.unlink("a", "b", reason="r", actor="ops")).separated
    assert (await graph.link("a", "b", ev("ip", clock, "new"))).status == "do_not_link"
    assert await redis_client.ttl(f"{KeyBuilder(key_prefix).subsystem('clusters', 'g')}:nl:a|b") > 0
    clock.advance(11 * 86400)
    await graph.link("c", "d", ev("pay", clock))
    assert await graph.prune() == 1
    assert await graph.members("c") == ["c", "d"] and await graph.cluster_of("b") == "b"


class RedisRig:
    def __init__(self, client: Redis, prefix: str, **policy: object) -> None:
        self.clock = FakeClock()
        section = ClustersPolicy.model_validate(policy)
        keys = KeyBuilder(prefix)
        self.graph = RedisClusterGraph(client, self.clock, lambda: section, keys)
        obs = RedisObservations(client, keys)
        self.linker = Linker(self.graph, obs, lambda: section, self.clock, salt=b"s")

    async def see(
        self, account: str, ip: str = "", template: int | None = None, **attrs: str
    ) -> None:
        await self.linker.observe(Identity(account, "free", attrs, ip), template, self.clock.now())


async def test_linker_on_redis_hard_soft_and_hot(redis_client: Redis, key_prefix: str) -> None:
    rig = RedisRig(redis_client, key_prefix, hot_value_limit=5)
    await rig.see("a", payment_fingerprint="4111-1111-raw-card")
    await rig.see("b", payment_fingerprint="4111-1111-raw-card")
    await rig.see("c", payment_fingerprint="5500-other")
    assert await rig.graph.members("a") == ["a", "b"] and await rig.graph.cluster_of("c") == "c"
    await rig.see("s1", ip="203.0.113.1", template=0xFEED)
    await rig.see("s2", ip="203.0.113.2", template=0xFEED)
    await rig.see("s3", ip="203.0.113.3")
    assert (
        await rig.graph.members("s1") == ["s1", "s2"] and await rig.graph.cluster_of("s3") == "s3"
    )
    for i in range(8):
        await rig.see(f"nat{i}", ip=f"198.51.100.{i + 1}", template=0xBEEF)
    assert all([await rig.graph.cluster_of(f"nat{i}") == f"nat{i}" for i in range(8)])
    assert rig.linker.stats.hot_values == 2
    raw = ("4111-1111-raw-card", "5500-other", "203.0.113", "198.51.100", "feed", "beef")
    async for key in redis_client.scan_iter(match=f"{key_prefix}*"):
        kind = await redis_client.type(key)
        text = key.decode()
        if kind == b"hash":
            text += repr(await redis_client.hgetall(key))
        elif kind == b"zset":
            text += repr(await redis_client.zrange(key, 0, -1))
        elif kind == b"set":
            text += repr(await redis_client.smembers(key))
        elif kind == b"list":
            text += repr(await redis_client.lrange(key, 0, -1))
        elif kind == b"string":
            text += repr(await redis_client.get(key))
        assert not any(r in text.lower() for r in raw), text
        assert await redis_client.ttl(key) != -1 or ":g:" in text, f"no TTL on {text}"


async def test_soft_signal_repeating_over_days_on_redis(
    redis_client: Redis, key_prefix: str
) -> None:
    rig = RedisRig(redis_client, key_prefix, soft_repeat_days=3, link_on={"soft": ["template"]})
    for day in range(3):
        await rig.see("p", template=42)
        await rig.see("q", template=42)
        linked = await rig.graph.cluster_of("p") == await rig.graph.cluster_of("q")
        assert linked == (day == 2)
        rig.clock.advance(86400)


async def test_graph_and_linker_on_redis_cluster(redis_cluster_url: str, key_prefix: str) -> None:
    """All graph keys share one hash tag, so the multi-key scripts run on Redis Cluster; each
    evidence value's accounts live in the value's own slot."""
    first_node = redis_cluster_url.replace("redis+cluster://", "redis://").split(",")[0]
    client = RedisCluster.from_url(first_node)
    clock = FakeClock()
    keys = KeyBuilder(key_prefix)
    graph = RedisClusterGraph(client, clock, keys=keys)
    linker = Linker(graph, RedisObservations(client, keys), ClustersPolicy, clock)
    try:
        for name in ("a", "b", "c"):
            await linker.observe(Identity(name, None, {"org_id": "acme"}), None, clock.now())
        assert await graph.members("a") == ["a", "b", "c"]
        assert (await graph.unlink("a", "b", reason="r", actor="t")).separated
        assert await graph.members("a") == ["a", "c"] and await graph.cluster_of("b") == "b"
        assert [e.action for e in await graph.audit(2)] == ["unlink", "link"]
        values = [key.decode() async for key in client.scan_iter(match=f"{key_prefix}:{{xv:*")]
        assert values  # the value sets spread over the slots, away from the graph's
        assert {slot_of(key) for key in values} - {slot_of(keys.cluster_graph())}
    finally:
        async for key in client.scan_iter(match=f"{key_prefix}*"):
            await client.delete(key)
        await client.aclose()


async def test_linker_pairs_spread_over_slots_on_redis_cluster(
    redis_cluster_url: str, key_prefix: str
) -> None:
    """The pairs live in PAIR_SHARDS slots (each ``pair.lua`` call in one of them), every
    shard has its copy of a hot flag, and soft links still form on a real cluster."""
    first_node = redis_cluster_url.replace("redis+cluster://", "redis://").split(",")[0]
    client = RedisCluster.from_url(first_node)
    clock = FakeClock()
    keys = KeyBuilder(key_prefix)
    graph = RedisClusterGraph(client, clock, keys=keys)
    observations = RedisObservations(client, keys)
    policy = ClustersPolicy.model_validate({"hot_value_limit": 12})
    linker = Linker(graph, observations, lambda: policy, clock, salt=b"s")
    try:
        squad = [f"s{i}" for i in range(6)]  # one /24 and one template: soft links
        for name in squad:
            await linker.observe(Identity(name, "free", {}, "203.0.113.9"), 0xFEED, clock.now())
        assert await graph.members("s0") == sorted(squad)
        for i in range(14):  # a NAT: more accounts than hot_value_limit on one prefix
            await linker.observe(Identity(f"n{i}", "free", {}, "198.51.100.7"), None, clock.now())
        pairs = [key.decode() async for key in client.scan_iter(match=f"{key_prefix}:{{xp:*:a:*")]
        assert len({slot_of(key) for key in pairs}) >= 3  # spread, not one slot
        assert slot_of(keys.cluster_graph()) not in {slot_of(key) for key in pairs}
        hot = [key.decode() async for key in client.scan_iter(match=f"{key_prefix}:{{xp:*:hot:*")]
        copies = Counter(key.partition(":hot:")[2] for key in hot)
        assert any(value.startswith("ip_prefix:") for value in copies)  # the NAT's prefix
        assert set(copies.values()) == {PAIR_SHARDS}  # a copy in every shard
    finally:
        async for key in client.scan_iter(match=f"{key_prefix}*"):
            await client.delete(key)
        await client.aclose()


async def test_an_operators_link_makes_a_cluster_hard(redis_client: Redis, key_prefix: str) -> None:
    clock = FakeClock()
    graph = make(redis_client, key_prefix, clock)
    await graph.link("a", "b", ev("ip_prefix", clock))
    assert await graph.info("b", ("payment_fingerprint",), 20) == ClusterInfo("a", 2, True)
    assert await graph.info("b") == ClusterInfo("a", 2, False)  # standing not asked
    await graph.link("b", "c", ev(MANUAL, clock), actor="ops", reason="same customer")
    assert await graph.info("c", ("payment_fingerprint",), 20) == ClusterInfo("a", 3, False)
