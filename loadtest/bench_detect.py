"""Detection's apply side in the worker: CPU and Redis cost per sighting, side by side.

Feeds ``--sightings`` sightings of the detection kit's traffic (its quick plan: 100+ accounts
of every benign persona and harvest strategy; hydra members share a cluster per scenario;
served as the kit's behaviours ask, every request answered 200) through
``DetectionEngine.observe_many`` against a private redis-server (loopback, no persistence),
twice from an empty database:

* ``per-sighting``: batches of one sighting, every entity observed and scored per sighting
  (what a worker costs when it cannot batch);
* ``batched``: batches of ``--batch`` sightings (an entity's observations in one script
  call, each entity scored once per batch).

Each row, per sighting: worker CPU µs (this process; fingerprints computed beforehand),
Redis commands the worker sent (counted in redis-py) and the server executed (``INFO
commandstats``: the commands inside scripts too), round trips (``INFO stats`` reads), Redis
CPU µs (``INFO cpu``, main thread); and how many accounts ended at each highest level (the
outcome must not change).
``--no-ids`` sends sightings without ids (no dedupe); ``--replay`` has a second worker (its
own engine, on the same stores) apply every batch again, as when it claims the entries of a
worker that died before acknowledging them: its cost, and the same outcome.

``python -m loadtest.bench_detect [--sightings 12000] [--batch 256] [--no-ids] [--replay]``
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import tempfile
import time
import zlib
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import redis
import redis.asyncio.client as aioredis

from gateway.clock import FakeClock
from gateway.detection.batch import Sighting
from gateway.detection.config import DetectionPolicy
from gateway.detection.engine import DetectionEngine
from gateway.detection.redis_state import RedisStateStore
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import Identity
from gateway.redis.client import redis_client
from gateway.redis.keys import KeyBuilder
from loadtest.bench_procs import start_redis
from loadtest.detection.context import Context
from loadtest.detection.evaluate import START
from loadtest.detection.policy import detection_section
from loadtest.detection.pools import load_pools
from loadtest.detection.scenarios import QUICK, build
from loadtest.detection.traffic import Outcome

SHARDS = 4


class Sent:
    """Counts the commands this process sends (direct calls and pipelined ones) while in
    its ``with`` block."""

    def __init__(self) -> None:
        self.count = 0
        self._saved = (aioredis.Redis.execute_command, aioredis.Pipeline.execute_command)

    def __enter__(self) -> Sent:
        direct, queued = self._saved

        def count_direct(client: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return direct(client, *args, **kwargs)

        def count_queued(pipe: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return queued(pipe, *args, **kwargs)

        aioredis.Redis.execute_command = count_direct  # type: ignore[method-assign]
        aioredis.Pipeline.execute_command = count_queued  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        direct, queued = self._saved
        aioredis.Redis.execute_command = direct  # type: ignore[method-assign]
        aioredis.Pipeline.execute_command = queued  # type: ignore[method-assign]


def kit_sightings(count: int, seed: int = 1) -> list[Sighting]:
    """The first ``count`` requests of the kit's quick plan, as the detection worker gets
    them: time-ordered sightings (without ids)."""
    accounts = build(QUICK, seed)
    ctx = Context(load_pools("reporting"), START, QUICK.days, QUICK.cap, QUICK.scale)
    fingerprinter = Fingerprinter()
    sizes = Counter(acc.scenario for acc, _ in accounts)
    behaviours = [fn(acc, ctx) for acc, fn in accounts]
    queue: list[tuple[float, int, Any]] = []
    for i, b in enumerate(behaviours):
        first = next(b, None)
        if first is not None:
            heapq.heappush(queue, (first[0], i, first[1]))
    out: list[Sighting] = []
    while queue and len(out) < count:
        t, i, request = heapq.heappop(queue)
        acc = accounts[i][0]
        hydra = acc.scenario.startswith("hydra")
        cluster = acc.scenario if hydra else acc.name
        ident = Identity(acc.name, acc.tier, dict(acc.attrs), client_ip=acc.client_ip)
        out.append(
            Sighting(
                ident,
                cluster,
                sizes[acc.scenario] if hydra else 1,
                fingerprinter.fingerprint(request.body, "chat"),
                fingerprinter.features(request.body, "chat", request.headers),
                t,
            )
        )
        try:
            nxt = behaviours[i].send(Outcome(200, tokens=64))
        except StopIteration:
            continue
        heapq.heappush(queue, (max(nxt[0], t), i, nxt[1]))
    return out


def with_ids(sightings: list[Sighting]) -> list[Sighting]:
    """Stream-like ids, as the transport passes them: ``shard:ms-seq``."""
    return [
        replace(
            s, id=f"{zlib.crc32(s.identity.account_id.encode()) % SHARDS}:{s.now * 1000:.0f}-{i}"
        )
        for i, s in enumerate(sightings)
    ]


class Server:
    """``INFO`` counters of the private Redis (the INFO calls themselves are left out)."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5)

    def snapshot(self) -> dict[str, float]:
        info: dict[str, Any] = self.client.info("all")
        inside = sum(
            int(v["calls"])
            for k, v in info.items()
            if k.startswith("cmdstat_") and k != "cmdstat_info"
        )
        return {
            "executed": float(inside),
            "reads": float(info["total_reads_processed"]),
            "cpu": float(info["used_cpu_user_main_thread"] + info["used_cpu_sys_main_thread"]),
        }


