"""Client cost of one budget check: the typical request's ``acquire`` against a real Redis.

Runs ``--requests`` acquires of a typical five-budget request (``typical_request``) from
``--concurrency`` tasks over ``--accounts`` accounts, and the same number of bare ``PING``s
as a baseline, then prints process CPU and wall time per call as JSON. The ratio
acquire/PING is the price of the script, its ARGV encoding and reply decoding.

``python -m loadtest.bench_store [--url redis://127.0.0.1:6379/0] [--requests 20000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import AcquireRequest, BudgetSpec, Charge
from gateway.redis.client import redis_client
from gateway.redis.keys import KeyBuilder

CELL_BITS = 14


def typical_request(keys: KeyBuilder, account: str, rng: random.Random) -> AcquireRequest:
    """Requests and tokens buckets, a day quota, a concurrency slot and a 2^14-cell novelty
    bitmap of one account."""

    def key(name: str) -> str:
        return keys.account_budget(account, account, name)

    def spec(name: str, algorithm: str, limit: int, window: float, rate: float = 0.0) -> BudgetSpec:
        return BudgetSpec(name, "account", "requests", algorithm, key(name), limit=limit,  # type: ignore[arg-type]
                          window=window, rate=rate, repeat_cost=0.1)  # fmt: skip

    return AcquireRequest(
        f"req-{uuid.uuid4().hex}",
        (
            Charge(spec("requests", "bucket", 60, 60, 60)),
            Charge(spec("tokens", "bucket", 150_000, 60, 150_000), cost=1200),
            Charge(spec("day", "window", 1000, 86400)),
            Charge(spec("concurrency", "concurrency", 8, 600)),
            Charge(spec("novelty", "novelty", 300, 86400), cell=rng.randrange(1 << CELL_BITS)),
        ),
        level_keys=(keys.account_level(account, account),),
    )


async def _run(
    calls: int, concurrency: int, call: Callable[[int], Awaitable[Any]]
) -> dict[str, float]:
    counter = iter(range(calls))

    async def worker() -> None:
        for i in counter:
            await call(i)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"cpu_us_per_call": round(cpu / calls * 1e6, 1), "calls_per_s": round(calls / wall)}


async def bench(url: str, requests: int, concurrency: int, accounts: int) -> dict[str, Any]:
    client = redis_client(url, timeout=5)
    store = RedisBudgetStore(client)
    keys = KeyBuilder(f"bench{uuid.uuid4().hex[:8]}")
    rng = random.Random(3)
    pool: list[AcquireRequest] = [typical_request(keys, f"acct{i}", rng) for i in range(accounts)]
    try:
        await store.acquire(pool[0])  # load the script, open connections
        ping = await _run(requests, concurrency, lambda i: client.execute_command("PING"))
        acquire = await _run(requests, concurrency, lambda i: store.acquire(pool[i % accounts]))
        encode_cpu = time.process_time()
        for i in range(requests):
            request = pool[i % accounts]
            store._codec.acquire_args(request.charges, request.level_keys, (), b"", "r", 1.0, True)
        encode_us = (time.process_time() - encode_cpu) / requests * 1e6
        return {
            "requests": requests,
            "concurrency": concurrency,
            "ping": ping,
            "acquire_5_budgets": acquire,
            "argv_encode_us": round(encode_us, 2),
        }
    finally:
        async for key in client.scan_iter(match=f"{keys.prefix}*", count=1000):
            await client.delete(key)
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=500)
    args = parser.parse_args()
    result = asyncio.run(bench(args.url, args.requests, args.concurrency, args.accounts))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
