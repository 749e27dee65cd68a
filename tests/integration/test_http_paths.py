"""The route-prefix path rule on a live gateway (raw sockets: clients normalise paths)."""

from __future__ import annotations

from pathlib import Path

from gateway_harness import running_gateway
from raw_http import exchange, request

ESCAPES = [
    "/v1/../mock/stats",
    "/v1/%2e%2e/mock/stats",
    "/v1/%2E%2E/mock/stats",
    "/v1/..%2fmock/stats",
    "/v1/..%2Fmock/stats",
    "/v1/./../mock/stats",
    "/v1/.%2e/mock/stats",
    "/v1/%252e%252e/mock/stats",
    "/v1/..%5cmock/stats",
    "/v1/..\\mock/stats",
    "/v1//mock/stats",
    "/v1/..;/mock/stats",
    "/v1/models;x=1",
    "/v1/%00/models",
    "/v1/%c0%ae%c0%ae/mock/stats",
    "/v1/%e0%80%ae%e0%80%ae/mock/stats",
    "/v1/models/..",
    "/v1/models/.",
    "/v1/chat/completions/../../../mock/stats",
]


async def test_paths_leaving_the_prefix_are_refused_before_authentication(
    tmp_path: Path,
) -> None:
    async with running_gateway(tmp_path) as gw:
        for path in ESCAPES:
            # no credential at all: the answer is the path's 400, not a 401
            anonymous = await exchange(gw.url, request("GET", path, {"Connection": "close"}))
            signed = await exchange(
                gw.url, request("GET", path, {**gw.auth(), "Connection": "close"})
            )
            for result in (anonymous, signed):
                response = result.last
                assert response.status == 400, (path, result.raw[:300])
                assert response.error["type"] == "invalid_request_error"
                assert response.error["code"] == "invalid_path", path
        stats = await gw.mock_stats()
    assert stats["total"] == 0  # nothing reached the upstream


async def test_accepted_escapes_are_forwarded_as_the_checked_path(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        result = await exchange(
            gw.url,
            request("GET", "/v1/models/mock%2Dgpt", {**gw.auth(), "Connection": "close"}),
        )
        stats = await gw.mock_stats()
    assert result.last.status == 200, result.raw[:300]
    last = stats["last_request"]
    assert last["path"] == "/v1/models/mock-gpt"
    assert stats["total"] == 1
