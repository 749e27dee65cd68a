"""The gateway as a transparent, authenticated proxy: bodies, headers, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from gateway_harness import UPSTREAM_KEY, running_gateway

from gateway.mock.stats import redact_secret


async def test_chat_completion_passes_through_with_quota_headers(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        response = await gw.chat()
        body = await response.json()
        assert response.status == 200
        assert body["object"] == "chat.completion"
        assert body["usage"]["total_tokens"] > 0
        headers = response.headers
        assert headers["x-ratelimit-limit-requests"] == "100"
        assert headers["x-ratelimit-remaining-requests"] == "99"
        assert headers["RateLimit-Policy"].startswith('"requests";q=100;w=10')
        assert '"tokens";q=100000' in headers["RateLimit-Policy"]
        assert headers["RateLimit"].startswith('"requests";r=99;t=')
        assert len(headers["x-request-id"]) >= 16
        assert headers["x-gateway-policy"] == gw.state.policy_version()


async def test_credentials_replaced_identity_headers_stripped(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        response = await gw.chat(
            headers={
                "x-gateway-account": "mallory",
                "Connection": "keep-alive, x-secret-hop",
                "x-secret-hop": "1",
                "x-custom": "kept",
            }
        )
        assert response.status == 200
        assert "set-cookie" not in response.headers
        assert not any(
            h.lower().startswith("x-ratelimit-") and response.headers[h] == "mock"
            for h in response.headers
        )
        seen = (await gw.mock_stats())["last_request"]["headers"]
        lowered = {k.lower(): v for k, v in seen.items()}
        assert lowered["authorization"] == redact_secret(f"Bearer {UPSTREAM_KEY}")
        assert lowered["x-gateway-account"] == "alice"  # ours, not the client's "mallory"
        assert "x-secret-hop" not in lowered
        assert lowered["x-custom"] == "kept"
        assert lowered["x-forwarded-for"] == "127.0.0.1"


async def test_upstream_rate_limit_headers_are_not_passed_on(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        response = await gw.chat()
        direct = await gw.http.post(
            f"{gw.mock_url}/v1/chat/completions", json={"model": "m", "messages": []}
        )
        upstream_own = {h.lower() for h in direct.headers if h.lower().startswith("x-ratelimit")}
        assert upstream_own, "the mock sends x-ratelimit-* headers of its own"
        assert response.headers["x-ratelimit-limit-requests"] == "100"  # ours, not the mock's


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "provide an API key"),
        (
            {"Authorization": "Bearer dgk_unknownkey000000000000000000000000000000"},
            "Incorrect API key",
        ),
        ({"x-api-key": "nope"}, "Incorrect API key"),
    ],
)
async def test_missing_or_unknown_credentials_get_401(
    tmp_path: Path, headers: dict[str, str], message: str
) -> None:
    async with running_gateway(tmp_path) as gw:
        response = await gw.http.post(
            f"{gw.url}/v1/chat/completions", headers=headers, json={"model": "m", "messages": []}
        )
        assert response.status == 401
        error = (await response.json())["error"]
        assert message in error["message"]
        assert error["code"] == "invalid_api_key"
        assert error["type"] == "invalid_request_error"
        assert "param" in error
        assert response.headers["x-request-id"]
        assert (await gw.mock_stats())["total"] == 0


async def test_malformed_json_400_and_oversized_body_413(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, body_limit=2048) as gw:
        response = await gw.http.post(
            f"{gw.url}/v1/chat/completions",
            data=b"{not json",
            headers={**gw.auth(), "Content-Type": "application/json"},
        )
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_json"
        for bad in (b"[" * 1500, b'{"model": NaN}', b'{"model": "\xff"}'):  # deep, NaN, not UTF-8
            response = await gw.http.post(
                f"{gw.url}/v1/chat/completions",
                data=bad,
                headers={**gw.auth(), "Content-Type": "application/json"},
            )
            assert response.status == 400, bad[:20]
            assert (await response.json())["error"]["code"] == "invalid_json"
        big = {"model": "m", "messages": [{"role": "user", "content": "x" * 5000}]}
        response = await gw.http.post(f"{gw.url}/v1/chat/completions", json=big, headers=gw.auth())
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "request_too_large"


async def test_upstream_refused_502_and_timeout_504(tmp_path: Path) -> None:
    async with running_gateway(tmp_path / "a", upstream="http://127.0.0.1:9") as gw:
        response = await gw.chat()
        assert response.status == 502
        assert (await response.json())["error"]["code"] == "upstream_error"
    async with running_gateway(tmp_path / "b", upstream_read_timeout=0.3) as gw:
        response = await gw.chat(headers={"x-mock-hang": "1"})
        assert response.status == 504
        assert (await response.json())["error"]["code"] == "upstream_timeout"


async def test_upstream_errors_pass_through_unchanged(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        response = await gw.chat(headers={"x-mock-status": "503"})
        assert response.status == 503
        assert "error" in await response.json()


async def test_health_ready_and_unknown_paths(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        assert (await gw.http.get(f"{gw.url}/healthz")).status == 200
        ready = await gw.http.get(f"{gw.url}/readyz")
        assert ready.status == 200
        assert (await ready.json())["policy"] == gw.state.policy_version()
        missing = await gw.http.get(f"{gw.url}/nope", headers=gw.auth())
        assert missing.status == 404
        assert (await missing.json())["error"]["code"] == "not_found"
