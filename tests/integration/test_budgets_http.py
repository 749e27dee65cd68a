"""Budget refusals as customers see them: status, headers, OpenAI-style bodies."""

from __future__ import annotations

from pathlib import Path

import pytest
from gateway_harness import running_gateway

from gateway.clock import FakeClock


async def test_requests_bucket_429_with_retry_headers(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, clock=FakeClock()) as gw:
        for _ in range(3):
            assert (await gw.chat("carol")).status == 200
        response = await gw.chat("carol")
        assert response.status == 429
        error = (await response.json())["error"]
        assert error["type"] == "requests"
        assert error["code"] == "rate_limit_exceeded"
        assert "Please try again in 20s" in error["message"]
        assert response.headers["Retry-After"] == "20"
        assert response.headers["retry-after-ms"] == "20000"
        assert response.headers["x-ratelimit-remaining-requests"] == "0"
        assert response.headers["Cache-Control"] == "no-store"
        assert "x-should-retry" not in response.headers


async def test_refill_over_fake_time(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_gateway(tmp_path, clock=clock) as gw:
        for _ in range(3):
            assert (await gw.chat("carol")).status == 200
        assert (await gw.chat("carol")).status == 429
        clock.advance(20)
        assert (await gw.chat("carol")).status == 200
        assert (await gw.chat("carol")).status == 429


async def test_exhausted_quota_is_insufficient_quota_not_retryable(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, clock=FakeClock()) as gw:
        for _ in range(2):
            assert (await gw.chat("dave")).status == 200
        response = await gw.chat("dave")
        assert response.status == 429
        error = (await response.json())["error"]
        assert error["type"] == "insufficient_quota"
        assert error["code"] == "insufficient_quota"
        assert "daily quota of 2 requests" in error["message"]
        assert response.headers["x-should-retry"] == "false"


async def test_request_larger_than_token_burst(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, clock=FakeClock()) as gw:
        response = await gw.chat("erin", max_tokens=1000)
        assert response.status == 429
        error = (await response.json())["error"]
        assert error["type"] == "tokens"
        assert "Request too large" in error["message"]
        assert response.headers["x-should-retry"] == "false"
        ok = await gw.chat("erin", max_tokens=100)
        assert ok.status == 200


async def test_refused_requests_never_reach_the_upstream(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, clock=FakeClock()) as gw:
        for _ in range(5):
            await gw.chat("carol")
        assert (await gw.mock_stats())["total"] == 3


@pytest.mark.redis
async def test_a_sequential_client_under_concurrency_one_never_meets_its_own_slot(
    tmp_path: Path, redis_url: str, store_prefix: str
) -> None:
    # the release of request n is queued on the shared Redis connection before request n+1
    # can be read from the network, with a long linger that would otherwise delay it
    async with running_gateway(
        tmp_path, store=redis_url, store_prefix=store_prefix, settle_linger_ms=100
    ) as gw:
        statuses = []
        for _ in range(40):
            response = await gw.chat("frank")
            await response.read()
            statuses.append(response.status)
        assert statuses == [200] * 40
