"""Property tests against a live gateway: arbitrary ``x-request-id``, ``X-Forwarded-For`` and
credential header bytes never produce a 5xx; the answer is a success or an OpenAI-style 4xx.

The gateway runs in a thread of its own (one per module); each example is one raw request.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from gateway_harness import running_gateway
from hypothesis import given, settings
from hypothesis import strategies as st
from raw_http import exchange

# header value bytes a client can put on the wire: visible ASCII, space, tab, obs-text, DEL
value_bytes = st.binary(max_size=40).map(
    lambda b: bytes(c for c in b if c in (9, 32) or 33 <= c <= 127 or c >= 128)
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    info: dict[str, Any] = {}
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        async with running_gateway(
            tmp_path_factory.mktemp("live"), trusted_proxies=("127.0.0.0/8",)
        ) as gw:
            info.update(url=gw.url, key=gw.keys["alice"])
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        yield info
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def _send(url: str, headers: list[tuple[bytes, bytes]]) -> Any:
    lines = [b"GET /v1/models HTTP/1.1", b"Host: gateway", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    data = b"\r\n".join(lines) + b"\r\n\r\n"
    return asyncio.run(exchange(url, data, wait=5))


def _assert_clean(result: Any) -> None:
    response = result.last
    assert response.status < 500, result.raw[:300]
    if response.status >= 400:
        assert response.error["type"] == "invalid_request_error"
    assert len(response.headers.get("x-request-id", "")) <= 128


@settings(max_examples=40, deadline=None)
@given(value_bytes)
def test_any_request_id_is_served_or_refused_with_4xx(live: dict[str, Any], value: bytes) -> None:
    auth = (b"Authorization", b"Bearer " + live["key"].encode())
    _assert_clean(_send(live["url"], [auth, (b"x-request-id", value)]))


@settings(max_examples=40, deadline=None)
@given(value_bytes, st.sampled_from([b"X-Forwarded-For", b"Forwarded"]))
def test_any_forwarding_header_is_served_or_refused_with_4xx(
    live: dict[str, Any], value: bytes, name: bytes
) -> None:
    auth = (b"Authorization", b"Bearer " + live["key"].encode())
    _assert_clean(_send(live["url"], [auth, (name, value)]))


@settings(max_examples=40, deadline=None)
@given(value_bytes, st.sampled_from([b"Authorization", b"x-api-key"]))
def test_any_credential_bytes_are_refused_with_4xx(
    live: dict[str, Any], value: bytes, name: bytes
) -> None:
    result = _send(live["url"], [(name, value)])
    _assert_clean(result)
    assert result.last.status in (400, 401)
