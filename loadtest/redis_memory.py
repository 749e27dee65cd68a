"""Redis memory per active account: the keys one typical request creates.

A typical request charges a requests bucket, a tokens bucket, a day quota, a concurrency
slot (still in flight) and the account's novelty bitmap (a 2^14-cell space). The script
makes ``--accounts`` such accounts (one request each, random cells) under a throwaway
prefix, reads ``MEMORY USAGE`` of every key and ``used_memory`` before and after, prints
one JSON object and deletes the keys.

``python -m loadtest.redis_memory [--url redis://127.0.0.1:6379/0] [--accounts 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import uuid
from typing import Any

from gateway.clock import SystemClock
from gateway.limiter.redis_store import RedisBudgetStore
from gateway.model import AcquireRequest, BudgetSpec, Charge
from gateway.redis.client import redis_client
from gateway.redis.keys import KeyBuilder

CELL_BITS = 14
KINDS = ("requests", "tokens", "day", "concurrency", "novelty")


def typical_request(keys: KeyBuilder, account: str, rng: random.Random) -> AcquireRequest:
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


async def measure(url: str, accounts: int, seed: int = 1) -> dict[str, Any]:
    client = redis_client(url, timeout=5)
    store = RedisBudgetStore(client, SystemClock())
    keys = KeyBuilder(f"mem{uuid.uuid4().hex[:8]}")
    rng = random.Random(seed)
    try:
        before = int((await client.info("memory"))["used_memory"])
        requests = [typical_request(keys, f"acct{i}", rng) for i in range(accounts)]
        for request in requests:
            if not (await store.acquire(request)).allowed:
                raise RuntimeError("a typical request was refused")
        after = int((await client.info("memory"))["used_memory"])
        usage = dict.fromkeys(KINDS, 0)
        for request in requests:
            for kind, charge in zip(KINDS, request.charges, strict=True):
                usage[kind] += int(await client.memory_usage(charge.budget.key, samples=0) or 0)
        per_key = {kind: round(total / accounts, 1) for kind, total in usage.items()}
        return {
            "accounts": accounts,
            "bytes_per_account_memory_usage": round(sum(usage.values()) / accounts, 1),
            "bytes_per_key": per_key,
            "bytes_per_account_used_memory_delta": round((after - before) / accounts, 1),
        }
    finally:
        async for key in client.scan_iter(match=f"{keys.prefix}*", count=1000):
            await client.delete(key)
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--accounts", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.url, args.accounts)), indent=2))


if __name__ == "__main__":
    main()
