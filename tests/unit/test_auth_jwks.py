"""JWKS: keys fetched from a local aiohttp server on loopback, cached, rotated, rate-limited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from gateway.auth.jwt_auth import JwtConfig, JwtVerifier
from gateway.clock import FakeClock
from gateway.errors import AuthenticationError, ServiceUnavailable


class Jwks:
    """What the fake identity provider serves, and how often it was asked."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.hits = 0
        self.delay = 0.0
        self.status = 200
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.Response(status=self.status, text="down")
        return web.json_response({"keys": self.keys})


@pytest.fixture
async def idp() -> AsyncIterator[Jwks]:
    state = Jwks()
    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", state.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.url = str(server.make_url("/.well-known/jwks.json"))
    yield state
    await server.close()


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    return tuple(  # type: ignore[return-value]
        rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)
    )


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    data = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    assert isinstance(data, dict)
    return {**data, "kid": kid, "alg": "RS256", "use": "sig"}


_serial = iter(range(1_000_000))


def _token(key: Any, kid: str | None, alg: str = "RS256") -> str:
    claims = {"sub": "acct_1", "exp": int(time.time()) + 600, "jti": str(next(_serial))}
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


async def _verifier(idp: Jwks, clock: FakeClock) -> AsyncIterator[JwtVerifier]:
    v = JwtVerifier(JwtConfig(jwks_url=idp.url, algorithms=("RS256", "ES256")), clock=clock)
    try:
        yield v
    finally:
        await v.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
async def verifier(idp: Jwks, clock: FakeClock) -> AsyncIterator[JwtVerifier]:
    async for v in _verifier(idp, clock):
        yield v


async def test_kid_rotation_and_refresh_rate_limit(
    idp: Jwks, clock: FakeClock, verifier: JwtVerifier, rsa_keys: tuple[rsa.RSAPrivateKey, ...]
) -> None:
    k1, k2 = rsa_keys
    idp.keys = [_jwk(k1, "k1")]
    assert (await verifier.verify(_token(k1, "k1")))["sub"] == "acct_1"
    assert idp.hits == 1
    idp.keys = [_jwk(k2, "k2")]  # the provider rotates
    with pytest.raises(AuthenticationError, match="kid"):
        await verifier.verify(_token(k2, "k2"))  # too soon after the last fetch
    assert idp.hits == 1
    clock.advance(30)
    assert (await verifier.verify(_token(k2, "k2")))["sub"] == "acct_1"
    assert idp.hits == 2
    for _ in range(5):  # a flood of unknown kids costs at most one fetch per 30 s
        with pytest.raises(AuthenticationError):
            await verifier.verify(_token(k1, "k1"))
        clock.advance(5)
    assert idp.hits == 2
    clock.advance(5)
    with pytest.raises(AuthenticationError):
        await verifier.verify(_token(k1, "k1"))
    assert idp.hits == 3


async def test_keys_expire_after_the_ttl(
    idp: Jwks, clock: FakeClock, verifier: JwtVerifier, rsa_keys: tuple[rsa.RSAPrivateKey, ...]
) -> None:
    k1 = rsa_keys[0]
    idp.keys = [_jwk(k1, "k1")]
    await verifier.verify(_token(k1, "k1"))
    clock.advance(299)
    await verifier.verify(_token(k1, "k1"))
    assert idp.hits == 1
    clock.advance(2)
    await verifier.verify(_token(k1, "k1"))
    assert idp.hits == 2


async def test_concurrent_verifications_make_one_fetch(
    idp: Jwks, clock: FakeClock, verifier: JwtVerifier, rsa_keys: tuple[rsa.RSAPrivateKey, ...]
) -> None:
    k1, k2 = rsa_keys
    idp.keys = [_jwk(k1, "k1")]
    idp.delay = 0.05  # the fetches would overlap if they were not single-flight
    results = await asyncio.gather(*(verifier.verify(_token(k1, "k1")) for _ in range(20)))
    assert all(r["sub"] == "acct_1" for r in results)
    assert idp.hits == 1
    idp.keys = [_jwk(k1, "k1"), _jwk(k2, "k2")]
    clock.advance(31)
    results = await asyncio.gather(*(verifier.verify(_token(k2, "k2")) for _ in range(20)))
    assert len(results) == 20 and idp.hits == 2


async def test_unreachable_jwks_is_503_then_stale_keys_are_kept(
    idp: Jwks, clock: FakeClock, verifier: JwtVerifier, rsa_keys: tuple[rsa.RSAPrivateKey, ...]
) -> None:
    k1 = rsa_keys[0]
    idp.keys = [_jwk(k1, "k1")]
    idp.status = 500
    with pytest.raises(ServiceUnavailable):
        await verifier.verify(_token(k1, "k1"))
    idp.status = 200
    with pytest.raises(ServiceUnavailable):  # no hammering: next attempt in 30 s
        await verifier.verify(_token(k1, "k1"))
    assert idp.hits == 1
    clock.advance(30)
    await verifier.verify(_token(k1, "k1"))
    assert idp.hits == 2
    idp.status = 503
    clock.advance(301)  # keys are stale and the provider is down: keep using them
    await verifier.verify(_token(k1, "k1"))
    assert idp.hits == 3


async def test_key_type_confusion_and_kid_rules(
    idp: Jwks, verifier: JwtVerifier, rsa_keys: tuple[rsa.RSAPrivateKey, ...]
) -> None:
    k1 = rsa_keys[0]
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_jwk = ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True)
    assert isinstance(ec_jwk, dict)
    oct_jwk = {"kty": "oct", "kid": "hs", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}
    idp.keys = [_jwk(k1, "k1"), {**ec_jwk, "kid": "e1"}, oct_jwk]
    assert (await verifier.verify(_token(ec_key, "e1", "ES256")))["sub"] == "acct_1"
    # An RS256 token pointing at the EC key is refused before any signature check.
    with pytest.raises(AuthenticationError, match="does not match its signing key"):
        await verifier.verify(_token(k1, "e1"))
    # Symmetric keys published in a JWKS are never used, and HS256 is not allowed here.
    with pytest.raises(AuthenticationError, match="not allowed"):
        await verifier.verify(_token(b"secret-secret-secret-secret-secret", "hs", "HS256"))
    # Without a kid, a key set with several keys is ambiguous.
    with pytest.raises(AuthenticationError, match="no kid"):
        await verifier.verify(_token(k1, None))


async def test_single_key_set_accepts_tokens_without_kid(
    idp: Jwks, verifier: JwtVerifier, rsa_keys: tuple[rsa.RSAPrivateKey, ...]
) -> None:
    k1 = rsa_keys[0]
    idp.keys = [_jwk(k1, "k1")]
    assert (await verifier.verify(_token(k1, None)))["sub"] == "acct_1"
