"""The authenticate stage: request headers and socket peer -> :class:`gateway.model.Identity`.

The credential comes from ``Authorization: Bearer X`` (preferred) or ``x-api-key: X``. A value
shaped like a JWT (three base64url parts) goes to the JWT verifier, anything else to the key
store. Every failure is a 401 :class:`AuthenticationError`; credentials are never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.auth.api_keys import KeyStore
from gateway.auth.client_ip import TrustedProxies, client_ip
from gateway.auth.jwt_auth import JwtVerifier
from gateway.clock import Clock, SystemClock
from gateway.errors import AuthenticationError
from gateway.model import Identity

_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
REGISTERED_CLAIMS = frozenset({"exp", "iat", "nbf", "iss", "aud", "jti", "sub", "tier"})
_MAX_ATTRS = 32
_MAX_ATTR_LEN = 256

MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the x-api-key header."
)
INCORRECT_KEY = "Incorrect API key provided. Check the key, or ask your administrator for one."


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None


def credential(headers: Mapping[str, str]) -> str:
    """The bearer credential, or AuthenticationError when none (or a malformed one) is sent.
    Keys and JWTs are ASCII: other bytes (decoded by aiohttp as surrogates) are refused."""
    value = _credential(headers)
    if not value.isascii():
        raise AuthenticationError(INCORRECT_KEY)
    return value


def _credential(headers: Mapping[str, str]) -> str:
    auth = _header(headers, "Authorization")
    if auth is not None and auth.strip():
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError(
                "Unsupported authorization scheme: use 'Authorization: Bearer YOUR_KEY'."
            )
        if value.strip():
            return _printable(value.strip())
        raise AuthenticationError(MISSING_KEY)
    key = _header(headers, "x-api-key")
    if key is not None and key.strip():
        return _printable(key.strip())
    raise AuthenticationError(MISSING_KEY)


def _printable(value: str) -> str:
    """API keys and JWTs are printable ASCII; anything else (a byte aiohttp could not decode
    included) is no credential of ours."""
    if value.isascii() and value.isprintable():
        return value
    raise AuthenticationError(INCORRECT_KEY)


def looks_like_jwt(value: str) -> bool:
    return _JWT_SHAPE.match(value) is not None


def is_utf8(text: str) -> bool:
    """False for text with lone surrogates (JSON ``\\udcff`` escapes): no store key, hash or
    log line could carry it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def claim_attrs(claims: Mapping[str, Any]) -> dict[str, str]:
    """Linking attributes from the non-registered string/number claims (bounded)."""
    attrs: dict[str, str] = {}
    for name, value in claims.items():
        if name in REGISTERED_CLAIMS or isinstance(value, bool):
            continue
        if isinstance(value, str | int | float):
            text = str(value)
            if len(text) <= _MAX_ATTR_LEN and is_utf8(text):
                attrs[name] = text
        if len(attrs) >= _MAX_ATTRS:
            break
    return attrs


class Authenticator:
    """Turns a request's credentials into an :class:`Identity`."""

    def __init__(
        self,
        keys: KeyStore | None,
        jwt: JwtVerifier | None,
        trusted_proxies: TrustedProxies | Iterable[str] = (),
        clock: Clock | None = None,
    ) -> None:
        self._keys = keys
        self._jwt = jwt
        self._proxies = (
            trusted_proxies
            if isinstance(trusted_proxies, TrustedProxies)
            else TrustedProxies.parse(trusted_proxies)
        )
        self._clock = clock or SystemClock()

    async def authenticate(self, headers: Mapping[str, str], peer_ip: str) -> Identity:
        """The caller's identity; raises AuthenticationError (401)."""
        value = credential(headers)
        ip = client_ip(peer_ip, headers, self._proxies)
        if looks_like_jwt(value):
            if self._jwt is None:
                raise AuthenticationError(
                    "Bearer tokens (JWT) are not accepted here; use an API key."
                )
            return self._from_claims(await self._jwt.verify(value), ip)
        if self._keys is None:
            raise AuthenticationError(INCORRECT_KEY)
        record = self._keys.lookup(value)
        if record is None:
            raise AuthenticationError(INCORRECT_KEY)
        return Identity(
            account_id=record.account_id,
            tier=record.tier,
            attrs=dict(record.attrs),
            client_ip=ip,
            method="api_key",
        )

    @staticmethod
    def _from_claims(claims: Mapping[str, Any], ip: str) -> Identity:
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or not is_utf8(sub):
            raise AuthenticationError("Invalid token: the 'sub' claim must be a non-empty string.")
        tier = claims.get("tier")
        return Identity(
            account_id=sub,
            tier=tier if isinstance(tier, str) and tier else None,
            attrs=claim_attrs(claims),
            client_ip=ip,
            method="jwt",
        )

    async def close(self) -> None:
        if self._jwt is not None:
            await self._jwt.close()
