"""A gateway restart loses no sighting it appended: a gateway that stops right after its
requests still sends the appends queued on its store connection, and a detect worker started
after the restart applies those and the new gateway's alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from gateway_harness import running_gateway
from redis.asyncio import Redis

from gateway.app import build_detect_worker

POLICY = """
version: 1
defaults: {tier: free, failure_mode: open, max_tokens: 64}
tiers:
  free:
    requests: {rate: 600/minute, burst: 100}
detection: {enabled: true, mode: shadow}
clusters: {enabled: false}
"""
REQUESTS = 25


@pytest.mark.redis
async def test_a_gateway_restart_loses_no_appended_sighting(
    tmp_path: Path, redis_url: str, store_prefix: str, redis_client: Redis
) -> None:
    common = {"policy": POLICY, "store": redis_url, "store_prefix": store_prefix}
    async with running_gateway(tmp_path / "before", detect=False, **common) as gw:
        for i in range(REQUESTS):
            response = await gw.chat("alice", content=f"Question number {i} about rivers")
            assert response.status == 200
        keys, shards = gw.state.backend.keys, gw.state.settings.sighting_shards
        # no drain here: stopping the gateway must send what is queued
    streams = [keys.sightings(n) for n in range(shards)]
    assert sum([await redis_client.xlen(s) for s in streams]) == REQUESTS
    async with running_gateway(tmp_path / "after", detect=False, **common) as gw:
        for i in range(REQUESTS):
            response = await gw.chat("alice", content=f"Another question {i} about lakes")
            assert response.status == 200
        worker = build_detect_worker(gw.state, consumer="after-restart")
        worker.start()
        try:
            await gw.state.sightings.drain()
            await worker.drain()
        finally:
            await worker.stop()
        view = await gw.state.detection.view("a:alice", "free")
    assert view["requests"] == 2 * REQUESTS
    assert worker.applied == 2 * REQUESTS
