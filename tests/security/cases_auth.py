"""Credentials: forged, expired, ``none``, alg-confused, wrong-issuer/audience JWTs; control
characters and oversized values in credential headers; admin routes and the admin token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from attack_http import Part, RawResponse, request
from corpus import Case, answered, chat, one, refused
from live_gateway import ADMIN_TOKEN, JWT_SECRET, Live

INVALID_KEY = "invalid_api_key"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A JWS by hand (PyJWT refuses to sign the attacks): HS256 over ``key``, or unsigned."""
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if key is None:
        return signing + "."
    return signing + "." + _b64(hmac.new(key, signing.encode(), hashlib.sha256).digest())


def _jwt_refused(name: str, token: Callable[[Live], str]) -> Case:
    def build(live: Live) -> list[Part]:
        return one(chat(live, [("Authorization", f"Bearer {live.secret(token(live))}")],
                        account=None))  # fmt: skip

    return refused(name, build, {401}, INVALID_KEY)


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "mallory"
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


JWT_CASES = [
    _jwt_refused(
        "jwt-forged-signature",
        lambda live: _token(
            {"alg": "HS256", "typ": "JWT"}, live.claims(), b"not-the-secret-0123456789abcdef"
        ),
    ),
    _jwt_refused("jwt-expired", lambda live: live.hs256(exp=int(time.time()) - 3600)),
    _jwt_refused("jwt-not-yet-valid", lambda live: live.hs256(nbf=int(time.time()) + 3600)),
    _jwt_refused("jwt-alg-none", lambda live: _token({"alg": "none"}, live.claims(), None)),
    _jwt_refused("jwt-alg-None", lambda live: _token({"alg": "None"}, live.claims(), None)),
    _jwt_refused(
        "jwt-alg-nOnE-with-signature", lambda live: _token({"alg": "nOnE"}, live.claims(), b"x")
    ),
    _jwt_refused(
        "jwt-alg-confusion-hs256-with-rsa-public-key",
        lambda live: _token(
            {"alg": "HS256", "typ": "JWT"}, live.claims(), live.rsa_public_pem.encode()
        ),
    ),
    _jwt_refused(
        "jwt-alg-confusion-hs512-with-rsa-public-key",
        lambda live: _token(
            {"alg": "HS512", "typ": "JWT"}, live.claims(), live.rsa_public_pem.encode()
        ),
    ),
    _jwt_refused(
        "jwt-rs256-header-hmac-signature",
        lambda live: _token(
            {"alg": "RS256", "typ": "JWT"}, live.claims(), live.rsa_public_pem.encode()
        ),
    ),
    _jwt_refused("jwt-wrong-issuer", lambda live: live.hs256(iss="https://evil.example")),
    _jwt_refused("jwt-missing-issuer", lambda live: live.hs256(iss=None)),
    _jwt_refused("jwt-wrong-audience", lambda live: live.hs256(aud="someone-else")),
    _jwt_refused("jwt-missing-audience", lambda live: live.hs256(aud=None)),
    _jwt_refused("jwt-missing-sub", lambda live: live.hs256(sub=None)),
    _jwt_refused("jwt-missing-exp", lambda live: live.hs256(exp=None)),
    _jwt_refused(
        "jwt-sub-not-a-string",
        lambda live: _token(
            {"alg": "HS256", "typ": "JWT"}, live.claims(sub=12345), JWT_SECRET.encode()
        ),
    ),
    _jwt_refused("jwt-tampered-claims", lambda live: _tamper(live.hs256())),
    _jwt_refused("jwt-rs256-tampered-claims", lambda live: _tamper(live.rs256())),
    _jwt_refused("jwt-signature-stripped", lambda live: live.hs256().rsplit(".", 1)[0] + "."),
    _jwt_refused(
        "jwt-embedded-jwk-header",
        lambda live: _token(
            {"alg": "HS256", "jwk": {"kty": "oct", "k": _b64(b"k" * 32)}}, live.claims(), b"k" * 32
        ),
    ),
    _jwt_refused("jwt-garbage-segments", lambda live: "eyJhbGciOi.eyJzdWIiOi.AAAA"),
    _jwt_refused("unknown-api-key", lambda live: "dgk_" + secrets.token_urlsafe(32)),
]


async def _jwt_passes(live: Live, response: RawResponse) -> None:
    assert response.status == 200, response.body[:300]
    seen = (await live.mock_stats())["last_request"]["headers"]
    assert seen["x-gateway-account"] == "jwt-user"


def _jwt_ok(name: str, token: Callable[[Live], str]) -> Case:
    def build(live: Live) -> list[Part]:
        return one(chat(live, [("Authorization", f"Bearer {token(live)}")], account=None))

    return answered(name, build, _jwt_passes)


JWT_CASES += [
    _jwt_ok("jwt-valid-hs256-passes", lambda live: live.hs256()),
    _jwt_ok("jwt-valid-rs256-passes", lambda live: live.rs256()),
]


def _credential(name: str, header: Callable[[Live], bytes], statuses: set[int]) -> Case:
    """A raw credential header line (bytes a client library would refuse to send)."""

    def build(live: Live) -> list[Part]:
        head, _, body = request("POST", "/v1/chat/completions",
                                [("Content-Type", "application/json")],
                                live.body()).partition(b"\r\n")  # fmt: skip
        return one(head + b"\r\n" + header(live) + b"\r\n" + body)

    return refused(name, build, statuses, None)


def _key(live: Live) -> bytes:
    return live.keys["alice"].encode()


