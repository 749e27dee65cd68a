"""Identity the client must not choose: ``x-gateway-*`` spoofing, forged forwarding headers
from an untrusted peer, proof-of-work replay/transfer/tampering, reused request ids."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import uuid
from typing import Any

from attack_http import request
from corpus import CHAT, Case, bearer, call, error_of, held_slots, one, send
from live_gateway import UPSTREAM_KEY, Live

from gateway.challenges.tokens import header_value, solve, work_done

CHALLENGE = "challenge_required"


async def _seen(live: Live) -> dict[str, str]:
    headers: dict[str, str] = (await live.mock_stats())["last_request"]["headers"]
    return headers


def _upstream_auth() -> str:
    return "Bearer redacted:sha256:" + hashlib.sha256(UPSTREAM_KEY.encode()).hexdigest()[:16]


async def _identity_kept(live: Live, account: str = "alice") -> None:
    seen = await _seen(live)
    assert seen["x-gateway-account"] == account
    assert [h for h in seen if h.startswith("x-gateway-") and h != "x-gateway-account"] == []
    assert seen["authorization"] == _upstream_auth()  # never the client's credential
    assert "x-api-key" not in seen


def _spoof(name: str, headers: list[tuple[str, str]]) -> Case:
    async def run(live: Live) -> None:
        raw = request("POST", CHAT, [("Content-Type", "application/json"), bearer(live),
                                     *headers], live.body())  # fmt: skip
        responses = await send(live, one(raw), 5.0)
        assert responses[0].status == 200, responses[0].body[:300]
        await _identity_kept(live)

    return Case(name, run)


async def _spoof_jwt(live: Live) -> None:
    token = live.hs256(sub="jwt-user")
    response = await call(live, None, {"Authorization": f"Bearer {token}",
                                       "x-gateway-account": "alice"})  # fmt: skip
    assert response.status == 200
    await _identity_kept(live, "jwt-user")


SPOOF_CASES = [
    _spoof("spoof-x-gateway-account", [("x-gateway-account", "mallory")]),
    _spoof("spoof-x-gateway-account-upper-case", [("X-GATEWAY-ACCOUNT", "mallory")]),
    _spoof("spoof-x-gateway-account-twice", [("x-gateway-account", "mallory"),
                                             ("X-Gateway-Account", "bob")]),
    _spoof("spoof-x-gateway-other-headers", [("x-gateway-policy", "none"),
                                             ("x-gateway-cluster", "c-1"),
                                             ("x-gateway-degraded", "0"),
                                             ("x-gateway-tier", "enterprise")]),
    _spoof("spoof-connection-nominates-account-header",
           [("Connection", "close, x-gateway-account"), ("x-gateway-account", "mallory")]),
    _spoof("spoof-x-api-key-of-another-account", [("x-api-key", "dgk_mallory")]),
    Case("spoof-x-gateway-account-with-jwt", _spoof_jwt),
]  # fmt: skip


def _forged_ip(name: str, headers: dict[str, str]) -> Case:
    """From an untrusted peer (loopback is not in trusted_proxies), forwarding headers do not
    change the client IP: the address the gateway appends upstream is still the socket peer."""

    async def run(live: Live) -> None:
        response = await call(live, headers=headers)
        assert response.status == 200
        seen = await _seen(live)
        hops = [hop.strip() for hop in seen["x-forwarded-for"].split(",")]
        assert hops[-1] == "127.0.0.1", seen["x-forwarded-for"]
        assert "forwarded" not in seen and "x-real-ip" not in seen

    return Case(name, run)


XFF_CASES = [
    _forged_ip("xff-forged-from-untrusted-peer", {"X-Forwarded-For": "203.0.113.9"}),
    _forged_ip("xff-forged-trusted-looking-chain",
               {"X-Forwarded-For": "203.0.113.9, 10.0.0.1"}),
    _forged_ip("xff-forged-ipv6", {"X-Forwarded-For": "[2001:db8::1]:443"}),
    _forged_ip("forwarded-forged-from-untrusted-peer", {"Forwarded": "for=203.0.113.9"}),
    _forged_ip("x-real-ip-forged", {"X-Real-IP": "203.0.113.9"}),
    _forged_ip("xff-garbage-4k", {"X-Forwarded-For": "unknown, " * 400 + "not-an-ip"}),
]  # fmt: skip


async def _challenged(live: Live, account: str) -> dict[str, Any]:
    """Pin ``account`` to the challenge level; the next request gets a 403 challenge."""
    async with await live.admin("POST", f"/admin/v1/accounts/{account}/level",
                                json={"level": "challenge", "ttl": 3600,
                                      "reason": "corpus"}) as pinned:  # fmt: skip
        assert pinned.status == 200, await pinned.text()
    challenge: dict[str, Any] = error_of(await call(live, account), {403}, CHALLENGE)["challenge"]
    return challenge


def _proof(challenge: dict[str, Any]) -> str:
    token = challenge["token"]
    return header_value(token, solve(token, challenge["difficulty"]))


async def _refused(live: Live, account: str, proof: str, **kwargs: Any) -> None:
    response = await call(live, account, {"Gateway-PoW": proof}, **kwargs)
    error_of(response, {403}, CHALLENGE)


async def _pow_solved(live: Live) -> None:
    proof = _proof(await _challenged(live, "pow-ok"))
    assert (await call(live, "pow-ok", {"Gateway-PoW": proof})).status == 200


async def _pow_replay(live: Live) -> None:
    proof = _proof(await _challenged(live, "pow-replay"))
    assert (await call(live, "pow-replay", {"Gateway-PoW": proof})).status == 200
    await asyncio.sleep(1.3)  # the clearance (1 s in the corpus policy) is over
    await _refused(live, "pow-replay", proof)


async def _pow_transfer(live: Live) -> None:
    proof = _proof(await _challenged(live, "pow-xfer-a"))
    await _challenged(live, "pow-xfer-b")
    await _refused(live, "pow-xfer-b", proof)
    assert (await call(live, "pow-xfer-a", {"Gateway-PoW": proof})).status == 200


async def _pow_other_path(live: Live) -> None:
    proof = _proof(await _challenged(live, "pow-path"))
    await _refused(live, "pow-path", proof, path="/v1/completions")


async def _pow_other_method(live: Live) -> None:
    proof = _proof(await _challenged(live, "pow-method"))
    await _refused(live, "pow-method", proof, path="/v1/models", method="GET")


async def _pow_wrong_nonce(live: Live) -> None:
    challenge = await _challenged(live, "pow-nonce")
    token = challenge["token"]
    nonce = next(n for n in map(str, range(1000)) if not work_done(token, n, 4))
    await _refused(live, "pow-nonce", header_value(token, nonce))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _pow_tampered_claims(live: Live) -> None:
    header, payload, signature = (await _challenged(live, "pow-claims"))["token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["difficulty"] = 0
    token = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    await _refused(live, "pow-claims", header_value(token, "0"))


async def _pow_forged(live: Live) -> None:
    challenge = await _challenged(live, "pow-forged")
    payload = challenge["token"].split(".")[1]
    token = f"{_b64(json.dumps({'alg': 'none', 'typ': 'gw-pow+jwt'}).encode())}.{payload}."
    await _refused(live, "pow-forged", header_value(token, "0"))


async def _pow_garbage(live: Live) -> None:
    await _challenged(live, "pow-garbage")
    await _refused(live, "pow-garbage", 'challenge="x", nonce="../../etc"')


POW_CASES = [
    Case("pow-solved-passes", _pow_solved),
    Case("pow-replay-after-clearance", _pow_replay),
    Case("pow-transfer-to-another-account", _pow_transfer),
    Case("pow-redeemed-on-another-path", _pow_other_path),
    Case("pow-redeemed-with-another-method", _pow_other_method),
    Case("pow-wrong-nonce", _pow_wrong_nonce),
    Case("pow-tampered-claims", _pow_tampered_claims),
    Case("pow-forged-unsigned-token", _pow_forged),
    Case("pow-garbage-header", _pow_garbage),
]


async def _in_flight_together(live: Live, request_id: str | None) -> list[int]:
    """Four requests of the ``pair`` tier (concurrency 2) held upstream for two seconds."""
    headers = {"x-mock-latency-ms": "2000"}
    if request_id:
        headers["x-request-id"] = request_id
    responses = await asyncio.gather(*(call(live, "pair", headers) for _ in range(4)))
    for response in responses:
        if response.status == 429:
            assert error_of(response, {429}, "rate_limit_exceeded")["type"] == "concurrency"
    return sorted(r.status for r in responses)


async def _reused_ids(live: Live) -> None:
    assert await _in_flight_together(live, f"corpus-{uuid.uuid4().hex}") == [200, 200, 429, 429]


async def _distinct_ids(live: Live) -> None:
    together = asyncio.create_task(_in_flight_together(live, None))
    most = 0  # the slot keys are where the after-corpus check looks for leaks
    while not together.done():
        held = await held_slots(live)
        most = max([most, *(count for key, count in held.items() if ":pair:" in key)])
        await asyncio.sleep(0.05)
    assert await together == [200, 200, 429, 429]
    assert most == 2


async def _odd_request_id(live: Live, value: bytes) -> None:
    head, _, rest = request("POST", CHAT, [("Content-Type", "application/json"), bearer(live)],
                            live.body()).partition(b"\r\n")  # fmt: skip
    responses = await send(live, one(head + b"\r\nx-request-id: " + value + b"\r\n" + rest), 5.0)
    if responses[0].status == 200:
        echoed = responses[0].headers.get("x-request-id", "")
        assert echoed.isascii() and echoed.isprintable() and 0 < len(echoed) <= 128


def _request_id(name: str, value: bytes) -> Case:
    async def run(live: Live) -> None:
        await _odd_request_id(live, value)

    return Case(name, run)


REQUEST_ID_CASES = [
    Case("request-id-reused-across-concurrent-requests", _reused_ids, 8.0),
    Case("request-id-distinct-concurrent-requests", _distinct_ids, 8.0),
    _request_id("request-id-not-utf8", b"\xff\xfe\x80id"),
    _request_id("request-id-latin1", b"caf\xe9"),
    _request_id("request-id-oversized", b"r" * 4000),
    _request_id("request-id-ctl", b"abc\x01def"),
]

CASES = [*SPOOF_CASES, *XFF_CASES, *POW_CASES, *REQUEST_ID_CASES]
