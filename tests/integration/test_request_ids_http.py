"""Request ids through the gateway: a client's x-request-id is echoed and logged, never used
inside (concurrency leases, store calls); a value that is not printable ASCII of at most 128
characters is replaced by the gateway's own id."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from gateway_harness import JWT_SECRET, running_gateway
from redis.asyncio import Redis

from gateway.auth.identity import claim_attrs

POLICY = """
version: 1
defaults: {tier: pair, max_tokens: 16}
tiers:
  pair:
    concurrency: 2
detection: {enabled: false}
clusters: {enabled: false}
"""
ACCOUNTS = {"pat": ("pair", {})}
GATEWAY_ID = re.compile(r"[0-9a-f]{32}")
BODY = b'{"model":"mock-gpt","messages":[{"role":"user","content":"hello"}]}'


async def raw_request(url: str, head: list[bytes], body: bytes = BODY) -> tuple[int, bytes]:
    """(status, raw response head) of one request written byte for byte: aiohttp's client
    would not send header bytes that are not UTF-8."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [
        b"POST /v1/chat/completions HTTP/1.1",
        b"Host: " + host.encode(),
        b"Content-Type: application/json",
        b"Content-Length: %d" % len(body),
        b"Connection: close",
        *head,
    ]
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[0]


def header_of(head: bytes, name: bytes) -> str:
    for line in head.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode()
    raise AssertionError(f"no {name!r} header in {head!r}")


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_one_client_id_on_concurrent_requests_gets_no_extra_slots(
    tmp_path: Path, backend: str, redis_url: str, key_prefix: str, redis_client: Redis
) -> None:
    store = redis_url if backend == "redis" else "memory://"
    async with running_gateway(
        tmp_path,
        policy=POLICY,
        accounts=ACCOUNTS,
        store=store,
        store_prefix=key_prefix,
        mock_options={"latency_ms": 400},
    ) as gw:

        async def one() -> tuple[int, str]:
            async with await gw.chat("pat", headers={"x-request-id": "same"}) as response:
                await response.read()
                return response.status, response.headers["x-request-id"]

        outcomes = await asyncio.gather(*(one() for _ in range(5)))
        assert sorted(status for status, _ in outcomes) == [200, 200, 429, 429, 429]
        assert {echoed for _, echoed in outcomes} == {"same"}  # echoed, refused ones too
        # every slot was released: the next two run together again
        again = await asyncio.gather(*(one() for _ in range(2)))
        assert [status for status, _ in again] == [200, 200]


@pytest.mark.redis
async def test_a_request_id_that_is_not_utf8_is_replaced_not_a_500(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: Redis
) -> None:
    async with running_gateway(
        tmp_path, policy=POLICY, accounts=ACCOUNTS, store=redis_url, store_prefix=key_prefix
    ) as gw:
        auth = b"Authorization: Bearer " + gw.keys["pat"].encode()
        status, head = await raw_request(gw.url, [auth, b"x-request-id: \xc3\x28\xff\xfe"])
        assert status == 200
        assert GATEWAY_ID.fullmatch(header_of(head, b"x-request-id"))
        status, _ = await raw_request(gw.url, [b"Authorization: Bearer sk-\xff\xfe"])
        assert status == 401


@pytest.mark.redis
@pytest.mark.parametrize(
    "line",
    [
        b'Gateway-PoW: challenge="\xff\xfe.a.b", nonce="1"',
        b"X-Forwarded-For: \xff\xfe, 10.0.0.1",
        b"Forwarded: for=\xff\xfe",
        b"x-stainless-retry-count: \xff",
        b"OpenAI-Organization: \xc3\x28",
    ],
    ids=["gateway-pow", "x-forwarded-for", "forwarded", "retry-count", "other"],
)
async def test_other_header_values_that_are_not_utf8_are_no_500(
    tmp_path: Path, line: bytes, redis_url: str, key_prefix: str, redis_client: Redis
) -> None:
    async with running_gateway(
        tmp_path,
        policy=POLICY,
        accounts=ACCOUNTS,
        store=redis_url,
        store_prefix=key_prefix,
        trusted_proxies=("127.0.0.0/8",),
    ) as gw:
        auth = b"Authorization: Bearer " + gw.keys["pat"].encode()
        status, _ = await raw_request(gw.url, [auth, line])
        assert status == 200


@pytest.mark.redis
async def test_a_jwt_subject_no_store_key_can_carry_is_a_401_not_a_500(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: Redis
) -> None:
    # a JSON escape such as "\\udcff" decodes to a lone surrogate: no Redis key can hold it
    async with running_gateway(tmp_path, store=redis_url, store_prefix=key_prefix) as gw:
        exp = int(time.time()) + 600
        token = jwt.encode({"sub": "\udcff", "exp": exp}, JWT_SECRET, algorithm="HS256")
        response = await gw.chat(headers={"Authorization": f"Bearer {token}"})
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "invalid_api_key"
        assert claim_attrs({"org": "\udcff", "team": "t1"}) == {"team": "t1"}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("client-id-1", True),
        ("a" * 128, True),
        ("with space and ~!@#$%^&*()", True),
        ("a" * 129, False),
        ("caf\u00e9", False),
        ("tab\there", False),
    ],
    ids=["plain", "128", "punctuation", "129", "non-ascii", "control"],
)
async def test_only_printable_ascii_up_to_128_characters_is_echoed(
    tmp_path: Path, sent: str, kept: bool
) -> None:
    seen: list[str | None] = []

    async def upstream(request: web.Request) -> web.Response:
        seen.append(request.headers.get("x-request-id"))
        return web.json_response(
            {"object": "chat.completion", "choices": [], "usage": {"total_tokens": 1}},
            headers={"x-request-id": "upstream-own-id"},
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", upstream)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with running_gateway(
            tmp_path,
            policy=POLICY,
            accounts=ACCOUNTS,
            upstream=str(server.make_url("")).rstrip("/"),
        ) as gw:
            auth = b"Authorization: Bearer " + gw.keys["pat"].encode()
            status, head = await raw_request(
                gw.url, [auth, b"x-request-id: " + sent.encode("utf-8")]
            )
            assert status == 200
            echoed = header_of(head, b"x-request-id")
            if kept:
                assert echoed == sent
            else:
                assert GATEWAY_ID.fullmatch(echoed)
            assert seen == [echoed]  # the upstream sees the id the client gets back
    finally:
        await server.close()


async def test_a_streamed_answer_carries_the_same_id_once(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, accounts=ACCOUNTS) as gw:
        response = await gw.chat("pat", headers={"x-request-id": "trace-7"}, stream=True)
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers.getall("x-request-id") == ["trace-7"]  # not the upstream's
        await response.read()
