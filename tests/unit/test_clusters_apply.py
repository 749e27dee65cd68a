"""The linker's apply side: a batch of sightings with ids changes the evidence once, however
often it is applied (a worker killed after applying, before acknowledging; another worker,
with none of the first one's in-process memory, claims and applies its entries again).

The workload has every kind of signal (hard attributes, IP prefixes, templates, synchrony
that needs repeated co-occurrence, values turning hot); the clusters and every edge's
evidence (first and last seen, counts) must equal a clean run's, on the memory stores and
on a real Redis.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import pytest
from redis.asyncio import Redis
from test_clusters_batch import POLICY, workload

from gateway.clock import FakeClock
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.graph_redis import RedisClusterGraph
from gateway.clusters.linker import Linker, Sighting
from gateway.clusters.observations import MemoryObservations, Observations
from gateway.clusters.observations_redis import RedisObservations
from gateway.clusters.types import Evidence, LinkResult
from gateway.redis.keys import KeyBuilder

START = 1_800_000_000.0


class Died(Exception):
    """The worker was killed."""


class Rig:
    def __init__(self, graph: ClusterGraph, observations: Observations, clock: FakeClock):
        self.graph, self.observations, self.clock = graph, observations, clock

    @classmethod
    def memory(cls) -> Rig:
        clock = FakeClock(START)
        return cls(MemoryClusterGraph(clock, lambda: POLICY), MemoryObservations(), clock)

    @classmethod
    def redis(cls, client: Redis, prefix: str) -> Rig:
        clock, keys = FakeClock(START), KeyBuilder(prefix)
        graph = RedisClusterGraph(client, clock, lambda: POLICY, keys)
        return cls(graph, RedisObservations(client, keys), clock)

    def worker(self, graph: Any = None) -> Linker:
        """A fresh worker process: its own linker (and in-process memory)."""
        return Linker(graph or self.graph, self.observations, lambda: POLICY, self.clock, salt=b"k")

    async def apply(self, linker: Linker, batch: Sequence[tuple[Sighting, str]]) -> None:
        self.clock.set(batch[-1][0][2])
        await linker.observe_many([s for s, _ in batch], [i for _, i in batch])

    async def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for n in range(20):
            info = await self.graph.info(f"acct{n}")
            out[f"acct{n}"] = (info.cluster_id, info.size)
            out[f"links{n}"] = sorted(
                (link.a, link.b, sorted(link.evidence, key=lambda e: e.field))
                for link in await self.graph.links(info.cluster_id)
            )
        return out


class DiesAfter:
    """A graph whose caller is killed after ``calls`` links (the links made stay made)."""

    def __init__(self, inner: ClusterGraph, calls: int) -> None:
        self._inner, self._calls = inner, calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def link(self, a: str, b: str, evidence: Sequence[Evidence], **kw: Any) -> LinkResult:
        if self._calls <= 0:
            raise Died
        self._calls -= 1
        return await self._inner.link(a, b, evidence, **kw)


def counted(seed: int = 7, count: int = 400) -> list[tuple[Sighting, str]]:
    return [(s, f"{i % 4}:{1800000000000 + i}-0") for i, s in enumerate(workload(seed, count))]


def split(items: list[tuple[Sighting, str]], size: int) -> list[list[tuple[Sighting, str]]]:
    return [items[at : at + size] for at in range(0, len(items), size)]


async def replayed(clean: Rig, rig: Rig) -> int:
    """``clean`` applies each batch once; on ``rig`` a worker dies in the middle of a batch
    (after some of its links), then two fresh workers apply the batch again. (A worker's
    in-process memory skips values it reported recently: each batch gets a fresh worker on
    both sides.)"""
    sightings = counted()
    batches = split(sightings, 25)
    for batch in batches:  # a worker per batch on both sides: the same in-process memory
        await clean.apply(clean.worker(), batch)
    died = 0
    for k, batch in enumerate(batches):
        try:  # killed after 0, 1, 2 ... links of the batch
            await rig.apply(rig.worker(DiesAfter(rig.graph, k % 5)), batch)
        except Died:
            died += 1
        await rig.apply(rig.worker(), batch)
        await rig.apply(rig.worker(), batch)
    return died


async def test_redelivered_batches_change_no_evidence_on_memory() -> None:
    clean, rig = Rig.memory(), Rig.memory()
    assert await replayed(clean, rig) > 0
    want = await clean.state()
    assert await rig.state() == want
    assert max(size for _, size in (v for k, v in want.items() if k.startswith("acct"))) > 1


@pytest.mark.redis
async def test_redelivered_batches_change_no_evidence_on_redis(
    redis_client: Redis, key_prefix: str
) -> None:
    clean, rig = Rig.memory(), Rig.redis(redis_client, key_prefix)
    assert await replayed(clean, rig) > 0
    assert await rig.state() == await clean.state()


async def test_without_ids_a_fresh_worker_counts_evidence_again() -> None:
    """The tests above can fail: without ids, a worker killed after noting the pairs and
    before linking loses links (the redelivery finds the signal-days set, links nothing)."""
    sightings = [(s, "") for s, _ in counted()]
    clean, rig = Rig.memory(), Rig.memory()
    for batch in split(sightings, 25):
        await clean.apply(clean.worker(), batch)
    for batch in split(sightings, 25):
        with contextlib.suppress(Died):
            await rig.apply(rig.worker(DiesAfter(rig.graph, 0)), batch)
        await rig.apply(rig.worker(), batch)
    assert await rig.state() != await clean.state()


@pytest.mark.redis
@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_the_sighting_that_made_a_value_hot_finds_it_newly_hot_again(
    kind: str, redis_client: Redis, key_prefix: str
) -> None:
    """Its report (audit, dropped evidence) may have been lost with the worker."""
    observations = (
        MemoryObservations()
        if kind == "memory"
        else RedisObservations(redis_client, KeyBuilder(key_prefix))
    )
    seen = [
        await observations.add_value(
            "ip_prefix", "v", f"a{i}", START + i, limit=3, ttl=600.0, sighting=f"0:{i}-0"
        )
        for i in range(5)
    ]
    assert [(s.hot, s.newly_hot) for s in seen] == [(False, False)] * 3 + [
        (True, True),
        (True, False),
    ]
    copy = RedisObservations(redis_client, KeyBuilder(key_prefix)).hot_copies("ip_prefix", "v")[0]
    if kind == "redis":  # the worker died before writing the copy of the flag
        assert 0 < await redis_client.ttl(copy) <= 600
        await redis_client.delete(copy)
    again = await observations.add_value(
        "ip_prefix", "v", "a3", START + 3, limit=3, ttl=600.0, sighting="0:3-0"
    )
    assert (again.hot, again.newly_hot) == (True, True)
    if kind == "redis":  # written again by the redelivered sighting
        assert await redis_client.get(copy) == b"0:3-0"
