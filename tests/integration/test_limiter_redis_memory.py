"""Redis memory per active account (the keys one typical request creates); prints it."""

from __future__ import annotations

import pytest

from loadtest.redis_memory import KINDS, measure

pytestmark = pytest.mark.redis


async def test_memory_per_active_account(redis_url: str) -> None:
    report = await measure(redis_url, accounts=300)
    print(f"\nRedis memory per active account: {report}")
    per_key = report["bytes_per_key"]
    assert set(per_key) == set(KINDS) and all(v > 0 for v in per_key.values())
    # a 2^14-cell novelty bitmap is at most 2 KiB; every other key is small
    assert per_key["novelty"] <= 2048 + 256
    assert report["bytes_per_account_memory_usage"] < 3000
