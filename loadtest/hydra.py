"""Hydra scenario on the cluster graph + linker (no HTTP; drives them directly).

* 1,000 hydra accounts paid with a few dozen cards and registered under overlapping org ids
  (each value shared by 10 accounts, below the hot limit): they must end in ONE cluster,
  held to the cluster budget instead of 1,000 x the account budget.
* 1,000 unrelated accounts behind one NAT /24 (the same office or carrier-grade NAT), each
  with its own prompts: the /24 turns hot and must merge nobody.

Usage: ``python -m loadtest.hydra [--redis-url redis://127.0.0.1:6379/0]`` (memory default).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
import zlib

from redis.asyncio import Redis

from gateway.clock import FakeClock
from gateway.clusters.config import ClustersPolicy
from gateway.clusters.graph import ClusterGraph
from gateway.clusters.graph_memory import MemoryClusterGraph
from gateway.clusters.graph_redis import RedisClusterGraph
from gateway.clusters.linker import Linker
from gateway.clusters.observations import MemoryObservations, Observations
from gateway.clusters.observations_redis import RedisObservations
from gateway.model import Identity
from gateway.redis.keys import KeyBuilder

POLICY = ClustersPolicy.model_validate(
    {"hot_value_limit": 50, "max_size": 5000, "budgets": {"free": {"requests": "8/minute"}}}
)
ACCOUNT_RATE = 5.0  # requests/minute of one free account (the tier budget)


def hydra(n: int) -> list[Identity]:
    return [
        Identity(
            f"hydra{k:04d}",
            "free",
            {"payment_fingerprint": f"card-{k // 10}", "org_id": f"org-{(k + 5) // 10}"},
            client_ip=f"10.{k % 200}.{k // 200}.7",
        )
        for k in range(n)
    ]


def nat(n: int) -> list[Identity]:
    return [
        Identity(f"office{k:04d}", "free", {}, client_ip=f"192.0.2.{k % 250 + 1}") for k in range(n)
    ]


async def run(graph: ClusterGraph, observations: Observations, clock: FakeClock) -> None:
    linker = Linker(graph, observations, lambda: POLICY, clock, salt=b"hydra")
    started = time.perf_counter()
    for rounds in range(2):
        for group in (hydra(1000), nat(1000)):
            for k, identity in enumerate(group):
                template = zlib.crc32(f"{identity.account_id}:{rounds}".encode())
                await linker.observe(identity, template, clock.now())
                clock.advance(0.5 if k % 3 else 0.0)
    elapsed = time.perf_counter() - started
    observed = linker.stats.observed

    info = await graph.info("hydra0000")
    hydra_clusters = {(await graph.info(i.account_id)).cluster_id for i in hydra(1000)}
    merged_nat = [i.account_id for i in nat(1000) if (await graph.info(i.account_id)).size > 1]
    budget = POLICY.budgets["free"].requests
    cluster_rate = budget.rate.per_second * 60 if budget else ACCOUNT_RATE * POLICY.scale(info.size)
    print(f"observations: {observed} in {elapsed:.2f}s ({1e3 * elapsed / observed:.3f} ms each)")
    print(f"hydra: {len(hydra_clusters)} cluster(s), largest {info.size} members")
    print(
        f"hydra allowance: {cluster_rate:.0f} requests/minute for the cluster "
        f"(unlinked: {1000 * ACCOUNT_RATE:.0f} requests/minute)"
    )
    print(
        f"NAT: {len(merged_nat)} of 1000 unrelated accounts merged; hot values reported: "
        f"{linker.stats.hot_values}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    clock = FakeClock()
    if not args.redis_url:
        await run(MemoryClusterGraph(clock, lambda: POLICY), MemoryObservations(), clock)
        return
    client = Redis.from_url(args.redis_url)
    keys = KeyBuilder(f"hydra{uuid.uuid4().hex[:8]}")
    try:
        graph = RedisClusterGraph(client, clock, lambda: POLICY, keys)
        await run(graph, RedisObservations(client, keys), clock)
    finally:
        async for key in client.scan_iter(match=f"{keys.prefix}*"):
            await client.delete(key)
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
