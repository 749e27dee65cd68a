"""Batched linking (the worker's path) and the cluster cache's background refreshes.

A workload with every kind of signal (hard attributes, IP prefixes, templates, synchrony,
values turning hot) is linked one request at a time and in batches: the clusters, the
evidence and the counters must agree; on a real Redis the batched observation calls must
answer what the one-by-one calls answer.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import pytest
from redis.asyncio import Redis

from gateway.clock import FakeClock
from gateway.clusters.cache import EXPIRE_EVERY, ClusterCache
from gateway.clusters.config import ClustersPolicy
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.linker import Linker, Sighting
from gateway.clusters.observations import MemoryObservations, PairNote, PairRule, ValueAdd
from gateway.clusters.observations_redis import RedisObservations
from gateway.clusters.types import ClusterInfo, Evidence
from gateway.model import Identity
from gateway.redis.keys import KeyBuilder

POLICY = ClustersPolicy.model_validate(
    {"hot_value_limit": 6, "synchrony": {"window": "2s", "min_cooccurrences": 2}}
)


def workload(seed: int = 7, count: int = 400) -> list[Sighting]:
    """Twenty accounts: some share orgs, /24s and templates, and fire in step."""
    rng = random.Random(seed)
    out: list[Sighting] = []
    t = 1_800_000_000.0
    for _ in range(count):
        n = rng.randrange(20)
        attrs = {"org_id": f"org{n // 4}"} if n % 5 == 0 else {}
        ip = f"203.0.{n % 3}.{rng.randrange(1, 250)}" if rng.random() < 0.7 else ""
        template = rng.choice([0xA, 0xB, 0xC, None, rng.getrandbits(32)])
        out.append((Identity(f"acct{n}", "free", attrs, client_ip=ip), template, t))
        t += rng.choice([0.1, 0.4, 3.0, 900.0])
    return out


class Rig:
    def __init__(self) -> None:
        self.clock = FakeClock(1_800_000_000.0)
        self.graph = MemoryClusterGraph(self.clock, lambda: POLICY)
        self.linker = Linker(
            self.graph, MemoryObservations(), lambda: POLICY, self.clock, salt=b"k"
        )

    async def run(self, sightings: Sequence[Sighting], size: int) -> None:
        for at in range(0, len(sightings), size):
            batch = sightings[at : at + size]
            self.clock.set(batch[-1][2])
            if size == 1:
                await self.linker.observe(*batch[0])
            else:
                await self.linker.observe_many(batch)

    async def clusters(self) -> dict[str, tuple[str, int]]:
        out = {}
        for n in range(20):
            info = await self.graph.info(f"acct{n}")
            out[f"acct{n}"] = (info.cluster_id, info.size)
        return out


@pytest.mark.parametrize("size", [5, 50])
async def test_batched_linking_equals_one_by_one(size: int) -> None:
    sightings = workload()
    one, many = Rig(), Rig()
    await one.run(sightings, 1)
    await many.run(sightings, size)
    linked = await one.clusters()
    assert await many.clusters() == linked
    assert max(s for _, s in linked.values()) > 1  # something did link
    assert one.linker.stats.hot_values > 0  # and some values turned hot
    for cluster in {c for c, _ in linked.values()}:
        assert await many.graph.links(cluster) == await one.graph.links(cluster)
    # a batch adds all its values before it notes pairs, so the edges made and dropped again
    # on the way (their value turned hot meanwhile) may differ in number; the result may not
    one.linker.stats.links = many.linker.stats.links = 0
    assert many.linker.stats == one.linker.stats


@pytest.mark.redis
async def test_redis_observation_batches_answer_like_single_calls(
    redis_client: Redis, key_prefix: str
) -> None:
    keys = KeyBuilder(key_prefix)
    single, batched = (
        RedisObservations(redis_client, keys),
        RedisObservations(redis_client, KeyBuilder(key_prefix + "b")),
    )
    rule = PairRule(min_signals=2, repeat_days=3, ttl=3600.0)
    adds = [ValueAdd("template", f"h{i % 3}", f"a{i % 8}", 100.0 + i, 5, 600.0) for i in range(30)]
    expected = [
        await single.add_value(a.signal, a.value_hash, a.account, a.now, limit=a.limit, ttl=a.ttl)
        for a in adds
    ]
    assert await batched.add_values(adds) == expected
    assert any(seen.hot for seen in expected) and any(seen.others for seen in expected)
    notes = [
        PairNote(f"a{i}", (f"a{i + 1}", f"a{i + 2}"), signal, "v", 19000 + day, 1, rule)
        for i in range(4)
        for signal in ("template", "ip_prefix")
        for day in range(2)
    ] + [PairNote("a9", (), "template", "v", 19000, 1, rule)]
    expected_matches = [
        await single.record_pairs(
            n.account, n.others, n.signal, n.value_hash, n.day, need=n.need, rule=n.rule
        )
        for n in notes
    ]
    assert await batched.record_pairs_many(notes) == expected_matches
    assert any(expected_matches)
    # co-occurrences counted per occurrence, sightings delivered twice, many notes per shard
    # (one pair.lua call per shard holds them all, in order)
    counted = [
        PairNote(f"a{i % 3}", (f"a{3 + i % 2}", "a5"), "ip_prefix", f"w{i % 2}", 19100, 2, rule,
                 f"o{i % 4}", f"s{i % 5}")
        for i in range(24)
    ]  # fmt: skip
    expected_counted = [
        await single.record_pairs(
            n.account, n.others, n.signal, n.value_hash, n.day, need=n.need, rule=n.rule,
            occurrence=n.occurrence, sighting=n.sighting,
        )
        for n in counted
    ]  # fmt: skip
    assert await batched.record_pairs_many(counted) == expected_counted
    assert sum(len(m) for m in expected_counted) >= 2


class CountingGraph(MemoryClusterGraph):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.calls: list[str] = []

    async def info(
        self, account: str, hard: tuple[str, ...] | None = None, soft_max: int = 0
    ) -> ClusterInfo:
        self.calls.append(account)
        return await super().info(account, hard, soft_max)


async def test_expired_entries_are_served_and_refreshed_once_per_burst() -> None:
    clock = FakeClock()
    graph = CountingGraph(clock)
    cache = ClusterCache(graph, clock)
    for name in "ab":
        await cache.get(name)
    await graph.link("a", "b", (Evidence("payment_fingerprint", "h", clock.now(), clock.now()),))
    cache.expire_all()
    cache.expire_all()  # a burst of hot values: one expiry
    assert await cache.get("b") == ClusterInfo("b", 1)  # the stale answer, no waiting
    await asyncio.sleep(0)
    assert cache.peek("b") == ClusterInfo("a", 2)
    await cache.get("b")
    assert graph.calls == ["a", "b", "b"]  # refreshed once
    cache.expire_all()  # within EXPIRE_EVERY of the last one: deferred
    await cache.get("a")
    assert graph.calls.count("a") == 1
    clock.advance(EXPIRE_EVERY)
    await cache.get("a")  # the deferred expiry applies now
    await asyncio.sleep(0)
    assert graph.calls.count("a") == 2 and cache.peek("a") == ClusterInfo("a", 2)


async def test_invalidated_members_are_looked_up_again_in_the_background() -> None:
    clock = FakeClock()
    graph = CountingGraph(clock)
    cache = ClusterCache(graph, clock)
    await graph.link("a", "b", (Evidence("payment_fingerprint", "h", clock.now(), clock.now()),))
    for name in "abc":
        await cache.get(name)
    cache.invalidate("a")
    assert cache.peek("a") is None and cache.peek("b") is None
    await asyncio.sleep(0)
    assert cache.peek("a") == cache.peek("b") == ClusterInfo("a", 2)
    assert sorted(graph.calls) == ["a", "a", "b", "b", "c"]
