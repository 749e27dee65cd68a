"""Bad JWTs through the gateway: each gets 401 with an OpenAI-style body."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from gateway_harness import JWT_SECRET, running_gateway


def _token(**overrides: object) -> str:
    claims: dict[str, object] = {
        "sub": "jwt-user",
        "exp": int(time.time()) + 600,
        "tier": "free",
        "org_id": "org-9",
    }
    claims.update(overrides)
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def _none_token() -> str:
    return jwt.encode({"sub": "jwt-user", "exp": int(time.time()) + 600}, key="", algorithm="none")


@pytest.mark.parametrize(
    ("token", "fragment"),
    [
        (_none_token(), "algorithm"),
        (
            jwt.encode(
                {"sub": "x", "exp": int(time.time()) + 600},
                "a-different-secret-0123456789abcdef0123",
                algorithm="HS256",
            ),
            "signature",
        ),
        (_token(exp=int(time.time()) - 3600), "expired"),
        (_token(aud="someone-else"), "audience"),
    ],
    ids=["alg-none", "wrong-key", "expired", "wrong-audience"],
)
async def test_bad_jwt_gets_401(tmp_path: Path, token: str, fragment: str) -> None:
    async with running_gateway(tmp_path, jwt_audience="distillguard") as gw:
        response = await gw.http.post(
            f"{gw.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"model": "m", "messages": []},
        )
        assert response.status == 401
        error = (await response.json())["error"]
        assert set(error) >= {"message", "type", "param", "code"}
        assert error["code"] == "invalid_api_key"
        assert fragment in error["message"].lower()
        assert token not in error["message"]


async def test_valid_jwt_identity_reaches_budgets(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, jwt_audience="distillguard") as gw:
        token = _token(aud="distillguard")
        response = await gw.http.post(
            f"{gw.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert response.status == 200
        assert response.headers["x-ratelimit-remaining-requests"] == "99"
        seen = (await gw.mock_stats())["last_request"]["headers"]
        assert seen["x-gateway-account"] == "jwt-user"
