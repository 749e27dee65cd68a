"""Proof-of-work challenges: issue -> solve -> verify, and every way to get it wrong."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt
import pytest

from gateway.challenges import tokens as pow
from gateway.challenges.tokens import ChallengeIssuer
from gateway.clock import FakeClock
from gateway.detection.config import DetectionPolicy
from gateway.limiter.memory import MemoryBudgetStore
from gateway.redis.keys import KeyBuilder

SECRET = b"s" * 32
KEYS = KeyBuilder("t")
CHAT = {"method": "POST", "path": "/v1/chat/completions"}
P = {"method": "POST", "path": "/p"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryBudgetStore:
    return MemoryBudgetStore(clock)


@pytest.fixture
def issuer(clock: FakeClock, store: MemoryBudgetStore) -> ChallengeIssuer:
    return ChallengeIssuer(SECRET, clock, store, KEYS, token_ttl=120, clearance_ttl=600)


def redeem_header(token: str, difficulty: int) -> str:
    return pow.header_value(token, pow.solve(token, difficulty))


async def test_issue_solve_verify_grants_clearance(
    issuer: ChallengeIssuer, store: MemoryBudgetStore, clock: FakeClock
) -> None:
    c = issuer.issue("acct", "post", "/v1/chat/completions", 10)
    assert c.algorithm == "sha-256" and c.header == "Gateway-PoW" and c.expires_in == 120
    assert jwt.get_unverified_header(c.token)["typ"] == "gw-pow+jwt"
    claims = jwt.decode(c.token, options={"verify_signature": False})
    assert claims["sub"] == "acct" and claims["difficulty"] == 10 and claims["method"] == "POST"
    header = redeem_header(c.token, c.difficulty)
    assert await issuer.verify(header, "acct", cluster_id="clu", method="POST",
                               path="/v1/chat/completions")  # fmt: skip
    clearance = KEYS.account_clearance("clu", "acct")
    assert not await store.set_flag(clearance, 1)  # the clearance is on file
    clock.advance(601)
    assert await store.set_flag(clearance, 1)  # and it expired after clearance_ttl


async def test_replay_is_rejected(issuer: ChallengeIssuer) -> None:
    c = issuer.issue("acct", "POST", "/v1/chat/completions", 8)
    header = redeem_header(c.token, 8)
    assert (await issuer.redeem(header, "acct", **CHAT)).ok
    again = await issuer.redeem(header, "acct", **CHAT)
    assert not again.ok and again.reason == "replayed"


async def test_wrong_account_method_or_path(issuer: ChallengeIssuer) -> None:
    c = issuer.issue("acct", "POST", "/v1/chat/completions", 8)
    header = redeem_header(c.token, 8)
    assert (await issuer.redeem(header, "other", **CHAT)).reason == "token of another account"
    wrong_method = await issuer.redeem(header, "acct", method="GET", path=CHAT["path"])
    assert wrong_method.reason == "token of another method"
    wrong_path = await issuer.redeem(header, "acct", method="POST", path="/v1/embeddings")
    assert wrong_path.reason == "token of another path"
    assert await issuer.verify(header, "acct", **CHAT)  # refusals did not burn the token


async def test_expired_token(issuer: ChallengeIssuer, clock: FakeClock) -> None:
    c = issuer.issue("acct", "POST", "/p", 8)
    header = redeem_header(c.token, 8)
    clock.advance(120 + 10)
    assert (await issuer.redeem(header, "acct", **P)).reason == "invalid token"


async def test_tampered_or_foreign_tokens(
    issuer: ChallengeIssuer, clock: FakeClock, store: MemoryBudgetStore
) -> None:
    c = issuer.issue("acct", "POST", "/p", 12)
    head, body, sig = c.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["difficulty"] = 1  # make the work trivial
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{head}.{forged_body}.{sig}"
    assert (await issuer.redeem(redeem_header(forged, 1), "acct", **P)).reason == "invalid token"
    other_key = ChallengeIssuer(b"o" * 32, clock, store, KEYS).issue("acct", "POST", "/p", 4)
    assert not await issuer.verify(redeem_header(other_key.token, 4), "acct", **P)
    wrong_typ = jwt.encode(claims | {"difficulty": 4}, SECRET, algorithm="HS256")
    assert not await issuer.verify(redeem_header(wrong_typ, 4), "acct", **P)
    none_alg = jwt.encode(claims, None, algorithm="none", headers={"typ": pow.TYP})
    assert not await issuer.verify(redeem_header(none_alg, 1), "acct", **P)


async def test_insufficient_work(issuer: ChallengeIssuer) -> None:
    c = issuer.issue("acct", "POST", "/p", 12)
    nonce = next(str(i) for i in range(10_000) if not pow.work_done(c.token, str(i), 12))
    result = await issuer.redeem(pow.header_value(c.token, nonce), "acct", **P)
    assert result.reason == "insufficient work"
    assert await issuer.verify(redeem_header(c.token, 12), "acct", **P)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        'challenge="abc"',
        'nonce="1"',
        'challenge="a.b.c", nonce="no spaces!"',
        'challenge="\udcff.b.c", nonce="1"',  # header bytes that were not UTF-8
    ],
)
async def test_malformed_headers(issuer: ChallengeIssuer, header: str) -> None:
    assert not (await issuer.redeem(header, "acct", **P)).ok


def test_solve_meets_the_difficulty() -> None:
    for difficulty in (1, 8, 12):
        nonce = pow.solve("token", difficulty)
        assert pow.work_done("token", nonce, difficulty)
        digest = hashlib.sha256(f"token.{nonce}".encode()).digest()
        assert pow.leading_zero_bits(digest) >= difficulty


def test_difficulty_rises_with_risk() -> None:
    policy = DetectionPolicy()
    base, top = policy.challenge.base_difficulty, policy.challenge.max_difficulty
    assert pow.difficulty_for(policy.thresholds.challenge, policy) == base
    assert pow.difficulty_for(0.1, policy) == base
    assert pow.difficulty_for(1.0, policy) == top
    mid = pow.difficulty_for((policy.thresholds.challenge + 1) / 2, policy)
    assert base < mid < top


def test_www_authenticate_value(issuer: ChallengeIssuer) -> None:
    c = issuer.issue("acct", "POST", "/p", 20)
    value = pow.www_authenticate(c, 'my "realm"')
    assert value == (
        f'GatewayPoW realm="my \'realm\'", challenge="{c.token}", '
        'algorithm="sha-256", difficulty=20'
    )
    assert c.to_json()["difficulty"] == 20


def test_short_secret_refused(clock: FakeClock, store: MemoryBudgetStore) -> None:
    with pytest.raises(ValueError):
        ChallengeIssuer(b"short", clock, store, KEYS)