async def run(
    url: str,
    sightings: list[Sighting],
    batch: int,
    policy: DetectionPolicy,
    replay: bool,
    sent: Sent,
) -> dict[str, Any]:
    server = Server(url)
    server.client.flushdb()
    client = redis_client(url, timeout=5)
    keys = KeyBuilder("bench")
    clock = FakeClock(sightings[0].now)
    state, budgets = RedisStateStore(client, keys), RedisBudgetStore(client, clock)
    workers = [  # the second one applies every batch again (it claimed the first's entries)
        DetectionEngine(state, budgets, keys, lambda: policy, clock) for _ in range(2)
    ]
    highest: dict[str, int] = {}
    await client.ping()  # connect before measuring
    before, cpu, wall = server.snapshot(), time.process_time(), time.perf_counter()
    sent_before = sent.count
    for at in range(0, len(sightings), batch):
        part = sightings[at : at + batch]
        clock.set(part[-1].now)
        for engine in workers[: 2 if replay else 1]:
            for s, (a, _) in zip(part, await engine.observe_many(part), strict=True):
                name = s.identity.account_id
                highest[name] = max(highest.get(name, 0), int(a.level))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    commands = sent.count - sent_before
    after = server.snapshot()
    await client.aclose()
    n = len(sightings)
    info_calls = 2  # the two snapshots: one INFO each
    return {
        "batch": batch,
        "worker_cpu_us": round(cpu / n * 1e6, 1),
        "redis_cpu_us": round((after["cpu"] - before["cpu"]) / n * 1e6, 1),
        "commands_sent": round(commands / n, 2),
        "commands_executed": round((after["executed"] - before["executed"]) / n, 2),
        "round_trips": round((after["reads"] - before["reads"] - info_calls) / n, 3),
        "sightings_per_s": round(n / wall),
        "levels": dict(sorted(Counter(highest.values()).items())),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtest.bench_detect", description=__doc__)
    p.add_argument("--sightings", type=int, default=12000, help="at most (the plan ends)")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--no-ids", action="store_true", help="sightings without ids (no dedupe)")
    p.add_argument(
        "--replay", action="store_true", help="a second worker applies every batch again"
    )
    p.add_argument("--policy", default="policies/default.yaml")
    args = p.parse_args(argv)
    sightings = kit_sightings(args.sightings)
    if not args.no_ids:
        sightings = with_ids(sightings)
    policy = DetectionPolicy.model_validate(detection_section(Path(args.policy)))
    with tempfile.TemporaryDirectory(prefix="dg-bench-detect-") as tmp:
        proc, url = start_redis(Path(tmp))
        try:
            with Sent() as sent:
                rows = {
                    "per-sighting": asyncio.run(run(url, sightings, 1, policy, args.replay, sent)),
                    "batched": asyncio.run(
                        run(url, sightings, args.batch, policy, args.replay, sent)
                    ),
                }
        finally:
            proc.stop()
    accounts = len({s.identity.account_id for s in sightings})
    print(f"{len(sightings)} sightings of {accounts} accounts (ids: {not args.no_ids})")
    for name, row in rows.items():
        print(f"{name:>12}: {json.dumps(row)}")
    one, many = rows["per-sighting"], rows["batched"]
    ratios = {
        k: round(many[k] / one[k], 3)
        for k in ("worker_cpu_us", "redis_cpu_us", "commands_sent", "commands_executed")
        if one[k]
    }
    print(f"batched / per-sighting: {json.dumps(ratios)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
