"""Pieces of the fault drills (``python -m loadtest.faults``): bounded load, percentiles,
rows and the table, the drill's policy, counting live concurrency leases in Redis."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from gateway.policy.loader import load_policy
from loadtest.faults.drills import live_leases
from loadtest.faults.load import Answer, load, percentile, row, table
from loadtest.faults.stack import MODES, policy


def answers(*millis: float, status: int = 200) -> list[Answer]:
    return [Answer(0.0, status, ms / 1000) for ms in millis]


def test_percentiles_rows_and_table() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
    during = answers(*[10.0] * 98, 300.0, 320.0) + answers(5.0, status=503)
    base = answers(*[4.0] * 100)
    r = row("Redis frozen", "open", during, base, "on Redis again after 2.9 s")
    assert (r.requests, r.errors_5xx, r.statuses) == (101, 1, "200x100 503x1")
    assert (r.p50_ms, r.p99_ms, r.max_ms) == ("10 (+6)", "300 (+296)", "320")
    text = table([r, row("empty", "-", [], None, "-")])
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].startswith("| drill | mode |")
    assert lines[2] == (
        "| Redis frozen | open | 101 | 200x100 503x1 | 1 | 10 (+6) | 300 (+296) | 320 "
        "| on Redis again after 2.9 s |"
    )


async def test_load_is_bounded_in_requests_and_seconds() -> None:
    async def fast() -> Answer:
        await asyncio.sleep(0)
        return Answer(time.perf_counter(), 200, 0.0)

    assert len(await load(fast, 5.0, workers=7, max_requests=50)) == 50
    started = time.monotonic()

    async def slow() -> Answer:
        await asyncio.sleep(0.05)
        return Answer(time.perf_counter(), 200, 0.05)

    done = await load(slow, 0.2, workers=2, max_requests=10_000)
    assert time.monotonic() - started < 1.0 and 4 <= len(done) <= 12


@pytest.mark.parametrize("mode", MODES)
def test_the_drill_policy_loads(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy(mode)))
    loaded = load_policy(str(path))
    assert loaded.policy.defaults.failure_mode == mode


@pytest.mark.redis
async def test_live_leases_counts_unexpired_slots_under_a_prefix(
    redis_url: str, redis_client: Redis, key_prefix: str
) -> None:
    seconds, _ = await redis_client.time()
    slots = f"{key_prefix}:{{c:a}}:a:a:concurrency"
    await redis_client.zadd(slots, {"live1": seconds + 60, "live2": seconds + 60})
    await redis_client.zadd(slots, {"expired": seconds - 60})
    await redis_client.zadd(f"{key_prefix}:{{c:a}}:a:a:requests", {"other": seconds + 60})
    assert await live_leases(redis_url, key_prefix) == 2
