"""The customer-side helper: the real openai SDK recovers from a challenge by itself."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import httpx2
import jwt
import openai
import pytest

from gateway.challenges import client as challenge_client
from gateway.challenges import tokens as pow
from gateway.challenges.tokens import ChallengeIssuer
from gateway.clock import FakeClock
from gateway.limiter.memory import MemoryBudgetStore
from gateway.redis.keys import KeyBuilder

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


class FakeGateway:
    """Challenges every request without a valid Gateway-PoW header (difficulty 8)."""

    def __init__(self, difficulty: int = 8, code: str = "challenge_required") -> None:
        clock = FakeClock()
        self.issuer = ChallengeIssuer(b"k" * 32, clock, MemoryBudgetStore(clock), KeyBuilder())
        self.difficulty = difficulty
        self.code = code
        self.seen: list[tuple[str | None, bytes]] = []

    def challenge(self, request: httpx2.Request) -> httpx2.Response:
        c = self.issuer.issue("acct", request.method, request.url.path, self.difficulty)
        body = {"error": {"message": "solve", "type": "challenge", "param": None,
                          "code": self.code, "challenge": c.to_json()}}  # fmt: skip
        return httpx2.Response(403, json=body, headers={"x-should-retry": "false"})

    async def answer(self, request: httpx2.Request) -> httpx2.Response:
        header = request.headers.get("gateway-pow")
        self.seen.append((header, request.content))
        if header and await self.issuer.verify(
            header, "acct", method=request.method, path=request.url.path
        ):
            return httpx2.Response(200, json=COMPLETION)
        return self.challenge(request)

    def sync_handler(self, request: httpx2.Request) -> httpx2.Response:
        return asyncio.run(self.answer(request))


def ask(client: openai.OpenAI) -> Any:
    return client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hello"}]
    )


def test_sync_sdk_solves_and_retries_once() -> None:
    gateway = FakeGateway()
    base = openai.OpenAI(base_url="http://gw.test/v1", api_key="k", max_retries=0)
    client = challenge_client.with_pow(base, httpx2.MockTransport(gateway.sync_handler))
    result = ask(client)
    assert result.choices[0].message.content == "ok"
    assert len(gateway.seen) == 2
    (first, body1), (second, body2) = gateway.seen
    assert first is None and second is not None and second.startswith('challenge="')
    assert body1 == body2 and json.loads(body2)["messages"][0]["content"] == "hello"


def test_without_the_helper_the_sdk_raises() -> None:
    gateway = FakeGateway()
    http_client = openai.DefaultHttpxClient(transport=httpx2.MockTransport(gateway.sync_handler))
    client = openai.OpenAI(
        base_url="http://gw.test/v1", api_key="k", max_retries=2, http_client=http_client
    )
    with pytest.raises(openai.PermissionDeniedError) as info:
        ask(client)
    assert info.value.code == "challenge_required"
    assert len(gateway.seen) == 1  # 403: the SDK does not retry


def test_other_403s_pass_through_untouched() -> None:
    gateway = FakeGateway(code="verification_required")
    base = openai.OpenAI(base_url="http://gw.test/v1", api_key="k", max_retries=0)
    client = challenge_client.with_pow(base, httpx2.MockTransport(gateway.sync_handler))
    with pytest.raises(openai.PermissionDeniedError):
        ask(client)
    assert len(gateway.seen) == 1


def test_absurd_difficulty_is_not_attempted() -> None:
    gateway = FakeGateway(difficulty=challenge_client.MAX_DIFFICULTY + 1)
    base = openai.OpenAI(base_url="http://gw.test/v1", api_key="k", max_retries=0)
    client = challenge_client.with_pow(base, httpx2.MockTransport(gateway.sync_handler))
    with pytest.raises(openai.PermissionDeniedError):
        ask(client)
    assert len(gateway.seen) == 1


async def test_async_sdk_solves_and_retries_once() -> None:
    gateway = FakeGateway()
    base = openai.AsyncOpenAI(base_url="http://gw.test/v1", api_key="k", max_retries=0)
    client = challenge_client.with_pow_async(base, httpx2.MockTransport(gateway.answer))
    result = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hello"}]
    )
    assert result.choices[0].message.content == "ok"
    assert [h is not None for h, _ in gateway.seen] == [False, True]


def test_cli_solve_prints_a_valid_header(capsys: pytest.CaptureFixture[str]) -> None:
    gateway = FakeGateway()
    token = gateway.issuer.issue("acct", "POST", "/v1/chat/completions", 9).token
    parser = argparse.ArgumentParser()
    challenge_client.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["challenge", "solve", "--token", token])  # difficulty from token
    assert args.func(args) == 0
    value = capsys.readouterr().out.strip()
    token_out, nonce = pow.parse_header(value) or ("", "")
    assert token_out == token and pow.work_done(token, nonce, 9)
    assert jwt.decode(token, options={"verify_signature": False})["difficulty"] == 9
    args = parser.parse_args(["challenge", "solve", "--token", token, "--difficulty", "4",
                              "--with-name"])  # fmt: skip
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("Gateway-PoW: challenge=")
