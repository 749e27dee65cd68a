"""The metrics the dashboard and alerts read: latency by decision, the store breaker's state
and the store's ping time, on a real (then killed, then restarted) Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gateway_harness import ADMIN_TOKEN, Gateway, running_gateway
from metrics_text import Samples, samples_by_name
from redis_servers import RedisServer

pytestmark = pytest.mark.redis


async def _samples(gw: Gateway) -> Samples:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with gw.http.get(f"{gw.admin_url}/metrics", headers=headers) as response:
        return samples_by_name(await response.text())


def _value(samples: Samples, name: str) -> float:
    ((_, value),) = samples[name]
    return value


async def test_latency_by_decision_breaker_and_ping(
    tmp_path: Path, redis_servers: Callable[[], RedisServer]
) -> None:
    server = redis_servers()
    async with running_gateway(
        tmp_path, store=server.url, store_prefix=f"ms{time.monotonic_ns()}"
    ) as gw:
        for account in ("alice", "carol", "carol", "carol", "carol"):  # carol: 3/minute
            (await gw.chat(account)).release()
        samples = await _samples(gw)
        counts = {
            labels["decision"]: value
            for labels, value in samples["gateway_request_duration_seconds_count"]
        }
        assert counts["allow"] == 4 and counts["refuse"] == 1
        assert _value(samples, "gateway_store_breaker_open") == 0
        assert _value(samples, "gateway_store_available") == 1
        assert 0 < _value(samples, "gateway_store_ping_seconds") < 5

        server.kill()
        deadline = time.monotonic() + 20
        while _value(await _samples(gw), "gateway_store_breaker_open") != 1:
            assert time.monotonic() < deadline, "the breaker never opened"
            (await gw.chat("alice")).release()  # fail open: served, and the store fails
        assert _value(await _samples(gw), "gateway_store_available") == 0

        server.start()
        deadline = time.monotonic() + 20  # the breaker probes again after open_for (3 s)
        while _value(await _samples(gw), "gateway_store_breaker_open") != 0:
            assert time.monotonic() < deadline, "the breaker never closed"
            (await gw.chat("bob")).release()
            await asyncio.sleep(0.2)
