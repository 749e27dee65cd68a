"""The authenticate stage: credentials -> Identity (account, tier, attrs, client IP, method)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from multidict import CIMultiDict

from gateway.auth.api_keys import KeyStore, new_key, revoke_keys
from gateway.auth.config import AuthSettings, build_authenticator
from gateway.auth.identity import Authenticator, claim_attrs, looks_like_jwt
from gateway.auth.jwt_auth import JwtConfig, JwtVerifier
from gateway.clock import FakeClock
from gateway.errors import AuthenticationError

SECRET = "identity-test-secret-0123456789abcdef"
KEY_SECRET = "key-hmac-secret-xyz"
PEER = "198.51.100.20"


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    return tmp_path / "keys.yaml"


def _auth(keys_file: Path | None, *, jwt_on: bool = True, proxies: tuple[str, ...] = ()) -> Any:
    store = KeyStore.load(keys_file, KEY_SECRET) if keys_file is not None else None
    verifier = JwtVerifier(JwtConfig(secret=SECRET)) if jwt_on else None
    return Authenticator(store, verifier, proxies, FakeClock())


def _jwt(**claims: Any) -> str:
    base = {"sub": "user_7", "exp": int(time.time()) + 600}
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256")


async def _fail(auth: Authenticator, headers: Any, peer: str = PEER) -> str:
    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate(headers, peer)
    assert info.value.status == 401 and info.value.code == "invalid_api_key"
    return info.value.message


async def test_api_key_identity_from_either_header(keys_file: Path) -> None:
    attrs = {"org_id": "o1", "payment_fingerprint": "pf9", "device_id": "d3"}
    key = new_key(keys_file, "acct_1", "pro", attrs, KEY_SECRET)
    auth = _auth(keys_file)
    for headers in (
        {"Authorization": f"Bearer {key}"},
        {"authorization": f"bearer {key}"},
        {"X-API-Key": key},
        CIMultiDict({"x-api-key": key}),
    ):
        ident = await auth.authenticate(headers, PEER)
        assert (ident.account_id, ident.tier, ident.method, ident.client_ip) == (
            "acct_1",
            "pro",
            "api_key",
            PEER,
        )
        assert dict(ident.attrs) == attrs


async def test_missing_unknown_and_disabled_keys(keys_file: Path) -> None:
    key = new_key(keys_file, "acct_1", None, {}, KEY_SECRET)
    auth = _auth(keys_file)
    assert (await auth.authenticate({"x-api-key": key}, PEER)).tier is None
    assert "didn't provide an API key" in await _fail(auth, {})
    assert "didn't provide an API key" in await _fail(auth, {"Authorization": "Bearer   "})
    unknown = key[:-3] + "abc"
    msg = await _fail(auth, {"Authorization": f"Bearer {unknown}"})
    assert msg.startswith("Incorrect API key provided") and unknown not in msg
    assert "Bearer" in await _fail(auth, {"Authorization": f"Basic {key}"})
    revoke_keys(keys_file, account="acct_1")
    assert KeyStore.load(keys_file, KEY_SECRET).lookup(key) is None
    fresh = _auth(keys_file)
    assert (await _fail(fresh, {"x-api-key": key})).startswith("Incorrect API key")
    no_store = _auth(None)
    assert (await _fail(no_store, {"x-api-key": key})).startswith("Incorrect API key")


async def test_jwt_identity_and_attrs_from_claims(keys_file: Path) -> None:
    auth = _auth(keys_file)
    token = _jwt(
        tier="enterprise",
        org_id="org_5",
        payment_fingerprint="pf_1",
        device_id=42,
        iss="https://idp",
        jti="abc",
        iat=int(time.time()),
        admin=True,  # booleans, lists and objects are not linking attributes
        groups=["a", "b"],
        profile={"x": 1},
    )
    ident = await auth.authenticate({"Authorization": f"Bearer {token}"}, PEER)
    assert (ident.account_id, ident.tier, ident.method) == ("user_7", "enterprise", "jwt")
    assert dict(ident.attrs) == {
        "org_id": "org_5",
        "payment_fingerprint": "pf_1",
        "device_id": "42",
    }
    no_tier = await auth.authenticate({"x-api-key": _jwt()}, PEER)
    assert no_tier.tier is None and dict(no_tier.attrs) == {}


async def test_bad_jwts_say_why_and_jwt_off_is_refused(keys_file: Path) -> None:
    auth = _auth(keys_file)
    expired = _jwt(exp=int(time.time()) - 3600)
    msg = await _fail(auth, {"Authorization": f"Bearer {expired}"})
    assert "expired" in msg and expired not in msg
    wrong = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, "x" * 40, algorithm="HS256")
    assert "signature" in await _fail(auth, {"Authorization": f"Bearer {wrong}"})
    assert "JWT" in await _fail(_auth(keys_file, jwt_on=False), {"x-api-key": _jwt()})


async def test_client_ip_through_trusted_proxies(keys_file: Path) -> None:
    key = new_key(keys_file, "acct_1", None, {}, KEY_SECRET)
    auth = _auth(keys_file, proxies=("10.0.0.0/8",))
    headers = {"x-api-key": key, "X-Forwarded-For": "6.6.6.6, 203.0.113.50"}
    assert (await auth.authenticate(headers, "10.0.0.1")).client_ip == "203.0.113.50"
    assert (await auth.authenticate(headers, PEER)).client_ip == PEER


def test_jwt_shape_and_claim_attrs() -> None:
    assert looks_like_jwt(_jwt())
    assert looks_like_jwt("eyJh.eyJz.")  # unsecured tokens have an empty signature
    assert not looks_like_jwt("dgk_abcDEF123")
    assert not looks_like_jwt("a.b")
    attrs = claim_attrs(
        {"sub": "s", "aud": "a", "nbf": 1, "org_id": "o", "n": 1.5, "long": "x" * 999}
    )
    assert attrs == {"org_id": "o", "n": "1.5"}


async def test_settings_build_the_authenticator(keys_file: Path, tmp_path: Path) -> None:
    key = new_key(keys_file, "acct_3", None, {}, KEY_SECRET)
    settings = AuthSettings.from_mapping(
        {
            "keys_file": str(keys_file),
            "key_secret": KEY_SECRET,
            "jwt_secret": SECRET,
            "trusted_proxies": ["10.0.0.0/8"],
            "unrelated": 1,
            "jwt_issuer": None,
        }
    )
    assert KEY_SECRET not in repr(settings) and SECRET not in repr(settings)
    auth = build_authenticator(settings, FakeClock())
    assert (await auth.authenticate({"x-api-key": key}, PEER)).account_id == "acct_3"
    assert (await auth.authenticate({"x-api-key": _jwt()}, PEER)).account_id == "user_7"
    await auth.close()
    no_jwt = build_authenticator(
        AuthSettings(keys_file=str(keys_file), key_secret=KEY_SECRET), FakeClock()
    )
    assert "JWT" in await _fail(no_jwt, {"x-api-key": _jwt()})