HEADER_CASES = [
    _credential("auth-bearer-valid-jwt-then-ctl-0x01",
                lambda live: b"Authorization: Bearer " + live.hs256().encode() + b"\x01",
                {400, 401}),
    _credential("x-api-key-valid-key-then-nul",
                lambda live: b"x-api-key: " + _key(live) + b"\x00", {400, 401}),
    _credential("auth-bearer-valid-key-then-del",
                lambda live: b"Authorization: Bearer " + _key(live) + b"\x7f", {400, 401}),
    _credential("auth-bearer-valid-key-then-vertical-tab",
                lambda live: b"Authorization: Bearer " + _key(live) + b"\x0b", {400, 401}),
    _credential("auth-bearer-nul-inside-valid-key",
                lambda live: b"Authorization: Bearer " + _key(live)[:10] + b"\x00"
                + _key(live)[10:], {400, 401}),
    _credential("auth-bearer-latin1-bytes", lambda live: b"Authorization: Bearer \xe9\xff",
                {400, 401}),
    _credential("auth-basic-scheme",
                lambda live: b"Authorization: Basic " + base64.b64encode(b"alice:" + _key(live)),
                {401}),
    _credential("auth-bearer-empty", lambda live: b"Authorization: Bearer ", {401}),
    _credential("auth-oversized-20k", lambda live: b"Authorization: Bearer " + b"A" * 20000,
                {400, 431}),
    _credential("header-oversized-value-16k", lambda live: b"X-Padding: " + b"p" * 16384,
                {400, 431}),
    _credential("header-nul-in-name", lambda live: b"X-Fo\x00o: bar", {400}),
    _credential("header-space-in-name", lambda live: b"X Foo: bar", {400}),
    _credential("header-without-colon", lambda live: b"X-Foo-No-Colon", {400}),
    _credential("header-bare-cr-injection",
                lambda live: b"X-Note: a\rX-Gateway-Account: mallory", {400}),
]  # fmt: skip


def _admin(
    name: str, method: str, path: str, headers: list[tuple[str, str]], statuses: set[int],
    body: bytes = b"", code: str | None = None, *, public: bool = False,
) -> Case:  # fmt: skip
    def build(live: Live) -> list[Part]:
        return one(request(method, path, headers, body))

    return refused(name, build, statuses, code, admin=not public)


_TOKEN = [("Authorization", f"Bearer {ADMIN_TOKEN}")]
_ADMIN_JSON = [*_TOKEN, ("Content-Type", "application/json")]
_LEVEL = b'{"level": "throttle", "reason": "corpus", "ttl": "soon"}'

ADMIN_CASES = [
    _admin("public-port-admin-policy-with-token", "GET", "/admin/v1/policy", _TOKEN, {404},
           code="not_found", public=True),
    _admin("public-port-metrics", "GET", "/metrics", _TOKEN, {404}, code="not_found", public=True),
    _admin("public-port-admin-reload", "POST", "/admin/v1/policy/reload", _TOKEN, {404},
           code="not_found", public=True),
    _admin("public-port-admin-level", "POST", "/admin/v1/accounts/alice/level", _ADMIN_JSON,
           {404}, b'{"level": "none", "reason": "x"}', "not_found", public=True),
    _admin("admin-without-token", "GET", "/admin/v1/policy", [], {401}, code="invalid_admin_token"),
    _admin("admin-wrong-token", "GET", "/admin/v1/policy",
           [("Authorization", "Bearer wrong-token")], {401}, code="invalid_admin_token"),
    _admin("admin-token-prefix", "GET", "/admin/v1/policy",
           [("Authorization", f"Bearer {ADMIN_TOKEN[:-1]}")], {401}, code="invalid_admin_token"),
    _admin("admin-token-basic-scheme", "GET", "/admin/v1/policy",
           [("Authorization", f"Basic {ADMIN_TOKEN}")], {401}, code="invalid_admin_token"),
    _admin("admin-token-in-query", "GET", f"/admin/v1/policy?token={ADMIN_TOKEN}", [], {401},
           code="invalid_admin_token"),
    _admin("admin-metrics-without-token", "GET", "/metrics", [], {401},
           code="invalid_admin_token"),
    _admin("admin-reload-without-token", "POST", "/admin/v1/policy/reload", [], {401},
           code="invalid_admin_token"),
    _admin("admin-link-invalid-json", "POST", "/admin/v1/clusters/link", _ADMIN_JSON, {400},
           b"{not json", "invalid_json"),
    _admin("admin-level-body-not-object", "POST", "/admin/v1/accounts/bob/level", _ADMIN_JSON,
           {400}, b"[]"),
    _admin("admin-level-ttl-not-a-number", "POST", "/admin/v1/accounts/bob/level", _ADMIN_JSON,
           {400}, _LEVEL),
    _admin("admin-audit-limit-not-a-number", "GET", "/admin/v1/audit?limit=many", _TOKEN, {400}),
    refused("admin-token-latin1-bytes",
            lambda live: one(b"GET /admin/v1/policy HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             b"Authorization: Bearer \xe9\xff\r\nConnection: close\r\n\r\n"),
            {401}, "invalid_admin_token", admin=True),
    _admin("admin-unknown-path", "GET", "/admin/v1/nothing-here", _TOKEN, {404}),
    _admin("admin-wrong-method", "DELETE", "/admin/v1/policy", _TOKEN, {405}),
]  # fmt: skip

CASES = [*JWT_CASES, *HEADER_CASES, *ADMIN_CASES]
