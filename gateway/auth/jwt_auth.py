"""JWT bearer tokens, verified with PyJWT (RFC 8725 rules).

* An allow-list of algorithms, never ``none``; HS* only with the shared secret, RS/PS/ES/EdDSA
  only with the PEM public key or the JWKS, each key pinned to its own key type.
* ``exp`` and ``sub`` are required; ``iss``/``aud`` are checked when configured; small leeway.
* Verified tokens are cached (bounded LRU keyed by the token's SHA-256) until their ``exp``,
  measured on the injected clock. PyJWT itself checks ``exp``/``nbf`` against real time.

Errors are :class:`gateway.errors.AuthenticationError` saying why; the token is never echoed.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import aiohttp
import jwt
import structlog
from jwt.types import Options

from gateway.auth.jwks import JwksCache
from gateway.auth.jwt_keys import (
    HMAC_ALGORITHMS,
    KEY_TYPE_OF,
    VerificationKey,
    check_algorithms,
    default_algorithms,
    load_pem,
)
from gateway.clock import Clock, SystemClock
from gateway.errors import AuthenticationError

log = structlog.get_logger(__name__)
_MAX_TOKEN_LEN = 16 * 1024
Claims = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class JwtConfig:
    """How JWTs are verified. ``algorithms`` empty: inferred from the configured keys."""

    secret: str | None = field(default=None, repr=False)
    public_key: str | None = None  # PEM text (SubjectPublicKeyInfo)
    jwks_url: str | None = None
    algorithms: tuple[str, ...] = ()
    issuer: str | None = None
    audience: str | None = None
    leeway: float = 30.0
    required_claims: tuple[str, ...] = ("exp", "sub")
    jwks_ttl: float = 300.0
    jwks_min_refresh: float = 30.0
    jwks_timeout: float = 5.0
    cache_size: int = 10_000


def _resolve_algorithms(cfg: JwtConfig, pem: VerificationKey | None) -> tuple[str, ...]:
    if cfg.public_key and cfg.jwks_url:
        raise ValueError("configure a JWT public key or a JWKS URL, not both")
    if not (cfg.secret or pem or cfg.jwks_url):
        raise ValueError("JWT verification needs a secret, a public key or a JWKS URL")
    algorithms = cfg.algorithms
    if not algorithms:
        inferred: list[str] = ["HS256"] if cfg.secret else []
        if pem is not None:
            inferred += default_algorithms(pem)
        if cfg.jwks_url:
            inferred += ["RS256", "ES256"]
        algorithms = tuple(inferred)
    check_algorithms(algorithms)
    hmac_algs = [a for a in algorithms if a in HMAC_ALGORITHMS]
    asym_algs = [a for a in algorithms if a not in HMAC_ALGORITHMS]
    if hmac_algs and not cfg.secret:
        raise ValueError(f"JWT algorithms {hmac_algs} need a shared secret")
    if cfg.secret and not hmac_algs:
        raise ValueError("a JWT secret is configured but no HS* algorithm is allowed")
    if asym_algs and not (pem or cfg.jwks_url):
        raise ValueError(f"JWT algorithms {asym_algs} need a public key or a JWKS URL")
    if pem is not None:
        unusable = [a for a in asym_algs if not pem.accepts(a)]
        if unusable:
            raise ValueError(f"the {pem.kty} public key cannot verify {unusable}")
    return algorithms


class _TokenCache:
    """Verified claims by token hash, until the token's ``exp``; least recently used evicted."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[bytes, tuple[float, Claims]] = OrderedDict()

    def get(self, digest: bytes, now: float) -> Claims | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= now:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry[1]

    def put(self, digest: bytes, expires: float, claims: Claims) -> None:
        if self._size <= 0:
            return
        self._entries[digest] = (expires, claims)
        self._entries.move_to_end(digest)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def _reason(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "the token is not valid yet (nbf)"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "the token's audience (aud) is not accepted"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "the token's issuer (iss) is not accepted"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token is missing the required '{exc.claim}' claim"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the token's signature is invalid"
    if isinstance(exc, jwt.InvalidAlgorithmError | jwt.InvalidKeyError):
        return "the token's algorithm does not match the configured key"
    if isinstance(exc, jwt.InvalidIssuedAtError):
        return "the token's issued-at time (iat) is invalid"
    if isinstance(exc, jwt.DecodeError):
        return "the token is malformed"
    return "the token is invalid"


class JwtVerifier:
    """Verifies bearer JWTs; ``verify`` returns the claims or raises AuthenticationError."""

    def __init__(
        self,
        config: JwtConfig,
        *,
        clock: Clock | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._config = config
        self._clock = clock or SystemClock()
        self._pem = load_pem(config.public_key) if config.public_key else None
        self.algorithms = _resolve_algorithms(config, self._pem)
        self._secret = config.secret.encode("utf-8") if config.secret else None
        if self._secret is not None and len(self._secret) < 32:
            log.warning("jwt.short_secret", hint="use at least 32 random bytes for HS256")
        self._jwks = (
            JwksCache(
                config.jwks_url,
                clock=self._clock,
                ttl=config.jwks_ttl,
                min_refresh=config.jwks_min_refresh,
                timeout=config.jwks_timeout,
                session=session,
            )
            if config.jwks_url
            else None
        )
        self._cache = _TokenCache(config.cache_size)
        self._options: Options = {"require": list(config.required_claims)}

    @property
    def jwks(self) -> JwksCache | None:
        return self._jwks

    async def verify(self, token: str) -> Claims:
        """The verified claims of ``token``."""
        if len(token) > _MAX_TOKEN_LEN:
            raise AuthenticationError("Invalid token: it is too large.")
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        cached = self._cache.get(digest, self._clock.now())
        if cached is not None:
            return cached
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError("Invalid token: the token is malformed.") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise AuthenticationError("Invalid token: its signing algorithm is not allowed.")
        key = await self._key_for(alg, header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                options=self._options,
                audience=self._config.audience,
                issuer=self._config.issuer,
                leeway=self._config.leeway,
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"Invalid token: {_reason(exc)}.") from None
        frozen: Claims = MappingProxyType(claims)
        exp = claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            self._cache.put(digest, float(exp), frozen)
        return frozen

    async def _key_for(self, alg: str, kid: object) -> Any:
        if alg in HMAC_ALGORITHMS:
            return self._secret  # algorithms are validated: a secret exists for HS*
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationError("Invalid token: its kid header is not a string.")
        if self._pem is not None:
            key = self._pem
        elif self._jwks is not None:
            key = await self._jwks.get(kid)
        else:  # pragma: no cover - excluded by _resolve_algorithms
            raise AuthenticationError("Invalid token: its signing algorithm is not allowed.")
        if not key.accepts(alg):
            kty = KEY_TYPE_OF.get(alg)
            log.info("jwt.key_type_mismatch", alg=alg, token_kty=kty, key_kty=key.kty)
            raise AuthenticationError(
                "Invalid token: the token's algorithm does not match its signing key."
            )
        return key.key

    async def close(self) -> None:
        if self._jwks is not None:
            await self._jwks.close()
