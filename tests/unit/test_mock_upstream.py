"""The OpenAI-compatible mock upstream: shapes, usage, streaming, hooks and stats."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientTimeout
from aiohttp.test_utils import TestClient, TestServer

from gateway.clock import FakeClock
from gateway.mock import build_mock_app, count_tokens, redact_secret
from gateway.mock.cli import register
from gateway.mock.text import generate

CHAT = "/v1/chat/completions"
START = 1_767_225_600.0


def chat_body(prompt: str = "Explain how tides work.", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}], **extra}


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(build_mock_app(clock=FakeClock(START)))) as c:
        yield c


async def post(
    client: TestClient[Any, Any], body: Any, path: str = CHAT, **headers: str
) -> tuple[int, Any]:
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    async with client.post(path, json=body, headers=hdrs) as resp:
        return resp.status, await resp.json()


def sse_events(text: str) -> list[str]:
    events = [block for block in text.split("\n\n") if block.strip()]
    assert all(e.startswith("data: ") for e in events), events
    return [e[len("data: ") :] for e in events]


async def stream(
    client: TestClient[Any, Any], body: dict[str, Any], **headers: str
) -> tuple[list[Any], str]:
    """The parsed chunks of a stream and the final event (should be [DONE])."""
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    async with client.post(CHAT, json=body | {"stream": True}, headers=hdrs) as resp:
        assert resp.status == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["cache-control"] == "no-cache"
        events = sse_events(await resp.text())
    return [json.loads(e) for e in events[:-1]], events[-1]


# -- token rule and generation ---------------------------------------------------------


def test_token_rule() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("distillation") == 3  # 12 characters: 3 pieces of up to 5
    assert count_tokens("") == 0
    assert count_tokens("a  b\n c") == 3


@pytest.mark.parametrize("natural", [1, 2, 11, 12, 13, 64, 200])
@pytest.mark.parametrize("limit", [None, 1, 7, 64])
def test_generated_text_counts_exactly(natural: int, limit: int | None) -> None:
    gen = generate(12345, natural, limit)
    expected = natural if limit is None else min(natural, limit)
    assert gen.tokens == expected == count_tokens(gen.text)
    assert gen.finish_reason == ("length" if expected < natural else "stop")


# -- non-streamed shapes ---------------------------------------------------------------


async def test_chat_completion_shape_and_usage(client: TestClient[Any, Any]) -> None:
    async with client.post(CHAT, json=chat_body()) as resp:
        assert resp.status == 200
        assert resp.headers["x-ratelimit-limit-requests"]
        assert resp.headers["x-ratelimit-remaining-tokens"]
        assert "set-cookie" in resp.headers
        body = await resp.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["created"] == int(START)
    assert body["model"] == "gpt-4o-mini"
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["logprobs"] is None
    assert choice["message"]["role"] == "assistant"
    usage = body["usage"]
    assert usage["completion_tokens"] == 64 == count_tokens(choice["message"]["content"])
    # 3 per message + 3 priming + the content's tokens
    assert usage["prompt_tokens"] == 6 + count_tokens("Explain how tides work.")
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0


@pytest.mark.parametrize(("field", "limit"), [("max_tokens", 5), ("max_completion_tokens", 17)])
async def test_completion_length_honours_the_limit(
    client: TestClient[Any, Any], field: str, limit: int
) -> None:
    status, body = await post(client, chat_body() | {field: limit})
    assert status == 200
    choice = body["choices"][0]
    assert body["usage"]["completion_tokens"] == limit
    assert count_tokens(choice["message"]["content"]) == limit
    assert choice["finish_reason"] == "length"


async def test_content_is_deterministic_per_prompt(client: TestClient[Any, Any]) -> None:
    _, a = await post(client, chat_body("first prompt"))
    _, b = await post(client, chat_body("first prompt"))
    _, c = await post(client, chat_body("second prompt"))
    assert a["id"] != b["id"]
    assert a["choices"][0]["message"]["content"] == b["choices"][0]["message"]["content"]
    assert a["choices"][0]["message"]["content"] != c["choices"][0]["message"]["content"]


async def test_n_choices_and_logprobs(client: TestClient[Any, Any]) -> None:
    _, body = await post(client, chat_body(n=3, max_tokens=6, logprobs=True, top_logprobs=2))
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len({c["message"]["content"] for c in body["choices"]}) == 3
    assert body["usage"]["completion_tokens"] == 18
    for choice in body["choices"]:
        content = choice["logprobs"]["content"]
        assert "".join(t["token"] for t in content) == choice["message"]["content"]
        assert all(len(t["top_logprobs"]) == 2 and t["logprob"] <= 0 for t in content)


async def test_hooks_for_reasoning_and_cached_tokens(client: TestClient[Any, Any]) -> None:
    _, body = await post(
        client, chat_body(max_tokens=50), x_mock_reasoning_tokens="30", x_mock_cached_tokens="4"
    )
    usage = body["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 30
    assert usage["completion_tokens"] == 50  # reasoning counts inside the limit
    assert count_tokens(body["choices"][0]["message"]["content"]) == 20
    assert usage["prompt_tokens_details"]["cached_tokens"] == 4


async def test_legacy_completions(client: TestClient[Any, Any]) -> None:
    status, body = await post(
        client,
        {
            "model": "gpt-3.5-turbo-instruct",
            "prompt": ["one two", "three"],
            "max_tokens": 4,
            "logprobs": 1,
        },
        "/v1/completions",
    )
    assert status == 200 and body["object"] == "text_completion"
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert body["usage"] == body["usage"] | {"prompt_tokens": 3, "completion_tokens": 8}
    lp = body["choices"][0]["logprobs"]
    assert "".join(lp["tokens"]) == body["choices"][0]["text"]
    assert lp["text_offset"][0] == 0 and len(lp["token_logprobs"]) == 4


async def test_embeddings(client: TestClient[Any, Any]) -> None:
    req = {"model": "text-embedding-3-small", "input": ["alpha", "beta"], "dimensions": 8}
    status, body = await post(client, req, "/v1/embeddings")
    assert status == 200 and body["object"] == "list"
    vectors = [d["embedding"] for d in body["data"]]
    assert [d["index"] for d in body["data"]] == [0, 1] and all(len(v) == 8 for v in vectors)
    assert all(math.isclose(math.hypot(*v), 1.0, rel_tol=1e-5) for v in vectors)
    assert vectors[0] != vectors[1]
    assert body["usage"] == {"prompt_tokens": 2, "total_tokens": 2}
    _, b64 = await post(client, req | {"encoding_format": "base64"}, "/v1/embeddings")
    decoded = struct.unpack("<8f", base64.b64decode(b64["data"][0]["embedding"]))
    assert all(math.isclose(x, y, abs_tol=1e-6) for x, y in zip(decoded, vectors[0], strict=True))


async def test_models(client: TestClient[Any, Any]) -> None:
    async with client.get("/v1/models") as resp:
        listing = await resp.json()
    ids = [m["id"] for m in listing["data"]]
    assert listing["object"] == "list" and "gpt-4o-mini" in ids
    async with client.get("/v1/models/gpt-4o-mini") as resp:
        assert (await resp.json())["object"] == "model"
    async with client.get("/v1/models/no-such-model") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "model_not_found"


# -- errors ----------------------------------------------------------------------------


async def test_malformed_json_is_an_openai_400(client: TestClient[Any, Any]) -> None:
    async with client.post(
        CHAT, data=b"{not json", headers={"content-type": "application/json"}
    ) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["type"] == "invalid_request_error"
    assert set(error) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "m", "messages": []}, "messages"),
        (chat_body(max_tokens=0), "max_tokens"),
        (chat_body(stream_options={"include_usage": True}), "stream_options"),
    ],
)
async def test_invalid_requests(client: TestClient[Any, Any], body: Any, param: str) -> None:
    status, answer = await post(client, body)
    assert status == 400 and answer["error"]["param"] == param


# -- streaming -------------------------------------------------------------------------


async def test_stream_matches_the_non_streamed_answer(client: TestClient[Any, Any]) -> None:
    _, whole = await post(client, chat_body(max_tokens=40))
    chunks, done = await stream(client, chat_body(max_tokens=40))
    assert done == "[DONE]"
    assert all(c["object"] == "chat.completion.chunk" and "usage" not in c for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    contents = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert len(contents) >= 5 and all(contents)
    assert "".join(contents) == whole["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "length",
    }


async def test_stream_include_usage(client: TestClient[Any, Any]) -> None:
    _, whole = await post(client, chat_body())
    body = chat_body(stream_options={"include_usage": True})
    chunks, done = await stream(client, body)
    assert done == "[DONE]"
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == whole["usage"]
    no_usage, _ = await stream(client, body, x_mock_no_usage="1")
    assert all(c["choices"] for c in no_usage)
    assert len(no_usage) == len(chunks) - 1


async def test_legacy_completions_stream(client: TestClient[Any, Any]) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon", "max_tokens": 20}
    _, whole = await post(client, body, "/v1/completions")
    async with client.post(
        "/v1/completions", json=body | {"stream": True, "stream_options": {"include_usage": True}}
    ) as resp:
        events = sse_events(await resp.text())
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "text_completion" and c["id"] == chunks[0]["id"] for c in chunks)
    texts = [c["choices"][0]["text"] for c in chunks[:-2]]
    assert len(texts) >= 5 and "".join(texts) == whole["choices"][0]["text"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == whole["usage"]


async def test_stream_chunk_count_hook_and_n(client: TestClient[Any, Any]) -> None:
    chunks, _ = await stream(client, chat_body(n=2), x_mock_chunks="12")
    content = [c for c in chunks if c["choices"][0]["delta"].get("content")]
    assert sorted(c["choices"][0]["index"] for c in content) == [0] * 12 + [1] * 12


async def test_stream_chunks_are_spaced_by_the_delay() -> None:
    app = build_mock_app(chunk_delay_ms=100)
    async with TestClient(TestServer(app)) as client:
        arrivals: list[float] = []
        start = time.perf_counter()
        async with client.post(
            CHAT, json=chat_body(stream=True), headers={"x-mock-chunks": "5"}
        ) as resp:
            async for line in resp.content:
                if line.startswith(b"data: "):
                    arrivals.append(time.perf_counter() - start)
    # role, 5 content chunks 100 ms apart, finish, [DONE]
    assert len(arrivals) == 8
    assert arrivals[0] < 0.09
    assert arrivals[-1] - arrivals[0] >= 0.45
    assert arrivals[2] - arrivals[1] >= 0.09


async def test_latency_hook(client: TestClient[Any, Any]) -> None:
    start = time.perf_counter()
    status, _ = await post(client, chat_body(), x_mock_latency_ms="200")
    assert status == 200 and time.perf_counter() - start >= 0.19


# -- hooks and stats -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"), [(500, "server_error"), (429, "requests"), (401, "invalid_request_error")]
)
async def test_status_hook(client: TestClient[Any, Any], code: int, kind: str) -> None:
    async with client.post(CHAT, json=chat_body(), headers={"x-mock-status": str(code)}) as resp:
        assert resp.status == code
        assert ("retry-after" in resp.headers) == (code == 429)
        error = (await resp.json())["error"]
    assert error["type"] == kind and error["message"]


async def test_hang_hook_never_answers(client: TestClient[Any, Any]) -> None:
    with pytest.raises(asyncio.TimeoutError):
        async with client.post(
            CHAT, json=chat_body(), headers={"x-mock-hang": "1"}, timeout=ClientTimeout(total=1.0)
        ) as resp:
            await resp.read()
    async with client.get("/mock/stats") as resp:
        stats = await resp.json()
    assert stats["hangs"] == 1


async def test_stats_show_what_was_forwarded(client: TestClient[Any, Any]) -> None:
    secret = "sk-upstream-credential-1234"
    await post(client, chat_body(max_tokens=0))  # 400
    await stream(client, chat_body(stream_options={"include_usage": True}))
    async with client.get("/v1/models"):
        pass
    async with client.post(
        CHAT,
        json=chat_body(),
        headers={"Authorization": f"Bearer {secret}", "X-Gateway-Account": "acct-1"},
    ):
        pass
    async with client.get("/mock/stats") as resp:
        stats = await resp.json()
    assert stats["total"] == 4 and stats["streams"] == 1 and stats["in_flight"] == 0
    assert stats["endpoints"] == {"chat.completions": 3, "models": 1}
    assert stats["statuses"] == {"200": 3, "400": 1}
    last = stats["last_request"]
    assert secret not in json.dumps(stats)
    assert last["headers"]["authorization"] == redact_secret(f"Bearer {secret}")
    assert last["headers"]["authorization"].startswith("Bearer redacted:sha256:")
    assert redact_secret(f"Bearer {secret}") != redact_secret("Bearer sk-other")
    assert last["headers"]["x-gateway-account"] == "acct-1"
    assert last["body"]["model"] == "gpt-4o-mini" and last["body"]["messages"] == 1
    assert "tides" not in json.dumps(last)  # no prompt text
    async with client.post("/mock/reset") as resp:
        assert resp.status == 200
    async with client.get("/mock/stats") as resp:
        assert (await resp.json())["total"] == 0


async def test_openai_sdk_reads_the_mock(client: TestClient[Any, Any]) -> None:
    openai = pytest.importorskip("openai")
    sdk = openai.AsyncOpenAI(api_key="sk-test", base_url=str(client.make_url("/v1")), max_retries=0)
    try:
        done = await sdk.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=9
        )
        assert done.usage is not None and done.usage.completion_tokens == 9
        parts: list[str] = []
        usage = None
        events = await sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=9,
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in events:
            if chunk.choices:
                parts.append(chunk.choices[0].delta.content or "")
            else:
                usage = chunk.usage
        assert "".join(parts) == done.choices[0].message.content
        assert usage is not None and usage.total_tokens == done.usage.total_tokens
    finally:
        await sdk.close()


def test_cli_registers_mock_upstream() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "mock-upstream",
            "--listen",
            "127.0.0.1:9999",
            "--chunk-delay-ms",
            "25",
            "--latency-ms",
            "5",
        ]
    )
    assert args.listen == ("127.0.0.1", 9999)
    assert (args.chunk_delay_ms, args.latency_ms) == (25.0, 5.0)
    assert callable(args.func)
    with pytest.raises(SystemExit):
        parser.parse_args(["mock-upstream", "--listen", "nowhere"])
