"""The served gateway (``gateway.server.run_gateway``, as ``gateway serve`` runs it) puts the
HTTP edge on both listeners, with the timeouts from its settings."""

from __future__ import annotations

import asyncio
import socket
import textwrap
from pathlib import Path

import pytest
from gateway_harness import SIMPLE_POLICY
from raw_http import exchange, request

from gateway.server import run_gateway
from gateway.settings import SettingsError, load_settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_open(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        return
    raise AssertionError(f"nothing listens on {port}")


async def test_both_served_listeners_have_the_edge(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(textwrap.dedent(SIMPLE_POLICY))
    api, admin = _free_port(), _free_port()
    settings = load_settings(
        env={
            "GATEWAY_LISTEN": f"127.0.0.1:{api}",
            "GATEWAY_ADMIN_LISTEN": f"127.0.0.1:{admin}",
            "GATEWAY_POLICIES": str(policy),
            "GATEWAY_CHALLENGE_SECRET": "served-edge-test-secret-0123456789abcdef",
            "GATEWAY_CLIENT_HEADER_TIMEOUT": "0.5",
            "GATEWAY_CLIENT_BODY_TIMEOUT": "0.5",
        }
    )
    stop = asyncio.Event()
    served = asyncio.create_task(run_gateway(settings, stop=stop))
    try:
        await _wait_open(api)
        await _wait_open(admin)
        results = []
        for port in (api, admin):
            url = f"http://127.0.0.1:{port}"
            results.append(await exchange(url, request("GET", "/healthz", version="HTTP/2.0")))
            results.append(await exchange(url, b"GET /healthz HTTP/1.1\r\n", wait=5))
    finally:
        stop.set()
        await asyncio.wait_for(served, 30)
    assert [r.last.status for r in results] == [400, 408, 400, 408]
    for result in results:
        assert result.closed
        assert result.last.error["type"] == "invalid_request_error"


@pytest.mark.parametrize("name", ["CLIENT_HEADER_TIMEOUT", "CLIENT_BODY_TIMEOUT"])
def test_client_timeouts_are_settings(name: str) -> None:
    defaults = load_settings(env={})
    assert (defaults.client_header_timeout, defaults.client_body_timeout) == (10.0, 30.0)
    assert getattr(load_settings(env={f"GATEWAY_{name}": "2.5"}), name.lower()) == 2.5
    with pytest.raises(SettingsError) as info:
        load_settings(env={f"GATEWAY_{name}": "0"})
    assert str(info.value).startswith(f"invalid setting {name.lower()} (env GATEWAY_{name})")
