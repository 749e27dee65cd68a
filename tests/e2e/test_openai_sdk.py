"""End to end with the real openai SDK through the gateway (plain, streaming, errors, PoW)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import openai
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
from gateway_harness import ADMIN_TOKEN, running_gateway

from gateway.challenges.client import with_pow_async
from gateway.clock import FakeClock

POLICY = """
version: 1
defaults: {tier: free, failure_mode: open, max_tokens: 64}
tiers:
  free:
    requests: {rate: 600/minute, burst: 100}
    tokens: {rate: 1000000/hour, burst: 100000}
  slow:
    requests: {rate: 60/minute, burst: 1}
  quota:
    quotas: [1/day]
detection:
  enabled: true
  challenge: {base_difficulty: 10, max_difficulty: 12}
clusters: {enabled: false}
"""
ACCOUNTS = {
    "alice": ("free", {}),
    "sam": ("slow", {}),
    "quinn": ("quota", {}),
    "cara": ("free", {}),
}


def _client(url: str, key: str, retries: int = 2) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=retries)


async def test_plain_and_streaming_completions(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, accounts=ACCOUNTS) as gw:
        client = _client(gw.url, gw.keys["alice"])
        completion = await client.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": "Say hello"}]
        )
        assert completion.choices[0].message.content
        assert completion.usage is not None and completion.usage.total_tokens > 0
        raw = await client.chat.completions.with_raw_response.create(
            model="mock-gpt", messages=[{"role": "user", "content": "Say hello"}]
        )
        assert raw.headers["x-ratelimit-limit-requests"] == "100"
        stream = await client.chat.completions.create(
            model="mock-gpt", stream=True, messages=[{"role": "user", "content": "Stream"}]
        )
        pieces = [chunk.choices[0].delta.content or "" async for chunk in stream]
        assert len(pieces) >= 5 and "".join(pieces)
        await client.close()


async def test_bad_key_is_authentication_error(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, accounts=ACCOUNTS) as gw:
        client = _client(gw.url, "dgk_not_a_real_key_000000000000000000000000")
        with pytest.raises(openai.AuthenticationError) as info:
            await client.models.list()
        assert info.value.code == "invalid_api_key"
        await client.close()


async def test_rate_limit_error_and_sdk_waits_retry_after_ms(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, accounts=ACCOUNTS) as gw:
        strict = _client(gw.url, gw.keys["sam"], retries=0)
        await strict.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "one"}]
        )
        with pytest.raises(openai.RateLimitError) as info:
            await strict.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "two"}]
            )
        error = info.value
        assert error.code == "rate_limit_exceeded"
        assert "Please try again in" in error.message
        wait_ms = float(error.response.headers["retry-after-ms"])
        assert 0 < wait_ms <= 1000
        # with retries, the SDK sleeps what retry-after-ms says, then succeeds
        patient = _client(gw.url, gw.keys["sam"], retries=2)
        started = time.perf_counter()
        await patient.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "three"}]
        )
        elapsed = time.perf_counter() - started
        assert 0.5 < elapsed < 3.0, elapsed
        await strict.close()
        await patient.close()


async def test_exhausted_quota_is_not_retried_by_the_sdk(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, accounts=ACCOUNTS) as gw:
        client = _client(gw.url, gw.keys["quinn"], retries=2)
        await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "one"}]
        )
        before = (await gw.mock_stats())["total"]
        started = time.perf_counter()
        with pytest.raises(openai.RateLimitError) as info:
            await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "two"}]
            )
        assert time.perf_counter() - started < 0.4  # x-should-retry: false, no backoff
        assert info.value.code == "insufficient_quota"
        assert (await gw.mock_stats())["total"] == before
        await client.close()


async def test_challenge_round_trip_with_the_pow_helper(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, accounts=ACCOUNTS) as gw:
        pinned = await gw.http.post(
            f"{gw.admin_url}/admin/v1/accounts/cara/level",
            json={"level": "challenge", "ttl": 600, "reason": "e2e test"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert pinned.status == 200
        plain = _client(gw.url, gw.keys["cara"])
        with pytest.raises(openai.PermissionDeniedError) as info:
            await plain.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}]
            )
        assert info.value.code == "challenge_required"
        assert info.value.response.headers["x-should-retry"] == "false"
        assert info.value.response.headers["WWW-Authenticate"].startswith("GatewayPoW ")
        helped = with_pow_async(_client(gw.url, gw.keys["cara"]))
        completion = await helped.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
        assert completion.choices[0].message.content
        # the clearance lets the next request through without new work
        again = await plain.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
        assert again.choices
        await plain.close()
        await helped.close()


async def test_responses_api_whole_and_streamed_settle_their_usage(tmp_path: Path) -> None:
    # a slow refill on a fake clock: the budget's arithmetic shows whole tokens
    policy = POLICY.replace("rate: 1000000/hour", "rate: 60/hour")
    async with running_gateway(tmp_path, policy=policy, accounts=ACCOUNTS, clock=FakeClock()) as gw:
        client = _client(gw.url, gw.keys["alice"])
        response = await client.responses.create(
            model="mock-gpt", input="Say hello", instructions="Be brief.", max_output_tokens=40
        )
        assert response.output_text and response.usage is not None
        whole = response.usage.total_tokens
        burst = 100_000  # POLICY's free tokens
        assert burst - await gw.tokens_remaining() == whole
        stream = await client.responses.create(model="mock-gpt", input="Stream", stream=True)
        kinds: list[str] = []
        text = ""
        final = None
        async for event in stream:
            kinds.append(event.type)
            if event.type == "response.output_text.delta":
                text += event.delta
            elif event.type == "response.completed":
                final = event.response
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
        assert final is not None and final.output_text == text and final.usage is not None
        assert final.usage.output_tokens > 0
        assert burst - await gw.tokens_remaining() == whole + final.usage.total_tokens
        await client.close()
