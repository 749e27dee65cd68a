"""JWT verification with a shared secret or a PEM public key (RFC 8725 pitfalls)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.auth.jwt_auth import JwtConfig, JwtVerifier
from gateway.clock import FakeClock
from gateway.errors import AuthenticationError

SECRET = "a-shared-secret-of-at-least-32-bytes!!"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "acct_1", "exp": int(time.time()) + 600, **extra}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_signed_hs256(claims: dict[str, Any], key: bytes, alg: str = "HS256") -> str:
    """Sign by hand (PyJWT refuses to use a PEM as an HMAC secret, an attacker does not)."""
    head = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


async def _reason(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(AuthenticationError) as info:
        await verifier.verify(token)
    assert info.value.status == 401
    assert token not in info.value.message
    return info.value.message


async def test_valid_hs256() -> None:
    v = JwtVerifier(JwtConfig(secret=SECRET))
    assert v.algorithms == ("HS256",)
    claims = await v.verify(jwt.encode(_claims(org_id="o1"), SECRET, algorithm="HS256"))
    assert claims["sub"] == "acct_1" and claims["org_id"] == "o1"


async def test_alg_none_is_rejected_and_never_configurable() -> None:
    v = JwtVerifier(JwtConfig(secret=SECRET))
    unsigned = jwt.encode(_claims(), "", algorithm="none")
    assert "algorithm is not allowed" in await _reason(v, unsigned)
    for algs in (("none",), ("HS256", "None")):
        with pytest.raises(ValueError, match="none"):
            JwtVerifier(JwtConfig(secret=SECRET, algorithms=algs))


async def test_wrong_key_expired_audience_issuer_missing_exp() -> None:
    v = JwtVerifier(JwtConfig(secret=SECRET, issuer="https://idp", audience="gateway"))
    good = _claims(iss="https://idp", aud="gateway")
    assert (await v.verify(jwt.encode(good, SECRET, algorithm="HS256")))["sub"] == "acct_1"

    def tok(claims: dict[str, Any], key: str = SECRET) -> str:
        return jwt.encode(claims, key, algorithm="HS256")

    assert "signature is invalid" in await _reason(v, tok(good, "another-secret-" * 3))
    expired = {**good, "exp": int(time.time()) - 120}  # beyond the 30 s leeway
    assert "expired" in await _reason(v, tok(expired))
    assert "audience" in await _reason(v, tok({**good, "aud": "someone-else"}))
    assert "issuer" in await _reason(v, tok({**good, "iss": "https://evil"}))
    no_exp = {k: val for k, val in good.items() if k != "exp"}
    assert "'exp'" in await _reason(v, tok(no_exp))
    no_sub = {k: val for k, val in good.items() if k != "sub"}
    assert "'sub'" in await _reason(v, tok(no_sub))
    assert "not valid yet" in await _reason(v, tok({**good, "nbf": int(time.time()) + 600}))
    assert "malformed" in await _reason(v, "abc.def.ghi")


async def test_leeway_accepts_small_skew() -> None:
    v = JwtVerifier(JwtConfig(secret=SECRET, leeway=30))
    token = jwt.encode(_claims(exp=int(time.time()) - 5), SECRET, algorithm="HS256")
    assert (await v.verify(token))["sub"] == "acct_1"


async def test_rs256_with_pem(rsa_key: rsa.RSAPrivateKey) -> None:
    v = JwtVerifier(JwtConfig(public_key=_pem(rsa_key), audience="gw"))
    assert set(v.algorithms) == {"RS256", "PS256"}
    token = jwt.encode(_claims(aud="gw"), rsa_key, algorithm="RS256")
    assert (await v.verify(token))["sub"] == "acct_1"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(aud="gw"), other, algorithm="RS256")
    assert "signature is invalid" in await _reason(v, forged)


async def test_hs_token_signed_with_the_public_pem_is_rejected(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = _pem(rsa_key)
    forged = _hand_signed_hs256(_claims(), pem.encode())
    # Public key only: HS256 is not even allowed.
    only_pem = JwtVerifier(JwtConfig(public_key=pem))
    assert "not allowed" in await _reason(only_pem, forged)
    # Both configured and both algorithms allowed: HS256 uses the secret, never the PEM.
    both = JwtVerifier(JwtConfig(secret=SECRET, public_key=pem, algorithms=("HS256", "RS256")))
    assert "signature is invalid" in await _reason(both, forged)
    assert (await both.verify(_hand_signed_hs256(_claims(), SECRET.encode())))["sub"] == "acct_1"
    # And an RS256 token is never checked with the shared secret.
    rs = jwt.encode(_claims(), rsa_key, algorithm="RS256")
    assert (await both.verify(rs))["sub"] == "acct_1"
    hs_only = JwtVerifier(JwtConfig(secret=SECRET))
    assert "not allowed" in await _reason(hs_only, rs)


def test_config_errors() -> None:
    with pytest.raises(ValueError, match="shared secret"):
        JwtVerifier(JwtConfig(jwks_url="http://127.0.0.1:1/jwks", algorithms=("HS256",)))
    with pytest.raises(ValueError, match="public key or a JWKS"):
        JwtVerifier(JwtConfig(secret=SECRET, algorithms=("HS256", "RS256")))
    with pytest.raises(ValueError, match="needs a secret"):
        JwtVerifier(JwtConfig())
    with pytest.raises(ValueError, match="unknown JWT algorithm"):
        JwtVerifier(JwtConfig(secret=SECRET, algorithms=("HS257",)))
    ec_pem = _pem(ec.generate_private_key(ec.SECP256R1()))
    assert JwtVerifier(JwtConfig(public_key=ec_pem)).algorithms == ("ES256",)
    with pytest.raises(ValueError, match="cannot verify"):
        JwtVerifier(JwtConfig(public_key=ec_pem, algorithms=("RS256",)))
    with pytest.raises(ValueError, match="PEM"):
        JwtVerifier(JwtConfig(public_key="-----BEGIN PUBLIC KEY-----\nnope\n"))
    assert SECRET not in repr(JwtConfig(secret=SECRET))


async def test_verified_tokens_are_cached_until_exp(monkeypatch: pytest.MonkeyPatch) -> None:
    decodes: list[str] = []
    real_decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        decodes.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    clock = FakeClock(time.time())
    v = JwtVerifier(JwtConfig(secret=SECRET, cache_size=2), clock=clock)
    exp = int(clock.now()) + 100
    t1, t2, t3 = (
        jwt.encode(_claims(exp=exp, jti=str(i)), SECRET, algorithm="HS256") for i in range(3)
    )
    await v.verify(t1)
    await v.verify(t1)
    assert decodes == [t1]
    clock.advance(101)  # past exp on the injected clock: verified again
    await v.verify(t1)
    assert decodes == [t1, t1]
    # Bounded LRU (fresh clock so entries are live): t1, t2, t3 -> t1 evicted, t3 kept.
    decodes.clear()
    v = JwtVerifier(JwtConfig(secret=SECRET, cache_size=2), clock=FakeClock(time.time()))
    for token in (t1, t2, t3, t3, t2, t1):
        await v.verify(token)
    assert decodes == [t1, t2, t3, t1]
    # A bad token is never cached as good.
    bad = t2[:-2] + ("AA" if not t2.endswith("AA") else "BB")
    await _reason(v, bad)
    await _reason(v, bad)
