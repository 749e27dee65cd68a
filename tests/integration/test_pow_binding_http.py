"""Proof of work through the gateway: a proof counts only on the request it was issued for
(account, method, path), once (fake time, memory store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway_harness import Gateway, pin_level, running_gateway

from gateway.challenges.tokens import header_value, solve
from gateway.clock import FakeClock

POLICY = """
version: 1
defaults: {tier: free, max_tokens: 16}
tiers:
  free:
    requests: {rate: 600/minute, burst: 100}
detection:
  enabled: true
  mode: enforce
  min_requests: 100000
  challenge: {base_difficulty: 8, max_difficulty: 8, token_ttl: 120, clearance: 30}
clusters: {enabled: false}
"""
ACCOUNTS = {"cara": ("free", {}), "dan": ("free", {})}
CHAT = "/v1/chat/completions"
BODIES = {
    CHAT: {"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]},
    "/v1/completions": {"model": "mock-gpt", "prompt": "hi"},
}


async def call(
    gw: Gateway, method: str, path: str, proof: str | None = None, account: str = "cara"
) -> tuple[int, dict[str, Any]]:
    headers = gw.auth(account) | ({"Gateway-PoW": proof} if proof else {})
    body = BODIES.get(path) if method == "POST" else None
    async with gw.http.request(method, f"{gw.url}{path}", json=body, headers=headers) as response:
        return response.status, await response.json()


async def solved_proof(gw: Gateway, method: str, path: str, account: str = "cara") -> str:
    status, body = await call(gw, method, path, account=account)
    assert status == 403 and body["error"]["code"] == "challenge_required"
    challenge = body["error"]["challenge"]
    return header_value(challenge["token"], solve(challenge["token"], challenge["difficulty"]))


async def test_a_proof_counts_only_on_its_own_method_and_path(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, policy=POLICY, accounts=ACCOUNTS, clock=FakeClock()) as gw:
        await pin_level(gw, "cara", "challenge")
        proof = await solved_proof(gw, "POST", CHAT)
        for method, path in (("POST", "/v1/completions"), ("GET", "/v1/models")):
            status, body = await call(gw, method, path, proof)
            assert status == 403, (method, path)
            assert body["error"]["code"] == "challenge_required"
        # the refusals did not burn it: on its own request it clears the account
        assert (await call(gw, "POST", CHAT, proof))[0] == 200
        assert (await call(gw, "GET", "/v1/models"))[0] == 200  # cleared, any path


async def test_a_proof_of_another_account_or_a_replay_clears_nothing(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_gateway(tmp_path, policy=POLICY, accounts=ACCOUNTS, clock=clock) as gw:
        await pin_level(gw, "cara", "challenge")
        await pin_level(gw, "dan", "challenge")
        proof = await solved_proof(gw, "POST", CHAT, account="cara")
        assert (await call(gw, "POST", CHAT, proof, account="dan"))[0] == 403
        assert (await call(gw, "POST", CHAT, proof))[0] == 200
        clock.advance(31)  # the clearance is over; the token itself is still valid
        status, body = await call(gw, "POST", CHAT, proof)
        assert status == 403 and body["error"]["code"] == "challenge_required"
