"""The HTTP edge of both listeners (``gateway.http.protocol``) against a live gateway over raw
sockets: parser errors (JSON bodies, one redacted log line), HTTP versions, request-head and
body timeouts. Small timeouts in the settings keep the tests fast.

These tests also guard the aiohttp internals that module subclasses: an aiohttp upgrade that
changes them fails here.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.web_protocol import RequestHandler
from gateway_harness import ADMIN_TOKEN, JWT_SECRET, EdgeTestServer, running_gateway
from raw_http import exchange, request
from structlog.testing import capture_logs

from gateway.http.protocol import EdgeOptions, EdgeRequestHandler

FAST = {"client_header_timeout": 0.5, "client_body_timeout": 0.5}
PROMPT = "TOP-SECRET-PROMPT-TEXT"
CHAT = "/v1/chat/completions"


def _logged(caplog: pytest.LogCaptureFixture, events: list[dict[str, Any]]) -> str:
    """Everything logged, through structlog and the standard library (tracebacks too)."""
    formatter = logging.Formatter("%(name)s %(message)s")
    lines = [formatter.format(r) for r in caplog.records]
    return "\n".join(lines + [json.dumps(e, default=repr) for e in events])


def _assert_redacted_edge_lines(events: list[dict[str, Any]], statuses: set[int]) -> None:
    edge = [e for e in events if e["event"] == "http_error"]
    assert {e["status"] for e in edge} == statuses, edge
    for event in edge:
        assert set(event) == {"event", "log_level", "status", "error", "peer", "listener"}


async def test_parser_errors_answer_json_and_log_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_gateway(tmp_path, **FAST) as gw:
        key = gw.keys["alice"]
        token = jwt.encode({"sub": "mallory-account"}, JWT_SECRET, algorithm="HS256")
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": PROMPT}]})
        bad = [
            (gw.url, request("GET", "/v1/models", {"Authorization": f"Bearer {token}\x01"})),
            (gw.url, request("GET", "/v1/models", {"x-api-key": f"{key}\x00"})),
            (gw.url, request("GET", "/v1/models", {"x-api-key": key + "A" * 9000})),
            (gw.url, request("GET", "/v1/models", {"Bad Name": f"Bearer {key}"})),
            # a body longer than its Content-Length: the rest is parsed as a request line
            (
                gw.url,
                request("POST", CHAT, {**gw.auth(), "Content-Length": "2"}, b"{}" + body.encode()),
            ),
            (
                gw.admin_url,
                request("GET", "/metrics", {"Authorization": f"Bearer {ADMIN_TOKEN}\x01"}),
            ),
        ]
        with capture_logs() as events:
            results = [await exchange(url, data) for url, data in bad]
    for result in results:
        assert result.closed
        response = result.last
        assert response.status == 400, result.raw[:300]
        assert response.headers["content-type"].startswith("application/json")
        assert response.error["type"] == "invalid_request_error"
    everything = _logged(caplog, events) + "".join(r.raw.decode("latin-1") for r in results)
    for secret in (key, token, ADMIN_TOKEN, PROMPT):
        assert secret not in everything
    _assert_redacted_edge_lines(events, {400})
    listeners = {e["listener"] for e in events if e["event"] == "http_error"}
    assert listeners == {"api", "admin"}


@pytest.mark.parametrize("version", ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.0"])
async def test_http_versions_other_than_1_0_and_1_1_are_refused(
    tmp_path: Path, version: str
) -> None:
    async with running_gateway(tmp_path, **FAST) as gw:
        api = await exchange(gw.url, request("GET", "/v1/models", gw.auth(), version=version))
        admin = await exchange(gw.admin_url, request("GET", "/metrics", version=version))
        good = [
            await exchange(gw.url, request("GET", "/healthz", {"Connection": "close"}, version=v))
            for v in ("HTTP/1.0", "HTTP/1.1")
        ]
        stats = await gw.mock_stats()
    for result in (api, admin):
        assert result.closed
        assert result.last.status == 400, result.raw[:300]
        assert result.last.error["type"] == "invalid_request_error"
    assert stats["total"] == 0
    assert [r.last.status for r in good] == [200, 200]


async def test_a_stalled_request_head_gets_408_and_is_closed(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, **FAST) as gw:
        with capture_logs() as events:
            partial = await exchange(gw.url, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n", wait=5)
            silent = await exchange(gw.admin_url, wait=5)
            # whole heads, 0.3 s apart, then an idle keep-alive connection: not a slow head
            kept = await exchange(
                gw.url, request("GET", "/healthz"), 0.3, request("GET", "/healthz"), wait=1.5
            )
    for result in (partial, silent):
        assert result.closed
        assert result.last.status == 408
        assert result.last.error["code"] == "request_timeout"
    assert [r.status for r in kept.responses] == [200, 200]
    assert not kept.closed
    _assert_redacted_edge_lines(events, {408})


async def test_a_slowloris_head_that_keeps_sending_is_still_cut(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, **FAST) as gw:
        pieces: list[bytes | float] = [b"GET /v1/models HTTP/1.1\r\n"]
        pieces += [piece for _ in range(30) for piece in (0.1, b"X-Drip: 1\r\n")]
        result = await exchange(gw.url, *pieces, wait=5)
    # a header every 0.1 s, for 3 s: the server closed the connection well before the end
    assert result.closed and result.unsent > 10
    # the 408 is sent; a reset caused by the client's later writes may discard it
    assert [r.status for r in result.responses] in ([408], [])


def _stalled_chat(gw: Any, account: str, sent: bytes) -> bytes:
    return request("POST", CHAT, {**gw.auth(account), "Content-Length": "3000000"}, sent)


async def test_a_stalled_body_gets_408_closes_and_holds_no_concurrency_slot(
    tmp_path: Path,
) -> None:
    async with running_gateway(tmp_path, **FAST) as gw:
        # frank's tier allows one request at a time
        stalled = asyncio.create_task(
            exchange(gw.url, _stalled_chat(gw, "frank", b"x" * 100), wait=5)
        )
        await asyncio.sleep(0.2)  # the stalled body is being read now
        meanwhile = await gw.chat("frank")
        meanwhile_status = meanwhile.status
        meanwhile.release()
        result = await stalled
        after = await gw.chat("frank")
        after_status = after.status
        after.release()
        leases = gw.state.leases.by_key()
    assert meanwhile_status == 200
    assert result.closed
    assert [r.status for r in result.responses] == [408]
    assert result.last.error["code"] == "request_timeout"
    assert result.last.headers.get("connection") == "close"
    assert "x-request-id" in result.last.headers  # answered by the pipeline
    assert after_status == 200
    assert leases == {}


async def test_a_stalled_body_nobody_reads_ends_the_lingering_read(tmp_path: Path) -> None:
    """Refused before its body is read (401): aiohttp reads and drops the rest of the body
    for up to 10 s; the body timeout ends that early, without an error."""
    async with running_gateway(tmp_path, **FAST) as gw:
        head = request("POST", CHAT, {"Content-Length": "3000000"}, b"x" * 100)
        with capture_logs() as events:
            result = await exchange(gw.url, head, wait=5)
    assert result.closed
    assert [r.status for r in result.responses] == [401]
    assert [e for e in events if e["log_level"] == "error"] == []


async def test_a_slow_body_that_keeps_sending_is_not_cut(tmp_path: Path) -> None:
    payload = json.dumps({"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]})
    data = payload.encode()
    async with running_gateway(tmp_path, **FAST) as gw:
        head = request(
            "POST", CHAT, {**gw.auth(), "Content-Length": str(len(data)), "Connection": "close"}
        )
        pieces: list[bytes | float] = [head]
        step = len(data) // 8 + 1
        for i in range(0, len(data), step):  # 8 pieces 0.2 s apart: 1.6 s > the 0.5 s timeout
            pieces += [0.2, data[i : i + step]]
        result = await exchange(gw.url, *pieces, wait=5)
    assert [r.status for r in result.responses] == [200], result.raw[:300]


async def test_a_stalled_admin_body_gets_408(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, **FAST) as gw:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Length": "1000"}
        result = await exchange(
            gw.admin_url, request("POST", "/admin/v1/clusters/link", headers, b"{"), wait=5
        )
    assert result.closed
    assert [r.status for r in result.responses] == [408], result.raw[:300]
    assert result.last.error["code"] == "request_timeout"


async def test_aiohttp_plain_text_answers_become_json(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, **FAST) as gw:
        headers = {**gw.auth(), "Expect": "secret-expectation", "Content-Length": "2"}
        results = [
            await exchange(gw.url, request("POST", CHAT, headers, b"{}"), wait=1.5),
            await exchange(gw.url, request("OPTIONS", "*", gw.auth()), wait=1.5),
            await exchange(gw.url, request("CONNECT", "evil.example:443", gw.auth()), wait=1.5),
        ]
    assert [r.last.status for r in results] == [417, 404, 404]
    for result in results:
        assert result.last.headers["content-type"].startswith("application/json")
        assert result.last.error["type"] == "invalid_request_error"
    assert b"secret-expectation" not in results[0].raw


async def test_a_body_that_cannot_be_decoded_is_400_and_closes(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, **FAST) as gw:
        headers = {**gw.auth(), "Content-Encoding": "gzip", "Content-Length": "5"}
        with capture_logs() as events:
            result = await exchange(gw.url, request("POST", CHAT, headers, b"hello"), wait=3)
    assert result.closed
    assert [r.status for r in result.responses] == [400]
    assert result.last.error["code"] == "invalid_body"
    assert [e for e in events if e["log_level"] == "error"] == []


async def test_a_compressed_body_is_forwarded_decoded(tmp_path: Path) -> None:
    body = json.dumps({"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]})
    data = gzip.compress(body.encode())
    async with running_gateway(tmp_path, **FAST) as gw:
        headers = {**gw.auth(), "Content-Encoding": "gzip", "Content-Length": str(len(data))}
        result = await exchange(
            gw.url, request("POST", CHAT, {**headers, "Connection": "close"}, data)
        )
        stats = await gw.mock_stats()
    assert result.last.status == 200, result.raw[:300]
    assert "content-encoding" not in stats["last_request"]["headers"]


async def test_handler_errors_answer_json_and_log_no_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise ValueError(f"something with {PROMPT} in it")

    app = web.Application()
    app.router.add_get("/boom", boom)
    server = EdgeTestServer(app, EdgeOptions(header_timeout=1, body_timeout=1))
    await server.start_server()
    try:
        with capture_logs() as events:
            result = await exchange(str(server.make_url("")), request("GET", "/boom"))
    finally:
        await server.close()
    assert result.last.status == 500
    assert result.last.error["type"] == "server_error"
    assert PROMPT not in _logged(caplog, events)
    (line,) = [e for e in events if e["event"] == "http_error"]
    assert line["error"] == "ValueError" and line["frames"]


async def test_connections_are_edge_handlers() -> None:
    """The runner really builds our handler (an aiohttp upgrade changing ``Server`` or
    ``AppRunner._make_server`` would silently fall back to aiohttp's own)."""
    seen: list[type] = []

    async def which(request: web.Request) -> web.Response:
        seen.append(type(request.protocol))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", which)
    server: TestServer = EdgeTestServer(app, EdgeOptions(header_timeout=1, body_timeout=1))
    await server.start_server()
    try:
        await exchange(str(server.make_url("")), request("GET", "/", {"Connection": "close"}))
    finally:
        await server.close()
    assert seen == [EdgeRequestHandler]
    for name in ("_messages", "_waiter", "_request_in_progress", "_close", "_force_close"):
        assert name in RequestHandler.__slots__, name
