"""SSE relay: no buffering, usage chunk handling, settlement, disconnects."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from gateway_harness import TOKEN_BURST, running_gateway, token_policy

from gateway.clock import FakeClock

STREAM_POLICY = token_policy(concurrency=1)


def _events(raw: bytes) -> list[Any]:
    out: list[Any] = []
    for block in raw.decode().split("\n\n"):
        block = block.strip()
        if block.startswith("data: ") and block != "data: [DONE]":
            out.append(json.loads(block[6:]))
    return out


async def test_stream_is_relayed_chunk_by_chunk(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, mock_options={"chunk_delay_ms": 200}) as gw:
        started = time.perf_counter()
        response = await gw.chat(stream=True)
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["x-ratelimit-remaining-requests"] == "99"  # before the body
        arrivals: list[float] = []
        raw = b""
        async for data in response.content.iter_any():
            arrivals.append(time.perf_counter() - started)
            raw += data
        chunks = _events(raw)
        content = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
        assert len(content) >= 5
        assert raw.rstrip().endswith(b"data: [DONE]")
        # the first bytes arrive long before the last: nothing buffers the stream
        assert arrivals[-1] - arrivals[0] > 0.6, arrivals


async def test_usage_chunk_requested_upstream_and_stripped(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        response = await gw.chat(stream=True)
        chunks = _events(await response.read())
        assert all(chunk["choices"] for chunk in chunks), "usage chunk must be stripped"
        assert all("usage" not in chunk or chunk["usage"] is None for chunk in chunks)
        seen = (await gw.mock_stats())["last_request"]["body"]
        assert seen["stream_options"] == {"include_usage": True}

        response = await gw.chat(stream=True, stream_options={"include_usage": True})
        chunks = _events(await response.read())
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"]["total_tokens"] > 0


async def test_tokens_settled_from_sse_usage(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_gateway(tmp_path, policy=STREAM_POLICY, clock=clock) as gw:
        response = await gw.chat(
            stream=True, max_tokens=500, stream_options={"include_usage": True}
        )
        usage = _events(await response.read())[-1]["usage"]
        assert await gw.tokens_remaining() == TOKEN_BURST - usage["total_tokens"]


async def test_disconnect_releases_slot_and_charges_what_was_streamed(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_gateway(
        tmp_path, policy=STREAM_POLICY, clock=clock, mock_options={"chunk_delay_ms": 150}
    ) as gw:
        response = await gw.chat(stream=True, max_tokens=2000)
        assert response.status == 200
        await response.content.readuntil(b"\n\n")  # the first event arrived
        response.close()  # the client goes away mid-stream
        for _ in range(100):
            await asyncio.sleep(0.05)
            if gw.state.leases.by_key() == {} and gw.state.background.pending == 0:
                break
        stats = await gw.mock_stats()
        assert stats["stream_disconnects"] >= 1 or stats["in_flight"] == 0
        remaining = await gw.tokens_remaining()
        reservation = 2000 + 10
        assert TOKEN_BURST - reservation < remaining < TOKEN_BURST, remaining
        second = await gw.chat()  # concurrency 1: the slot is free again
        assert second.status == 200
