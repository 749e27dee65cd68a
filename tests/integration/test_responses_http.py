"""The Responses API (``POST /v1/responses``) through the gateway and the mock: streams and
whole answers settle exactly the upstream's usage, a stream that ends without usage is
charged what was streamed, and degrade keeps the body valid for the Responses API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway_harness import TOKEN_BURST, Gateway, pin_level, running_gateway, token_policy

from gateway.clock import FakeClock

POLICY = token_policy(concurrency=2)


async def _respond(
    gw: Gateway, headers: dict[str, str] | None = None, **body: Any
) -> tuple[int, bytes]:
    payload = {"model": "mock-gpt", "input": "Explain how tides work.", **body}
    async with gw.http.post(
        f"{gw.url}/v1/responses", json=payload, headers={**gw.auth(), **(headers or {})}
    ) as response:
        return response.status, await response.read()


def _events(raw: bytes) -> list[tuple[str, Any]]:
    out = []
    for block in raw.decode().split("\n\n"):
        if block.strip():
            name, data = block.split("\n")
            out.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return out


async def test_a_responses_stream_settles_the_completed_usage(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, clock=FakeClock()) as gw:
        status, raw = await _respond(gw, stream=True, max_output_tokens=500)
        assert status == 200
        events = _events(raw)
        assert events[0][0] == "response.created" and events[-1][0] == "response.completed"
        usage = events[-1][1]["response"]["usage"]
        assert usage["output_tokens"] > 0
        assert await gw.tokens_remaining() == TOKEN_BURST - usage["total_tokens"]
        seen = (await gw.mock_stats())["last_request"]["body"]
        assert "stream_options" not in seen  # the Responses API always sends its usage


async def test_a_cut_responses_stream_settles_its_incomplete_usage(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, clock=FakeClock()) as gw:
        status, raw = await _respond(gw, stream=True, max_output_tokens=16)
        assert status == 200
        name, data = _events(raw)[-1]
        assert name == "response.incomplete" and data["response"]["usage"]["output_tokens"] == 16
        assert (
            await gw.tokens_remaining() == TOKEN_BURST - data["response"]["usage"]["total_tokens"]
        )


async def test_a_whole_response_settles_its_usage(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, clock=FakeClock()) as gw:
        status, raw = await _respond(gw, max_output_tokens=200)
        assert status == 200
        usage = json.loads(raw)["usage"]
        assert await gw.tokens_remaining() == TOKEN_BURST - usage["total_tokens"]


async def test_a_stream_without_usage_is_charged_its_streamed_text(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, clock=FakeClock()) as gw:
        headers = {"x-mock-no-usage": "1", "x-mock-completion-tokens": "400"}
        status, raw = await _respond(gw, headers, stream=True, max_output_tokens=2000)
        assert status == 200
        events = _events(raw)
        assert events[-1][1]["response"]["usage"] is None
        chars = sum(len(d["delta"]) for n, d in events if n == "response.output_text.delta")
        charged = TOKEN_BURST - await gw.tokens_remaining()
        output = (chars + 3) // 4  # the gateway's four characters a token
        assert output > 100
        assert output < charged < output + 40, (charged, output)  # plus the prompt estimate


async def test_degrade_caps_max_output_tokens_and_the_upstream_accepts_it(tmp_path: Path) -> None:
    policy = POLICY.replace("detection: {enabled: false}", "detection: {enabled: true}")
    async with running_gateway(tmp_path, policy=policy, clock=FakeClock()) as gw:
        await pin_level(gw, "alice", "degrade")
        for body in ({"max_output_tokens": 4000}, {}):
            status, raw = await _respond(gw, **body, top_logprobs=5, stream=True)
            assert status == 200, raw
            seen = (await gw.mock_stats())["last_request"]["body"]
            assert seen["max_output_tokens"] == 512 and "max_tokens" not in seen
            assert "top_logprobs" not in seen
